/**
 * Wires the roles together: storage, bus, connectors, core and gateway workers, the sweeper and
 * the web server. `switchboard start` calls this; tests call it with their own env and bot.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createBus } from '../bus/index.ts';
import type { Bus, Subscription } from '../bus/bus.ts';
import { loadConfig, type Config, type Role, ROLES } from '../config/config.ts';
import { createLogger } from '../config/logger.ts';
import type { Connector, ConnectorContext } from '../connectors/connector.ts';
import { rateLimitEvents } from '../connectors/rate-limiter.ts';
import type { BotLogic } from '../core/handling.ts';
import { openStore, type Store } from '../storage/database.ts';
import { migrate } from '../storage/migrate.ts';
import { openInboundCount } from '../storage/repositories/messages.ts';
import { createWebServer } from '../web/server.ts';
import { loadBot } from './bot-loader.ts';
import { buildConnectors } from './connectors.ts';
import { CoreWorker } from './core-worker.ts';
import { GatewayWorker } from './gateway-worker.ts';
import { InboundBacklog } from './inbound-backlog.ts';
import { createInbox } from './inbox.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { guardPoller } from './poll-lease.ts';
import { StoredBacklog } from './stored-backlog.ts';
import { startSweeper } from './sweeper.ts';
import { INBOUND_TOPIC, outboundTopic } from './topics.ts';

export interface SwitchboardOptions {
  /** The environment to configure from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The bot logic; default: BOT_MODULE or the demo bot. */
  bot?: BotLogic;
  /** Extra connectors (tests, custom platforms), besides those configured by the environment. */
  connectors?: Connector[];
  /** Roles to run; default all. */
  roles?: Role[];
  /** Limit the gateway to these platforms (`--connectors telegram,vk`). */
  platforms?: string[];
  log?: Logger;
}

export interface Switchboard {
  config: Config;
  /** Base URL of the web server, when one runs. */
  url: string | null;
  app: FastifyInstance | null;
  store: Store;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  connectors: Connector[];
  /** Runs the sweeper once now (tests). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export async function startSwitchboard(opts: SwitchboardOptions = {}): Promise<Switchboard> {
  const env = opts.env ?? process.env;
  const config = loadConfig(env);
  const roles = new Set<Role>(opts.roles ?? ROLES);
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const owner = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const metrics = createMetrics();

  const store = openStore(config.DATABASE_URL, { poolSize: config.DB_POOL_SIZE });
  const cleanups: Array<() => Promise<unknown>> = [() => store.close()];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    // Connector configuration is validated before anything is touched.
    const all = [...buildConnectors(env, config, store, log, roles), ...(opts.connectors ?? [])];
    const report = await migrate(store);
    if (report.applied.length) log.info({ applied: report.applied }, 'database migrated');

    const onWait = (w: { platform: string; ms: number }) => metrics.rateLimitWaits.observe({ platform: w.platform }, w.ms / 1000);
    rateLimitEvents.on('wait', onWait);
    cleanups.push(async () => rateLimitEvents.off('wait', onWait));
    // The connection name shows the deployment, the roles and the process in the broker's list.
    const bus = await createBus(config.BROKER_URL, { log, prefix: config.BROKER_PREFIX, connectionName: `${config.BROKER_PREFIX}${[...roles].join('+')} ${owner}` });
    cleanups.push(() => bus.close());
    // Admission control: the inbox holds acknowledgements while core is behind (inbound-backlog.ts).
    const backlog = new InboundBacklog();
    const inbox = createInbox(store, bus, log, metrics, backlog);
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const subs: Subscription[] = [];
    cleanups.push(async () => {
      for (const s of subs) await s.close();
    });

    const connectors = all.filter((c) => !opts.platforms || c.platform === 'webchat' || opts.platforms.includes(c.platform));
    // The web chat lives in the web role; every other platform in the gateway role.
    const roleOf = (c: Connector): Role => (c.platform === 'webchat' ? 'web' : 'gateway');
    const mine = connectors.filter((c) => roles.has(roleOf(c)));
    cleanups.push(async () => {
      for (const c of mine) await c.close?.();
    });

    const ctx: ConnectorContext = { inbox, log, signal: controller.signal, bus };
    // Every process serves /healthz, /readyz and /metrics, a core replica too: an orchestrator
    // must be able to probe it and Prometheus to scrape its handling metrics.
    const app = await createWebServer({ log, store, bus, metrics });
    for (const c of mine) await c.registerRoutes?.(app, { ...ctx, log: log.child({ platform: c.platform }) });

    if (!roles.has('core')) {
      // No core here: admission control looks at the backlog every core replica shares.
      backlog.useStored(
        new StoredBacklog({ read: () => openInboundCount(store.db), limit: config.INBOX_MAX_BACKLOG, log: log.child({ component: 'inbox' }) }),
      );
    }
    if (roles.has('core')) {
      const bot = opts.bot ?? (await loadBot(config.BOT_MODULE));
      const worker = new CoreWorker({ store, bus, bot, log: log.child({ role: 'core' }), metrics, owner, leaseMs: config.LEASE_MS, maxAttempts: config.MAX_HANDLE_ATTEMPTS, backlog });
      subs.push(await bus.subscribe(INBOUND_TOPIC, async (n) => worker.onNotification(n), { concurrency: config.CORE_CONCURRENCY }));
      cleanups.push(() => worker.close());
    }
    for (const c of mine) {
      const worker = new GatewayWorker({ store, connector: c, log: log.child({ role: 'gateway', platform: c.platform }), metrics, owner, leaseMs: config.LEASE_MS, maxAttempts: config.MAX_SEND_ATTEMPTS });
      subs.push(await bus.subscribe(outboundTopic(c.platform), async (n) => worker.onNotification(n), { concurrency: config.GATEWAY_CONCURRENCY }));
      cleanups.push(() => worker.close());
    }

    const sweeper = startSweeper({
      store,
      bus,
      log: log.child({ component: 'sweeper' }),
      metrics,
      intervalMs: config.SWEEP_INTERVAL_MS,
      inbound: roles.has('core'),
      outboundPlatforms: mine.map((c) => c.platform),
    });
    cleanups.push(() => sweeper.stop());

    cleanups.push(() => app.close());
    await app.listen({ port: config.PORT, host: config.HOST });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
    // Receivers start last, once everything that handles their updates is up. A long-poller
    // runs only while this replica holds the bot's poll lease.
    for (const c of mine) {
      const cctx = { ...ctx, log: log.child({ platform: c.platform }) };
      if (c.receiveMode === 'poll' && c.start) {
        const guard = guardPoller({ store, connector: c, ctx: cctx, owner, ttlMs: config.POLL_LEASE_MS, log: cctx.log });
        cleanups.push(() => guard.stop());
      } else {
        await c.start?.(cctx);
      }
    }

    log.info({ roles: [...roles], connectors: mine.map((c) => c.platform), url, database: store.dialect }, 'switchboard started');
    return { config, url, app, store, bus, log, metrics, connectors: mine, sweep: sweeper.sweep, close };
  } catch (err: unknown) {
    await close();
    throw err;
  }
}
