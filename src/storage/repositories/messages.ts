/**
 * The messages table: every inbound, outbound and system message with its status and lease.
 * in: received → processing → handled | failed; out: queued → sending → sent | failed.
 */
import { sql, type Kysely } from 'kysely';
import { prepared, type Prepared } from '../database.ts';
import type { Database, Direction, MessageRow } from '../schema.ts';

type Db = Kysely<Database>;

// The queries every message runs are prepared once (see `prepared`); the rest are built per call.

type InsertedColumns = 'conversation_id' | 'direction' | 'kind' | 'status' | 'dedup_key' | 'content' | 'raw' | 'platform_message_id' | 'cause_id' | 'edit_of';

const insertMessage = prepared<Pick<MessageRow, InsertedColumns> & { now: number }, { id: number }>((db, p) =>
  db
    .insertInto('messages')
    .values({
      conversation_id: p('conversation_id'),
      direction: p('direction'),
      kind: p('kind'),
      status: p('status'),
      dedup_key: p('dedup_key'),
      content: p('content'),
      raw: p('raw'),
      platform_message_id: p('platform_message_id'),
      cause_id: p('cause_id'),
      edit_of: p('edit_of'),
      lease_owner: null,
      lease_until: null,
      available_at: p('now'),
      attempts: 0,
      error: null,
      created_at: p('now'),
      updated_at: p('now'),
    })
    .onConflict((oc) => oc.columns(['conversation_id', 'direction', 'dedup_key']).doNothing())
    .returning('id'),
);

export interface InsertInbound {
  conversationId: number;
  kind: string;
  dedupKey: string;
  content: unknown;
  raw: unknown;
  platformMessageId?: string;
  now: number;
}

/** An inbound message's column values, as every insert of one takes them. */
export function inboundValues(m: InsertInbound) {
  return {
    conversation_id: m.conversationId,
    kind: m.kind,
    dedup_key: m.dedupKey,
    content: JSON.stringify(m.content),
    raw: m.raw === undefined ? null : JSON.stringify(m.raw),
    platform_message_id: m.platformMessageId ?? null,
    now: m.now,
  };
}

/** After an insert that hit the dedup key: the message stored before, as a duplicate. */
export async function storedBefore(db: Db, m: InsertInbound): Promise<{ id: number; duplicate: true }> {
  const existing = await db
    .selectFrom('messages')
    .select('id')
    .where('conversation_id', '=', m.conversationId)
    .where('direction', '=', 'in')
    .where('dedup_key', '=', m.dedupKey)
    .executeTakeFirstOrThrow();
  return { id: existing.id, duplicate: true };
}

/** Inserts an inbound message unless its dedup key was seen; returns its id either way. */
export async function insertInbound(db: Db, m: InsertInbound): Promise<{ id: number; duplicate: boolean }> {
  const { rows } = await insertMessage.execute(db, { ...inboundValues(m), direction: 'in', status: 'received', cause_id: null, edit_of: null });
  return rows[0] ? { id: rows[0].id, duplicate: false } : storedBefore(db, m);
}

export interface InsertOutbound {
  conversationId: number;
  content: unknown;
  causeId: number | null;
  editOf?: number | null;
  now: number;
}

export async function insertOutbound(db: Db, m: InsertOutbound): Promise<number> {
  // An outbound row has no dedup key, so the conflict clause never applies and a row comes back.
  const { rows } = await insertMessage.execute(db, {
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
    now: m.now,
  });
  return rows[0]!.id;
}

