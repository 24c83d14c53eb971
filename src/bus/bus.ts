/**
 * The bus carries only ids ("message 42 is ready"); the database is the source of truth. A lost
 * notification is recovered by the sweeper, so an implementation may lose messages on a crash,
 * but must deliver each published notification at least once while it runs.
 *
 * Topics used by the runtime:
 * - `inbound`              — an inbound message was stored; core handles it.
 * - `outbound.<platform>`  — an outbound message was queued; that platform's gateway sends it.
 */
export interface Notification {
  /** Row id of the message that is ready. */
  id: number;
  /** Conversation of the message, for ordering and partitioning. */
  conversationId?: number;
}

/** What a handler's outcome does to the notification. A throw counts as `retry`. */
export type HandlerOutcome = void | 'ack' | 'retry' | 'drop';

export type BusHandler = (n: Notification) => Promise<HandlerOutcome>;

export interface SubscribeOptions {
  /** How many notifications this subscriber handles at once (RabbitMQ prefetch). */
  concurrency?: number;
}

export interface Subscription {
  /** Stops receiving and waits for handlers in flight. */
  close(): Promise<void>;
}

export interface Bus {
  /** Resolves once the bus has accepted the notification (RabbitMQ: publisher confirm). */
  publish(topic: string, n: Notification): Promise<void>;
  /** Competing consumers: each notification goes to one subscriber of the topic. */
  subscribe(topic: string, handler: BusHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** True while the bus can publish (for /readyz). */
  healthy(): boolean;
  close(): Promise<void>;
}
