/**
 * The in-process bus used by `switchboard start` (embedded mode): topics are in-memory FIFOs,
 * subscribers of a topic compete for its notifications round-robin, each within its own
 * concurrency bound; a broadcast goes to every listener of its topic, in order. Nothing survives
 * the process — the sweeper re-notifies rows whose lease expired, which is what makes that
 * acceptable.
 *
 * This sits on the embedded hot path, so the common case costs one array slot per notification,
 * one handler call and one `.then`: no timers, no envelopes, and one microtask per burst of
 * publishes rather than one per notification. Timers exist only on the failure path.
 */
import pino from 'pino';
import type { BroadcastHandler, Bus, BusHandler, HandlerOutcome, Notification, SubscribeOptions, Subscription } from './bus.ts';

/** Handlers running at once per subscriber when `subscribe` is given no `concurrency`. */
export const DEFAULT_CONCURRENCY = 10;

export interface MemoryBusOptions {
  /** Logs dropped notifications. Default: a pino logger named `bus`. */
  log?: pino.Logger;
  /** Deliveries of one notification (the first included) before it is dropped. Default 5. */
  maxDeliveries?: number;
  /** Delay before a failed notification is delivered again; grows linearly per attempt. Default 50 ms. */
  retryDelayMs?: number;
}

/** A FIFO with O(1) shift: a head index into an array that is compacted now and then. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T; // let it be collected
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface Subscriber {
  readonly handler: BusHandler;
  readonly concurrency: number;
  inFlight: number;
  open: boolean;
  /** Resolves `close()` once `inFlight` reaches zero. */
  onIdle?: () => void;
}

/** One topic: its pending notifications, its competing subscribers and the failure counts. */
class Topic {
  readonly pending = new Fifo<Notification>();
  subscribers: Subscriber[] = [];
  /** Round-robin cursor into `subscribers`. */
  next = 0;
  drainScheduled = false;
  /** Failed deliveries so far, only for notifications that have failed at least once. */
  readonly failures = new Map<Notification, number>();

