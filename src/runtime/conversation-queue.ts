/**
 * Runs the work of one conversation at a time inside this process, and coalesces notifications
 * that arrive while it runs: the running drain loops once more instead of a second one starting.
 * Across processes the conversation's database lease gives the same guarantee.
 */
export class ConversationQueue {
  readonly #active = new Map<number, { again: boolean }>();
  readonly #drain: (conversationId: number) => Promise<void>;
  readonly #onError: (err: unknown, conversationId: number) => void;
  #idle: Array<() => void> = [];

  constructor(drain: (conversationId: number) => Promise<void>, onError: (err: unknown, conversationId: number) => void) {
    this.#drain = drain;
    this.#onError = onError;
  }

  get size(): number {
    return this.#active.size;
  }

  /** Drains the conversation now, or once more after the drain in progress. */
  async notify(conversationId: number): Promise<void> {
    const running = this.#active.get(conversationId);
    if (running) {
      running.again = true;
      return;
    }
    const entry = { again: true };
    this.#active.set(conversationId, entry);
    try {
      while (entry.again) {
        entry.again = false;
        try {
          await this.#drain(conversationId);
        } catch (err: unknown) {
          this.#onError(err, conversationId);
        }
      }
    } finally {
      this.#active.delete(conversationId);
      if (this.#active.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Resolves when no drain is running. */
  idle(): Promise<void> {
    return this.#active.size === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }
}
