/**
 * The VK connector's environment variables, validated at start. A wrong value stops the process
 * with a message naming the variable and what it expected; secret values never appear in those
 * messages.
 */
import { z } from 'zod';

/** API base used when VK_API_ROOT is unset; methods are called as `{apiRoot}/{method}`. */
export const DEFAULT_VK_API_ROOT = 'https://api.vk.com/method';
/** VK allows 20 requests per second per community token. */
export const DEFAULT_VK_MAX_RPS = 20;
/** The API version every call and every Callback API server must use. */
export const VK_API_VERSION = '5.199';

export type VkMode = 'callback' | 'longpoll';

export interface VkOptions {
  /** Community id (VK_GROUP_ID), a positive integer. */
  groupId: number;
  /** Community access token (VK_ACCESS_TOKEN) with the `messages`, `photos` and `docs` rights. */
  accessToken: string;
  /** `callback` (VK pushes to POST /webhooks/vk) or `longpoll` (Bots Long Poll) — VK_MODE. */
  mode: VkMode;
  /** Secret key of the Callback API server (VK_SECRET); every pushed event must carry it. */
  secret?: string;
  /** The string VK expects back when it confirms the Callback API server (VK_CONFIRMATION). */
  confirmation?: string;
  /** API base including `/method`, e.g. `https://api.vk.com/method` (VK_API_ROOT). */
  apiRoot: string;
  /** Overall API requests per second (VK_MAX_RPS). */
  maxRps: number;
  /** Bot id this connector serves; `main` unless several bots run. */
  bot?: string;
  /** Timeout of one API call, in ms (default 15 s). */
  timeoutMs?: number;
  /** Long-poll `wait`, in seconds (default 25). */
  longPollWait?: number;
}

const required = (name: string) =>
  z
    .string({ error: `${name} is required when VK_MODE=callback` })
    .trim()
    .min(1, `${name} must not be empty`);

const schema = z
  .object({
    VK_ACCESS_TOKEN: z.string().trim().min(1, 'VK_ACCESS_TOKEN must not be empty'),
    VK_GROUP_ID: z
      .string({ error: 'VK_GROUP_ID is required when VK_ACCESS_TOKEN is set (the community id, a positive integer)' })
      .trim()
      .regex(/^[1-9]\d{0,11}$/, 'VK_GROUP_ID must be the community id, a positive integer (without a minus sign or "club")')
      .transform(Number),
    VK_MODE: z
      .enum(['callback', 'longpoll'], { error: 'VK_MODE must be `callback` or `longpoll`' })
      .default('longpoll'),
    VK_SECRET: z.string().trim().optional(),
    VK_CONFIRMATION: z.string().trim().optional(),
    VK_API_ROOT: z
      .string()
      .trim()
      .default(DEFAULT_VK_API_ROOT)
      .refine((v) => /^https?:\/\/[^/]/.test(v) && URL.canParse(v), {
        message: 'VK_API_ROOT must be an http(s) URL including /method, e.g. https://api.vk.com/method',
      })
      .transform((v) => v.replace(/\/+$/, '')),
    VK_MAX_RPS: z.coerce
      .number({ error: 'VK_MAX_RPS must be a positive number of requests per second' })
      .positive('VK_MAX_RPS must be a positive number of requests per second')
      .default(DEFAULT_VK_MAX_RPS),
  })
  .superRefine((v, ctx) => {
    if (v.VK_MODE !== 'callback') return;
    for (const name of ['VK_SECRET', 'VK_CONFIRMATION'] as const) {
      const r = required(name).safeParse(v[name]);
      if (!r.success) ctx.addIssue({ code: 'custom', message: r.error.issues[0].message, path: [name] });
    }
  });

/** Treats empty or whitespace-only variables as unset, as a `.env` line `X=` means "not set". */
function present(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

const NAMES = ['VK_ACCESS_TOKEN', 'VK_GROUP_ID', 'VK_MODE', 'VK_SECRET', 'VK_CONFIRMATION', 'VK_API_ROOT', 'VK_MAX_RPS'];

/**
 * Reads the VK settings from the environment. Returns null when VK_ACCESS_TOKEN is unset (the
 * connector is off); throws an Error naming the variable and what it expected when any value is
 * wrong. VK_SECRET and VK_CONFIRMATION are required in callback mode.
 */
export function vkConfigFromEnv(env: NodeJS.ProcessEnv): VkOptions | null {
  if (present(env, 'VK_ACCESS_TOKEN') === undefined) return null;
  const input = Object.fromEntries(NAMES.map((k) => [k, present(env, k)]));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    // Issue messages are ours (above): they name the variable but never echo its value.
    const why = parsed.error.issues.map((i) => i.message).join('; ');
    throw new Error(`Invalid VK configuration: ${why}`);
  }
  const v = parsed.data;
  return {
    groupId: v.VK_GROUP_ID,
    accessToken: v.VK_ACCESS_TOKEN,
    mode: v.VK_MODE,
    secret: v.VK_SECRET,
    confirmation: v.VK_CONFIRMATION,
    apiRoot: v.VK_API_ROOT,
    maxRps: v.VK_MAX_RPS,
  };
}
