/**
 * A distributed Switchboard for one test: its own PostgreSQL schema (its processes connect with
 * their own `application_name`, so a fault can cut exactly their connections), its own RabbitMQ
 * queue prefix (which also names their broker connections), a Telegram emulator with raised
 * limits, a load balancer in front of the gateways' webhook, and role processes started with
 * `switchboard start --roles …`. `close()` stops everything it started, even after a failure.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import { sql } from 'kysely';
import { openStore, type Store } from '../../../src/storage/database.ts';
import { migrate } from '../../../src/storage/migrate.ts';
import { RABBITMQ_URL } from '../../helpers/services.ts';
import { freshDatabaseUrl } from '../../helpers/stores.ts';
import { startBalancer, type Balancer } from './balancer.ts';
import { spawnRole, type RoleProcess } from './processes.ts';

export type RoleName = 'core' | 'gateway' | 'web';

export const WEBHOOK_SECRET = 'distributed-test-webhook-secret';
export const ECHO_BOT = path.resolve('test/distributed/fixtures/echo-bot.ts');

export interface ClusterOptions {
  /** How the gateways receive Telegram updates (default webhook, through the balancer). */
  telegramMode?: 'webhook' | 'polling';
  /** Extra or overriding environment for every process. */
  env?: Record<string, string>;
  /** Broker URL for the processes (default the test broker), e.g. through a cuttable proxy. */
  brokerUrl?: string;
}

/** Test defaults: short leases so recovery fits in a test, limits raised for load. */
export const TEST_TIMINGS = {
  LEASE_MS: 5000,
  SWEEP_INTERVAL_MS: 1000,
  POLL_LEASE_MS: 3000,
  GATEWAY_CONCURRENCY: 16,
  CORE_CONCURRENCY: 16,
} as const;

export class Cluster {
  readonly procs: RoleProcess[] = [];
  readonly #counts: Record<RoleName, number> = { core: 0, gateway: 0, web: 0 };
  #closed = false;
  /** Longest stall of this (the test's, and the emulator's) event loop, in ms: a loaded machine shows here. */
  maxLoopStallMs = 0;
  readonly #lagTimer = setInterval(() => {
    const now = performance.now();
    this.maxLoopStallMs = Math.max(this.maxLoopStallMs, Math.round(now - this.#lastTick - 100));
    this.#lastTick = now;
  }, 100).unref();
  #lastTick = performance.now();

  private constructor(
    readonly id: string,
    /** RabbitMQ queue prefix (BROKER_PREFIX) of this cluster. */
    readonly prefix: string,
    /** application_name of every PostgreSQL connection of the role processes. */
    readonly appName: string,
    readonly env: Record<string, string>,
    readonly emu: TelegramEmulator,
    readonly lb: Balancer,
    /** The test's own connection to the cluster's schema (not cut by faults). */
    readonly store: Store,
    readonly dataDir: string,
    readonly dropSchema: () => Promise<void>,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const id = randomBytes(4).toString('hex');
    const prefix = `swbtest.${id}.`;
    const appName = `swbtest_${id}`;
    const emu = await startTelegramEmulator({
      limits: { overallPerSecond: 100_000, overallBurst: 100_000, perChatPerSecond: 1000, perChatBurst: 1000 },
      webhookRetry: { minDelayMs: 100, maxDelayMs: 1000, timeoutMs: 15_000 },
    });
    const lb = await startBalancer();
    const db = await freshDatabaseUrl('postgres');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-dist-'));
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `${db.url}&application_name=${appName}`,
      BROKER_URL: opts.brokerUrl ?? RABBITMQ_URL,
      BROKER_PREFIX: prefix,
      BOT_MODULE: ECHO_BOT,
      DATA_DIR: dataDir,
      WEBCHAT_ENABLED: 'false',
      LEASE_MS: String(TEST_TIMINGS.LEASE_MS),
      SWEEP_INTERVAL_MS: String(TEST_TIMINGS.SWEEP_INTERVAL_MS),
      POLL_LEASE_MS: String(TEST_TIMINGS.POLL_LEASE_MS),
      GATEWAY_CONCURRENCY: String(TEST_TIMINGS.GATEWAY_CONCURRENCY),
      CORE_CONCURRENCY: String(TEST_TIMINGS.CORE_CONCURRENCY),
      DB_POOL_SIZE: '6',
      TELEGRAM_BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.url,
      TELEGRAM_MODE: opts.telegramMode ?? 'webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TELEGRAM_MAX_RPS: '2000',
      ...opts.env,
    };
    const store = openStore(`${db.url}&application_name=${appName}_test`, { poolSize: 3 });
    const cluster = new Cluster(id, prefix, appName, env, emu, lb, store, dataDir, db.drop);
    try {
      await migrateOwnSchema(store);
    } catch (err: unknown) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** Starts one role process (`--roles <role>` plus `args`); a webhook gateway joins the balancer. */
  async spawn(role: RoleName, opts: { args?: string[]; env?: Record<string, string> } = {}): Promise<RoleProcess> {
    const name = `${role}#${++this.#counts[role]}`;
    const p = await spawnRole(name, { ...this.env, ...opts.env }, ['--roles', role, ...(opts.args ?? [])]);
    this.procs.push(p);
    if (role === 'gateway' && p.url && this.env.TELEGRAM_MODE === 'webhook') this.lb.add(p.url);
    return p;
  }

