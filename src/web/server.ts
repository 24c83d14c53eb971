/**
 * The Fastify server: health and readiness, metrics, and whatever routes the connectors add
 * (webhooks, the web chat). Request bodies are capped; errors are JSON with a stable shape.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { Store } from '../storage/database.ts';
import { OPEN_ROWS } from '../storage/repositories/messages.ts';

export interface WebServerOptions {
  log: Logger;
  store: Store;
  bus: Bus;
  metrics: Metrics;
  /** Largest request body accepted anywhere, in bytes (routes may set a smaller one). */
  bodyLimit?: number;
}

export async function createWebServer(o: WebServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.log.child({ component: 'http' }),
    // Our routes log what matters themselves; a line per request would drown them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    trustProxy: true,
  });

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    else req.log.info({ code: err.code, url: req.routeOptions.url, status }, `request rejected: ${err.message}`);
    void reply.status(status).send({ error: status >= 500 ? 'internal error' : err.message, code: err.code ?? 'SWB_ERR_REQUEST' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await o.store.db.selectFrom('leases').select('name').limit(1).execute();
      checks.database = 'ok';
    } catch (err: unknown) {
      checks.database = err instanceof Error ? err.message.split('\n')[0] : 'unreachable';
    }
    checks.bus = o.bus.healthy() ? 'ok' : 'disconnected';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', async (req, reply) => {
    // Queue depth is read from the database at scrape time: it is the truth, the bus is not.
    try {
      const rows = await o.store.db
        .selectFrom('messages')
        .select(['direction', (eb) => eb.fn.countAll<number>().as('n')])
        .where(OPEN_ROWS)
        .groupBy('direction')
        .execute();
      for (const d of ['in', 'out']) o.metrics.queueDepth.set({ direction: d }, Number(rows.find((r) => r.direction === d)?.n ?? 0));
    } catch (err: unknown) {
      req.log.warn({ err }, 'queue depth unavailable');
    }
    reply.header('content-type', o.metrics.registry.contentType);
    return o.metrics.registry.metrics();
  });

  return app as unknown as FastifyInstance;
}