  constructor(readonly name: string) {}
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Creates the in-process bus. At-least-once while the process runs: a handler that throws or
 * returns `'retry'` gets the notification again after a short delay, up to `maxDeliveries`
 * deliveries; then it is dropped with a log line and left to the sweeper. A notification
 * published before anyone subscribes waits in its topic until a subscriber arrives.
 *
 * Handlers receive the very object that was published (no copy): treat it as read-only.
 */
export function createMemoryBus(opts: MemoryBusOptions = {}): Bus {
  const log = opts.log ?? pino({ name: 'bus' });
  const maxDeliveries = Math.max(1, opts.maxDeliveries ?? 5);
  const retryDelayMs = Math.max(0, opts.retryDelayMs ?? 50);
  const topics = new Map<string, Topic>();
  const retryTimers = new Set<NodeJS.Timeout>();
  /** Listeners of each broadcast topic; replaced (not mutated) on change, so a fan-out in progress keeps its snapshot. */
  const listeners = new Map<string, readonly BroadcastHandler[]>();
  let closed = false;

  function fanOut(topicName: string, handlers: readonly BroadcastHandler[], n: Notification): void {
    for (const handler of handlers) {
      try {
        handler(n);
      } catch (err: unknown) {
        log.warn({ topic: topicName, id: n.id, err }, 'broadcast listener failed');
      }
    }
  }

  function topicOf(name: string): Topic {
    let topic = topics.get(name);
    if (!topic) topics.set(name, (topic = new Topic(name)));
    return topic;
  }

  function scheduleDrain(topic: Topic): void {
    if (topic.drainScheduled) return;
    topic.drainScheduled = true;
    // Deliver after the publisher's synchronous code: a handler never runs inside `publish`.
    queueMicrotask(() => {
      topic.drainScheduled = false;
      drain(topic);
    });
  }

  /** Hands pending notifications to subscribers with room, round-robin. */
  function drain(topic: Topic): void {
    const subs = topic.subscribers;
    while (topic.pending.size > 0 && subs.length > 0) {
      let chosen: Subscriber | undefined;
      for (let tried = 0; tried < subs.length; tried++) {
        const i = (topic.next + tried) % subs.length;
        if (subs[i].inFlight < subs[i].concurrency) {
          chosen = subs[i];
          topic.next = (i + 1) % subs.length;
          break;
        }
      }
      if (!chosen) return; // everyone is busy; a finishing handler drains again
      deliver(topic, chosen, topic.pending.shift()!);
    }
  }

  function deliver(topic: Topic, sub: Subscriber, n: Notification): void {
    sub.inFlight++;
    let result: Promise<HandlerOutcome>;
    try {
      // Promise.resolve returns a native promise as is; it only guards a handler that is not async.
      result = Promise.resolve(sub.handler(n));
    } catch (err: unknown) {
      result = Promise.reject(err); // a handler that throws before its first await
    }
    result.then(
      (outcome) => settle(topic, sub, n, outcome === 'retry' ? new Error("handler returned 'retry'") : undefined),
      (err: unknown) => settle(topic, sub, n, err ?? new Error('handler rejected')),
    );
  }

  function settle(topic: Topic, sub: Subscriber, n: Notification, failure: unknown): void {
    sub.inFlight--;
    if (failure === undefined) {
      if (topic.failures.size > 0) topic.failures.delete(n);
    } else {
      fail(topic, n, failure);
    }
    if (sub.inFlight === 0 && sub.onIdle) sub.onIdle();
    if (topic.pending.size > 0) drain(topic);
  }

  function fail(topic: Topic, n: Notification, failure: unknown): void {
    const failures = (topic.failures.get(n) ?? 0) + 1;
    const reason = failure instanceof Error ? failure.message : String(failure);
    if (failures >= maxDeliveries || closed) {
      topic.failures.delete(n);
      log.warn(
        { topic: topic.name, id: n.id, conversationId: n.conversationId, deliveries: failures, reason },
        closed ? 'bus closed: dropping failed notification' : 'dropping notification after repeated failures; the sweeper will re-notify it',
      );
      return;
    }
    topic.failures.set(n, failures);
    log.debug({ topic: topic.name, id: n.id, deliveries: failures, reason }, 'handler failed; redelivering');
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      topic.pending.push(n);
      drain(topic);
    }, retryDelayMs * failures);
    retryTimers.add(timer);
  }

  return {
    publish(topicName: string, n: Notification): Promise<void> {
      if (closed) return Promise.reject(new Error(`bus is closed: cannot publish to ${topicName}`));
      const topic = topicOf(topicName);
      topic.pending.push(n);
      if (topic.subscribers.length > 0) scheduleDrain(topic);
      return RESOLVED;
    },

    async subscribe(topicName: string, handler: BusHandler, subOpts?: SubscribeOptions): Promise<Subscription> {
      if (closed) throw new Error(`bus is closed: cannot subscribe to ${topicName}`);
      const concurrency = subOpts?.concurrency ?? DEFAULT_CONCURRENCY;
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new Error(`subscribe(${topicName}): concurrency must be a positive integer, got ${concurrency}`);
      }
      const topic = topicOf(topicName);
      const sub: Subscriber = { handler, concurrency, inFlight: 0, open: true };
      // Copy-on-write so a drain loop in progress never sees the array change under it.
      topic.subscribers = [...topic.subscribers, sub];
      scheduleDrain(topic);
      return {
        close: () => closeSubscriber(topic, sub),
      };
    },

    broadcast(topicName: string, n: Notification): Promise<void> {
      if (closed) return Promise.reject(new Error(`bus is closed: cannot broadcast to ${topicName}`));
      const handlers = listeners.get(topicName);
      // Like publish: never inside the caller's synchronous code; microtasks keep the order.
      if (handlers?.length) queueMicrotask(() => fanOut(topicName, handlers, n));
      return RESOLVED;
    },

    async listen(topicName: string, handler: BroadcastHandler): Promise<Subscription> {
      if (closed) throw new Error(`bus is closed: cannot listen to ${topicName}`);
      // A wrapper per listen, so the same function listening twice is two listeners.
      const own: BroadcastHandler = (n) => handler(n);
      listeners.set(topicName, [...(listeners.get(topicName) ?? []), own]);
      return {
        close: async () => {
          const rest = (listeners.get(topicName) ?? []).filter((h) => h !== own);
          if (rest.length) listeners.set(topicName, rest);
          else listeners.delete(topicName);
        },
      };
    },

    healthy: () => !closed,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Pending retries are abandoned: the rows are still leased in the database, so the sweeper
      // re-notifies them after the restart.
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      listeners.clear();
      const waits: Promise<void>[] = [];
      for (const topic of topics.values()) {
        for (const sub of topic.subscribers) waits.push(closeSubscriber(topic, sub));
      }
      await Promise.all(waits);
    },
  };
}

function closeSubscriber(topic: Topic, sub: Subscriber): Promise<void> {
  if (sub.open) {
    sub.open = false;
    topic.subscribers = topic.subscribers.filter((s) => s !== sub);
    topic.next = 0;
  }
  if (sub.inFlight === 0) return RESOLVED;
  return new Promise<void>((resolve) => {
    const previous = sub.onIdle;
    sub.onIdle = () => {
      previous?.();
      resolve();
    };
  });
}