  /** Starts several role processes at once (replicas start together in a deployment too). */
  spawnAll(roles: RoleName[]): Promise<RoleProcess[]> {
    return Promise.all(roles.map((r) => this.spawn(r)));
  }

  /** SIGKILLs a process (no shutdown of any kind) and takes it out of the balancer. */
  async kill(p: RoleProcess): Promise<void> {
    if (p.url) this.lb.remove(p.url);
    await p.stop('SIGKILL');
  }

  /** Points the emulated Telegram at the balancer, as setWebhook with the public URL would. */
  async setWebhook(): Promise<void> {
    const res = await fetch(`${this.emu.url}/bot${this.emu.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${this.lb.url}/webhooks/telegram`, secret_token: WEBHOOK_SECRET, max_connections: 64 }),
    });
    if (!res.ok) throw new Error(`setWebhook failed: ${res.status} ${await res.text()}`);
  }

  /** The role process whose lease owner string (`host-pid-xxxxxx`) this is. */
  processOf(owner: string | null | undefined): RoleProcess | undefined {
    return this.procs.find((p) => owner?.includes(`-${p.pid}-`));
  }

  /** Output of every process, for a failure message. */
  outputs(tail = 3000): string {
    return this.procs.map((p) => `--- ${p.name} (pid ${p.pid}${p.alive() ? '' : ', dead'}) ---\n${p.output().slice(-tail)}`).join('\n');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#lagTimer);
    await Promise.allSettled(this.procs.map((p) => p.stop('SIGKILL')));
    await Promise.allSettled([this.lb.close(), this.emu.close(), this.store.close()]);
    await this.dropSchema().catch(() => undefined);
    await deleteQueues(this.prefix, ['inbound', 'outbound.telegram', 'outbound.webchat', 'outbound.vk', 'dead']).catch(() => undefined);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Migrates the cluster's schema before any process starts. Kysely's migrator looks for its own
 * tables in every schema of the database (not only the one on the search_path), so while another
 * test's schema holds them it skips creating them in a fresh schema and then fails ("relation
 * kysely_migration_lock does not exist"). Creating them here first (as Kysely would) sidesteps
 * that; the processes then find the schema migrated. See the report for the fix in migrate.ts.
 */
async function migrateOwnSchema(store: Store): Promise<void> {
  await sql`create table if not exists kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(store.db);
  await sql`create table if not exists kysely_migration_lock (id varchar(255) not null primary key, is_locked integer not null default 0)`.execute(store.db);
  await migrate(store);
}

/** Removes this cluster's queues from the broker. */
async function deleteQueues(prefix: string, topics: string[]): Promise<void> {
  const conn = new Connection({ url: RABBITMQ_URL, connectionName: `${prefix}cleanup`, retryLow: 100, retryHigh: 200 });
  conn.on('error', () => undefined);
  try {
    await conn.onConnect(5000);
    for (const t of topics) await conn.queueDelete({ queue: prefix + t });
  } finally {
    await conn.close();
  }
}

/** A silent logger for in-process instances. */
export const quiet = () => pino({ level: 'silent' });

/** Polls until `probe` returns something truthy; fails with `what` (and `detail()`) on timeout. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 60_000, detail?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
