/**
 * Recovers notifications lost with a crashed process or a broker outage: open messages whose
 * lease expired, or that waited too long, or whose retry time came, are notified again. Claims
 * stay idempotent, so a re-notification of work in progress elsewhere is harmless.
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

export function startSweeper(o: SweeperOptions): { stop(): Promise<void>; sweep(): Promise<number> } {
  let running: Promise<number> | null = null;
  const platforms = new Set(o.outboundPlatforms);

  async function sweepOnce(): Promise<number> {
    const now = Date.now();
    const stale = Math.max(o.intervalMs * 2, 1000);
    let count = 0;
    if (o.inbound) {
      for (const row of await findStale(o.store.db, 'in', now, stale, 1000)) {
        await o.bus.publish(INBOUND_TOPIC, { id: row.id, conversationId: row.conversation_id });
        count++;
      }
      if (count) o.metrics.sweeperRecoveries.inc({ direction: 'in' }, count);
    }
    if (platforms.size) {
      const rows = await findStale(o.store.db, 'out', now, stale, 1000);
      const convs = rows.length
        ? await o.store.db.selectFrom('conversations').select(['id', 'platform']).where('id', 'in', [...new Set(rows.map((r) => r.conversation_id))]).execute()
        : [];
      const platformOf = new Map(convs.map((c) => [c.id, c.platform]));
      let out = 0;
      for (const row of rows) {
        const platform = platformOf.get(row.conversation_id);
        if (!platform || !platforms.has(platform)) continue;
        await o.bus.publish(outboundTopic(platform), { id: row.id, conversationId: row.conversation_id });
        out++;
      }
      if (out) o.metrics.sweeperRecoveries.inc({ direction: 'out' }, out);
      count += out;
    }
    if (count) o.log.info({ recovered: count }, 'sweeper re-notified stale messages');
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
