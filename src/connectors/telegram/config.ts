/**
 * The Telegram connector's environment variables, validated at start. A wrong value stops the
 * process with a message naming the variable and what it expected; the token and the webhook
 * secret never appear in those messages.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { FileRefs } from '../connector.ts';

export const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org';
/** Telegram's documented overall limit for a bot without raised limits. */
export const DEFAULT_TELEGRAM_MAX_RPS = 30;

export interface TelegramOptions {
  /** Bot token from @BotFather (TELEGRAM_BOT_TOKEN). */
  token: string;
  /** `webhook`: Telegram pushes to POST /webhooks/telegram; `polling`: getUpdates in a loop. */
  mode: 'webhook' | 'polling';
  /** Value of X-Telegram-Bot-Api-Secret-Token Telegram sends (TELEGRAM_WEBHOOK_SECRET); required for webhooks. */
  webhookSecret?: string;
  /** Public URL of this server's webhook route (TELEGRAM_WEBHOOK_URL); when set, start() calls setWebhook. */
  webhookUrl?: string;
  /** Bot API base (TELEGRAM_API_ROOT); calls go to `{apiRoot}/bot{token}/{method}`. */
  apiRoot: string;
  /** Overall API calls per second (TELEGRAM_MAX_RPS); raise it only for bots with raised limits. */
  maxRps: number;
  /** Bot id this connector serves; `main` unless several bots run. */
  bot?: string;
  /** Where uploaded media's file_ids are shared (the runtime's database); memory only without it. */
  fileRefs?: FileRefs;
  /** Route of the webhook (default `/webhooks/telegram`); a second Telegram bot in one process needs its own. */
  webhookPath?: string;
  /** Logger for sends made before start() hands over the runtime's (default: silent). */
  log?: Logger;
  /** getUpdates long-poll timeout in seconds (default 25). */
  pollTimeoutSeconds?: number;
  /** Timeout of one API call in ms, long polls excepted (default 30 s). */
  requestTimeoutMs?: number;
  /** Messages per second into one private chat (default 1) and the burst allowed (default 3). */
  perChatPerSecond?: number;
  perChatBurst?: number;
  /** How many uploaded media file_ids to remember for reuse (default 1000). */
  mediaCacheSize?: number;
}

const TOKEN_RE = /^\d+:[A-Za-z0-9_-]{20,}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;

const httpUrl = (name: string, example: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\/[^/]/i.test(v) && URL.canParse(v), { message: `${name} must be an http(s) URL, e.g. ${example}` });

const schema = z.object({
  TELEGRAM_BOT_TOKEN: z
    .string()
    .trim()
    .regex(TOKEN_RE, 'TELEGRAM_BOT_TOKEN must look like 123456789:AA... (digits, a colon, then the secret part @BotFather gave)'),
  TELEGRAM_MODE: z.enum(['webhook', 'polling'], { error: 'TELEGRAM_MODE must be "webhook" or "polling"' }).optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .trim()
    .regex(SECRET_RE, 'TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram allows no others)')
    .optional(),
  TELEGRAM_WEBHOOK_URL: httpUrl('TELEGRAM_WEBHOOK_URL', 'https://bot.example.org/webhooks/telegram').optional(),
  TELEGRAM_API_ROOT: httpUrl('TELEGRAM_API_ROOT', DEFAULT_TELEGRAM_API_ROOT)
    .default(DEFAULT_TELEGRAM_API_ROOT)
    .transform((v) => v.replace(/\/+$/, '')),
  TELEGRAM_MAX_RPS: z.coerce
    .number({ error: 'TELEGRAM_MAX_RPS must be a positive number of requests per second' })
    .positive('TELEGRAM_MAX_RPS must be a positive number of requests per second')
    .default(DEFAULT_TELEGRAM_MAX_RPS),
  TELEGRAM_CHAT_RPS: z.coerce
    .number({ error: 'TELEGRAM_CHAT_RPS must be a positive number of messages per second into one chat' })
    .positive('TELEGRAM_CHAT_RPS must be a positive number of messages per second into one chat')
    .default(1),
  TELEGRAM_CHAT_BURST: z.coerce
    .number({ error: 'TELEGRAM_CHAT_BURST must be a whole number of messages, 1 or more' })
    .int('TELEGRAM_CHAT_BURST must be a whole number of messages, 1 or more')
    .min(1, 'TELEGRAM_CHAT_BURST must be a whole number of messages, 1 or more')
    .default(3),
});

/** `X=` in a .env file means "not set". */
function present(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/**
 * Reads the Telegram settings from the environment. Returns null when TELEGRAM_BOT_TOKEN is unset
 * (the connector is off); throws an Error naming the variable and what it expected when a value
 * is wrong. `prefix` reads another bot's set (e.g. `SUPPORT_TELEGRAM_` for the operators' bot).
 *
 * Mode: TELEGRAM_MODE when set, else `webhook` when TELEGRAM_WEBHOOK_URL is set, else `polling`.
 */
export function telegramConfigFromEnv(env: NodeJS.ProcessEnv, opts: { prefix?: string; bot?: string } = {}): TelegramOptions | null {
  const prefix = opts.prefix ?? 'TELEGRAM_';
  const names = Object.keys(schema.shape);
  const input = Object.fromEntries(names.map((k) => [k, present(env, prefix + k.slice('TELEGRAM_'.length))]));
  if (input.TELEGRAM_BOT_TOKEN === undefined) return null;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = prefix + String(issue.path[0] ?? 'BOT_TOKEN').slice('TELEGRAM_'.length);
    // Messages are written per variable and never echo a value (the token and secret are secrets).
    const message = issue.message.replaceAll('TELEGRAM_', prefix);
    throw new Error(message.startsWith(variable) ? message : `Invalid ${variable}: ${message}`);
  }
  const v = parsed.data;
  const mode = v.TELEGRAM_MODE ?? (v.TELEGRAM_WEBHOOK_URL ? 'webhook' : 'polling');
  if (mode === 'webhook' && !v.TELEGRAM_WEBHOOK_SECRET) {
    throw new Error(
      `${prefix}WEBHOOK_SECRET is required when ${prefix}MODE=webhook, so that only Telegram can post updates ` +
        '(1-256 characters of A-Z, a-z, 0-9, _ and -)',
    );
  }
  return {
    token: v.TELEGRAM_BOT_TOKEN,
    mode,
    webhookSecret: v.TELEGRAM_WEBHOOK_SECRET,
    webhookUrl: v.TELEGRAM_WEBHOOK_URL,
    apiRoot: v.TELEGRAM_API_ROOT,
    maxRps: v.TELEGRAM_MAX_RPS,
    perChatPerSecond: v.TELEGRAM_CHAT_RPS,
    perChatBurst: v.TELEGRAM_CHAT_BURST,
    ...(opts.bot ? { bot: opts.bot } : {}),
  };
}
