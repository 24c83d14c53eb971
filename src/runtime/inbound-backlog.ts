/**
 * Admission control in a process that runs both the inbox and core. Every update is stored and
 * notified at once, but while more than `limit` acknowledged messages wait for this process's
 * core, the platform's request is answered only when one of them is handled (or after
 * `maxWaitMs`). The platform then sends more slowly — Telegram keeps at most `max_connections`
 * webhook requests open, a long poll simply waits — so an overload queues at the platform rather
 * than in our tables, and the time from a message to its answer stays bounded.
 *
 * A message another process handles is never reported done here; it stops counting after
 * `forgetMs`. A process without a core worker waits on the database's backlog instead, when
 * given one (`useStored`, see stored-backlog.ts).
 */
import type { Admission, StoredBacklog } from './stored-backlog.ts';

export class InboundBacklog {
  readonly #pending = new Map<number, { at: number; acked: boolean }>();
  readonly #queue: Array<{ id: number; resolve: () => void; timer: NodeJS.Timeout }> = [];
  #acked = 0;
  #cores = 0;
  #stored: StoredBacklog | undefined;

  constructor(
    readonly limit = 32,
    readonly maxWaitMs = 1000,
    readonly forgetMs = 5000,
  ) {}

  /** A core worker of this process handles inbound messages; returns its detach. */
  attachCore(): () => void {
    this.#cores++;
    return () => {
      if (--this.#cores === 0) {
        for (const w of this.#queue.splice(0)) this.#admitted(w);
        this.#pending.clear();
        this.#acked = 0;
      }
    };
  }

  /** Whether a core worker of this process reports what it handled. */
  get hasCore(): boolean {
    return this.#cores > 0;
  }

  /** Where no core worker runs here: wait on the backlog in the database. */
  useStored(stored: StoredBacklog): void {
    this.#stored = stored;
  }

  /** Resolves when the stored message `id` may be acknowledged: at once, or `held` a while. */
  async admit(id: number): Promise<Admission> {
    if (this.#cores === 0) return this.#stored ? this.#stored.admit() : 'now';
    this.#pending.set(id, { at: Date.now(), acked: false });
    if (this.#acked >= this.limit) this.#forgetOld();
    if (this.#acked < this.limit && this.#queue.length === 0) {
      this.#ack(id);
      return 'now';
    }
    await new Promise<void>((resolve) => {
      const waiter = { id, resolve, timer: setTimeout(() => this.#admitted(waiter), this.maxWaitMs) };
      this.#queue.push(waiter);
    });
    return 'held';
  }

  /** This process's core is done with the message (handled, failed, or taken over). */
  done(id: number): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    if (entry.acked) this.#acked--;
    else {
      // Handled before it was acknowledged: acknowledge it now.
      const i = this.#queue.findIndex((w) => w.id === id);
      if (i >= 0) this.#admitted(this.#queue.splice(i, 1)[0], false);
    }
    while (this.#queue.length && this.#acked < this.limit) this.#admitted(this.#queue.shift()!);
  }

  #ack(id: number): void {
    const entry = this.#pending.get(id);
    if (entry && !entry.acked) {
      entry.acked = true;
      this.#acked++;
    }
  }

  #admitted(waiter: { id: number; resolve: () => void; timer: NodeJS.Timeout }, count = true): void {
    clearTimeout(waiter.timer);
    const i = this.#queue.indexOf(waiter);
    if (i >= 0) this.#queue.splice(i, 1);
    if (count) this.#ack(waiter.id);
    waiter.resolve();
  }

  /** Drops acknowledged messages no core here reported for `forgetMs`: another process has them. */
  #forgetOld(): void {
    const old = Date.now() - this.forgetMs;
    for (const [id, entry] of this.#pending) {
      if (entry.at >= old) break;
      if (entry.acked) {
        this.#pending.delete(id);
        this.#acked--;
      }
    }
  }
}
