/** Conversations, their leases and their dialog state. */
import { sql, type Kysely } from 'kysely';
import type { JsonObject } from '../../core/handling.ts';
import type { Person } from '../../core/model.ts';
import { prepared } from '../database.ts';
import type { ConversationRow, Database } from '../schema.ts';

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

export type ClaimedRow = ConversationRow & { recipient: string | null; next_id: number | null };

/**
 * Claims a lease and returns the conversation's row, the person's user id on the conversation's
 * platform (`recipient`: whom a private message goes to), and the id of the oldest unfinished
 * message in the lease's direction (`next_id`), all in one statement.
 */
function claimer(owner: 'lease_owner' | 'send_owner', until: 'lease_until' | 'send_until', direction: 'in' | 'out', open: [string, string]) {
  return prepared<{ id: number; owner: string; until: number; now: number }, ClaimedRow>((db, p) =>
    db
      .updateTable('conversations')
      .set({ [owner]: p('owner'), [until]: p('until') })
      .where('id', '=', p('id'))
      .where((eb) => eb.or([eb(owner, 'is', null), eb(until, '<', p('now')), eb(owner, '=', p('owner'))]))
      .returningAll()
      .returning((eb) => [
        eb
          .selectFrom('identities')
          .select('identities.platform_user_id')
          .whereRef('identities.person_id', '=', 'conversations.person_id')
          .whereRef('identities.platform', '=', 'conversations.platform')
          .limit(1)
          .as('recipient'),
        eb
          .selectFrom('messages')
          .select('messages.id')
          .whereRef('messages.conversation_id', '=', 'conversations.id')
          .where('messages.direction', '=', direction)
          // The same literal as messages.ts OPEN_ROWS, for a partial index on open rows.
          .where(sql<boolean>`status in ('received', 'processing', 'queued', 'sending')`)
          .where('messages.status', 'in', open)
          .orderBy('messages.id')
          .limit(1)
          .as('next_id'),
      ]),
  );
}

const claimers = {
  handle: claimer('lease_owner', 'lease_until', 'in', ['received', 'processing']),
  send: claimer('send_owner', 'send_until', 'out', ['queued', 'sending']),
};

/**
 * `claimConversation` that also returns the conversation's row, the recipient and the next open
 * message's id (one statement instead of a claim and three reads); undefined when another owner
 * holds the lease.
 */
export async function claimConversationRow(
  db: Db,
  id: number,
  kind: LeaseKind,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<ClaimedRow | undefined> {
  return (await claimers[kind].execute(db, { id, owner, until: now + leaseMs, now })).rows[0];
}

/**
 * Releases a lease and, in the same statement, looks whether the conversation has work ready in
 * that direction: its oldest open message is waiting (not being worked on) and due.
 */
function releaser(owner: 'lease_owner' | 'send_owner', until: 'lease_until' | 'send_until', direction: 'in' | 'out', waiting: string, working: string) {
  return prepared<{ id: number; owner: string; now: number }, { again: number | null }>((db, p) =>
    db
      .updateTable('conversations')
      .set({ [owner]: null, [until]: null })
      .where('id', '=', p('id'))
      .where(owner, '=', p('owner'))
      .returning((eb) =>
        eb
          .selectFrom('messages')
          .select((m) => m.case().when(m.and([m('status', '=', waiting), m('available_at', '<=', p('now'))])).then(1).else(0).end().as('ready'))
          .where('conversation_id', '=', p('id'))
          .where('direction', '=', direction)
          // The same literal as messages.ts OPEN_ROWS, for a partial index on open rows.
          .where(sql<boolean>`status in ('received', 'processing', 'queued', 'sending')`)
          .where('status', 'in', [waiting, working])
          .orderBy('id')
          .limit(1)
          .as('again'),
      ),
  );
}

const releasers = {
  handle: releaser('lease_owner', 'lease_until', 'in', 'received', 'processing'),
  send: releaser('send_owner', 'send_until', 'out', 'queued', 'sending'),
};

export async function releaseConversation(db: Db, id: number, kind: LeaseKind, owner: string): Promise<void> {
  await releaseAndLook(db, id, kind, owner, Date.now());
}

/**
 * Releases `owner`'s lease; true when the conversation has work ready for whoever takes the lease
 * next (a message stored while the lease was held found it taken: its notification is spent).
 * False also when the lease was no longer `owner`'s.
 */
export async function releaseAndLook(db: Db, id: number, kind: LeaseKind, owner: string, now: number): Promise<boolean> {
  const { rows } = await releasers[kind].execute(db, { id, owner, now });
  return rows[0]?.again === 1;
}

const touch = prepared<{ id: number; now: number }, never>((db, p) =>
  db.updateTable('conversations').set({ last_inbound_at: p('now') }).where('id', '=', p('id')),
);

/** Records that the person wrote just now (platforms' reply windows count from it). */
export async function touchInbound(db: Db, id: number, now: number): Promise<void> {
  await touch.execute(db, { id, now });
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

/** What core needs to run a turn of a conversation, read at once. */
export interface TurnContext {
  person: Person;
  /** The dialog state as stored (JSON), or null when the conversation has none yet. */
  stateData: string | null;
  /** `raw` of the conversation's latest sent outbound message (its numbered options), if any. */
  lastSentRaw: string | null;
}

/**
 * The person (with identities), the dialog state and the latest sent message's record of a
 * conversation in one statement: a turn's three reads are one round trip.
 */
const selectTurn = prepared<
  { conversation_id: number; person_id: number },
  {
    id: number;
    name: string | null;
    language: string | null;
    platform: string | null;
    platform_user_id: string | null;
    username: string | null;
    unreachable: string | null;
    state: string | null;
    last_sent_raw: string | null;
  }
>((db, p) =>
  db
    .selectFrom('persons as p')
    .leftJoin('identities as i', 'i.person_id', 'p.id')
    .select(['p.id', 'p.name', 'p.language', 'i.platform', 'i.platform_user_id', 'i.username', 'i.unreachable'])
    .select((eb) => [
      eb.selectFrom('dialog_state').select('data').where('conversation_id', '=', p('conversation_id')).as('state'),
      eb
        .selectFrom('messages')
        .select('raw')
        .where('conversation_id', '=', p('conversation_id'))
        .where('direction', '=', 'out')
        .where('status', '=', 'sent')
        .orderBy('id', 'desc')
        .limit(1)
        .as('last_sent_raw'),
    ])
    .where('p.id', '=', p('person_id'))
    .orderBy('i.id'),
);

export async function loadTurnContext(db: Db, conversationId: number, personId: number): Promise<TurnContext> {
  const { rows } = await selectTurn.execute(db, { conversation_id: conversationId, person_id: personId });
  const first = rows[0];
  if (!first) throw new Error(`person ${personId} of conversation ${conversationId} not found`);
  return {
    person: {
      id: first.id,
      name: first.name,
      language: first.language,
      identities: rows
        .filter((r) => r.platform !== null)
        .map((r) => ({ platform: r.platform!, platformUserId: r.platform_user_id!, username: r.username ?? undefined, unreachable: r.unreachable })),
    },
    stateData: first.state ?? null,
    lastSentRaw: first.last_sent_raw ?? null,
  };
}

/** Records the reply keyboard the conversation shows from now on (its JSON, see runtime/reply-keyboard.ts; null: none). */
export async function setReplyKeyboard(db: Db, id: number, keyboard: string | null): Promise<void> {
  await db.updateTable('conversations').set({ reply_keyboard: keyboard }).where('id', '=', id).execute();
}
