/**
 * A pressed reply-keyboard button arrives on Telegram as its label in plain text. The gateway
 * records the keyboard in the conversation's row before it sends it, and core turns the label back
 * into the button's action — also after a restart (or on another gateway replica), where no
 * process memory remembers what was shown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotLogic } from '../../src/core/handling.ts';
import type { OutgoingMessage } from '../../src/core/model.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { createFakeConnector } from '../helpers/fake-connector.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshDatabaseUrl } from '../helpers/stores.ts';

const pgAvailable = await havePostgres();

const ASK: OutgoingMessage = {
  text: 'Share your phone?',
  buttons: [[{ type: 'contact', label: 'Share phone' }], [{ type: 'action', label: 'Skip', payload: 'skip' }]],
};

/** Replies with what it saw; "ask" shows the reply keyboard, "done" removes it. */
function bot(): BotLogic {
  return {
    async handle({ event }) {
      if (event.kind === 'message' && event.text === 'ask') return { outbox: [{ message: ASK }] };
      if (event.kind === 'message' && event.text === 'done') return { outbox: [{ message: { text: 'Thanks', removeKeyboard: true } }] };
      const seen = event.kind === 'action' ? `action ${event.payload}` : event.kind === 'message' ? `text ${event.text}` : event.kind;
      return { outbox: [{ message: { text: seen } }] };
    },
  };
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`reply keyboards on ${dialect}`, () => {
    let sb: Switchboard | undefined;
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      await sb?.close();
      sb = undefined;
      for (const c of cleanups.splice(0)) await c();
    });

    async function database(): Promise<string> {
      if (dialect === 'postgres') {
        const db = await freshDatabaseUrl('postgres');
        cleanups.push(db.drop);
        return db.url;
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-reply-kb-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      return `sqlite:${path.join(dir, 'db.sqlite')}`;
    }

    async function boot(url: string) {
      const fake = createFakeConnector();
      sb = await startSwitchboard({
        env: { DATABASE_URL: url, PORT: '0', HOST: '127.0.0.1', WEBCHAT_ENABLED: 'false', LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' },
        bot: bot(),
        connectors: [fake],
      });
      return fake;
    }

    let update = 0;
    /** A platform's update ids keep growing across our restarts. */
    const say = (fake: ReturnType<typeof createFakeConnector>, text: string) => fake.receive('c1', { kind: 'message', text }, `u${++update}`);

    it('turns a pressed label into its action, after a restart too, until the keyboard is removed', async () => {
      const url = await database();
      let fake = await boot(url);
      await say(fake, 'ask');
      await fake.waitFor('c1', 1);
      expect(fake.deliveries[0].plan.parts.at(-1)?.keyboard).toBe('reply');
      const row = await sb!.store.db.selectFrom('conversations').select('reply_keyboard').executeTakeFirstOrThrow();
      expect(JSON.parse(row.reply_keyboard!)).toEqual([{ label: 'Skip', payload: 'skip' }]);

      await say(fake, 'Skip');
      expect((await fake.waitFor('c1', 2))[1]).toBe('action skip');
      // Only the exact label: other text stays text.
      await say(fake, 'skip it');
      expect((await fake.waitFor('c1', 3))[2]).toBe('text skip it');

      // A new process knows nothing of what the old one showed; the database does.
      await sb!.close();
      fake = await boot(url);
      await say(fake, 'Skip');
      expect((await fake.waitFor('c1', 1))[0]).toBe('action skip');

      await say(fake, 'done');
      await fake.waitFor('c1', 2);
      await say(fake, 'Skip');
      expect((await fake.waitFor('c1', 3))[2]).toBe('text Skip');
      const after = await sb!.store.db.selectFrom('conversations').select('reply_keyboard').executeTakeFirstOrThrow();
      expect(after.reply_keyboard).toBeNull();
    });
  });
}
