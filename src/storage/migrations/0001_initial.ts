import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

/** The core tables: persons, identities, conversations, messages, dialog state, delivery. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const id = (c: string) => (dialect === 'postgres' ? sql`${sql.ref(c)} serial primary key` : sql`${sql.ref(c)} integer primary key autoincrement`);
  const ms = dialect === 'postgres' ? 'bigint' : 'integer';

  await sql`create table persons (
    ${id('id')}, name text, language text,
    created_at ${sql.raw(ms)} not null, updated_at ${sql.raw(ms)} not null)`.execute(db);

  await sql`create table identities (
    ${id('id')}, person_id integer not null references persons(id),
    platform text not null, platform_user_id text not null, username text,
    unreachable text, unreachable_at ${sql.raw(ms)}, created_at ${sql.raw(ms)} not null)`.execute(db);
  await sql`create unique index identities_platform_user on identities (platform, platform_user_id)`.execute(db);
  await sql`create index identities_person on identities (person_id)`.execute(db);

  await sql`create table conversations (
    ${id('id')}, bot text not null, platform text not null, chat_id text not null,
    person_id integer not null references persons(id), last_inbound_at ${sql.raw(ms)},
    lease_owner text, lease_until ${sql.raw(ms)}, send_owner text, send_until ${sql.raw(ms)},
    created_at ${sql.raw(ms)} not null)`.execute(db);
  await sql`create unique index conversations_chat on conversations (bot, platform, chat_id)`.execute(db);

  await sql`create table messages (
    ${id('id')}, conversation_id integer not null references conversations(id),
    direction text not null, kind text not null, status text not null,
    dedup_key text, content text not null, raw text, platform_message_id text,
    cause_id integer, edit_of integer, lease_owner text, lease_until ${sql.raw(ms)},
    available_at ${sql.raw(ms)} not null, attempts integer not null default 0, error text,
    created_at ${sql.raw(ms)} not null, updated_at ${sql.raw(ms)} not null)`.execute(db);
  // The dedup key is unique per conversation's bot and platform; the conversation id carries both,
  // but a platform update id is unique per bot, so the key is scoped by direction and conversation
  // through the ingest path. Here: one stored row per (conversation, inbound dedup key).
  await sql`create unique index messages_dedup on messages (conversation_id, direction, dedup_key)`.execute(db);
  await sql`create index messages_work on messages (direction, status, available_at)`.execute(db);
  await sql`create index messages_conversation on messages (conversation_id, direction, id)`.execute(db);
  await sql`create index messages_platform_id on messages (conversation_id, platform_message_id)`.execute(db);

  await sql`create table dialog_state (
    conversation_id integer primary key references conversations(id),
    data text not null, updated_at ${sql.raw(ms)} not null)`.execute(db);

  await sql`create table delivery_attempts (
    ${id('id')}, message_id integer not null references messages(id), attempt integer not null,
    at ${sql.raw(ms)} not null, outcome text not null, code text, detail text)`.execute(db);
  await sql`create index delivery_attempts_message on delivery_attempts (message_id)`.execute(db);

  await sql`create table media_cache (
    platform text not null, bot text not null, key text not null, file_ref text not null,
    created_at ${sql.raw(ms)} not null, primary key (platform, bot, key))`.execute(db);

  await sql`create table leases (name text primary key, owner text not null, until ${sql.raw(ms)} not null)`.execute(db);
}
