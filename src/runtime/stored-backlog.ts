/**
 * Admission control where no core runs in the process (a gateway or web replica of a distributed
 * deployment): the backlog that counts is the one in the database — inbound messages stored and
 * not yet handled by any core replica. While it is above `limit`, a platform's request is answered
 * only once it falls to the limit, or after `maxWaitMs`. Every update is stored first and nothing
 * is refused; the platform slows down instead of our tables filling (Telegram keeps at most
 * `max_connections` webhook requests open). The depth is read at most every `refreshMs`, by one
 * query shared by all waiting requests; a failed read counts as no backlog (the log says so).
 */
import type { Logger } from 'pino';

export type Admission = 'now' | 'held';

export interface StoredBacklogOptions {
  /** Reads the number of inbound messages waiting for core. */
  read: () => Promise<number>;
  limit: number;
  maxWaitMs?: number;
  refreshMs?: number;
  log?: Logger;
}

export class StoredBacklog {
  readonly #o: Required<Omit<StoredBacklogOptions, 'log'>> & { log?: Logger };
  #depth = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;

  constructor(opts: StoredBacklogOptions) {
    this.#o = { maxWaitMs: 1000, refreshMs: 200, ...opts };
  }

  /** Resolves when a just-stored update may be acknowledged: at once, or `held` a while. */
  async admit(): Promise<Admission> {
    const deadline = Date.now() + this.#o.maxWaitMs;
    let held = false;
    for (;;) {
      await this.#fresh();
      const now = Date.now();
      if (this.#depth <= this.#o.limit || now >= deadline) return held ? 'held' : 'now';
      held = true;
      await new Promise((r) => setTimeout(r, Math.min(this.#o.refreshMs, deadline - now)));
    }
  }

  /** The depth as last read (for tests and logs). */
  get depth(): number {
    return this.#depth;
  }

  #fresh(): Promise<void> {
    if (Date.now() - this.#readAt < this.#o.refreshMs) return Promise.resolve();
    this.#reading ??= this.#o
      .read()
      .then(
        (n) => {
          this.#depth = n;
        },
        (err: unknown) => {
          this.#depth = 0;
          this.#o.log?.warn({ err }, 'inbox: could not read the backlog; acknowledging without waiting');
        },
      )
      .finally(() => {
        this.#readAt = Date.now();
        this.#reading = null;
      });
    return this.#reading;
  }
}
