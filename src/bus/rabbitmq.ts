/**
 * The RabbitMQ bus for distributed mode (`BROKER_URL=amqp://…`), on `rabbitmq-client`, which owns
 * reconnection with exponential back-off. Topology: one durable queue per topic on the default
 * exchange, `${prefix}${topic}`, plus the dead-letter queue `${prefix}dead`. The publisher and
 * every consumer declare the queues they use, and rabbitmq-client re-declares them on the new
 * channel after every reconnect, so a broker restart or a deleted queue heals itself.
 *
 * Broadcasts use one durable fanout exchange per topic, `${prefix}broadcast.${topic}`; each
 * listener is a server-named, exclusive, auto-delete queue bound to it, which rabbitmq-client
 * declares and binds again on every reconnect (the old one died with the old connection).
 * Broadcasts are transient and unacknowledged: one sent while a listener is reconnecting is
 * missed by that listener, which is the promise `Bus.broadcast` makes.
 *
 * Failed deliveries are counted in a message header (`x-switchboard-deliveries`) that the
 * consumer increments by republishing the notification (confirmed) and acking the original,
 * rather than with quorum queues' `x-delivery-count`, because:
 * - it works on classic queues on any broker, so the queues can be declared by every process
 *   without arguing about queue type;
 * - it counts only handler failures: a connection cut (which the broker would count) is not the
 *   notification's fault and must not push it towards the dead-letter queue;
 * - the republish can wait a short back-off first instead of spinning in an immediate requeue loop;
 * - the dead-letter copy can carry the handler's error message, which broker dead-lettering
 *   cannot record.
 * Republish-then-ack can duplicate a notification if the connection drops between the two;
 * handlers are idempotent (store-and-notify), so that is the cheap side to err on.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, ConsumerStatus, type AsyncMessage, type Channel, type Consumer, type Envelope, type ReturnedMessage } from 'rabbitmq-client';
import type pino from 'pino';
import type { BroadcastHandler, Bus, BusHandler, HandlerOutcome, Notification, SubscribeOptions, Subscription } from './bus.ts';

/** Handlers running at once per subscriber (and its prefetch) when `subscribe` is given no `concurrency`. */
export const DEFAULT_CONCURRENCY = 10;
/** Header holding how many deliveries of this notification have failed so far. */
export const DELIVERIES_HEADER = 'x-switchboard-deliveries';
/** Headers set on a dead-lettered notification. */
export const DEAD_TOPIC_HEADER = 'x-switchboard-topic';
export const DEAD_REASON_HEADER = 'x-switchboard-reason';
export const DEAD_AT_HEADER = 'x-switchboard-failed-at';

export interface RabbitBusOptions {
  log: pino.Logger;
  /**
   * Name prefix: the queue of topic `t` is `${prefix}${t}`, the fanout exchange of broadcast
   * topic `t` is `${prefix}broadcast.${t}`. Default `switchboard.`.
   */
  prefix?: string;
  /** Failed deliveries after which a notification goes to `${prefix}dead`. Default 5. */
  maxDeliveries?: number;
  /** Wait before republishing a failed notification; grows linearly per failure. Default 200 ms. */
  retryDelayMs?: number;
  /** How long `createRabbitBus` and `subscribe` wait for the broker before failing. Default 20 s. */
  connectTimeoutMs?: number;
  /** Reconnection back-off: step and cap in ms (rabbitmq-client `retryLow`/`retryHigh`). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Shown in the broker's connection list (and used by tests to cut this connection). */
  connectionName?: string;
}

/** The URL without its password, for log lines and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Reads a notification back from a message body; undefined when it is not one. */
export function decodeNotification(body: unknown): Notification | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, conversationId } = body as Record<string, unknown>;
  if (!Number.isSafeInteger(id)) return undefined;
  if (conversationId !== undefined && !Number.isSafeInteger(conversationId)) return undefined;
  return conversationId === undefined ? { id: id as number } : { id: id as number, conversationId: conversationId as number };
}

