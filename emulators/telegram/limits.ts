/**
 * The Bot API's limits and error shapes, as the emulator enforces them: errors carry the real
 * HTTP status, `error_code` and description text; 429 carries `parameters.retry_after`; rate
 * limits are token buckets per chat and overall; reply markup is validated as Telegram does
 * (callback data 1-64 bytes, non-empty labels, a bounded number of buttons).
 */
import type { InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove } from '@grammyjs/types';

/** A failed Bot API call: becomes `{ok:false, error_code, description, parameters}`. */
export class ApiFailure extends Error {
  readonly code: number;
  readonly retryAfter?: number;

  constructor(code: number, description: string, retryAfter?: number) {
    super(description);
    this.name = 'ApiFailure';
    this.code = code;
    this.retryAfter = retryAfter;
  }

  toJSON(): { ok: false; error_code: number; description: string; parameters?: { retry_after: number } } {
    return {
      ok: false,
      error_code: this.code,
      description: this.message,
      ...(this.retryAfter !== undefined ? { parameters: { retry_after: this.retryAfter } } : {}),
    };
  }
}

/** The error texts the real Bot API answers with. */
export const errors = {
  unauthorized: () => new ApiFailure(401, 'Unauthorized'),
  notFound: () => new ApiFailure(404, 'Not Found'),
  badRequest: (what: string) => new ApiFailure(400, `Bad Request: ${what}`),
  chatNotFound: () => new ApiFailure(400, 'Bad Request: chat not found'),
  blocked: () => new ApiFailure(403, 'Forbidden: bot was blocked by the user'),
  cantInitiate: () => new ApiFailure(403, "Forbidden: bot can't initiate conversation with a user"),
  tooMany: (retryAfter: number) => new ApiFailure(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter),
  webhookActive: () =>
    new ApiFailure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
  otherPoller: () =>
    new ApiFailure(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'),
};

/** Rate limits of the emulated Bot API. Raise them for benchmarks of bots with raised limits. */
export interface EmulatorLimits {
  /** Messages per second across all chats (Telegram: ~30). */
  overallPerSecond: number;
  /** How many messages may go at once before the overall rate applies. */
  overallBurst: number;
  /** Messages per second into one chat (Telegram: ~1). */
  perChatPerSecond: number;
  /** Short burst tolerated per chat. */
  perChatBurst: number;
}

/**
 * Defaults: the documented rates, with bursts a little above what a well-behaved client's own
 * limiter allows (30 at once, 3 per chat), so network jitter alone never earns a 429.
 */
export function defaultLimits(partial: Partial<EmulatorLimits> = {}): EmulatorLimits {
  const overallPerSecond = partial.overallPerSecond ?? 30;
  return {
    overallPerSecond,
    overallBurst: partial.overallBurst ?? Math.ceil(overallPerSecond * 1.5),
    perChatPerSecond: partial.perChatPerSecond ?? 1,
    perChatBurst: partial.perChatBurst ?? 5,
  };
}

/** Where a bucket reads its current rate and capacity; a new generation refills it (limits changed). */
export interface BucketSource {
  rate(): number;
  capacity(): number;
  generation(): number;
}

/** A token bucket that refuses (rather than queues) when empty, as a server does. */
export class Bucket {
  readonly #source: BucketSource;
  #tokens: number;
  #last: number;
  #generation: number;

  constructor(source: BucketSource) {
    this.#source = source;
    this.#tokens = source.capacity();
    this.#last = Date.now();
    this.#generation = source.generation();
  }

  #refill(now: number): void {
    if (this.#generation !== this.#source.generation()) {
      this.#generation = this.#source.generation();
      this.#tokens = this.#source.capacity();
    }
    this.#tokens = Math.min(this.#source.capacity(), this.#tokens + ((now - this.#last) / 1000) * this.#source.rate());
    this.#last = now;
  }

  /** Seconds until a token is available (0: one is available now). Does not take it. */
  wait(now = Date.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#source.rate();
  }

  take(): void {
    this.#tokens -= 1;
  }
}

/** Checks the overall and the chat bucket together; takes from both only when both allow. */
export function checkRate(overall: Bucket, chat: Bucket): void {
  const wait = Math.max(overall.wait(), chat.wait());
  if (wait > 0) throw errors.tooMany(Math.max(1, Math.ceil(wait)));
  overall.take();
  chat.take();
}

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const CALLBACK_DATA_BYTES = 64;
const MAX_BUTTONS = 100;
const MAX_INLINE_PER_ROW = 8;

export type ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function rowsOf(value: unknown, what: string): unknown[][] {
  if (!Array.isArray(value) || !value.every(Array.isArray)) throw errors.badRequest(`field "${what}" must be an Array of Arrays`);
  const rows = value as unknown[][];
  if (rows.flat().length > MAX_BUTTONS) throw errors.badRequest('reply markup is too long');
  return rows;
}

function validateInline(rows: unknown[][]): void {
  for (const row of rows) {
    if (row.length > MAX_INLINE_PER_ROW) throw errors.badRequest('reply markup is too long');
    for (const button of row) {
      if (!isRecord(button) || typeof button.text !== 'string') throw errors.badRequest("can't parse inline keyboard button: Field \"text\" must be of type String");
      if (button.text.trim() === '') throw errors.badRequest('BUTTON_TEXT_INVALID');
      if (typeof button.callback_data === 'string') {
        const bytes = Buffer.byteLength(button.callback_data, 'utf8');
        if (bytes < 1 || bytes > CALLBACK_DATA_BYTES) throw errors.badRequest('BUTTON_DATA_INVALID');
      } else if (typeof button.url === 'string') {
        if (!/^(https?|tg):\/\/\S+$/i.test(button.url)) throw errors.badRequest('BUTTON_URL_INVALID');
      } else {
        throw errors.badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      }
    }
  }
}

function validateKeyboard(rows: unknown[][]): void {
  for (const row of rows) {
    for (const button of row) {
      const text = typeof button === 'string' ? button : isRecord(button) ? button.text : undefined;
      if (typeof text !== 'string') throw errors.badRequest("can't parse keyboard button: Field \"text\" must be of type String");
      if (text.trim() === '') throw errors.badRequest('keyboard button text must be non-empty');
    }
  }
}

/** Parses and validates `reply_markup` (a JSON string in form posts, an object in JSON bodies). */
export function parseReplyMarkup(value: unknown): ReplyMarkup | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let markup: unknown = value;
  if (typeof value === 'string') {
    try {
      markup = JSON.parse(value);
    } catch {
      throw errors.badRequest("can't parse reply keyboard markup JSON object");
    }
  }
  if (!isRecord(markup)) throw errors.badRequest("can't parse reply keyboard markup JSON object");
  if ('inline_keyboard' in markup) {
    validateInline(rowsOf(markup.inline_keyboard, 'inline_keyboard'));
    return markup as unknown as InlineKeyboardMarkup;
  }
  if ('keyboard' in markup) {
    validateKeyboard(rowsOf(markup.keyboard, 'keyboard'));
    const keyboard = (markup.keyboard as unknown[][]).map((row) => row.map((b) => (typeof b === 'string' ? { text: b } : b)));
    return { ...markup, keyboard } as unknown as ReplyKeyboardMarkup;
  }
  if (markup.remove_keyboard === true) return markup as unknown as ReplyKeyboardRemove;
  if ('force_reply' in markup) return undefined;
  throw errors.badRequest("can't parse reply keyboard markup JSON object");
}