export async function getMessage(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

const OPEN: Record<Direction, [string, string]> = { in: ['received', 'processing'], out: ['queued', 'sending'] };

/**
 * Every open status, as a literal: a partial index on open rows (`where status in (...)`, the same
 * text) can only serve a query whose WHERE names it literally, not through parameters.
 */
export const OPEN_ROWS = sql<boolean>`status in ('received', 'processing', 'queued', 'sending')`;

const selectOpen = prepared<{ conversation_id: number; direction: Direction; open0: string; open1: string; limit: number }, MessageRow>((db, p) =>
  db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', p('conversation_id'))
    .where('direction', '=', p('direction'))
    .where(OPEN_ROWS)
    .where('status', 'in', [p('open0'), p('open1')])
    .orderBy('id')
    .limit(p('limit')),
);

/**
 * The oldest unfinished message of a conversation in one direction. The caller holds the
 * conversation's lease, so a row still `processing`/`sending` was left by a holder that died.
 */
/** Inbound messages stored and not yet handled (received or processing), over every conversation. */
export async function openInboundCount(db: Db): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('direction', '=', 'in')
    .where(OPEN_ROWS)
    .where('status', 'in', OPEN.in)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function nextOpen(db: Db, conversationId: number, direction: Direction): Promise<MessageRow | undefined> {
  const [open0, open1] = OPEN[direction];
  const { rows } = await selectOpen.execute(db, { conversation_id: conversationId, direction, open0, open1, limit: 1 });
  return rows[0];
}

const markWorking = prepared<{ id: number; status: string; owner: string; until: number; now: number; open0: string; open1: string }, never>((db, p) =>
  db
    .updateTable('messages')
    .set((eb) => ({ status: p('status'), lease_owner: p('owner'), lease_until: p('until'), attempts: eb('attempts', '+', 1), updated_at: p('now') }))
    .where('id', '=', p('id'))
    .where('status', 'in', [p('open0'), p('open1')]),
);

const markWorkingRow = prepared<{ id: number; status: string; owner: string; until: number; now: number; open0: string; open1: string }, MessageRow>((db, p) =>
  db
    .updateTable('messages')
    .set((eb) => ({ status: p('status'), lease_owner: p('owner'), lease_until: p('until'), attempts: eb('attempts', '+', 1), updated_at: p('now') }))
    .where('id', '=', p('id'))
    .where('status', 'in', [p('open0'), p('open1')])
    .where('available_at', '<=', p('now'))
    .returningAll(),
);

/**
 * `startWork` for a message that is due, returning its row as it is now (`attempts` already
 * counts this attempt); undefined when it is not open or not due yet.
 */
export async function startWorkRow(db: Db, id: number, direction: Direction, owner: string, now: number, leaseMs: number): Promise<MessageRow | undefined> {
  const [open0, open1] = OPEN[direction];
  const { rows } = await markWorkingRow.execute(db, { id, status: direction === 'in' ? 'processing' : 'sending', owner, until: now + leaseMs, now, open0, open1 });
  return rows[0];
}

/** Marks a message as being worked on by `owner` (processing / sending). */
export async function startWork(db: Db, id: number, direction: Direction, owner: string, now: number, leaseMs: number): Promise<boolean> {
  const [open0, open1] = OPEN[direction];
  const res = await markWorking.execute(db, { id, status: direction === 'in' ? 'processing' : 'sending', owner, until: now + leaseMs, now, open0, open1 });
  return Number(res.numAffectedRows ?? 0) === 1;
}

type FinishValues = { status: string; error?: string | null; platform_message_id?: string | null; raw?: string | null };
type FinishParams = { id: number; owner: string; now: number } & Record<string, unknown>;

/** One prepared statement per set of columns a caller finishes with. */
const finishers = new Map<string, Prepared<FinishParams, never>>();

function finisher(columns: string[]): Prepared<FinishParams, never> {
  const key = columns.join(',');
  let q = finishers.get(key);
  if (!q) {
    q = prepared<FinishParams, never>((db, p) => {
      const values = Object.fromEntries(columns.map((c) => [c, p(c)])) as Partial<FinishValues>;
      return db
        .updateTable('messages')
        .set({ ...values, lease_owner: null, lease_until: null, updated_at: p('now') })
        .where('id', '=', p('id'))
        .where('lease_owner', '=', p('owner'))
        .where('status', 'in', ['processing', 'sending']);
    });
    finishers.set(key, q);
  }
  return q;
}

/** Finishes work only if `owner` still holds it (fencing): false means someone took over. */
export async function finishWork(db: Db, id: number, owner: string, values: FinishValues, now: number): Promise<boolean> {
  const columns = Object.keys(values).filter((k) => values[k as keyof FinishValues] !== undefined).sort();
  const res = await finisher(columns).execute(db, { ...values, id, owner, now });
  return Number(res.numAffectedRows ?? 0) === 1;
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
    .where(OPEN_ROWS)
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

const insertAttempt = prepared<{ message_id: number; attempt: number; at: number; outcome: string; code: string | null; detail: string | null }, never>((db, p) =>
  db.insertInto('delivery_attempts').values({ message_id: p('message_id'), attempt: p('attempt'), at: p('at'), outcome: p('outcome'), code: p('code'), detail: p('detail') }),
);

export async function recordAttempt(
  db: Db,
  a: { messageId: number; attempt: number; outcome: string; code?: string | null; detail?: string | null; now: number },
): Promise<void> {
  await insertAttempt.execute(db, { message_id: a.messageId, attempt: a.attempt, at: a.now, outcome: a.outcome, code: a.code ?? null, detail: a.detail ?? null });
}

const selectLastSent = prepared<{ conversation_id: number }, { id: number; raw: string | null }>((db, p) =>
  db
    .selectFrom('messages')
    .select(['id', 'raw'])
    .where('conversation_id', '=', p('conversation_id'))
    .where('direction', '=', 'out')
    .where('status', '=', 'sent')
    .orderBy('id', 'desc')
    .limit(1),
);

/** The latest sent outbound message of a conversation (for numbered-option answers). */
export async function lastSent(db: Db, conversationId: number): Promise<{ id: number; raw: string | null } | undefined> {
  return (await selectLastSent.execute(db, { conversation_id: conversationId })).rows[0];
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
    .select(['id', 'direction', 'kind', 'status', 'content', 'created_at', 'edit_of'])
    .where('conversation_id', '=', conversationId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}
