/**
 * VK's limits and error shapes as the emulator enforces them: the error catalogue (codes and
 * messages as VK words them), keyboard validation (→ 911), the text limit (→ 914) and the
 * per-token rate limit (→ 6).
 */

/** An API error: becomes `{"error":{"error_code","error_msg","request_params"}}` with HTTP 200. */
export class VkError extends Error {
  readonly code: number;

  constructor(code: number, message?: string) {
    super(message ?? ERROR_MESSAGES[code] ?? 'Unknown error occurred');
    this.code = code;
  }
}

export const ERROR_MESSAGES: Record<number, string> = {
  1: 'Unknown error occurred',
  3: 'Unknown method passed',
  5: 'User authorization failed: invalid access_token (4).',
  6: 'Too many requests per second',
  8: 'Invalid request: v (version) is required',
  9: 'Flood control',
  10: 'Internal server error',
  100: 'One of the parameters specified was missing or invalid',
  121: 'Invalid hash',
  901: "Can't send messages for users without permission",
  902: "Can't send messages to this user due to their privacy settings",
  911: 'Keyboard format is invalid',
  914: 'Message is too long',
};

export const invalidParam = (what: string) => new VkError(100, `One of the parameters specified was missing or invalid: ${what}`);

export const TEXT_LIMIT = 9000;
export const LABEL_LIMIT = 40;
export const PAYLOAD_LIMIT = 255;
/** Chat keyboard: 5 per row, 10 rows, 40 buttons. Inline: 5 per row, 6 rows, 10 buttons. */
export const KEYBOARD_LIMITS = {
  chat: { perRow: 5, rows: 10, total: 40 },
  inline: { perRow: 5, rows: 6, total: 10 },
} as const;

export type VkButtonType = 'text' | 'callback' | 'open_link' | 'location' | 'vkpay' | 'open_app';

export interface VkButton {
  action: { type: VkButtonType; label?: string; payload?: string; link?: string; [k: string]: unknown };
  color?: string;
}

export interface VkKeyboard {
  one_time?: boolean;
  inline?: boolean;
  buttons: VkButton[][];
}

const TYPES = new Set<VkButtonType>(['text', 'callback', 'open_link', 'location', 'vkpay', 'open_app']);
const COLORS = new Set(['primary', 'secondary', 'negative', 'positive']);
/** Buttons that take the whole row. A link takes two of a row's five places. */
const FULL_ROW = new Set<VkButtonType>(['location', 'vkpay', 'open_app']);

/** Parses and checks a `keyboard` parameter as VK does; throws VkError 911 when it breaks a rule. */
export function parseKeyboard(raw: string): VkKeyboard {
  const bad = (why: string) => new VkError(911, `Keyboard format is invalid: ${why}`);
  let kb: unknown;
  try {
    kb = JSON.parse(raw);
  } catch {
    throw bad('not JSON');
  }
  if (!kb || typeof kb !== 'object' || !Array.isArray((kb as VkKeyboard).buttons)) throw bad('buttons is required');
  const k = kb as VkKeyboard;
  const limits = k.inline ? KEYBOARD_LIMITS.inline : KEYBOARD_LIMITS.chat;
  if (k.inline && k.one_time) throw bad('one_time is not allowed for an inline keyboard');
  if (k.buttons.length > limits.rows) throw bad(`more than ${limits.rows} rows`);
  let total = 0;
  for (const row of k.buttons) {
    if (!Array.isArray(row) || row.length === 0) throw bad('a row must be a non-empty array');
    let units = 0;
    for (const b of row) {
      const a = (b as VkButton | null)?.action;
      if (!a || typeof a !== 'object' || !TYPES.has(a.type)) throw bad('unknown button action type');
      total += 1;
      units += FULL_ROW.has(a.type) ? limits.perRow : a.type === 'open_link' ? 2 : 1;
      if (FULL_ROW.has(a.type) && row.length > 1) throw bad(`a ${a.type} button must be alone in its row`);
      if (a.type === 'location' && k.inline) throw bad('a location button is only allowed in a chat keyboard');
      if (a.type !== 'location' && a.type !== 'vkpay') {
        if (typeof a.label !== 'string' || a.label.length === 0) throw bad('label is required');
        if (a.label.length > LABEL_LIMIT) throw bad(`label is longer than ${LABEL_LIMIT} characters`);
      }
      if (a.type === 'open_link' && (typeof a.link !== 'string' || !/^https?:\/\//.test(a.link))) throw bad('link is required');
      if (a.payload !== undefined) {
        if (typeof a.payload !== 'string') throw bad('payload must be a JSON string');
        if (Buffer.byteLength(a.payload) > PAYLOAD_LIMIT) throw bad(`payload is longer than ${PAYLOAD_LIMIT} bytes`);
        try {
          JSON.parse(a.payload);
        } catch {
          throw bad('payload must be valid JSON');
        }
      }
      const color = (b as VkButton).color;
      if (color !== undefined && !COLORS.has(color)) throw bad('unknown color');
    }
    if (row.length > limits.perRow || units > limits.perRow) throw bad(`more than ${limits.perRow} buttons in a row`);
  }
  if (total > limits.total) throw bad(`more than ${limits.total} buttons`);
  return k;
}

/** Checks message text as VK does: at most 9000 characters (error 914). */
export function checkText(text: string): void {
  if (text.length > TEXT_LIMIT) throw new VkError(914);
}

/**
 * VK's per-token request limit: at most `perSecond` accepted requests in any one-second window.
 * Rejected requests do not count, so a client that backs off gets through.
 */
export class RateWindow {
  readonly #perSecond: number;
  readonly #stamps = new Map<string, number[]>();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Records a request at `now`; throws VkError 6 when the window is full. */
  take(token: string, now = Date.now()): void {
    const list = (this.#stamps.get(token) ?? []).filter((t) => now - t < 1000);
    if (list.length >= this.#perSecond) {
      this.#stamps.set(token, list);
      throw new VkError(6);
    }
    list.push(now);
    this.#stamps.set(token, list);
  }
}
