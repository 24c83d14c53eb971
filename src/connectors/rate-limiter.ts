/**
 * Keeps normal traffic under a platform's limits: an overall rate (requests per second) and a
 * per-chat rate, both as token buckets. `acquire(chat)` resolves when a request may go; the
 * time it waited is reported so the gateway can export it as a metric.
 */
import { EventEmitter } from 'node:events';

/**
 * Every wait a limiter imposes is announced here as `wait` with `{ platform, ms }`, so the
 * runtime can export it as a metric without connectors knowing about metrics.
 */
export const rateLimitEvents = new EventEmitter();

export interface RateLimitOptions {
  /** Platform name, for the wait metric. */
  platform?: string;
  /** Overall requests per second (Telegram 30, VK 20, Messenger 250 by default). */
  perSecond: number;
  /** Burst size of the overall bucket; defaults to perSecond. */
  burst?: number;
  /** Requests per second per chat (Telegram ~1/s); omit for no per-chat limit. */
  perChatPerSecond?: number;
  /** Burst allowed per chat; defaults to 3. */
  perChatBurst?: number;
}

class TokenBucket {
  #tokens: number;
  #last: number;
  readonly rate: number;
  readonly capacity: number;

  constructor(rate: number, capacity: number, now: number) {
    this.rate = rate;
    this.capacity = capacity;
    this.#tokens = capacity;
    this.#last = now;
  }

  /** Takes a token now (possibly going into debt) and returns how long to wait for it, in ms. */
  take(now: number): number {
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.rate) * 1000;
  }

  full(now: number): boolean {
    return this.#tokens + ((now - this.#last) / 1000) * this.rate >= this.capacity;
  }
}

export class RateLimiter {
  readonly #overall: TokenBucket;
  readonly #perChat = new Map<string, TokenBucket>();
  readonly #opts: RateLimitOptions;
  #sweeps = 0;

  constructor(opts: RateLimitOptions) {
    if (!(opts.perSecond > 0)) throw new Error(`rate limit perSecond must be > 0, got ${opts.perSecond}`);
    this.#opts = opts;
    this.#overall = new TokenBucket(opts.perSecond, opts.burst ?? opts.perSecond, Date.now());
  }

  /** Waits until a request to `chat` may be sent; resolves with the milliseconds waited. */
  async acquire(chat?: string, signal?: AbortSignal): Promise<number> {
    const now = Date.now();
    let wait = 0;
    if (chat !== undefined && this.#opts.perChatPerSecond) {
      let bucket = this.#perChat.get(chat);
      if (!bucket) {
        bucket = new TokenBucket(this.#opts.perChatPerSecond, this.#opts.perChatBurst ?? 3, now);
        this.#perChat.set(chat, bucket);
      }
      wait = bucket.take(now);
      if (++this.#sweeps % 1000 === 0) this.#forgetIdle(now);
    }
    wait = Math.max(wait, this.#overall.take(now));
    if (wait > 0) {
      rateLimitEvents.emit('wait', { platform: this.#opts.platform ?? 'unknown', ms: wait });
      await sleep(wait, signal);
    }
    return wait;
  }

  /** Per-chat buckets that refilled completely carry no information: drop them to bound memory. */
  #forgetIdle(now: number): void {
    for (const [chat, bucket] of this.#perChat) if (bucket.full(now)) this.#perChat.delete(chat);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
