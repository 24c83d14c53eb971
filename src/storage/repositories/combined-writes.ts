/**
 * Writes of several rows that the hot path makes at once. On PostgreSQL each is ONE statement
 * (a data-modifying WITH: atomic like a transaction, one round trip instead of four or five); on
 * SQLite, which has no such statement, a transaction — cheap there: no round trips, and committed
 * with its group (see sqlite-group-commit.ts). Parameters are cast, since PostgreSQL cannot infer
 * the type of a value in a SELECT list.
 */
import { sql, type Kysely } from 'kysely';
import { isPostgres, prepared, type Prepared } from '../database.ts';
import type { Database, MessageRow } from '../schema.ts';
import { claimConversationRow, releaseAndLook, touchInbound, type ClaimedRow, type LeaseKind } from './conversations.ts';
import { finishWork, inboundValues, insertInbound, OPEN_ROWS, recordAttempt, startWorkRow, storedBefore, type InsertInbound } from './messages.ts';

type Db = Kysely<Database>;

const storeInboundPg = (touch: boolean) =>
  prepared<{ conversation_id: number; kind: string; dedup_key: string; content: string; raw: string | null; platform_message_id: string | null; now: number }, { id: number }>(
    (db, p) => ({
      compile: () =>
        sql<{ id: number }>`with ins as (
          insert into messages (conversation_id, direction, kind, status, dedup_key, content, raw, platform_message_id, cause_id, edit_of,
            lease_owner, lease_until, available_at, attempts, error, created_at, updated_at)
          values (${p('conversation_id')}::integer, 'in', ${p('kind')}::text, 'received', ${p('dedup_key')}::text, ${p('content')}::text,
            ${p('raw')}::text, ${p('platform_message_id')}::text, null, null, null, null, ${p('now')}::bigint, 0, null, ${p('now')}::bigint, ${p('now')}::bigint)
          on conflict (conversation_id, direction, dedup_key) do nothing
          returning id
        ), touched as (
          update conversations set last_inbound_at = ${p('now')}::bigint
          where id = ${p('conversation_id')}::integer and ${sql.lit(touch)} and exists (select 1 from ins)
          returning id
        )
        select id from ins`.compile(db),
    }),
  );
const storeInboundPgQueries = { touch: storeInboundPg(true), plain: storeInboundPg(false) };

/**
 * Stores an inbound message in a conversation that exists and, unless `touch` is false (system
 * messages), records it as the person's latest; a duplicate (same dedup key) stores nothing.
 */
export async function storeInbound(db: Db, m: InsertInbound, touch: boolean): Promise<{ id: number; duplicate: boolean }> {
  if (!isPostgres(db)) {
    return db.transaction().execute(async (trx) => {
      const res = await insertInbound(trx, m);
      if (!res.duplicate && touch) await touchInbound(trx, m.conversationId, m.now);
      return res;
    });
  }
  const { rows } = await storeInboundPgQueries[touch ? 'touch' : 'plain'].execute(db, inboundValues(m));
  return rows[0] ? { id: rows[0].id, duplicate: false } : storedBefore(db, m);
}

function finishSentQuery(release: boolean) {
  return prepared<
    { id: number; owner: string; now: number; platform_message_id: string | null; raw: string; attempt: number; conversation_id: number },
    { finished: number; again: number | null }
  >((db, p) => {
    const conv = sql`${p('conversation_id')}::integer`;
    const now = sql`${p('now')}::bigint`;
    const releasing = release
      ? sql`, r as (
          update conversations set send_owner = null, send_until = null
          where id = ${conv} and send_owner = ${p('owner')}::text
          returning id)`
      : sql``;
    // The look sees the rows as they were before this statement: the message just sent still
    // looks open, so it is left out.
    const again = release
      ? sql`(select case when status = 'queued' and available_at <= ${now} then 1 else 0 end from messages
          where conversation_id = ${conv} and direction = 'out' and ${OPEN_ROWS} and status in ('queued', 'sending') and id <> ${p('id')}::integer
          order by id limit 1)`
      : sql`null::integer`;
    return {
      compile: () =>
        sql<{ finished: number; again: number | null }>`with f as (
          update messages set status = 'sent', error = null, platform_message_id = ${p('platform_message_id')}::text, raw = ${p('raw')}::text,
            lease_owner = null, lease_until = null, updated_at = ${now}
          where id = ${p('id')}::integer and lease_owner = ${p('owner')}::text and status in ('processing', 'sending')
          returning id
        )${releasing}
        insert into delivery_attempts (message_id, attempt, at, outcome, code, detail)
        values (${p('id')}::integer, ${p('attempt')}::integer, ${now}, 'sent', null, null)
        returning (select count(*) from f)::integer as finished, ${again} as again`.compile(db),
    };
  });
}
const finishSentQueries = { release: finishSentQuery(true), keep: finishSentQuery(false) };