/** Resolves on the consumer's first 'ready'; rejects after `ms`. */
function untilReady(consumer: Consumer, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer not ready within ${ms} ms`)), ms);
    consumer.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface TopicRoute {
  queue: string;
  /** Reused for every first-delivery publish: basicPublish copies it, never mutates it. */
  envelope: Envelope;
  /** Settles once the queue is declared on this bus; then `declared` is set. */
  declaring?: Promise<void>;
  declared: boolean;
}

interface FanoutRoute {
  exchange: string;
  /** Settles once the exchange is declared on this connection; then `declared` is set. */
  declaring?: Promise<void>;
  declared: boolean;
}

/**
 * Connects to RabbitMQ and returns a {@link Bus}. Resolves once connected; rejects after
 * `connectTimeoutMs` with the broker unreachable. Publishes resolve on the publisher confirm and
 * may run concurrently (the confirms are pipelined on one channel).
 */
export async function createRabbitBus(url: string, opts: RabbitBusOptions): Promise<Bus> {
  const log = opts.log.child({ component: 'bus', broker: redactUrl(url) });
  const prefix = opts.prefix ?? 'switchboard.';
  const deadQueue = `${prefix}dead`;
  const maxDeliveries = Math.max(1, opts.maxDeliveries ?? 5);
  const retryDelayMs = Math.max(0, opts.retryDelayMs ?? 200);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 20_000;

  const routes = new Map<string, TopicRoute>();
  const fanouts = new Map<string, FanoutRoute>();
  const conn = new Connection({
    url,
    connectionName: opts.connectionName ?? 'switchboard',
    retryLow: opts.reconnect?.minMs ?? 1000,
    retryHigh: opts.reconnect?.maxMs ?? 30_000,
    acquireTimeout: connectTimeoutMs,
    // Notifications are tiny frames awaiting a confirm; Nagle would hold them back (measured:
    // sequential confirmed publishes went from ~250/s to ~800/s with it off).
    noDelay: true,
  });
  let everConnected = false;
  conn.on('error', (err: unknown) => log.warn({ err: errorMessage(err) }, 'RabbitMQ connection error; reconnecting'));
  conn.on('connection', () => {
    log.info(everConnected ? 'RabbitMQ reconnected' : 'RabbitMQ connected');
    everConnected = true;
    // Belt and braces beside the publisher's `queues`: the next publish to each topic declares
    // its queue again, in case it was deleted while we were cut off.
    for (const route of [...routes.values(), ...fanouts.values()]) {
      route.declared = false;
      route.declaring = undefined;
    }
  });
  conn.on('connection.blocked', (reason: string) => log.warn({ reason }, 'RabbitMQ blocked publishing'));
  conn.on('connection.unblocked', () => log.info('RabbitMQ unblocked publishing'));

  try {
    await conn.onConnect(connectTimeoutMs);
  } catch (err: unknown) {
    conn.unsafeDestroy();
    throw new Error(`RabbitMQ is not reachable at ${redactUrl(url)} within ${connectTimeoutMs} ms`, { cause: err });
  }

  // The publisher re-declares every queue in this array on each new channel (after a reconnect);
  // topics are appended as they are first used, since they are not known up front.
  const publisherQueues = [{ queue: deadQueue, durable: true }];
  const publisherExchanges: Array<{ exchange: string; type: 'fanout'; durable: true }> = [];
  // Two attempts: the second covers a connection lost between the send and its confirm (it waits
  // for the reconnect, up to connectTimeoutMs). A longer outage rejects the publish; the row is
  // in the database and the sweeper re-notifies it.
  const publisher = conn.createPublisher({ confirm: true, maxAttempts: 2, queues: publisherQueues, exchanges: publisherExchanges });
  publisher.on('retry', (err: unknown, envelope: Envelope) =>
    log.warn({ err: errorMessage(err), queue: envelope.routingKey }, 'publish failed; retrying'),
  );
  publisher.on('basic.return', (msg: ReturnedMessage) => onReturned(msg));

  const consumers = new Set<Consumer>();
  const stopping = new AbortController();
  // Every message waiting out its back-off listens on this signal; many at once is normal.
  setMaxListeners(0, stopping.signal);
  let closed = false;

  function routeOf(topic: string): TopicRoute {
    let route = routes.get(topic);
    if (!route) {
      const queue = prefix + topic;
      route = { queue, envelope: { routingKey: queue, durable: true, mandatory: true }, declared: false };
      routes.set(topic, route);
      publisherQueues.push({ queue, durable: true });
    }
    return route;
  }

  /** Declares the topic's queue once, so nothing published before any consumer exists is lost. */
  function declare(route: TopicRoute): Promise<void> {
    route.declaring ??= conn.queueDeclare({ queue: route.queue, durable: true }).then(
      () => {
        route.declared = true;
      },
      (err: unknown) => {
        route.declaring = undefined; // try again on the next publish
        throw new Error(`cannot declare queue ${route.queue}`, { cause: err });
      },
    );
    return route.declaring;
  }

  function fanoutOf(topic: string): FanoutRoute {
    let route = fanouts.get(topic);
    if (!route) {
      route = { exchange: `${prefix}broadcast.${topic}`, declared: false };
      fanouts.set(topic, route);
      publisherExchanges.push({ exchange: route.exchange, type: 'fanout', durable: true });
    }
    return route;
  }

  /** Declares the broadcast exchange once: publishing to a missing exchange would close the channel. */
  function declareExchange(route: FanoutRoute): Promise<void> {
    route.declaring ??= conn.exchangeDeclare({ exchange: route.exchange, type: 'fanout', durable: true }).then(
      () => {
        route.declared = true;
      },
      (err: unknown) => {
        route.declaring = undefined;
        throw new Error(`cannot declare exchange ${route.exchange}`, { cause: err });
      },
    );
    return route.declaring;
  }

  /** Starts a consumer and resolves once it consumes; closes it and rejects after the timeout. */
  async function started(consumer: Consumer, what: string): Promise<Subscription> {
    const ready = untilReady(consumer, connectTimeoutMs);
    consumer.start();
    try {
      await ready;
    } catch (err: unknown) {
      await consumer.close();
      throw new Error(`${what} not consumable within ${connectTimeoutMs} ms`, { cause: err });
    }
    consumers.add(consumer);
    return {
      close: async () => {
        if (!consumers.delete(consumer)) return;
        await consumer.close();
      },
    };
  }

  /**
   * A mandatory publish came back unroutable: its queue was deleted while we stayed connected.
   * Declare it again and republish, so the notification is not silently lost.
   */
  function onReturned(msg: ReturnedMessage): void {
    log.warn({ queue: msg.routingKey, replyText: msg.replyText }, 'notification was unroutable; re-declaring its queue');
    conn
      .queueDeclare({ queue: msg.routingKey, durable: true })
      .then(() => publisher.send({ routingKey: msg.routingKey, durable: true, mandatory: true, headers: msg.headers }, msg.body))
      .catch((err: unknown) => log.error({ err: errorMessage(err), queue: msg.routingKey }, 'could not republish an unroutable notification'));
  }

  async function deadLetter(topic: string, msg: AsyncMessage, reason: string, deliveries: number): Promise<void> {
    const failedAt = new Date().toISOString();
    const headers = {
      [DEAD_TOPIC_HEADER]: topic,
      [DEAD_REASON_HEADER]: reason,
      [DEAD_AT_HEADER]: failedAt,
      [DELIVERIES_HEADER]: deliveries,
    };
    await publisher.send({ routingKey: deadQueue, durable: true, mandatory: true, headers }, msg.body);
    const n = decodeNotification(msg.body);
    log.error({ topic, id: n?.id, conversationId: n?.conversationId, deliveries, reason, queue: deadQueue }, 'notification dead-lettered');
  }

  /** Runs the handler for one message and turns its outcome into an ack/nack. */
  async function handle(topic: string, route: TopicRoute, handler: BusHandler, msg: AsyncMessage): Promise<ConsumerStatus> {
    const n = decodeNotification(msg.body);
    if (!n) {
      await deadLetter(topic, msg, 'malformed notification: expected {"id": integer, "conversationId"?: integer}', 1);
      return ConsumerStatus.ACK;
    }
    let outcome: HandlerOutcome = undefined;
    let failure: unknown;
    try {
      outcome = await handler(n);
    } catch (err: unknown) {
      failure = err ?? new Error('handler rejected');
    }
    if (failure === undefined && outcome !== 'retry') return outcome === 'drop' ? ConsumerStatus.DROP : ConsumerStatus.ACK;

    const reason = failure === undefined ? "handler returned 'retry'" : errorMessage(failure);
    const previous = Number(msg.headers?.[DELIVERIES_HEADER] ?? 0);
    const deliveries = (Number.isSafeInteger(previous) && previous > 0 ? previous : 0) + 1;
    if (deliveries >= maxDeliveries) {
      await deadLetter(topic, msg, reason, deliveries);
      return ConsumerStatus.ACK;
    }
    log.debug({ topic, id: n.id, deliveries, reason }, 'handler failed; redelivering');
    // Hold the message (unacked, so a crash now still redelivers it) for a short back-off; on
    // close, stop waiting and republish at once so close() is not held up.
    await sleep(retryDelayMs * deliveries, undefined, { signal: stopping.signal }).catch(() => undefined);
    await publisher.send({ ...route.envelope, headers: { [DELIVERIES_HEADER]: deliveries } }, msg.body);
    return ConsumerStatus.ACK;
  }

  return {
    async publish(topic: string, n: Notification): Promise<void> {
      if (closed) throw new Error(`bus is closed: cannot publish to ${topic}`);
      const route = routeOf(topic);
      if (!route.declared) await declare(route);
      await publisher.send(route.envelope, n);
    },

    async subscribe(topic: string, handler: BusHandler, subOpts?: SubscribeOptions): Promise<Subscription> {
      if (closed) throw new Error(`bus is closed: cannot subscribe to ${topic}`);
      const concurrency = subOpts?.concurrency ?? DEFAULT_CONCURRENCY;
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new Error(`subscribe(${topic}): concurrency must be a positive integer, got ${concurrency}`);
      }
      const route = routeOf(topic);
      // The consumer declares its queue on every (re)connect, so a queue deleted while we were
      // cut off comes back before consuming resumes.
      const consumer = conn.createConsumer(
        {
          queue: route.queue,
          queueOptions: { durable: true },
          qos: { prefetchCount: concurrency },
          concurrency,
          requeue: true,
          lazy: true,
        },
        (msg) => handle(topic, route, handler, msg),
      );
      consumer.on('error', (err: unknown) => log.warn({ err: errorMessage(err), topic }, 'consumer error; it recovers by itself'));
      consumer.on('ready', () => log.debug({ topic, queue: route.queue }, 'consumer ready'));
      return started(consumer, `cannot subscribe to ${topic}: queue ${route.queue}`);
    },

    async broadcast(topic: string, n: Notification): Promise<void> {
      if (closed) throw new Error(`bus is closed: cannot broadcast to ${topic}`);
      const route = fanoutOf(topic);
      if (!route.declared) await declareExchange(route);
      // Not mandatory: a broadcast nobody listens to is simply gone.
      await publisher.send({ exchange: route.exchange, routingKey: '', durable: false }, n);
    },

    async listen(topic: string, handler: BroadcastHandler): Promise<Subscription> {
      if (closed) throw new Error(`bus is closed: cannot listen to ${topic}`);
      const route = fanoutOf(topic);
      // queue '' = a server-named queue; in queue.bind and basic.consume, '' names the queue just
      // declared on the channel, so every (re)connect gets a fresh queue, bound before consuming.
      const consumer = conn.createConsumer(
        {
          queue: '',
          queueOptions: { exclusive: true, autoDelete: true },
          exchanges: [{ exchange: route.exchange, type: 'fanout', durable: true }],
          queueBindings: [{ exchange: route.exchange, queue: '' }],
          noAck: true,
          lazy: true,
        },
        (msg) => {
          const n = decodeNotification(msg.body);
          if (!n) return log.warn({ topic }, 'malformed broadcast ignored');
          try {
            handler(n);
          } catch (err: unknown) {
            log.warn({ topic, id: n.id, err: errorMessage(err) }, 'broadcast listener failed');
          }
        },
      );
      consumer.on('error', (err: unknown) => log.warn({ err: errorMessage(err), topic }, 'listener error; it recovers by itself'));
      consumer.on('ready', () => log.debug({ topic, exchange: route.exchange, queue: consumer.queue }, 'listener ready'));
      return started(consumer, `cannot listen to ${topic}: exchange ${route.exchange}`);
    },

    healthy: () => !closed && conn.ready,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      stopping.abort();
      const closing = [...consumers].map((c) => c.close());
      consumers.clear();
      await Promise.allSettled(closing);
      await publisher.close().catch(() => undefined);
      await conn.close();
    },
  };
}

/** A notification in the dead-letter queue, as recorded when it was dead-lettered. */
export interface DeadLetter {
  topic: string;
  reason: string;
  /** ISO time of the last failure. */
  failedAt: string;
  deliveries: number;
  /** The notification (or the raw body when it was malformed). */
  body: unknown;
}

export interface DeadLetterOptions {
  /** Same prefix as the bus. Default `switchboard.`. */
  prefix?: string;
  /** Look at no more than this many messages. Default 1000. */
  limit?: number;
}

function toDeadLetter(msg: { headers?: Record<string, unknown>; body: unknown }): DeadLetter {
  const h = msg.headers ?? {};
  return {
    topic: String(h[DEAD_TOPIC_HEADER] ?? ''),
    reason: String(h[DEAD_REASON_HEADER] ?? ''),
    failedAt: String(h[DEAD_AT_HEADER] ?? ''),
    deliveries: Number(h[DELIVERIES_HEADER] ?? 0),
    body: Buffer.isBuffer(msg.body) ? msg.body.toString('utf8') : msg.body,
  };
}

/**
 * Opens a short-lived connection and a confirm-mode channel on the dead-letter queue. Messages
 * fetched and not acked by `fn` go back to the queue, in order, when the channel closes.
 */
async function onDeadQueue<T>(url: string, opts: DeadLetterOptions, fn: (ch: Channel, deadQueue: string, limit: number) => Promise<T>): Promise<T> {
  const prefix = opts.prefix ?? 'switchboard.';
  const conn = new Connection({ url, connectionName: 'switchboard-dead-letters' });
  conn.on('error', () => undefined); // surfaced through onConnect/acquire below
  try {
    await conn.onConnect(10_000);
    const ch = await conn.acquire();
    try {
      await ch.queueDeclare({ queue: `${prefix}dead`, durable: true });
      await ch.confirmSelect();
      return await fn(ch, `${prefix}dead`, opts.limit ?? 1000);
    } finally {
      await ch.close();
    }
  } catch (err: unknown) {
    throw new Error(`dead-letter queue ${prefix}dead on ${redactUrl(url)}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await conn.close();
  }
}

