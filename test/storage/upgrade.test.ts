/**
 * A database an older version made, with work in flight, upgrades to the latest migrations: the
 * rows stay, the open ones are still found (by the sweeper, the backlog count and the claims,
 * through the partial indexes of 0002 and 0004), and the new table (0005) works.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/storage/database.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { claimConversationRow } from '../../src/storage/repositories/conversations.ts';
import { findStale, openInboundCount } from '../../src/storage/repositories/messages.ts';
import { webchatFilesIn } from '../../src/storage/repositories/webchat-files.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshDatabaseUrl } from '../helpers/stores.ts';

const pgAvailable = await havePostgres();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`upgrading a ${dialect} database with work in flight`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    const now = Date.now();
    const ids: Record<string, number> = {};

    beforeAll(async () => {
      const fresh = await freshDatabaseUrl(dialect);
      drop = fresh.drop;
      store = openStore(fresh.url);
      expect(await migrate(store, { to: '0003_reply_keyboard' })).toMatchObject({ current: '0003_reply_keyboard' });
      // Rows as the version of 0003 wrote them: one message in each state.
      await sql`insert into persons (name, language, created_at, updated_at) values ('Ann', null, 0, 0)`.execute(store.db);
      await sql`insert into identities (person_id, platform, platform_user_id, created_at) select min(id), 'telegram', '7', 0 from persons`.execute(store.db);
      await sql`insert into conversations (bot, platform, chat_id, person_id, created_at) select 'main', 'telegram', '7', min(id), 0 from persons`.execute(store.db);
      const rows: Array<[string, 'in' | 'out', string, number | null]> = [
        ['handled', 'in', 'handled', null],
        ['received', 'in', 'received', null],
        ['sent', 'out', 'sent', null],
        ['sending', 'out', 'sending', now - 1000], // its sender died: the lease ran out
      ];
      for (const [key, direction, status, leaseUntil] of rows) {
        const res = await sql<{ id: number }>`insert into messages (conversation_id, direction, kind, status, dedup_key, content, lease_owner, lease_until,
            available_at, attempts, created_at, updated_at)
          select min(id), ${direction}, 'message', ${status}, ${direction === 'in' ? key : null}, '{}', ${leaseUntil === null ? null : 'old'}, ${leaseUntil},
            0, 1, ${now - 60_000}, ${now - 60_000} from conversations
          returning id`.execute(store.db);
        ids[key] = res.rows[0].id;
      }
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    it('applies the newer migrations and keeps every row', async () => {
      const report = await migrate(store);
      expect(report.applied).toEqual(['0004_open_work_index', '0005_webchat_files']);
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from messages`.execute(store.db);
      expect(Number(rows[0].n)).toBe(4);
      await expect(migrate(store, { to: '0009_nonexistent' })).rejects.toThrow(/no migration named 0009_nonexistent/);
    });

    it('still finds the work that was in flight', async () => {
      expect(await openInboundCount(store.db)).toBe(1);
      expect((await findStale(store.db, 'in', now, 30_000, 10)).map((r) => r.id)).toEqual([ids.received]);
      expect((await findStale(store.db, 'out', now, 30_000, 10)).map((r) => r.id)).toEqual([ids.sending]);
      const conversationId = (await sql<{ id: number }>`select id from conversations`.execute(store.db)).rows[0].id;
      expect((await claimConversationRow(store.db, conversationId, 'handle', 'new', now, 10_000))?.next_id).toBe(ids.received);
      expect((await claimConversationRow(store.db, conversationId, 'send', 'new', now, 10_000))?.next_id).toBe(ids.sending);
    });

    it('keeps web chat files in the new table', async () => {
      const files = webchatFilesIn(store.db);
      await files.put({ name: 'e'.repeat(32) + '.png', bytes: Buffer.from([1, 2, 3]) });
      expect((await files.get('e'.repeat(32) + '.png'))?.bytes).toEqual(Buffer.from([1, 2, 3]));
    });
  });
}