/**
 * Marks a sent message `sent` (if `owner` still holds it) and records the attempt; with
 * `release`, also releases the conversation's send lease and looks for more work, as
 * `releaseAndLook` does.
 */
export async function finishSent(
  db: Db,
  s: { id: number; owner: string; now: number; platformMessageId: string | null; raw: string; attempt: number; conversationId: number; release: boolean },
): Promise<{ finished: boolean; again: boolean }> {
  if (isPostgres(db)) {
    const { rows } = await finishSentQueries[s.release ? 'release' : 'keep'].execute(db, {
      id: s.id,
      owner: s.owner,
      now: s.now,
      platform_message_id: s.platformMessageId,
      raw: s.raw,
      attempt: s.attempt,
      conversation_id: s.conversationId,
    });
    return { finished: rows[0]?.finished === 1, again: rows[0]?.again === 1 };
  }
  return db.transaction().execute(async (trx) => {
    const finished = await finishWork(trx, s.id, s.owner, { status: 'sent', error: null, platform_message_id: s.platformMessageId, raw: s.raw }, s.now);
    await recordAttempt(trx, { messageId: s.id, attempt: s.attempt, outcome: 'sent', now: s.now });
    const again = s.release ? await releaseAndLook(trx, s.conversationId, 'send', s.owner, s.now) : false;
    return { finished, again };
  });
}

/** What a handled turn writes when it is the common case (see `finishTurnPg`). */
export interface SimpleTurn {
  /** The inbound message, handled by `owner`. */
  id: number;
  owner: string;
  now: number;
  conversationId: number;
  /** The one reply, to the same conversation, if any. */
  reply?: { content: unknown; editOf?: number | null };
  /** The new dialog state, as JSON, when it changed. */
  state?: string;
  /** Release the conversation's `handle` lease and look for more work (the drain's last turn). */
  release: boolean;
}

const turnQueries = new Map<string, Prepared<Record<string, unknown>, { finished: number | null; outbound: number | null; again: number | null }>>();

function turnQuery(reply: boolean, state: boolean, release: boolean) {
  const key = `${reply}${state}${release}`;
  let q = turnQueries.get(key);
  if (!q) {
    q = prepared<Record<string, unknown>, { finished: number | null; outbound: number | null; again: number | null }>((db, p) => {
      const conv = sql`${p('conversation_id')}::integer`;
      const now = sql`${p('now')}::bigint`;
      const parts = [
        sql`f as (
          update messages set status = 'handled', error = null, lease_owner = null, lease_until = null, updated_at = ${now}
          where id = ${p('id')}::integer and lease_owner = ${p('owner')}::text and status in ('processing', 'sending')
          returning id)`,
      ];
      if (reply) {
        parts.push(sql`o as (
          insert into messages (conversation_id, direction, kind, status, dedup_key, content, raw, platform_message_id, cause_id, edit_of,
            lease_owner, lease_until, available_at, attempts, error, created_at, updated_at)
          select ${conv}, 'out', ${p('kind')}::text, 'queued', null, ${p('content')}::text, null, null, f.id, ${p('edit_of')}::integer,
            null, null, ${now}, 0, null, ${now}, ${now} from f
          returning id)`);
      }
      if (state) {
        parts.push(sql`s as (
          insert into dialog_state (conversation_id, data, updated_at) select ${conv}, ${p('state')}::text, ${now} from f
          on conflict (conversation_id) do update set data = excluded.data, updated_at = excluded.updated_at
          returning conversation_id)`);
      }
      if (release) {
        parts.push(sql`r as (
          update conversations set lease_owner = null, lease_until = null
          where id = ${conv} and lease_owner = ${p('owner')}::text and exists (select 1 from f)
          returning id)`);
      }
      // The look sees the rows as they were before this statement: the message just handled
      // still looks open, so it is left out.
      const again = release
        ? sql`(select case when status = 'received' and available_at <= ${now} then 1 else 0 end from messages
            where conversation_id = ${conv} and direction = 'in' and ${OPEN_ROWS} and status in ('received', 'processing') and id <> ${p('id')}::integer
            order by id limit 1)`
        : sql`null::integer`;
      const outbound = reply ? sql`(select id from o)` : sql`null::integer`;
      return {
        compile: () =>
          sql<{ finished: number | null; outbound: number | null; again: number | null }>`with ${sql.join(parts)}
          select (select id from f) as finished, ${outbound} as outbound, ${again} as again`.compile(db),
      };
    });
    turnQueries.set(key, q);
  }
  return q;
}

