/**
 * The HTTP client of the VK API: form-encoded calls to `{apiRoot}/{method}` (VK does not read
 * JSON bodies), the Bots Long Poll request, multipart uploads to the upload servers VK hands
 * out, and the mapping of VK's errors — which arrive with HTTP 200 as `{"error":{...}}` — to
 * DeliveryError kinds.
 */
import { DeliveryError } from '../connector.ts';
import { sleep, type RateLimiter } from '../rate-limiter.ts';
import { VK_API_VERSION } from './config.ts';

/** VK answered `{"error":{"error_code":N,"error_msg":"..."}}`. */
export class VkApiError extends Error {
  readonly code: number;
  readonly method: string;

  constructor(method: string, code: number, description: string) {
    super(`VK ${method} failed with error ${code}: ${description}`);
    this.name = 'VkApiError';
    this.method = method;
    this.code = code;
  }
}

/** The request did not produce a VK answer: network failure, timeout, 5xx, or a body that is not JSON. */
export class VkNetworkError extends Error {
  readonly method: string;
  /** HTTP status when there was one. */
  readonly status?: number;

  constructor(method: string, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(`VK ${method}: ${message}`, { cause: opts.cause });
    this.name = 'VkNetworkError';
    this.method = method;
    this.status = opts.status;
  }
}

export type VkParams = Record<string, string | number | boolean | undefined | null>;

export interface VkApiOptions {
  apiRoot: string;
  accessToken: string;
  /** Timeout of one call in ms (default 15 s). */
  timeoutMs?: number;
  /** Every API method call waits for this limiter first (overall VK_MAX_RPS). */
  limiter?: RateLimiter;
  /** And then for this hard cap on calls per second (see SendWindow). */
  window?: SendWindow;
}

/**
 * A hard cap of `limit` calls in any `windowMs`, checked at the moment a call leaves. The token
 * bucket paces calls evenly, but its sleeps are scheduled in advance: when the event loop stalls
 * several fire together. VK counts calls per second as they arrive, so the departures themselves
 * must never exceed the limit.
 */
export class SendWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #stamps: number[] = [];

  constructor(limit: number, windowMs = 1000) {
    this.#limit = Math.max(1, Math.floor(limit));
    this.#windowMs = windowMs;
  }

  /** Records a call at `now` and returns 0, or returns how long to wait before trying again. */
  tryEnter(now: number): number {
    while (this.#stamps.length && now - this.#stamps[0] >= this.#windowMs) this.#stamps.shift();
    if (this.#stamps.length < this.#limit) {
      this.#stamps.push(now);
      return 0;
    }
    return this.#windowMs - (now - this.#stamps[0]);
  }

  async enter(signal?: AbortSignal): Promise<void> {
    for (let wait = this.tryEnter(Date.now()); wait > 0; wait = this.tryEnter(Date.now())) await sleep(wait, signal);
  }
}

/** What a Bots Long Poll request answers. */
export type LongPollResponse =
  | { ts: string; updates: unknown[]; failed?: undefined }
  | { failed: 1; ts: string }
  | { failed: 2 | 3; ts?: string };

export class VkApi {
  readonly #root: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #limiter?: RateLimiter;
  readonly #window?: SendWindow;

  constructor(opts: VkApiOptions) {
    this.#root = opts.apiRoot.replace(/\/+$/, '');
    this.#token = opts.accessToken;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#limiter = opts.limiter;
    this.#window = opts.window;
  }

  /**
   * Calls one API method; resolves with `response`, throws VkApiError or VkNetworkError. Error 6
   * (too many requests) is retried once after a second: the pacing keeps below VK's limit, so a 6
   * means requests bunched up in transit, and the retry is safe (sends carry a random_id).
   */
  async call<T = unknown>(method: string, params: VkParams = {}, signal?: AbortSignal): Promise<T> {
    try {
      return await this.#callOnce<T>(method, params, signal);
    } catch (err: unknown) {
      if (!(err instanceof VkApiError) || err.code !== 6) throw err;
      await sleep(1000, signal);
      return this.#callOnce<T>(method, params, signal);
    }
  }

