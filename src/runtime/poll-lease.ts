/**
 * Exactly one long-poller per bot and platform across gateway replicas: a replica polls only
 * while it holds the lease `poll:<platform>:<bot>` in the database, renews it every third of its
 * lifetime, and stops polling at once when a renewal fails. Standby replicas try to take the
 * lease on the same rhythm, so one takes over within a lease lifetime after the holder dies.
 */
import type { Logger } from 'pino';
import type { Connector, ConnectorContext } from '../connectors/connector.ts';
import type { Store } from '../storage/database.ts';
import { acquireLease, releaseLease } from '../storage/repositories/leases.ts';

export interface PollGuardOptions {
  store: Store;
  connector: Connector;
  ctx: ConnectorContext;
  owner: string;
  ttlMs: number;
  log: Logger;
}

export function guardPoller(o: PollGuardOptions): { stop(): Promise<void>; isPolling(): boolean } {
  const name = `poll:${o.connector.platform}:${o.connector.bot}`;
  let polling: AbortController | null = null;
  let stopped = false;
  let tick: Promise<void> = Promise.resolve();

  async function step(): Promise<void> {
    if (stopped) return;
    let held: boolean;
    try {
      held = await acquireLease(o.store.db, name, o.owner, Date.now(), o.ttlMs);
    } catch (err: unknown) {
      // Cannot prove we hold it: stop polling rather than risk two pollers.
      held = false;
      o.log.warn({ err, lease: name }, 'poll lease check failed');
    }
    if (held && !polling && !stopped) {
      polling = new AbortController();
      const signal = AbortSignal.any([polling.signal, o.ctx.signal]);
      o.log.info({ lease: name }, 'took the poll lease; polling');
      try {
        await o.connector.start!({ ...o.ctx, signal });
      } catch (err: unknown) {
        o.log.error({ err, lease: name }, 'poller failed to start; will retry');
        polling.abort();
        polling = null;
        await releaseLease(o.store.db, name, o.owner).catch(() => {});
      }
    } else if (!held && polling) {
      o.log.warn({ lease: name }, 'lost the poll lease; stopped polling');
      polling.abort();
      polling = null;
    }
  }

  const timer = setInterval(() => {
    tick = tick.then(step);
  }, Math.max(50, Math.floor(o.ttlMs / 3)));
  timer.unref();
  tick = step();

  return {
    isPolling: () => polling !== null,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await tick;
      if (polling) {
        polling.abort();
        polling = null;
        await releaseLease(o.store.db, name, o.owner).catch(() => {});
      }
    },
  };
}