/** Lists dead-lettered notifications without removing them (for `switchboard bus dead-letters`). */
export function inspectDeadLetters(url: string, opts: DeadLetterOptions = {}): Promise<DeadLetter[]> {
  return onDeadQueue(url, opts, async (ch, deadQueue, limit) => {
    const found: DeadLetter[] = [];
    while (found.length < limit) {
      const msg = await ch.basicGet({ queue: deadQueue });
      if (!msg) break;
      found.push(toDeadLetter(msg));
    }
    return found;
  });
}

/**
 * Moves dead-lettered notifications (all, or one topic's) back onto their topic queues with a
 * fresh delivery count. Resolves with how many were replayed. Replay once the cause is fixed:
 * a notification that still fails is dead-lettered again after `maxDeliveries`.
 */
export function replayDeadLetters(url: string, opts: DeadLetterOptions & { topic?: string } = {}): Promise<number> {
  const prefix = opts.prefix ?? 'switchboard.';
  return onDeadQueue(url, opts, async (ch, deadQueue, limit) => {
    const declared = new Set<string>();
    let seen = 0;
    let replayed = 0;
    while (seen < limit) {
      const msg = await ch.basicGet({ queue: deadQueue });
      if (!msg) break;
      seen++;
      const topic = toDeadLetter(msg).topic;
      if (!topic || (opts.topic !== undefined && topic !== opts.topic)) continue; // left unacked: it goes back
      const queue = prefix + topic;
      if (!declared.has(queue)) {
        await ch.queueDeclare({ queue, durable: true });
        declared.add(queue);
      }
      await ch.basicPublish({ routingKey: queue, durable: true }, msg.body);
      ch.basicAck({ deliveryTag: msg.deliveryTag });
      replayed++;
    }
    return replayed;
  });
}
