/**
 * Steady load and its audit. People on the emulated Telegram write numbered messages (`m1`,
 * `m2`, … per chat, each chat in order, all chats interleaved at a fixed overall rate); the echo
 * bot answers `echo m<n>`. The audit counts, from the database and from what the emulator
 * received: inbound stored / handled, replies written per inbound, replies delivered, lost,
 * duplicated, and chats whose replies arrived out of order (adjacent duplicates ignored).
 */
import { sql } from 'kysely';
import type { Cluster } from './cluster.ts';

export interface LoadPlan {
  chats: number;
  perChat: number;
  /** Messages per second across all chats. */
  ratePerSecond: number;
  /** Telegram user id of the first chat; the others follow. */
  firstUser: number;
}

export class Load {
  readonly users: number[];
  sent = 0;
  readonly failures: string[] = [];
  readonly #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(
    readonly cluster: Cluster,
    readonly plan: LoadPlan,
  ) {
    this.users = Array.from({ length: plan.chats }, (_, i) => plan.firstUser + i);
  }

  get total(): number {
    return this.plan.chats * this.plan.perChat;
  }

  /** Sends every message at the planned rate; each chat's messages strictly one after another. */
  async run(): Promise<void> {
    const { chats, ratePerSecond } = this.plan;
    const chains = new Map<number, Promise<void>>();
    const people = this.users.map((u) => this.cluster.emu.client.person(u));
    const started = Date.now();
    for (let i = 0; i < this.total; ) {
      const due = started + (i * 1000) / ratePerSecond;
      if (due > Date.now()) {
        await new Promise((r) => setTimeout(r, Math.min(20, due - Date.now())));
        continue;
      }
      const chat = i % chats;
      const seq = Math.floor(i / chats) + 1;
      const person = people[chat];
      const prev = chains.get(chat) ?? Promise.resolve();
      chains.set(
        chat,
        prev.then(async () => {
          try {
            await person.sendText(`m${seq}`);
          } catch (err: unknown) {
            this.failures.push(`user ${person.id} m${seq}: ${(err as Error).message}`);
          }
          this.sent++;
          for (const w of this.#waiters.filter((x) => this.sent >= x.n)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve();
          }
        }),
      );
      i++;
    }
    await Promise.all(chains.values());
  }

  /** Resolves once `n` messages were handed to the emulator. */
  reached(n: number): Promise<void> {
    if (this.sent >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
}

export interface Tally {
  /** Messages people wrote. */
  sent: number;
  /** Inbound rows stored for them (each update exactly once: the dedup key is unique). */
  stored: number;
  handled: number;
  /** Inbound rows still open (received/processing). */
  openInbound: number;
  /** Outbound rows written in reply, and inbound messages with more than one. */
  replyRows: number;
  doubleHandled: number;
  /** Outbound rows still open (queued/sending). */
  openOutbound: number;
  /** Replies the emulator received, distinct messages answered, and what is missing. */
  delivered: number;
  answered: number;
  lostInbound: number;
  lostReplies: number;
  duplicates: number;
  /** Chats whose replies did not come in the chat's order (adjacent copies of one reply ignored). */
  outOfOrderChats: number;
  /** Most copies of one reply a person received. */
  maxCopies: number;
}

/** Counts what happened to the load, in the database and at the emulator. */
export async function tally(load: Load): Promise<Tally> {
  const { cluster, users, plan } = load;
  const db = cluster.store.db;
  const chatIds = users.map(String);
  const inbound = await db
    .selectFrom('messages')
    .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
    .select(['messages.status', sql<number>`count(*)`.as('n')])
    .where('messages.direction', '=', 'in')
    .where('conversations.chat_id', 'in', chatIds)
    .groupBy('messages.status')
    .execute();
  const byStatus = (s: string[]) => inbound.filter((r) => s.includes(r.status)).reduce((a, r) => a + Number(r.n), 0);
  const replies = await db
    .selectFrom('messages as o')
    .innerJoin('conversations', 'conversations.id', 'o.conversation_id')
    .select(['o.cause_id', 'o.status', sql<number>`count(*)`.as('n')])
    .where('o.direction', '=', 'out')
    .where('conversations.chat_id', 'in', chatIds)
    .groupBy(['o.cause_id', 'o.status'])
    .execute();
  const perCause = new Map<number | null, number>();
  for (const r of replies) perCause.set(r.cause_id, (perCause.get(r.cause_id) ?? 0) + Number(r.n));

  const bot = cluster.emu.world.bot()!;
  let delivered = 0;
  let answered = 0;
  let outOfOrderChats = 0;
  let maxCopies = 0;
  for (const user of users) {
    const seqs = (bot.chats.get(user)?.messages ?? [])
      .filter((m) => m.sentBy === 'bot')
      .map((m) => /^echo m(\d+)$/.exec(m.message.text ?? '')?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number);
    delivered += seqs.length;
    answered += new Set(seqs.filter((s) => s >= 1 && s <= plan.perChat)).size;
    const copies = new Map<number, number>();
    for (const s of seqs) copies.set(s, (copies.get(s) ?? 0) + 1);
    maxCopies = Math.max(maxCopies, ...copies.values());
    // A resend after a crash repeats the message in flight right away: collapse those first.
    const collapsed = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
    if (collapsed.some((s, i) => s !== i + 1)) outOfOrderChats++;
  }
  const stored = byStatus(['received', 'processing', 'handled', 'failed']);
  return {
    sent: load.sent,
    stored,
    handled: byStatus(['handled']),
    openInbound: byStatus(['received', 'processing']),
    replyRows: [...perCause.values()].reduce((a, b) => a + b, 0),
    doubleHandled: [...perCause.values()].filter((n) => n > 1).length,
    openOutbound: replies.filter((r) => r.status === 'queued' || r.status === 'sending').reduce((a, r) => a + Number(r.n), 0),
    delivered,
    answered,
    lostInbound: load.sent - stored,
    lostReplies: load.sent - answered,
    duplicates: delivered - answered,
    outOfOrderChats,
    maxCopies,
  };
}

/**
 * Sends that were overtaken: recorded `sent` more than once for one message, because a send
 * stalled past LEASE_MS and another gateway sent the message again meanwhile. Each may add one
 * duplicate; on a healthy machine with a sane LEASE_MS there are none.
 */
export async function overtakenSends(cluster: Cluster): Promise<number> {
  const rows = await cluster.store.db
    .selectFrom('delivery_attempts')
    .select(['message_id', sql<number>`count(*)`.as('n')])
    .where('outcome', '=', 'sent')
    .groupBy('message_id')
    .having(sql`count(*)`, '>', 1)
    .execute();
  return rows.reduce((a, r) => a + Number(r.n) - 1, 0);
}

/**
 * Send attempts whose outcome the gateway could not know: the platform call timed out or the
 * connection broke after the request left (a transient failure with a network code). Each may
 * have reached the person, so each may add one duplicate. A transient failure of our own
 * bookkeeping (code `error`/`internal`) is not one: the platform's answer was known.
 */
export async function unknownOutcomeSends(cluster: Cluster): Promise<number> {
  const rows = await cluster.store.db
    .selectFrom('delivery_attempts')
    .select(['code', sql<number>`count(*)`.as('n')])
    .where('outcome', '=', 'transient')
    .groupBy('code')
    .execute();
  return rows.filter((r) => r.code !== 'error' && r.code !== 'internal').reduce((a, r) => a + Number(r.n), 0);
}

/** Waits until every message is handled and answered and nothing is left to send. */
export async function settle(load: Load, timeoutMs: number): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await tally(load);
    if (t.handled === load.total && t.openOutbound === 0 && t.answered === load.total) return t;
    if (Date.now() > deadline) {
      throw new Error(`the load did not complete within ${timeoutMs} ms: ${JSON.stringify(t)}\n${load.cluster.outputs()}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Prints the counts of one scenario as a small table. */
export function printTally(title: string, t: Tally, extra: Record<string, number | string> = {}): void {
  const rows: Array<[string, number | string]> = [
    ['inbound sent', t.sent],
    ['inbound stored', t.stored],
    ['inbound lost', t.lostInbound],
    ['inbound handled', t.handled],
    ['reply rows written', t.replyRows],
    ['inbound with >1 reply row', t.doubleHandled],
    ['replies delivered', t.delivered],
    ['replies lost', t.lostReplies],
    ['duplicate replies', t.duplicates],
    ['chats out of order', t.outOfOrderChats],
    ['most copies of one reply', t.maxCopies],
    ...Object.entries(extra),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log([`\n${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n'));
}

/** What went wrong in which chats, for a failure message: replies as received and the rows behind them. */
export async function explain(load: Load, maxChats = 4): Promise<string> {
  const { cluster, users, plan } = load;
  const bot = cluster.emu.world.bot()!;
  const lines: string[] = [];
  let shown = 0;
  for (const user of users) {
    const seqs = (bot.chats.get(user)?.messages ?? []).filter((m) => m.sentBy === 'bot').map((m) => m.message.text ?? '');
    const nums = seqs.map((s) => Number(/^echo m(\d+)$/.exec(s)?.[1] ?? -1));
    const collapsed = nums.filter((s, i) => i === 0 || s !== nums[i - 1]);
    const bad = nums.length !== plan.perChat || collapsed.some((s, i) => s !== i + 1);
    if (!bad) continue;
    shown++;
    const conv = await cluster.store.db.selectFrom('conversations').select('id').where('chat_id', '=', String(user)).executeTakeFirst();
    const rows = conv
      ? await cluster.store.db
          .selectFrom('messages')
          .select(['id', 'direction', 'status', 'attempts', 'content', 'lease_owner', 'updated_at'])
          .where('conversation_id', '=', conv.id)
          .orderBy('id')
          .execute()
      : [];
    const attempts = rows.length
      ? await cluster.store.db.selectFrom('delivery_attempts').selectAll().where('message_id', 'in', rows.map((r) => r.id)).orderBy('id').execute()
      : [];
    lines.push(`chat ${user}: received ${nums.join(' ')}`);
    for (const r of rows.filter((x) => x.direction === 'out')) {
      const text = (JSON.parse(r.content) as { text?: string }).text;
      const a = attempts.filter((x) => x.message_id === r.id).map((x) => `${x.attempt}:${x.outcome}${x.code ? `(${x.code})` : ''}@${x.at % 100000}`);
      lines.push(`  out ${r.id} "${text}" ${r.status} attempts=${r.attempts} [${a.join(', ')}]`);
    }
    if (shown >= maxChats) break;
  }
  return lines.join('\n');
}
