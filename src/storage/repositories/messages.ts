/**
 * The messages table: every inbound, outbound and system message with its status and lease.
 * in: received → processing → handled | failed; out: queued → sending → sent | failed.
 */
import type { Kysely } from 'kysely';
import type { Database, Direction, MessageRow } from '../schema.ts';

type Db = Kysely<Database>;

export interface InsertInbound {
  conversationId: number;
  kind: string;
  dedupKey: string;
  content: unknown;
  raw: unknown;
  platformMessageId?: string;
  now: number;
}

/** Inserts an inbound message unless its dedup key was seen; returns its id either way. */
export async function insertInbound(db: Db, m: InsertInbound): Promise<{ id: number; duplicate: boolean }> {
  const inserted = await db
    .insertInto('messages')
    .values({
      conversation_id: m.conversationId,
      direction: 'in',
      kind: m.kind,
      status: 'received',
      dedup_key: m.dedupKey,
      content: JSON.stringify(m.content),
      raw: m.raw === undefined ? null : JSON.stringify(m.raw),
      platform_message_id: m.platformMessageId ?? null,
      cause_id: null,
      edit_of: null,
      lease_owner: null,
      lease_until: null,
      available_at: m.now,
      attempts: 0,
      error: null,
      created_at: m.now,
      updated_at: m.now,
    })
    .onConflict((oc) => oc.columns(['conversation_id', 'direction', 'dedup_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, duplicate: false };
  const existing = await db
    .selectFrom('messages')
    .select('id')
    .where('conversation_id', '=', m.conversationId)
    .where('direction', '=', 'in')
    .where('dedup_key', '=', m.dedupKey)
    .executeTakeFirstOrThrow();
  return { id: existing.id, duplicate: true };
}

export interface InsertOutbound {
  conversationId: number;
  content: unknown;
  causeId: number | null;
  editOf?: number | null;
  now: number;
}

export async function insertOutbound(db: Db, m: InsertOutbound): Promise<number> {
  const row = await db
    .insertInto('messages')
    .values({
      conversation_id: m.conversationId,
      direction: 'out',
      kind: m.editOf ? 'edit' : 'message',
      status: 'queued',
      dedup_key: null,
      content: JSON.stringify(m.content),
      raw: null,
      platform_message_id: null,
      cause_id: m.causeId,
      edit_of: m.editOf ?? null,
      lease_owner: null,
      lease_until: null,
      available_at: m.now,
      attempts: 0,
      error: null,
      created_at: m.now,
      updated_at: m.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function getMessage(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

const OPEN: Record<Direction, [string, string]> = { in: ['received', 'processing'], out: ['queued', 'sending'] };

/**
 * The oldest unfinished message of a conversation in one direction. The caller holds the
 * conversation's lease, so a row still `processing`/`sending` was left by a holder that died.
 */
export async function nextOpen(db: Db, conversationId: number, direction: Direction): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('direction', '=', direction)
    .where('status', 'in', OPEN[direction])
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

/** Marks a message as being worked on by `owner` (processing / sending). */
export async function startWork(db: Db, id: number, direction: Direction, owner: string, now: number, leaseMs: number): Promise<boolean> {
  const res = await db
    .updateTable('messages')
    .set((eb) => ({
      status: direction === 'in' ? 'processing' : 'sending',
      lease_owner: owner,
      lease_until: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('status', 'in', OPEN[direction])
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Finishes work only if `owner` still holds it (fencing): false means someone took over. */
export async function finishWork(
  db: Db,
  id: number,
  owner: string,
  values: { status: string; error?: string | null; platform_message_id?: string | null; raw?: string | null },
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable('messages')
    .set({ ...values, lease_owner: null, lease_until: null, updated_at: now })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', 'in', ['processing', 'sending'])
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Puts a message back in line to be retried at `availableAt`. */
export async function retryLater(db: Db, id: number, owner: string, direction: Direction, availableAt: number, error: string, now: number): Promise<void> {
  await db
    .updateTable('messages')
    .set({ status: OPEN[direction][0], lease_owner: null, lease_until: null, available_at: availableAt, error, updated_at: now })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/**
 * Work whose notification may have been lost: open messages not touched for `staleMs`, or whose
 * lease expired, and that are due. The sweeper re-notifies them; claiming stays idempotent.
 */
export async function findStale(db: Db, direction: Direction, now: number, staleMs: number, limit: number) {
  return db
    .selectFrom('messages')
    .select(['id', 'conversation_id', 'status'])
    .where('direction', '=', direction)
    .where('status', 'in', OPEN[direction])
    .where('available_at', '<=', now)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', OPEN[direction][0]), eb('updated_at', '<', now - staleMs)]),
        eb.and([eb('status', '=', OPEN[direction][1]), eb('lease_until', '<', now)]),
        eb.and([eb('status', '=', OPEN[direction][0]), eb('available_at', '>', eb.ref('updated_at'))]),
      ]),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function recordAttempt(
  db: Db,
  a: { messageId: number; attempt: number; outcome: string; code?: string | null; detail?: string | null; now: number },
): Promise<void> {
  await db
    .insertInto('delivery_attempts')
    .values({ message_id: a.messageId, attempt: a.attempt, at: a.now, outcome: a.outcome, code: a.code ?? null, detail: a.detail ?? null })
    .execute();
}

/** The latest sent outbound message of a conversation (for numbered-option answers). */
export async function lastSent(db: Db, conversationId: number) {
  return db
    .selectFrom('messages')
    .select(['id', 'raw'])
    .where('conversation_id', '=', conversationId)
    .where('direction', '=', 'out')
    .where('status', '=', 'sent')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function outboundByPlatformId(db: Db, conversationId: number, platformMessageId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('messages')
    .select('id')
    .where('conversation_id', '=', conversationId)
    .where('platform_message_id', '=', platformMessageId)
    .where('direction', '=', 'out')
    .executeTakeFirst();
  return row?.id;
}

/** The last `limit` messages of a conversation, oldest first (web chat history). */
export async function recentMessages(db: Db, conversationId: number, limit: number) {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'direction', 'kind', 'status', 'content', 'created_at'])
    .where('conversation_id', '=', conversationId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}
