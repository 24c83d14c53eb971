import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * `messages_work` (direction, status, available_at) becomes a partial index of open messages.
 * Every query that used it (the sweeper, the backlog count, the queue-depth gauge) asks for open
 * statuses only, yet every handled or sent message stayed in it: each status change moved an
 * entry within an index as large as the whole history, and under load most of those pages fell
 * out of the cache. Open rows only, the index stays as small as the work in flight. The queries
 * name the status list literally (messages.ts OPEN_ROWS), as the partial index requires.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await sql`drop index messages_work`.execute(db);
  await sql`create index messages_work on messages (direction, status, available_at)
    where status in ('received', 'processing', 'queued', 'sending')`.execute(db);
}
