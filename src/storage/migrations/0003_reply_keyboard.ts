import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * The action buttons of the reply keyboard a conversation shows now, as JSON
 * `[{"label": ..., "payload": ...}]`. On Telegram a pressed reply-keyboard button arrives as its
 * label in plain text; core turns it back into the button's action. Kept in the database, not in
 * a gateway's memory, so the press works whichever gateway replica receives it, and after a restart.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await sql`alter table conversations add column reply_keyboard text`.execute(db);
}
