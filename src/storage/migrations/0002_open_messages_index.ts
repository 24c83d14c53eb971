import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * An index of open messages only (received, processing, queued, sending), per conversation and
 * direction in id order. Claiming a conversation, releasing it and looking for its next message
 * ask for "its oldest open message"; through `messages_conversation` that walks every handled
 * message of the conversation first, so a long conversation (thousands of messages) made every
 * turn slower. Here a handled or sent message leaves the index, which stays as small as the work
 * in flight. The queries name the same status list literally (messages.ts OPEN_ROWS), which is
 * how both SQLite and PostgreSQL know the partial index applies.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await sql`create index messages_open on messages (conversation_id, direction, id)
    where status in ('received', 'processing', 'queued', 'sending')`.execute(db);
}
