/**
 * The four systems the pipeline benchmark runs, each started as child processes against a given
 * emulator: Switchboard embedded (one `switchboard start`: SQLite file + in-process bus),
 * Switchboard distributed (`--roles gateway` + two `--roles core` on PostgreSQL + RabbitMQ), and
 * the grammY and Chat SDK peers. Every one runs the same echo bot.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from 'rabbitmq-client';
import type { BenchEmulator } from './emulator.ts';
import type { Webhook } from './load.ts';
import { ROOT, spawnChild, type Child } from './processes.ts';
import { freshSchema } from '../../test/helpers/stores.ts';

export const SYSTEMS = ['embedded', 'distributed', 'grammy', 'chat-sdk'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const LABELS: Record<SystemName, string> = {
  embedded: 'Switchboard embedded (SQLite + in-process bus)',
  distributed: 'Switchboard distributed (PostgreSQL + RabbitMQ, 1 gateway + 2 core)',
  grammy: 'grammY webhookCallback',
  'chat-sdk': 'Chat SDK (chat + @chat-adapter/telegram)',
};

export interface RunningSystem {
  webhook: Webhook;
  /** One per process; peak RSS is read from each. */
  children: Child[];
  /** What a reader of the results should know about this run's setup. */
  notes: string[];
  stop(): Promise<void>;
}

export interface ServiceUrls {
  postgres: string;
  rabbitmq: string;
}

const SECRET = `bench_${randomBytes(12).toString('hex')}`;
const READY_SWITCHBOARD = /Switchboard is running[^\n]*?(?: on (http:\/\/\S+?))?\/?\n/;
const READY_PEER = /ready (http:\/\/\S+?)\/?\n/;

/** `BENCH_ENV_X=v` in the harness's environment sets `X=v` for the Switchboard processes (tuning runs). */
function passthrough(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('BENCH_ENV_') && v !== undefined) out[k.slice('BENCH_ENV_'.length)] = v;
  return out;
}

/** Environment shared by every Switchboard process of a run. */
function switchboardEnv(bench: BenchEmulator, dataDir: string): Record<string, string> {
  return {
    ...passthrough(),
    BOT_MODULE: path.join(ROOT, 'bench/pipeline/echo-bot.ts'),
    TELEGRAM_BOT_TOKEN: bench.emu.token,
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_API_ROOT: bench.emu.url,
    // Above the load: the emulator's limits are raised too.
    TELEGRAM_MAX_RPS: '1000000',
    WEBCHAT_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
  };
}

function startSwitchboard(role: string, env: Record<string, string>, roles?: string): ReturnType<typeof spawnChild> {
  const args = [path.join(ROOT, 'bin/switchboard.js'), 'start', ...(roles ? ['--roles', roles] : [])];
  return spawnChild({ role, args, env, ready: READY_SWITCHBOARD });
}

async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
}

async function embedded(bench: BenchEmulator): Promise<RunningSystem> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-'));
  const env = { ...switchboardEnv(bench, dir), DATABASE_URL: process.env.BENCH_DB ?? `sqlite:${path.join(dir, 'switchboard.db')}`, BROKER_URL: 'memory:' };
  const { child, match } = await startSwitchboard('switchboard', env);
  return {
    webhook: { url: `${match[1]}/webhooks/telegram`, secret: SECRET },
    children: [child],
    notes: [`SQLite file in ${os.tmpdir()} (WAL)`],
    async stop() {
      await stopAll([child]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Queues of their own on the broker (BROKER_PREFIX), deleted after the run. */
function privateQueues(url: string): { prefix: string; drop(): Promise<void> } {
  const prefix = `bench.${randomBytes(4).toString('hex')}.`;
  return {
    prefix,
    async drop() {
      const conn = new Connection({ url, retryLow: 100, retryHigh: 200, acquireTimeout: 5000 });
      try {
        const ch = await conn.acquire();
        for (const topic of ['inbound', 'outbound.telegram', 'dead']) await ch.queueDelete({ queue: `${prefix}${topic}` }).catch(() => undefined);
        await ch.close();
      } catch {
        // A broker that went away keeps a few empty queues; nothing depends on them.
      } finally {
        await conn.close();
      }
    },
  };
}

async function distributed(bench: BenchEmulator, services: ServiceUrls): Promise<RunningSystem> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-'));
  const db = await freshSchema(services.postgres, 'bench');
  const queues = privateQueues(services.rabbitmq);
  const env = { ...switchboardEnv(bench, dir), DATABASE_URL: db.url, BROKER_URL: services.rabbitmq, BROKER_PREFIX: queues.prefix };
  const children: Child[] = [];
  const cleanup = async () => {
    await stopAll(children);
    await db.drop().catch(() => undefined);
    await queues.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The gateway first: it migrates the fresh schema before the cores open it.
    const gateway = await startSwitchboard('gateway', env, 'gateway');
    children.push(gateway.child);
    const cores = await Promise.all([startSwitchboard('core-1', env, 'core'), startSwitchboard('core-2', env, 'core')]);
    children.push(...cores.map((c) => c.child));
    return {
      webhook: { url: `${gateway.match[1]}/webhooks/telegram`, secret: SECRET },
      children,
      notes: ['PostgreSQL schema and RabbitMQ queues of its own'],
      stop: cleanup,
    };
  } catch (err: unknown) {
    await cleanup();
    throw err;
  }
}

async function peer(bench: BenchEmulator, file: string, role: string, notes: string[]): Promise<RunningSystem> {
  const env = {
    BENCH_TOKEN: bench.emu.token,
    BENCH_API_ROOT: bench.emu.url,
    BENCH_SECRET: SECRET,
    BENCH_BOT_USERNAME: bench.emu.bot.username,
  };
  // Through tsx like Switchboard, so every system pays the same loader cost.
  const { child, match } = await spawnChild({ role, args: ['--import', 'tsx', path.join(ROOT, file)], env, ready: READY_PEER });
  return { webhook: { url: `${match[1]}/`, secret: SECRET }, children: [child], notes, stop: () => stopAll([child]) };
}

export function startSystem(name: SystemName, bench: BenchEmulator, services: ServiceUrls): Promise<RunningSystem> {
  switch (name) {
    case 'embedded':
      return embedded(bench);
    case 'distributed':
      return distributed(bench, services);
    case 'grammy':
      return peer(bench, 'bench/pipeline/peers/grammy.ts', 'grammy', ['no rate limiter, no storage']);
    case 'chat-sdk':
      return peer(bench, 'bench/pipeline/peers/chat-sdk.ts', 'chat-sdk', [
        "in-memory state; concurrency 'concurrent' (the default 'drop' discards a chat's update that arrives while its previous one is handled)",
      ]);
  }
}
