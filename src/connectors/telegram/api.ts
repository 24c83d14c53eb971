/**
 * HTTP client of the Telegram Bot API: `{apiRoot}/bot{token}/{method}` with JSON bodies, or
 * multipart when a parameter is an InputFile. Two error classes carry what a caller needs to act:
 * TelegramApiError (Telegram answered `ok: false`: method, error_code, description, retry_after)
 * and TelegramNetworkError (no usable answer: connection, timeout, a proxy's HTML page). Neither
 * ever includes the token, which sits in every URL.
 */
import type { ApiMethods, ApiResponse, Opts } from '@grammyjs/types';
import { errors, FormData, request } from 'undici';

/** Bytes to upload as a multipart file (sendPhoto / sendDocument). */
export class InputFile {
  readonly data: Buffer;
  readonly filename: string;
  readonly mime?: string;

  constructor(data: Buffer, filename: string, mime?: string) {
    this.data = data;
    this.filename = filename;
    this.mime = mime;
  }
}

export type Methods = ApiMethods<InputFile>;
export type MethodName = keyof Methods;
export type Params<M extends MethodName> = Opts<InputFile>[M];
export type Result<M extends MethodName> = ReturnType<Methods[M]>;

/** Telegram answered `{ok: false}`. */
export class TelegramApiError extends Error {
  readonly method: string;
  readonly errorCode: number;
  readonly description: string;
  /** Seconds to wait before retrying (429). */
  readonly retryAfter?: number;

  constructor(method: string, errorCode: number, description: string, retryAfter?: number) {
    super(`Telegram ${method} failed: ${errorCode} ${description}`);
    this.name = 'TelegramApiError';
    this.method = method;
    this.errorCode = errorCode;
    this.description = description;
    this.retryAfter = retryAfter;
  }
}

/** No usable answer from Telegram: network error, timeout, or a non-JSON body. */
export class TelegramNetworkError extends Error {
  readonly method: string;
  /** `ETIMEDOUT`, `ECONNREFUSED`, `HTTP_502`... */
  readonly code: string;

  constructor(method: string, code: string, cause?: unknown) {
    super(`Telegram ${method} failed: ${code}`, { cause });
    this.name = 'TelegramNetworkError';
    this.method = method;
    this.code = code;
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeout (long polls need more). */
  timeoutMs?: number;
}

function networkCode(err: unknown): string {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) return 'ETIMEDOUT';
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'ETIMEDOUT';
  return e?.cause?.code ?? e?.code ?? 'ENETWORK';
}

const isFile = (v: unknown): v is InputFile => v instanceof InputFile;

function encode(params: Record<string, unknown>): { body: string | FormData; headers: Record<string, string> } {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  if (!entries.some(([, v]) => isFile(v))) {
    return { body: JSON.stringify(Object.fromEntries(entries)), headers: { 'content-type': 'application/json' } };
  }
  const form = new FormData();
  for (const [k, v] of entries) {
    if (isFile(v)) form.set(k, new Blob([new Uint8Array(v.data)], v.mime ? { type: v.mime } : {}), v.filename);
    else form.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return { body: form, headers: {} };
}

export class TelegramApi {
  readonly #token: string;
  readonly #root: string;
  readonly #timeoutMs: number;

  constructor(opts: { token: string; apiRoot: string; timeoutMs?: number }) {
    this.#token = opts.token;
    this.#root = opts.apiRoot.replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /**
   * Calls a Bot API method; resolves with its `result` or throws one of the two errors.
   *
   * Over undici's `request` on its keep-alive pool rather than `fetch`: the same client without the
   * WHATWG streams, which were a quarter of a send's CPU. The timeout is undici's own (no answer
   * headers, or a stalled body, within `timeoutMs`), so no timer or AbortSignal per call.
   */
  async call<M extends MethodName>(method: M, params: Params<M>, opts: CallOptions = {}): Promise<Result<M>> {
    const { body, headers } = encode(params as Record<string, unknown>);
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.#root}/bot${this.#token}/${method}`, {
        method: 'POST',
        body,
        headers,
        signal: opts.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err: unknown) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new TelegramNetworkError(method, networkCode(err), err);
    }
    let data: ApiResponse<Result<M>>;
    try {
      data = JSON.parse(text) as ApiResponse<Result<M>>;
    } catch (err: unknown) {
      throw new TelegramNetworkError(method, `HTTP_${status}`, err);
    }
    if (data && data.ok === true) return data.result;
    if (data && data.ok === false && typeof data.error_code === 'number') {
      throw new TelegramApiError(method, data.error_code, String(data.description ?? ''), data.parameters?.retry_after);
    }
    throw new TelegramNetworkError(method, `HTTP_${status}`);
  }

  /** Downloads a file by the `file_path` getFile returned. */
  async download(filePath: string, opts: CallOptions = {}): Promise<Buffer> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs * 4);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.#root}/file/bot${this.#token}/${filePath}`, { signal });
    } catch (err: unknown) {
      throw new TelegramNetworkError('file download', networkCode(err), err);
    }
    if (!res.ok) throw new TelegramApiError('file download', res.status, res.statusText || `HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}
