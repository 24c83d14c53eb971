/**
 * Configuration from the environment (and an optional `.env`), validated at start. A bad value
 * stops the process with a message naming the variable and what it expected; secret values are
 * never echoed back.
 */
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const ROLES = ['core', 'gateway', 'web'] as const;
export type Role = (typeof ROLES)[number];

const schema = z.object({
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/switchboard.db')
    .refine((v) => /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v), 'expected sqlite:<path> or postgres://user@host/db'),
  BROKER_URL: z
    .string()
    .default('memory:')
    .refine((v) => /^(memory:|amqps?:\/\/.+)$/.test(v), 'expected memory: or amqp://user:pass@host'),
  /** Prefix of this deployment's RabbitMQ queues (`<prefix>inbound`, …); deployments sharing a broker need their own. */
  BROKER_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'expected 1-100 of A-Z a-z 0-9 _ . : -').default('switchboard.'),
  PORT: int(3000).refine((p) => p <= 65535, 'expected a port number 0-65535'),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BOT_ID: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'expected 1-32 of a-z 0-9 _ -').default('main'),
  /** A module whose default export (or `createBot()`) is the bot; default: the demo bot. */
  BOT_MODULE: z.string().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** How long a claim on a message or conversation lasts before another worker may take it over. */
  LEASE_MS: int(30_000, 100),
  SWEEP_INTERVAL_MS: int(5_000, 50),
  /** Lifetime of the lease that lets one gateway replica long-poll a bot. */
  POLL_LEASE_MS: int(15_000, 100),
  MAX_HANDLE_ATTEMPTS: int(3, 1),
  MAX_SEND_ATTEMPTS: int(8, 1),
  CORE_CONCURRENCY: int(32, 1),
  /**
   * In a process without core (gateway, web): while more inbound messages than this wait in the
   * database for core, a platform's request is answered only once the backlog falls (≤ 1 s later).
   */
  INBOX_MAX_BACKLOG: int(500, 1),
  GATEWAY_CONCURRENCY: int(64, 1),
  WEBCHAT_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  WEBCHAT_MAX_TEXT: int(4096, 1),
  DB_POOL_SIZE: int(10, 1),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      // Never echo the received value: it may be a secret.
      return `${name}: ${i.message}`;
    }),
  );
}
