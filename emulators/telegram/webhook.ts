/**
 * Pushes a bot's updates to its webhook as Telegram does: one POST per Update with the
 * `X-Telegram-Bot-Api-Secret-Token` header, retried on any non-2xx answer or network error with
 * growing delays until it succeeds or the webhook changes. Updates of one chat go one at a time
 * and in order; different chats go in parallel up to `max_connections`.
 */
import type { Update } from '@grammyjs/types';
import { chatOfUpdate, type BotState } from './state.ts';

export interface WebhookRetryOptions {
  /** First retry delay (Telegram waits longer; tests want it short). */
  minDelayMs: number;
  maxDelayMs: number;
  /** How long one push may take before it counts as failed. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryOptions = { minDelayMs: 200, maxDelayMs: 5000, timeoutMs: 15_000 };

export class WebhookPusher {
  readonly #bot: BotState;
  readonly #opts: WebhookRetryOptions;
  readonly #inFlight = new Set<number>();
  readonly #retry = new Map<number, { at: number; attempt: number }>();
  readonly #stop = new AbortController();
  readonly #onUpdate = () => this.#pump();
  #timer: NodeJS.Timeout | null = null;
  /** Pushes that are running, so `stop()` can wait for them. */
  readonly #running = new Set<Promise<void>>();

  constructor(bot: BotState, opts: WebhookRetryOptions) {
    this.#bot = bot;
    this.#opts = opts;
    bot.events.on('update', this.#onUpdate);
    this.#pump();
  }

  /** Stops pushing; updates not yet delivered stay queued (getUpdates may fetch them). */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#bot.events.off('update', this.#onUpdate);
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  #pump(): void {
    const webhook = this.#bot.webhook;
    if (this.#stop.signal.aborted || !webhook) return;
    const now = Date.now();
    let wake = Infinity;
    const waitingChats = new Set<number>();
    for (const update of this.#bot.updates) {
      const chat = chatOfUpdate(update);
      // A later update of a chat waits for the earlier one, so a person's actions stay in order.
      if (waitingChats.has(chat)) continue;
      waitingChats.add(chat);
      if (this.#inFlight.has(update.update_id)) continue;
      const retry = this.#retry.get(update.update_id);
      if (retry && retry.at > now) {
        wake = Math.min(wake, retry.at);
        continue;
      }
      if (this.#inFlight.size >= webhook.maxConnections) break;
      const push = this.#push(update, webhook.url, webhook.secret).finally(() => this.#running.delete(push));
      this.#running.add(push);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = wake < Infinity ? setTimeout(() => this.#pump(), wake - now) : null;
  }

  async #push(update: Update, url: string, secret: string | undefined): Promise<void> {
    this.#inFlight.add(update.update_id);
    let error: string | null = null;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
        body: JSON.stringify(update),
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#opts.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `Wrong response from the webhook: ${res.status} ${res.statusText}`.trim();
    } catch (err: unknown) {
      error = (err as Error).name === 'TimeoutError' ? 'Read timeout expired' : 'Connection refused';
    } finally {
      this.#inFlight.delete(update.update_id);
    }
    if (this.#stop.signal.aborted) return;
    if (error === null) {
      this.#retry.delete(update.update_id);
      this.#bot.updates = this.#bot.updates.filter((u) => u.update_id !== update.update_id);
    } else {
      const attempt = (this.#retry.get(update.update_id)?.attempt ?? 0) + 1;
      const delay = Math.min(this.#opts.maxDelayMs, this.#opts.minDelayMs * 2 ** (attempt - 1));
      this.#retry.set(update.update_id, { at: Date.now() + delay, attempt });
      if (this.#bot.webhook) {
        this.#bot.webhook.lastErrorDate = Math.floor(Date.now() / 1000);
        this.#bot.webhook.lastErrorMessage = error;
      }
    }
    this.#pump();
  }
}
