/**
 * The Callback API as VK runs it: a server is first confirmed (VK posts `type: confirmation` and
 * expects the configured string back), then every community event is POSTed as JSON with the
 * `secret`; any answer but HTTP 200 with the body `ok` is retried, with `X-Retry-Counter`, and
 * given up after the last attempt. Events go one at a time, in order.
 */
import type { VkState, VkUpdate } from './state.ts';

export interface CallbackTarget {
  url: string;
  /** The server's secret key; sent in every body when set. */
  secret?: string;
  /** The string the server must answer to the confirmation request. */
  confirmation: string;
}

export interface CallbackDelivery {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  answer: string;
  ok: boolean;
  at: number;
}

export class CallbackPusher {
  readonly #state: VkState;
  readonly #attempts: number;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  #target: CallbackTarget | null = null;
  #queue: VkUpdate[] = [];
  #running: Promise<void> | null = null;
  #abort = new AbortController();
  readonly deliveries: CallbackDelivery[] = [];

  constructor(state: VkState, opts: { attempts?: number; retryDelayMs?: number; timeoutMs?: number } = {}) {
    this.#state = state;
    this.#attempts = opts.attempts ?? 5;
    this.#retryDelayMs = opts.retryDelayMs ?? 200;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    state.onEvent((u) => this.#push(u));
  }

  get target(): CallbackTarget | null {
    return this.#target;
  }

  /**
   * Confirms a server as VK does when an admin adds it: resolves when it answered the
   * confirmation string, throws with its answer otherwise. Events flow only after that.
   */
  async configure(target: CallbackTarget): Promise<void> {
    const body: Record<string, unknown> = { type: 'confirmation', group_id: this.#state.groupId };
    if (target.secret) body.secret = target.secret;
    const { status, answer } = await this.#post(target.url, body, 0);
    if (status !== 200 || answer.trim() !== target.confirmation) {
      throw new Error(`the server did not confirm: HTTP ${status ?? 'no answer'}, answered ${JSON.stringify(answer.slice(0, 200))}`);
    }
    this.#target = target;
  }

  remove(): void {
    this.#target = null;
    this.#queue = [];
  }

  /** Resolves when every queued event has been delivered or given up. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  close(): void {
    this.#target = null;
    this.#queue = [];
    this.#abort.abort();
  }

  #push(update: VkUpdate): void {
    if (!this.#target) return;
    this.#queue.push(update);
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && this.#target) {
      const update = this.#queue[0];
      await this.#deliver(update, this.#target);
      this.#queue.shift();
    }
  }

  async #deliver(update: VkUpdate, target: CallbackTarget): Promise<void> {
    const body = target.secret ? { ...update, secret: target.secret } : update;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (this.#abort.signal.aborted) return;
      const { status, answer } = await this.#post(target.url, body, attempt - 1);
      const ok = status === 200 && answer.trim() === 'ok';
      this.deliveries.push({ eventId: update.event_id, type: update.type, attempt, status, answer: answer.slice(0, 500), ok, at: Date.now() });
      if (ok) {
        this.#state.markDelivered(update.event_id, 'callback');
        return;
      }
      if (attempt < this.#attempts) await new Promise((r) => setTimeout(r, this.#retryDelayMs * attempt));
    }
  }

  async #post(url: string, body: unknown, retry: number): Promise<{ status: number | null; answer: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (retry > 0) headers['x-retry-counter'] = String(retry);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)]),
      });
      return { status: res.status, answer: await res.text() };
    } catch (err: unknown) {
      return { status: null, answer: err instanceof Error ? err.message : String(err) };
    }
  }
}
