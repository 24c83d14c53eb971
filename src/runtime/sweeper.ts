/**
 * Recovers notifications lost with a crashed process or a broker outage: open messages whose
 * lease expired, or that waited too long, or whose retry time came, are notified again. Claims
 * stay idempotent, so a re-notification of work in progress elsewhere is harmless.
 *
 * A notification only makes a worker drain the message's conversation (oldest open message
 * first, until none is left), so the sweeper sends ONE per conversation, and none at all for a
 * conversation whose lease is live: its holder is draining it and looks again before it lets go.
 * Without this, a backlog older than two intervals made every replica re-publish every open row
 * on every sweep, and the extra claims slowed the workers down further (measured under load in
 * test/distributed: up to 1000 re-notifications per sweep per replica while nothing was lost).
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Store } from '../storage/database.ts';
import { findStale } from '../storage/repositories/messages.ts';
import type { Metrics } from './metrics.ts';
import { INBOUND_TOPIC, outboundTopic } from './topics.ts';

export interface SweeperOptions {
  store: Store;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  intervalMs: number;
  /** Sweep inbound (core role) and/or outbound of these platforms (gateway role). */
  inbound: boolean;
  outboundPlatforms: string[];
}

interface StaleRow {
  id: number;
  conversation_id: number;
}

/** The oldest stale row of each conversation, in id order. */
function firstPerConversation(rows: StaleRow[]): StaleRow[] {
  const seen = new Set<number>();
  return rows.filter((r) => !seen.has(r.conversation_id) && seen.add(r.conversation_id));
}

export function startSweeper(o: SweeperOptions): { stop(): Promise<void>; sweep(): Promise<number> } {
  let running: Promise<number> | null = null;
  const platforms = new Set(o.outboundPlatforms);

  /** Conversations of `rows` with their platform, and whether the given lease is live now. */
  async function conversationsOf(rows: StaleRow[], now: number) {
    if (!rows.length) return new Map<number, { platform: string; handleLive: boolean; sendLive: boolean }>();
    const convs = await o.store.db
      .selectFrom('conversations')
      .select(['id', 'platform', 'lease_until', 'send_until'])
      .where('id', 'in', rows.map((r) => r.conversation_id))
      .execute();
    return new Map(convs.map((c) => [c.id, { platform: c.platform, handleLive: (c.lease_until ?? 0) >= now, sendLive: (c.send_until ?? 0) >= now }]));
  }

  async function sweepOnce(): Promise<number> {
    const now = Date.now();
    const stale = Math.max(o.intervalMs * 2, 1000);
    let count = 0;
    if (o.inbound) {
      const rows = firstPerConversation(await findStale(o.store.db, 'in', now, stale, 1000));
      const convs = await conversationsOf(rows, now);
      let n = 0;
      for (const row of rows) {
        if (convs.get(row.conversation_id)?.handleLive) continue;
        await o.bus.publish(INBOUND_TOPIC, { id: row.id, conversationId: row.conversation_id });
        n++;
      }
      if (n) o.metrics.sweeperRecoveries.inc({ direction: 'in' }, n);
      count += n;
    }
    if (platforms.size) {
      const rows = firstPerConversation(await findStale(o.store.db, 'out', now, stale, 1000));
      const convs = await conversationsOf(rows, now);
      let n = 0;
      for (const row of rows) {
        const conv = convs.get(row.conversation_id);
        if (!conv || !platforms.has(conv.platform) || conv.sendLive) continue;
        await o.bus.publish(outboundTopic(conv.platform), { id: row.id, conversationId: row.conversation_id });
        n++;
      }
      if (n) o.metrics.sweeperRecoveries.inc({ direction: 'out' }, n);
      count += n;
    }
    if (count) o.log.info({ recovered: count }, 'sweeper re-notified stale conversations');
    return count;
  }

  const sweep = () => {
    running ??= sweepOnce()
      .catch((err: unknown) => {
        o.log.warn({ err }, 'sweep failed; will try again');
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), o.intervalMs);
  timer.unref();
  // Right after a start, finish what a previous run left behind.
  void sweep();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
