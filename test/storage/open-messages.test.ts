/**
 * "The oldest open message of a conversation" — asked by every claim, release and look for more
 * work — must not walk the conversation's handled messages: a conversation of thousands of
 * messages would make every turn slower. Migration 0002 indexes open messages only. Likewise the
 * sweeper's and the backlog's questions over all conversations go through `messages_work`, which
 * migration 0004 made an index of open messages only.
 */
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { claimConversationRow, releaseAndLook, upsertConversation } from '../../src/storage/repositories/conversations.ts';
import { findStale, finishWork, insertInbound, nextOpen, openInboundCount, startWorkRow } from '../../src/storage/repositories/messages.ts';
import { upsertIdentity } from '../../src/storage/repositories/persons.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshStore } from '../helpers/stores.ts';

const pgAvailable = await havePostgres();
const OPEN = "status in ('received', 'processing', 'queued', 'sending')";

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`open messages on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof freshStore>>;
    let conversationId: number;
    const prepared: string[] = [];
    let connection: SQLite.Database | undefined;

    beforeAll(async () => {
      // Every statement SQLite prepares (and its connection), to ask for the plans afterwards.
      if (dialect === 'sqlite') {
        const real = SQLite.prototype.prepare;
        vi.spyOn(SQLite.prototype, 'prepare').mockImplementation(function (this: SQLite.Database, source: string) {
          prepared.push(source);
          connection ??= this; // eslint-disable-line @typescript-eslint/no-this-alias -- the writer, kept to ask for plans
          return real.call(this, source);
        } as typeof real);
      }
      store = await freshStore(dialect);
      const personId = await upsertIdentity(store.db, 'telegram', { platformUserId: 'long' }, 1);
      conversationId = await upsertConversation(store.db, { bot: 'main', platform: 'telegram', chatId: 'long' }, personId, 1);
      // A long conversation: 3000 handled messages.
      await store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 3000; i++) {
          await sql`insert into messages (conversation_id, direction, kind, status, dedup_key, content, available_at, attempts, created_at, updated_at)
            values (${conversationId}, 'in', 'message', 'handled', ${`old${i}`}, '{}', 0, 1, 0, 0)`.execute(trx);
        }
      });
      if (dialect === 'postgres') await sql`analyze messages`.execute(store.db);
    });
    afterAll(async () => {
      vi.restoreAllMocks();
      await store?.drop();
    });

    it('finds the one open message among thousands handled, claims it and sees the next', async () => {
      const now = Date.now();
      const first = await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: 'new1', content: { kind: 'message', text: 'a' }, raw: null, now });
      const second = await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: 'new2', content: { kind: 'message', text: 'b' }, raw: null, now });
      expect((await nextOpen(store.db, conversationId, 'in'))?.id).toBe(first.id);
      const claimed = await claimConversationRow(store.db, conversationId, 'handle', 'w1', now, 10_000);
      expect(claimed?.next_id).toBe(first.id);
      expect((await startWorkRow(store.db, first.id, 'in', 'w1', now, 10_000))?.status).toBe('processing');
      expect(await finishWork(store.db, first.id, 'w1', { status: 'handled', error: null }, now)).toBe(true);
      expect(await releaseAndLook(store.db, conversationId, 'handle', 'w1', now)).toBe(true);
      expect((await claimConversationRow(store.db, conversationId, 'handle', 'w1', now, 10_000))?.next_id).toBe(second.id);
    });

    it('finds stale work and counts the backlog among thousands handled', async () => {
      const now = Date.now();
      const { id } = await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: 'stale', content: { kind: 'message', text: 'c' }, raw: null, now: now - 60_000 });
      expect(await openInboundCount(store.db)).toBe(2);
      expect((await findStale(store.db, 'in', now, 30_000, 10)).map((r) => r.id)).toEqual([id]);
      expect(await findStale(store.db, 'out', now, 30_000, 10)).toEqual([]);
    });

    /** Questions about open messages of every conversation (not one conversation's). */
    const overAllConversations = (source: string) => /from "messages" where "direction" = /.test(source);

    /** The plan of each statement SQLite prepared that names the open statuses, filtered by `pick`. */
    const plans = (pick: (source: string) => boolean) =>
      [...new Set(prepared.filter((s) => s.includes(OPEN) && !/^\s*(create|explain)/i.test(s) && pick(s)))].map((source) => {
        const params = new Array<null>(source.split('?').length - 1).fill(null);
        return { source, plan: (connection!.prepare(`explain query plan ${source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail) };
      });

    // PostgreSQL picks its plan by statistics; SQLite's choice is fixed by the schema, so it is checked.
    if (dialect === 'sqlite') it('asks SQLite for stale work and the backlog through the open rows of messages_work', () => {
      const lookups = plans(overAllConversations);
      // findStale and openInboundCount.
      expect(lookups.length).toBeGreaterThanOrEqual(2);
      for (const { source, plan } of lookups) {
        expect(plan.some((d) => d.includes('messages_work')), `${source}\n${plan.join('\n')}`).toBe(true);
        expect(plan.filter((d) => /SCAN messages\b/.test(d)), source).toEqual([]);
      }
      const index = connection!.prepare(`select sql from sqlite_master where name = 'messages_work'`).get() as { sql: string };
      expect(index.sql).toContain(OPEN);
    });

    if (dialect === 'sqlite') it('asks SQLite for the oldest open message through messages_open, never by walking the conversation', () => {
      const lookups = plans((s) => !overAllConversations(s));
      // The claim and the release of both kinds and nextOpen.
      expect(lookups.length).toBeGreaterThanOrEqual(3);
      for (const { source, plan } of lookups) {
        const onMessages = plan.filter((d) => /\bmessages\b/.test(d) && !/messages_open|PRIMARY KEY|INTEGER PRIMARY/.test(d) && /SCAN|SEARCH/.test(d));
        expect(onMessages, `${source}\n${plan.join('\n')}`).toEqual([]);
        expect(plan.some((d) => d.includes('messages_open')), source).toBe(true);
      }
    });
  });
}