/**
 * Core's turn in ONE PostgreSQL statement, for the common case: the inbound message handled
 * (fenced by `owner`), at most one reply to the same conversation, the state, the lease released
 * with a look for more. Null when `owner` no longer held the message (nothing was written).
 * PostgreSQL only: SQLite runs the turn as a transaction.
 */
export async function finishTurnPg(db: Db, t: SimpleTurn): Promise<{ outboundId: number | null; again: boolean } | null> {
  const { rows } = await turnQuery(t.reply !== undefined, t.state !== undefined, t.release).execute(db, {
    id: t.id,
    owner: t.owner,
    now: t.now,
    conversation_id: t.conversationId,
    kind: t.reply?.editOf ? 'edit' : 'message',
    content: t.reply ? JSON.stringify(t.reply.content) : null,
    edit_of: t.reply?.editOf ?? null,
    state: t.state ?? null,
  });
  const row = rows[0];
  if (!row?.finished) return null;
  return { outboundId: row.outbound, again: row.again === 1 };
}

/** A claimed conversation and its oldest open message, marked as being worked on (if it was due). */
export interface ClaimedWork {
  conversation: ClaimedRow;
  /** Undefined when the conversation has no open message in the direction, or it is not due yet. */
  msg: MessageRow | undefined;
}

const CLAIM = {
  handle: { owner: 'lease_owner', until: 'lease_until', direction: 'in', open: ['received', 'processing'], working: 'processing' },
  send: { owner: 'send_owner', until: 'send_until', direction: 'out', open: ['queued', 'sending'], working: 'sending' },
} as const;

const claimNextPg = (kind: LeaseKind) => {
  const c = CLAIM[kind];
  const [owner, until] = [sql.ref(c.owner), sql.ref(c.until)];
  const [open0, open1] = c.open.map((s) => sql.lit(s));
  return prepared<{ id: number; owner: string; until: number; now: number }, ClaimedRow & { msg: MessageRow | null }>((db, p) => ({
    compile: () =>
      sql<ClaimedRow & { msg: MessageRow | null }>`with c as (
        update conversations set ${owner} = ${p('owner')}::text, ${until} = ${p('until')}::bigint
        where id = ${p('id')}::integer and (${owner} is null or ${until} < ${p('now')}::bigint or ${owner} = ${p('owner')}::text)
        returning *,
          (select i.platform_user_id from identities i where i.person_id = conversations.person_id and i.platform = conversations.platform limit 1) as recipient,
          (select id from messages where conversation_id = conversations.id and direction = ${sql.lit(c.direction)} and ${OPEN_ROWS}
            and status in (${open0}, ${open1}) order by id limit 1) as next_id
      ), w as (
        update messages set status = ${sql.lit(c.working)}, lease_owner = ${p('owner')}::text, lease_until = ${p('until')}::bigint,
          attempts = attempts + 1, updated_at = ${p('now')}::bigint
        where id = (select next_id from c) and status in (${open0}, ${open1}) and available_at <= ${p('now')}::bigint
        returning *
      )
      select c.*, (select to_jsonb(w) from w) as msg from c`.compile(db),
  }));
};
const claimNextPgQueries = { handle: claimNextPg('handle'), send: claimNextPg('send') };

/**
 * Takes the conversation's lease (`handle` for core, `send` for a gateway) and marks its oldest
 * open message in that direction `processing`/`sending` for `owner`, if it is due: on PostgreSQL
 * one statement, on SQLite the claim and the mark. Undefined when another owner holds the lease.
 */
export async function claimNext(db: Db, id: number, kind: LeaseKind, owner: string, now: number, leaseMs: number): Promise<ClaimedWork | undefined> {
  if (isPostgres(db)) {
    const { rows } = await claimNextPgQueries[kind].execute(db, { id, owner, until: now + leaseMs, now });
    const row = rows[0];
    if (!row) return undefined;
    const { msg, ...conversation } = row;
    return { conversation, msg: msg ?? undefined };
  }
  const conversation = await claimConversationRow(db, id, kind, owner, now, leaseMs);
  if (!conversation) return undefined;
  const msg = conversation.next_id === null ? undefined : await startWorkRow(db, conversation.next_id, CLAIM[kind].direction, owner, now, leaseMs);
  return { conversation, msg };
}
