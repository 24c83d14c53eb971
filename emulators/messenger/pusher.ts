/**
 * Pushes webhook events to the bot as Meta does: `{object:"page", entry:[{id,time,messaging}]}`
 * signed with `X-Hub-Signature-256: sha256=HMAC(app secret, raw body)`, one POST at a time,
 * retrying a non-200 answer after a delay. Also performs the verification handshake Meta does
 * when a callback URL is set.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { EmulatorState } from './state.ts';

/** Outcome of a push's first attempt (retries continue in the background). */
export interface PushResult {
  delivered: boolean;
  status: number | null;
  error?: string;
}

export class WebhookPusher {
  readonly #state: EmulatorState;
  /** Pushes go one after another, as Meta's delivery to one page does in practice. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  #closed = false;

  constructor(state: EmulatorState) {
    this.#state = state;
  }

  /**
   * Sends these messaging events in one POST, `perEntry` events per entry (Meta batches both
   * ways). Resolves after the first attempt; a failed one is retried later.
   */
  push(events: unknown[], perEntry = 1): Promise<PushResult> {
    const { pageId } = this.#state.config;
    const entry: unknown[] = [];
    for (let i = 0; i < events.length; i += Math.max(1, perEntry)) {
      entry.push({ id: pageId, time: Date.now(), messaging: events.slice(i, i + Math.max(1, perEntry)) });
    }
    const raw = JSON.stringify({ object: 'page', entry });
    const run = this.#queue.then(() => this.#attempt(raw, events.length, 1));
    this.#queue = run.catch(() => undefined);
    return this.#track(run);
  }

  /** Resolves when no push or retry is pending. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /**
   * Meta's handshake: GET the URL with hub.mode/verify_token/challenge; the bot must answer 200
   * with the challenge. Only then is the URL used for events.
   */
  async verify(url: string): Promise<void> {
    const challenge = randomBytes(8).toString('hex');
    const u = new URL(url);
    u.searchParams.set('hub.mode', 'subscribe');
    u.searchParams.set('hub.verify_token', this.#state.config.verifyToken);
    u.searchParams.set('hub.challenge', challenge);
    let res: Response;
    try {
      res = await fetch(u, { signal: AbortSignal.timeout(this.#state.config.webhookTimeoutMs) });
    } catch (err: unknown) {
      throw new Error(`The URL couldn't be validated: ${(err as Error).message}`, { cause: err });
    }
    const body = await res.text();
    if (res.status !== 200 || body !== challenge) {
      throw new Error(`The URL couldn't be validated. Response does not match challenge, expected value="${challenge}", received="${body.slice(0, 100)}" (HTTP ${res.status})`);
    }
    this.#state.webhookUrl = url;
  }

  close(): void {
    this.#closed = true;
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve();
    }
    this.#timers.clear();
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => undefined);
    return p;
  }

  async #attempt(raw: string, count: number, attempt: number): Promise<PushResult> {
    const { config } = this.#state;
    const url = this.#state.webhookUrl;
    if (!url) return { delivered: false, status: null, error: 'no webhook URL is set' };
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', config.appSecret).update(raw).digest('hex')}`,
          'x-hub-signature': `sha1=${createHmac('sha1', config.appSecret).update(raw).digest('hex')}`,
        },
        body: raw,
        signal: AbortSignal.timeout(config.webhookTimeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err: unknown) {
      error = (err as Error).message;
    }
    this.#state.deliveries.push({ at: Date.now(), attempt, url, status, events: count, ...(error ? { error } : {}) });
    const delivered = status === 200;
    const delay = config.retryDelaysMs[attempt - 1];
    if (!delivered && delay !== undefined && !this.#closed) {
      this.#track(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            // A retry joins the queue like any push, so pushes never overlap.
            const run = this.#queue.then(() => this.#attempt(raw, count, attempt + 1));
            this.#queue = run.catch(() => undefined);
            void run.finally(resolve);
          }, delay);
          this.#timers.set(timer, resolve);
        }),
      );
    }
    return { delivered, status, ...(error ? { error } : {}) };
  }
}
