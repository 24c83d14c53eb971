/**
 * The one contract every platform connector implements (Telegram, VK, Messenger, web chat).
 * A connector is created by a factory `create<Name>Connector(options)`; the runtime wires it to
 * storage and the bus. Each connector folder has the same files: `connector.ts` (the factory),
 * `inbound.ts` (platform update → InboundUpdate), `outbound.ts` (RenderPlan → API calls),
 * `api.ts` (the HTTP client of the platform API), `config.ts` (its environment variables).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Capabilities } from '../core/capabilities.ts';
import type { Attachment, ConversationRef, InboundUpdate, OutgoingMessage, Platform } from '../core/model.ts';
import type { RenderPlan } from '../core/render.ts';

/** Result of storing one inbound update. */
export interface IngestResult {
  /** Row id of the stored inbound message. */
  id: number;
  /** True when an update with the same dedup key was stored before (nothing new was written). */
  duplicate: boolean;
}

/**
 * Stores an inbound update durably (deduplicated by its dedupKey) and notifies core. A connector
 * must await it before acknowledging the platform: an update is never acknowledged unstored.
 */
export type Inbox = (update: InboundUpdate) => Promise<IngestResult>;

/** One outbound message to deliver, as the gateway hands it to the connector. */
export interface Delivery {
  /** Row id of the outbound message: stable across retries (VK derives random_id from it). */
  messageId: number;
  conversation: ConversationRef;
  /** The platform user id of the person in this conversation. */
  recipient: string;
  message: OutgoingMessage;
  /** The message rendered within the connector's capabilities. */
  plan: RenderPlan;
  /** When set, edit this earlier platform message instead of sending a new one. */
  edit?: { platformMessageId: string };
  /** When the person last wrote to the bot (ms since epoch), for reply windows (Messenger 24 h). */
  lastInboundAt?: number | null;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * How many leading parts of `plan.parts` were delivered by an earlier attempt that failed
   * part-way (from its DeliveryError.deliveredIds): send only the rest.
   */
  skip?: number;
}

export interface SendResult {
  /** The platform's ids of the messages sent (one per rendered part). */
  platformMessageIds: string[];
}

/** What the runtime gives a connector when it starts. */
export interface ConnectorContext {
  inbox: Inbox;
  log: Logger;
  signal: AbortSignal;
  /**
   * Fan-out to every replica of the connector (the web chat pushes a reply to the tabs other web
   * replicas hold). Absent where there is nothing to fan out to.
   */
  bus?: Pick<Bus, 'broadcast' | 'listen'>;
}

/**
 * References of media a platform already has (Telegram's file_id) by the media's key, for one
 * platform and bot. The runtime keeps them in the database, so every replica shares an upload and
 * a restart keeps it (src/storage/repositories/file-refs.ts).
 */
export interface FileRefs {
  get(key: string): Promise<string | undefined>;
  set(key: string, ref: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Connector {
  readonly platform: Platform;
  /** Bot id this connector serves (`main` unless several bots run). */
  readonly bot: string;
  readonly capabilities: Capabilities;
  /** Registers HTTP routes (webhooks, the web chat socket) on the web server. */
  registerRoutes?(app: FastifyInstance, ctx: ConnectorContext): void | Promise<void>;
  /**
   * Starts receiving: long polling, or setWebhook when a webhook URL is configured. Returns once
   * started; pollers run until `ctx.signal` aborts. `mode` tells the runtime which of the two
   * this connector is set to, so that only one poller per bot runs across replicas.
   */
  start?(ctx: ConnectorContext): Promise<void>;
  readonly receiveMode?: 'push' | 'poll';
  /** Delivers one outbound message. Throws DeliveryError on failure. */
  send(delivery: Delivery): Promise<SendResult>;
  /** Downloads the bytes of an inbound attachment (for QR scanning and the like). */
  download?(attachment: Attachment): Promise<Buffer>;
  close?(): Promise<void>;
}

/**
 * How a delivery failed, which decides the retry:
 * - `rate-limited`: wait `retryAfterMs` (Telegram 429 retry_after, VK 6/9, Messenger 4/613), retry;
 * - `transient`: network error or 5xx — back off with jitter, retry up to a cap;
 * - `permanent`: will never succeed (blocked, 901, 551, outside the reply window, bad request):
 *   the message fails with this reason; with `unreachable` the identity is marked unreachable.
 */
export type DeliveryErrorKind = 'rate-limited' | 'transient' | 'permanent';

export class DeliveryError extends Error {
  readonly kind: DeliveryErrorKind;
  readonly platform: Platform;
  /** Platform error code (`429`, `901`, `613`...) or a short name (`ECONNRESET`, `window`). */
  readonly code: string;
  readonly retryAfterMs?: number;
  readonly unreachable: boolean;
  /** Ids of the parts that were delivered before the failure, so a retry does not repeat them. */
  readonly deliveredIds: string[];

  constructor(
    message: string,
    opts: {
      kind: DeliveryErrorKind;
      platform: Platform;
      code: string | number;
      retryAfterMs?: number;
      unreachable?: boolean;
      deliveredIds?: string[];
      cause?: unknown;
    },
  ) {
    super(message, { cause: opts.cause });
    this.name = 'DeliveryError';
    this.kind = opts.kind;
    this.platform = opts.platform;
    this.code = String(opts.code);
    this.retryAfterMs = opts.retryAfterMs;
    this.unreachable = opts.unreachable ?? false;
    this.deliveredIds = opts.deliveredIds ?? [];
  }
}
