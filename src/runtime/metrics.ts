/** Prometheus metrics of the pipeline, exported at /metrics. One registry per Switchboard. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    inbound: new Counter({ name: 'switchboard_inbound_total', help: 'Inbound updates stored', labelNames: ['platform', 'result'], registers: [registry] }),
    handled: new Counter({ name: 'switchboard_handled_total', help: 'Inbound messages handled', labelNames: ['status'], registers: [registry] }),
    handlerSeconds: new Histogram({ name: 'switchboard_handler_seconds', help: 'Bot handler latency', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    outbound: new Counter({ name: 'switchboard_outbound_total', help: 'Outbound messages by final status', labelNames: ['platform', 'status'], registers: [registry] }),
    sendErrors: new Counter({ name: 'switchboard_send_errors_total', help: 'Send errors by platform and code', labelNames: ['platform', 'code', 'kind'], registers: [registry] }),
    rateLimitWaits: new Histogram({ name: 'switchboard_rate_limit_wait_seconds', help: 'Time sends waited for a platform rate limiter', labelNames: ['platform'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5], registers: [registry] }),
    queueDepth: new Gauge({ name: 'switchboard_queue_depth', help: 'Open messages waiting in the database', labelNames: ['direction'], registers: [registry] }),
    acksHeld: new Counter({
      name: 'switchboard_inbox_acks_held_total',
      help: 'Platform requests answered late because core was behind (admission control)',
      labelNames: ['backlog'],
      registers: [registry],
    }),
    sweeperRecoveries: new Counter({ name: 'switchboard_sweeper_recoveries_total', help: 'Notifications re-sent by the sweeper', labelNames: ['direction'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
