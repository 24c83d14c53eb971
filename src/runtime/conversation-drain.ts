/**
 * The loop core and gateway share: for each notified conversation, take its lease (core's
 * `handle` lease, a gateway's `send` lease), work its oldest open message in one direction,
 * release the lease with a look for more, and go on while more is ready. One message per claim:
 * the claim returns the oldest open message's id, and the statement that records the work also
 * releases the lease and looks for the next. A message stored while the lease was held found it
 * taken, so its notification is spent: the drain goes on with it.
 *
 * Leases and the working mark go through `store.relaxed` (losing them to a crash only lets the
 * lease expire sooner). A message that is not due yet (a retry waits) wakes the conversation
 * when it is.
 */
import type { Logger } from 'pino';
import type { Notification } from '../bus/bus.ts';
import type { Store } from '../storage/database.ts';
import { claimNext } from '../storage/repositories/combined-writes.ts';
import { releaseAndLook, type ClaimedRow, type LeaseKind } from '../storage/repositories/conversations.ts';
import { getMessage, nextOpen } from '../storage/repositories/messages.ts';
import type { Direction, MessageRow } from '../storage/schema.ts';
import { ConversationQueue } from './conversation-queue.ts';

/**
 * Works one message, marked `processing`/`sending` by this owner (`attempts` counts this attempt).
 * Returns whether more work is ready when its write released the lease, or undefined when the
 * lease is still held (the drain then releases it).
 */
export type WorkOne = (msg: MessageRow, conversation: ClaimedRow) => Promise<boolean | undefined>;

export interface ConversationDrainOptions {
  store: Store;
  owner: string;
  leaseMs: number;
  kind: LeaseKind;
  direction: Direction;
  work: WorkOne;
  log: Logger;
  /** Prefix of the error line when a drain fails (`core`, `gateway`). */
  role: string;
}

export class ConversationDrain {
  readonly #o: ConversationDrainOptions;
  readonly #queue: ConversationQueue;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(opts: ConversationDrainOptions) {
    this.#o = opts;
    this.#queue = new ConversationQueue(
      (id) => this.#drain(id),
      (err, conversationId) => opts.log.error({ err, conversationId }, `${opts.role}: conversation drain failed; the sweeper will retry`),
    );
  }

  /** Drains the conversation now, or once more after the drain in progress. */
  notify(conversationId: number): Promise<void> {
    return this.#queue.notify(conversationId);
  }

  /** Bus handler: drains the notified message's conversation (looked up when not given). */
  async onNotification(n: Notification): Promise<void> {
    let conversationId = n.conversationId;
    if (conversationId === undefined) {
      const row = await getMessage(this.#o.store.db, n.id);
      if (!row) return;
      conversationId = row.conversation_id;
    }
    await this.#queue.notify(conversationId);
  }

  /** Notifies the conversation again at `at` (a retry's time). */
  wakeAt(conversationId: number, at: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#queue.notify(conversationId);
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.#timers.add(timer);
  }

  /** Cancels pending wake-ups and waits for the drains in progress. */
  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    await this.#queue.idle();
  }

  async #drain(conversationId: number): Promise<void> {
    const { store, owner, leaseMs, kind, work } = this.#o;
    for (;;) {
      const claimed = await claimNext(store.relaxed, conversationId, kind, owner, Date.now(), leaseMs);
      if (!claimed) return;
      const { conversation, msg } = claimed;
      let again: boolean | undefined;
      try {
        if (msg) again = await work(msg, conversation);
        else if (conversation.next_id !== null) await this.#notDueYet(conversationId);
      } finally {
        again ??= await releaseAndLook(store.relaxed, conversationId, kind, owner, Date.now());
      }
      if (!again) return;
    }
  }

  /** The oldest open message was not due (a retry waits) or no longer open: wake up when due. */
  async #notDueYet(conversationId: number): Promise<void> {
    const pending = await nextOpen(this.#o.store.db, conversationId, this.#o.direction);
    if (pending && pending.available_at > Date.now()) this.wakeAt(conversationId, pending.available_at);
  }
}
