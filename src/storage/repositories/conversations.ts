/** Conversations, their leases and their dialog state. */
import type { Kysely } from 'kysely';
import type { JsonObject } from '../../core/handling.ts';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

export async function upsertConversation(
  db: Db,
  key: { bot: string; platform: string; chatId: string },
  personId: number,
  now: number,
): Promise<number> {
  const find = () =>
    db
      .selectFrom('conversations')
      .select('id')
      .where('bot', '=', key.bot)
      .where('platform', '=', key.platform)
      .where('chat_id', '=', key.chatId)
      .executeTakeFirst();
  const existing = await find();
  if (existing) return existing.id;
  const inserted = await db
    .insertInto('conversations')
    .values({
      bot: key.bot,
      platform: key.platform,
      chat_id: key.chatId,
      person_id: personId,
      last_inbound_at: null,
      lease_owner: null,
      lease_until: null,
      send_owner: null,
      send_until: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['bot', 'platform', 'chat_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id ?? (await find())!.id;
}

export type LeaseKind = 'handle' | 'send';

const COLUMNS = {
  handle: { owner: 'lease_owner', until: 'lease_until' },
  send: { owner: 'send_owner', until: 'send_until' },
} as const;

/**
 * Takes (or renews) the conversation's lease for `owner`. Succeeds when the lease is free,
 * expired, or already ours: one holder per conversation keeps its messages in order.
 */
export async function claimConversation(db: Db, id: number, kind: LeaseKind, owner: string, now: number, leaseMs: number): Promise<boolean> {
  const c = COLUMNS[kind];
  const res = await db
    .updateTable('conversations')
    .set({ [c.owner]: owner, [c.until]: now + leaseMs })
    .where('id', '=', id)
    .where((eb) => eb.or([eb(c.owner, 'is', null), eb(c.until, '<', now), eb(c.owner, '=', owner)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseConversation(db: Db, id: number, kind: LeaseKind, owner: string): Promise<void> {
  const c = COLUMNS[kind];
  await db
    .updateTable('conversations')
    .set({ [c.owner]: null, [c.until]: null })
    .where('id', '=', id)
    .where(c.owner, '=', owner)
    .execute();
}

export async function loadConversation(db: Db, id: number) {
  return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function loadState(db: Db, conversationId: number): Promise<JsonObject> {
  const row = await db.selectFrom('dialog_state').select('data').where('conversation_id', '=', conversationId).executeTakeFirst();
  return row ? (JSON.parse(row.data) as JsonObject) : {};
}

export async function saveState(db: Db, conversationId: number, state: JsonObject, now: number): Promise<void> {
  const data = JSON.stringify(state);
  await db
    .insertInto('dialog_state')
    .values({ conversation_id: conversationId, data, updated_at: now })
    .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ data, updated_at: now }))
    .execute();
}