  async #callOnce<T>(method: string, params: VkParams, signal?: AbortSignal): Promise<T> {
    await this.#limiter?.acquire(undefined, signal);
    await this.#window?.enter(signal);
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) form.set(k, String(v));
    form.set('access_token', this.#token);
    form.set('v', VK_API_VERSION);
    const body = await this.#fetchJson(method, `${this.#root}/${method}`, { method: 'POST', body: form }, signal);
    if (body && typeof body === 'object' && 'error' in body) {
      const e = (body as { error: { error_code?: unknown; error_msg?: unknown } }).error;
      throw new VkApiError(method, Number(e?.error_code) || 0, String(e?.error_msg ?? 'unknown error'));
    }
    if (!body || typeof body !== 'object' || !('response' in body)) {
      throw new VkNetworkError(method, 'answer has neither `response` nor `error`');
    }
    return (body as { response: T }).response;
  }

  /** One Bots Long Poll request; `wait` is in seconds, the HTTP timeout allows for it. */
  async longPoll(server: string, key: string, ts: string, wait: number, signal?: AbortSignal): Promise<LongPollResponse> {
    const url = new URL(server);
    url.searchParams.set('act', 'a_check');
    url.searchParams.set('key', key);
    url.searchParams.set('ts', ts);
    url.searchParams.set('wait', String(wait));
    const body = await this.#fetchJson('long poll', url.toString(), { method: 'GET' }, signal, wait * 1000 + this.#timeoutMs);
    if (!body || typeof body !== 'object') throw new VkNetworkError('long poll', 'answer is not an object');
    return body as LongPollResponse;
  }

  /** POSTs one file as multipart `field` to an upload server; resolves with its JSON answer. */
  async upload(url: string, field: string, bytes: Buffer, filename: string, mime: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const form = new FormData();
    form.set(field, new Blob([new Uint8Array(bytes)], { type: mime }), filename);
    const body = await this.#fetchJson('upload', url, { method: 'POST', body: form }, signal, this.#timeoutMs * 4);
    if (!body || typeof body !== 'object') throw new VkNetworkError('upload', 'answer is not an object');
    return body as Record<string, unknown>;
  }

  /** Downloads a file VK links to (photo sizes, documents); refuses more than `maxBytes`. */
  async download(url: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.#fetch('download', url, { method: 'GET' }, signal, this.#timeoutMs * 4);
    if (!res.ok) throw new VkNetworkError('download', `HTTP ${res.status}`, { status: res.status });
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new VkNetworkError('download', `file is larger than ${maxBytes} bytes`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > maxBytes) throw new VkNetworkError('download', `file is larger than ${maxBytes} bytes`);
    return bytes;
  }

  async #fetch(what: string, url: string, init: RequestInit, signal?: AbortSignal, timeoutMs = this.#timeoutMs): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err: unknown) {
      if (signal?.aborted) throw err;
      // The URL may carry a long-poll key: name only the operation, never the address.
      const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : errorCode(err);
      throw new VkNetworkError(what, reason, { cause: err });
    }
  }

  async #fetchJson(what: string, url: string, init: RequestInit, signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    const res = await this.#fetch(what, url, init, signal, timeoutMs);
    const text = await res.text().catch((err: unknown) => {
      throw new VkNetworkError(what, 'connection lost while reading the answer', { cause: err });
    });
    if (res.status >= 500 || res.status === 429) {
      throw new VkNetworkError(what, `HTTP ${res.status}`, { status: res.status });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err: unknown) {
      throw new VkNetworkError(what, `HTTP ${res.status} with a body that is not JSON`, { status: res.status, cause: err });
    }
  }
}

function errorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/** VK error codes the connector gives a meaning to. */
export const VK_ERRORS = {
  AUTH: 5,
  TOO_MANY_REQUESTS: 6,
  FLOOD: 9,
  INTERNAL: 10,
  NO_PERMISSION: 901,
  PRIVACY: 902,
  KEYBOARD: 911,
  TOO_LONG: 914,
} as const;

/** VK gives no retry_after: one second clears the per-second window, flood control wants longer. */
const RETRY_AFTER_MS: Record<number, number> = { 6: 1_000, 9: 5_000 };

/**
 * Turns whatever a send threw into a DeliveryError that tells the gateway what to do: wait
 * (6, 9), retry with back-off (network, 5xx, VK internal errors), or fail the message — marking
 * the person unreachable when VK says they do not accept messages (901, 902).
 */
export function toDeliveryError(err: unknown, deliveredIds: string[] = []): DeliveryError {
  if (err instanceof DeliveryError) {
    if (!deliveredIds.length) return err;
    return new DeliveryError(err.message, { ...err, cause: err.cause, deliveredIds });
  }
  const base = { platform: 'vk' as const, deliveredIds, cause: err };
  if (err instanceof VkApiError) {
    const code = err.code;
    const retryAfterMs = RETRY_AFTER_MS[code];
    if (retryAfterMs) return new DeliveryError(err.message, { ...base, kind: 'rate-limited', code, retryAfterMs });
    if (code === VK_ERRORS.NO_PERMISSION || code === VK_ERRORS.PRIVACY) {
      return new DeliveryError(`${err.message} (the person has not allowed messages from the community)`, {
        ...base,
        kind: 'permanent',
        code,
        unreachable: true,
      });
    }
    if (code === VK_ERRORS.AUTH) {
      return new DeliveryError(`VK rejected the access token (error 5): check VK_ACCESS_TOKEN and its rights`, {
        ...base,
        kind: 'permanent',
        code,
      });
    }
    if (code === VK_ERRORS.INTERNAL || code === 1) return new DeliveryError(err.message, { ...base, kind: 'transient', code });
    return new DeliveryError(err.message, { ...base, kind: 'permanent', code });
  }
  if (err instanceof VkNetworkError) {
    if (err.status === 429) {
      return new DeliveryError(err.message, { ...base, kind: 'rate-limited', code: 429, retryAfterMs: 1_000 });
    }
    const permanent = err.status !== undefined && err.status >= 400 && err.status < 500 && err.method === 'download';
    return new DeliveryError(err.message, { ...base, kind: permanent ? 'permanent' : 'transient', code: err.status ?? networkCode(err) });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DeliveryError(`VK send failed: ${message}`, { ...base, kind: 'transient', code: 'error' });
}

function networkCode(err: VkNetworkError): string {
  const m = /: ([A-Z][A-Z_]+)$/.exec(err.message);
  return m ? m[1] : 'network';
}
