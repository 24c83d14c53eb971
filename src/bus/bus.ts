/**
 * The bus carries only ids ("message 42 is ready"); the database is the source of truth. A lost
 * notification is recovered by the sweeper, so an implementation may lose messages on a crash,
 * but must deliver each published notification at least once while it runs.
 *
 * Topics used by the runtime:
 * - `inbound`              — an inbound message was stored; core handles it.
 * - `outbound.<platform>`  — an outbound message was queued; that platform's gateway sends it.
 *
 * Broadcast topics (fan-out, every listener in every process):
 * - `webchat.sent.<bot>`   — a web chat reply was sent; every web replica pushes it to the tabs
 *   it holds for that conversation.
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

/**
 * Receives a broadcast. Called in the order the bus received the broadcasts, and not awaited: a
 * listener that does asynchronous work keeps its own order. A throw is logged and forgotten.
 */
export type BroadcastHandler = (n: Notification) => void;

export interface Subscription {
  /** Stops receiving and waits for handlers in flight. */
  close(): Promise<void>;
}

export interface Bus {
  /** Resolves once the bus has accepted the notification (RabbitMQ: publisher confirm). */
  publish(topic: string, n: Notification): Promise<void>;
  /** Competing consumers: each notification goes to one subscriber of the topic. */
  subscribe(topic: string, handler: BusHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /**
   * Fan-out: every listener of the topic, in every process, gets the notification once. Nothing
   * is kept: a listener that is not connected at that moment (or a process cut off from the
   * broker) misses it, so use it only where a miss is recovered another way. Resolves once the
   * bus accepted it (RabbitMQ: publisher confirm, i.e. it is in every bound listener's queue).
   */
  broadcast(topic: string, n: Notification): Promise<void>;
  /** Receives every broadcast on `topic` from the moment this resolves until `close()`. */
  listen(topic: string, handler: BroadcastHandler): Promise<Subscription>;
  /** True while the bus can publish (for /readyz). */
  healthy(): boolean;
  close(): Promise<void>;
}
