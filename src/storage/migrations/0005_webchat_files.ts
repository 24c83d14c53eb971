import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * The web chat's files (visitors' uploads, media the bot sent as bytes or local paths) move from
 * a directory of the replica that received them into the database, so any number of web replicas
 * serve every file without a shared volume, and any process with the database can read one.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const ms = dialect === 'postgres' ? 'bigint' : 'integer';
  await sql`create table webchat_files (
    name text primary key, size integer not null, width integer, height integer,
    bytes ${sql.raw(bytes)} not null, created_at ${sql.raw(ms)} not null)`.execute(db);
}
