import { afterEach, describe, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { upsertConversation } from '../../src/storage/repositories/conversations.ts';
import { insertInbound } from '../../src/storage/repositories/messages.ts';
import { upsertIdentity } from '../../src/storage/repositories/persons.ts';
import { createEchoBot, type EchoBotOptions } from '../helpers/echo-bot.ts';
import { createFakeConnector, permanent, rateLimited, transient } from '../helpers/fake-connector.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshDatabaseUrl } from '../helpers/stores.ts';
import type { Capabilities } from '../../src/core/capabilities.ts';

const pgAvailable = await havePostgres();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`store-and-notify pipeline on ${dialect}`, () => {
    let sb: Switchboard | undefined;
    let drop: (() => Promise<void>) | undefined;

    async function boot(opts: { bot?: EchoBotOptions; caps?: Partial<Capabilities>; env?: Record<string, string> } = {}) {
      const db = await freshDatabaseUrl(dialect);
      drop = db.drop;
      const fake = createFakeConnector({ capabilities: opts.caps });
      const bot = createEchoBot(opts.bot);
      sb = await startSwitchboard({
        env: { DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', WEBCHAT_ENABLED: 'false', LOG_LEVEL: 'silent', SWEEP_INTERVAL_MS: '200', LEASE_MS: '2000', ...opts.env },
        bot,
        connectors: [fake],
      });
      return { sb, fake, bot };
    }

    afterEach(async () => {
      await sb?.close();
      await drop?.();
      sb = undefined;
    });

    const statuses = async (s: Switchboard, direction: 'in' | 'out') =>
      (await s.store.db.selectFrom('messages').select('status').where('direction', '=', direction).orderBy('id').execute()).map((r) => r.status);

    async function until(pred: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('stores the update, handles it, and sends the reply written in the same transaction', async () => {
      const { sb, fake } = await boot();
      await fake.receive('c1', { kind: 'message', text: 'hello' });
      expect(await fake.waitFor('c1', 1)).toEqual(['echo hello #1']);
      await until(async () => (await statuses(sb, 'out'))[0] === 'sent', 'sent');
      expect(await statuses(sb, 'in')).toEqual(['handled']);
      const reply = await sb.store.db.selectFrom('messages').selectAll().where('direction', '=', 'out').executeTakeFirstOrThrow();
      const inbound = await sb.store.db.selectFrom('messages').selectAll().where('direction', '=', 'in').executeTakeFirstOrThrow();
      expect(reply.cause_id).toBe(inbound.id);
      expect(reply.platform_message_id).toBeTruthy();
      const attempts = await sb.store.db.selectFrom('delivery_attempts').selectAll().execute();
      expect(attempts).toMatchObject([{ message_id: reply.id, attempt: 1, outcome: 'sent' }]);
    });

    it('handles a redelivered update (same dedup key) once', async () => {
      const { sb, fake, bot } = await boot();
      const a = await fake.receive('c1', { kind: 'message', text: 'once' }, 'dup-1');
      const b = await fake.receive('c1', { kind: 'message', text: 'once' }, 'dup-1');
      expect(b).toEqual({ id: a.id, duplicate: true });
      await fake.waitFor('c1', 1);
      await sb.sweep();
      await new Promise((r) => setTimeout(r, 300));
      expect(bot.handled).toEqual(['c1:once']);
      expect(fake.texts('c1')).toEqual(['echo once #1']);
    });

    it('handles and sends the messages of one conversation in order, with state carried between them', async () => {
      const { fake } = await boot();
      // Stored one after another without waiting for any answer: faster than the bot replies.
      for (let i = 0; i < 20; i++) await fake.receive('c1', { kind: 'message', text: `m${i}` });
      const texts = await fake.waitFor('c1', 20);
      expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `echo m${i} #${i + 1}`));
    });

    it('retries a failing handler, then marks the message failed and goes on with the next', async () => {
      const { sb, fake, bot } = await boot({ bot: { failOn: new Set(['boom']) }, env: { MAX_HANDLE_ATTEMPTS: '2' } });
      await fake.receive('c1', { kind: 'message', text: 'boom' });
      await fake.receive('c1', { kind: 'message', text: 'after' });
      expect(await fake.waitFor('c1', 1)).toEqual(['echo after #1']);
      const rows = await sb.store.db.selectFrom('messages').select(['status', 'attempts', 'error']).where('direction', '=', 'in').orderBy('id').execute();
      expect(rows[0]).toMatchObject({ status: 'failed', attempts: 2, error: 'cannot handle boom' });
      expect(rows[1].status).toBe('handled');
      expect(bot.handled).toEqual(['c1:after']);
    });

    it('marks the identity unreachable and the message failed on a permanent failure', async () => {
      const { sb, fake } = await boot();
      fake.failNext.push(permanent('403', true));
      await fake.receive('c1', { kind: 'message', text: 'x' });
      await until(async () => (await statuses(sb, 'out'))[0] === 'failed', 'failed');
      const out = await sb.store.db.selectFrom('messages').selectAll().where('direction', '=', 'out').executeTakeFirstOrThrow();
      expect(out.error).toContain('403');
      const identity = await sb.store.db.selectFrom('identities').selectAll().executeTakeFirstOrThrow();
      expect(identity.unreachable).toContain('403');
      expect(fake.texts('c1')).toEqual([]);
    });

    it('waits out a rate limit and retries transient failures, recording every attempt, in order', async () => {
      const { sb, fake } = await boot();
      fake.failNext.push(rateLimited(300), transient());
      await fake.receive('c1', { kind: 'message', text: 'a' });
      await fake.receive('c1', { kind: 'message', text: 'b' });
      expect(await fake.waitFor('c1', 2)).toEqual(['echo a #1', 'echo b #2']);
      // The platform has the message a moment before its attempt is recorded.
      await until(async () => (await sb.store.db.selectFrom('delivery_attempts').select('id').execute()).length === 4, 'four attempts');
      const attempts = await sb.store.db.selectFrom('delivery_attempts').select(['message_id', 'attempt', 'outcome', 'code']).orderBy('id').execute();
      expect(attempts.map((a) => a.outcome)).toEqual(['rate-limited', 'transient', 'sent', 'sent']);
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 1]);
    });

    it('turns buttons that do not fit into a numbered list and accepts the number or label back', async () => {
      const { sb, fake } = await boot({ caps: { inline: null, replyKeyboard: null } });
      await fake.receive('c1', { kind: 'message', text: 'menu' });
      const [menu] = await fake.waitFor('c1', 1);
      expect(menu).toBe('pick\n\n1. Alpha\n2. Beta');
      const allSent = () => until(async () => (await statuses(sb, 'out')).every((s) => s === 'sent'), 'sent');
      await allSent();
      await fake.receive('c1', { kind: 'message', text: '2' });
      expect((await fake.waitFor('c1', 2))[1]).toBe('echo action:b #2');
      // The list answers only for the latest message: now "2" is just text again.
      await fake.receive('c1', { kind: 'message', text: '2' });
      expect((await fake.waitFor('c1', 3))[2]).toBe('echo 2 #3');
      await fake.receive('c1', { kind: 'message', text: 'menu' });
      await fake.waitFor('c1', 4);
      await allSent();
      await fake.receive('c1', { kind: 'message', text: 'alpha' });
      expect((await fake.waitFor('c1', 5))[4]).toBe('echo action:a #5');
    });

    it('recovers an inbound message whose notification was lost', async () => {
      const { sb, fake } = await boot();
      // Stored but never notified, as when a process dies between commit and publish.
      const now = Date.now() - 10_000;
      const personId = await upsertIdentity(sb.store.db, 'fake', { platformUserId: 'lost' }, now);
      const conversationId = await upsertConversation(sb.store.db, { bot: 'main', platform: 'fake', chatId: 'lost' }, personId, now);
      await insertInbound(sb.store.db, { conversationId, kind: 'message', dedupKey: 'lost-1', content: { kind: 'message', text: 'orphan' }, raw: null, now });
      expect(await fake.waitFor('lost', 1)).toEqual(['echo orphan #1']);
    });
  });
}
