/**
 * The Messenger connector's environment variables, validated at start. A wrong value stops the
 * process with a message naming the variable and what it expected; secret values never appear
 * in those messages.
 */
import { z } from 'zod';

/** Graph API base used when MESSENGER_API_ROOT is unset. It carries the Graph version. */
export const DEFAULT_MESSENGER_API_ROOT = 'https://graph.facebook.com/v24.0';
/** Overall sends per second; Meta allows ~300/s per page, so the default leaves headroom. */
export const DEFAULT_MESSENGER_MAX_RPS = 250;
/** Postback payload of the Get Started button when MESSENGER_GET_STARTED_PAYLOAD is unset. */
export const DEFAULT_GET_STARTED_PAYLOAD = 'GET_STARTED';

export interface MessengerOptions {
  /** Page access token (MESSENGER_PAGE_ACCESS_TOKEN): authorises every Send API call. */
  pageAccessToken: string;
  /** App secret (MESSENGER_APP_SECRET): key of the X-Hub-Signature-256 HMAC on webhooks. */
  appSecret: string;
  /** Verify token (MESSENGER_VERIFY_TOKEN): answered in the webhook verification handshake. */
  verifyToken: string;
  /** Graph base including the version, e.g. `https://graph.facebook.com/v24.0`; sends go to `{apiRoot}/me/messages`. */
  apiRoot: string;
  /** Overall sends per second (MESSENGER_MAX_RPS). */
  maxRps: number;
  /** Postback payload that means "Get Started" (MESSENGER_GET_STARTED_PAYLOAD). */
  getStartedPayload: string;
  /** Bot id this connector serves; `main` unless several bots run. */
  bot?: string;
  /** Timeout of one Graph API call, in ms (default 15 s). */
  timeoutMs?: number;
}

const secret = (name: string) =>
  z
    .string({ error: `${name} is required when MESSENGER_PAGE_ACCESS_TOKEN is set` })
    .trim()
    .min(1, `${name} must not be empty`);

const schema = z.object({
  MESSENGER_PAGE_ACCESS_TOKEN: z.string().trim().min(1, 'MESSENGER_PAGE_ACCESS_TOKEN must not be empty'),
  MESSENGER_APP_SECRET: secret('MESSENGER_APP_SECRET'),
  MESSENGER_VERIFY_TOKEN: secret('MESSENGER_VERIFY_TOKEN'),
  MESSENGER_API_ROOT: z
    .string()
    .trim()
    .default(DEFAULT_MESSENGER_API_ROOT)
    .refine((v) => /^https?:\/\/[^/]/.test(v) && URL.canParse(v), {
      message: 'MESSENGER_API_ROOT must be an http(s) URL including the Graph version, e.g. https://graph.facebook.com/v24.0',
    })
    .transform((v) => v.replace(/\/+$/, '')),
  MESSENGER_MAX_RPS: z.coerce
    .number({ error: 'MESSENGER_MAX_RPS must be a positive number of requests per second' })
    .positive('MESSENGER_MAX_RPS must be a positive number of requests per second')
    .default(DEFAULT_MESSENGER_MAX_RPS),
  MESSENGER_GET_STARTED_PAYLOAD: z
    .string()
    .trim()
    .min(1, 'MESSENGER_GET_STARTED_PAYLOAD must not be empty')
    .max(1000, 'MESSENGER_GET_STARTED_PAYLOAD must be at most 1000 characters')
    .default(DEFAULT_GET_STARTED_PAYLOAD),
});

/** Treats empty or whitespace-only variables as unset, as a `.env` line `X=` means "not set". */
function present(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/**
 * Reads the Messenger settings from the environment. Returns null when
 * MESSENGER_PAGE_ACCESS_TOKEN is unset (the connector is off); throws an Error naming the
 * variable and what it expected when any value is wrong.
 */
export function messengerConfigFromEnv(env: NodeJS.ProcessEnv): MessengerOptions | null {
  if (present(env, 'MESSENGER_PAGE_ACCESS_TOKEN') === undefined) return null;
  const input = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, present(env, k)]),
  );
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    // Issue messages are ours (above): they name the variable but never echo its value.
    const why = parsed.error.issues.map((i) => i.message).join('; ');
    throw new Error(`Invalid Messenger configuration: ${why}`);
  }
  const v = parsed.data;
  return {
    pageAccessToken: v.MESSENGER_PAGE_ACCESS_TOKEN,
    appSecret: v.MESSENGER_APP_SECRET,
    verifyToken: v.MESSENGER_VERIFY_TOKEN,
    apiRoot: v.MESSENGER_API_ROOT,
    maxRps: v.MESSENGER_MAX_RPS,
    getStartedPayload: v.MESSENGER_GET_STARTED_PAYLOAD,
  };
}
