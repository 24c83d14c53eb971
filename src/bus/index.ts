/**
 * Picks the bus implementation from `BROKER_URL`: `memory:` for the in-process bus (embedded
 * mode, the default), `amqp://…` or `amqps://…` for RabbitMQ (distributed mode).
 */
import type pino from 'pino';
import type { Bus } from './bus.ts';
import { createMemoryBus } from './memory.ts';
import { createRabbitBus, type RabbitBusOptions } from './rabbitmq.ts';

export type { BroadcastHandler, Bus, BusHandler, HandlerOutcome, Notification, SubscribeOptions, Subscription } from './bus.ts';
export { createMemoryBus } from './memory.ts';
export { createRabbitBus, inspectDeadLetters, replayDeadLetters, type DeadLetter } from './rabbitmq.ts';

export interface CreateBusOptions extends Partial<Omit<RabbitBusOptions, 'log'>> {
  log: pino.Logger;
}

/** The URL schemes `createBus` accepts, for error messages and config validation. */
export const BUS_SCHEMES = ['memory:', 'amqp:', 'amqps:'] as const;

/**
 * Creates the bus named by `url`. Rejects with a message naming the accepted schemes when the
 * URL is not one of them; RabbitMQ URLs resolve once the broker is connected.
 */
export async function createBus(url: string, opts: CreateBusOptions): Promise<Bus> {
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch (err: unknown) {
    // The value is not echoed: an unparseable URL may still hold a password.
    throw new Error('BROKER_URL is not a URL: expected memory: or amqp://user:password@host:5672/vhost', { cause: err });
  }
  switch (scheme) {
    case 'memory:':
      return createMemoryBus({ log: opts.log.child({ component: 'bus' }), maxDeliveries: opts.maxDeliveries, retryDelayMs: opts.retryDelayMs });
    case 'amqp:':
    case 'amqps:':
      return createRabbitBus(url, opts);
    default:
      throw new Error(`BROKER_URL has unsupported scheme "${scheme}": use memory: (in-process bus) or amqp:// / amqps:// (RabbitMQ)`);
  }
}
