/**
 * The web chat connector: a chat page at `/`, an embeddable widget (`/webchat/widget.js`) and a
 * WebSocket (`/webchat/ws`) per open tab. It implements the same Connector contract as the
 * messenger platforms: inbound frames go through the inbox (stored before they are acked), and
 * `send` pushes rendered messages to the visitor's open tabs — on every web replica, through a
 * bus broadcast when the runtime gives one (live.ts). The database is the visitor's mailbox: a
 * visitor with no tab open still has the message, in the history shown on return.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { FULL_CAPABILITIES, type Capabilities } from '../../core/capabilities.ts';
import type { Attachment } from '../../core/model.ts';
import type { Connector, ConnectorContext, Delivery, SendResult } from '../connector.ts';
import { registerHttpRoutes } from './http.ts';
import { LiveFeed, type OutboundItem } from './live.ts';
import { liveFrame, type HistoryItem } from './outbound.ts';
import type { Limits } from './protocol.ts';
import { Session } from './session.ts';
import { directoryFiles, type WebchatFileStore } from './file-store.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, WebchatFiles } from './uploads.ts';
import { DEFAULT_RATE_LIMIT, Visitors, type RateLimit } from './visitors.ts';

export type { HistoryItem } from './outbound.ts';
export type { LiveBus, OutboundItem } from './live.ts';

/** Longest text a visitor may send in one message, by default (characters). */
export const DEFAULT_MAX_TEXT_LENGTH = 4096;
/** Largest WebSocket frame accepted with an error frame in reply; beyond 1 MiB the socket closes. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
const HARD_MAX_FRAME_BYTES = 1024 * 1024;

export interface WebchatOptions {
  /** Bot id; default `main`. */
  bot?: string;
  /** The stored conversation of a visitor (chat id), oldest first, at most the last 100. */
  history: (chatId: string) => Promise<HistoryItem[]>;
  /**
   * Loads one outbound message of this bot's web chat by row id (undefined when it is not one),
   * so that a replica pushes to its tabs the messages another replica sent. Needed only with
   * several web replicas (the runtime passes a bus in the connector context).
   */
  outbound?: (id: number) => Promise<OutboundItem | undefined>;
  /** Longest text message a visitor may send; default 4096 characters. */
  maxTextLength?: number;
  /** Largest image upload; default 5 MiB. */
  maxUploadBytes?: number;
  /** Largest frame answered with an error rather than a closed socket; default 64 KiB. */
  maxFrameBytes?: number;
  /** Bad frames a socket may send before it is closed; default 10. */
  maxBadFrames?: number;
  /** How fast one visitor may send; default 2 per second with bursts of 20. */
  rateLimit?: RateLimit;
  /**
   * Where uploads and bot media are stored (served at `/webchat/files/`): a file store (the
   * runtime passes the database's, which every web replica shares), or a directory of this
   * machine. One of the two is required.
   */
  files?: WebchatFileStore;
  uploadDir?: string;
  /** Absolute base URL of this server, for attachment URLs other services fetch; else paths. */
  publicUrl?: string;
  log?: Logger;
}

/** The web chat shows everything the model has; contact is a small form, location the browser's. */
export const WEBCHAT_CAPABILITIES: Capabilities = { ...FULL_CAPABILITIES, idempotentSend: true };

/** The web chat connector with a way to see who is connected (for tests and metrics). */
export interface WebchatConnector extends Connector {
  /** Number of open chat sockets. */
  readonly openSockets: number;
}

export function createWebchatConnector(opts: WebchatOptions): WebchatConnector {
  const bot = opts.bot ?? 'main';
  const capabilities = WEBCHAT_CAPABILITIES;
  const limits: Limits = {
    maxTextLength: opts.maxTextLength ?? DEFAULT_MAX_TEXT_LENGTH,
    maxFrameBytes: Math.min(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, HARD_MAX_FRAME_BYTES),
    maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
  };
  const store = opts.files ?? (opts.uploadDir !== undefined ? directoryFiles(opts.uploadDir) : undefined);
  if (!store) throw new Error('web chat: give `files` (a file store) or `uploadDir` (a directory) for uploads');
  const files = new WebchatFiles(store, opts.publicUrl);
  const visitors = new Visitors(opts.rateLimit ?? DEFAULT_RATE_LIMIT);
  let log: Logger = opts.log ?? pino({ level: 'silent' });
  const live = new LiveFeed({ bot, capabilities, files, visitors, outbound: opts.outbound, log: () => log });

  async function registerRoutes(app: FastifyInstance, ctx: ConnectorContext): Promise<void> {
    log = opts.log ?? ctx.log.child({ connector: 'webchat', bot });
    ctx.signal.addEventListener('abort', () => visitors.closeAll(1001, 'server shutting down'), { once: true });
    if (ctx.bus) await live.start(ctx.bus);
    // Encapsulated: the content-type parser, the error handler and (when the host server has
    // none) the WebSocket plugin stay inside the web chat's routes.
    await app.register(async (scope) => {
      if (!scope.hasDecorator('websocketServer')) {
        await scope.register(websocket, { options: { maxPayload: HARD_MAX_FRAME_BYTES } });
      }
      await registerHttpRoutes(scope, { files, visitors, maxUploadBytes: limits.maxUploadBytes, log });
      scope.get('/webchat/ws', { websocket: true }, (socket) => {
        new Session(socket, {
          bot,
          capabilities,
          limits,
          files,
          visitors,
          inbox: ctx.inbox,
          history: opts.history,
          log,
          maxBadFrames: opts.maxBadFrames ?? 10,
        });
      });
    });
  }

  async function send(delivery: Delivery): Promise<SendResult> {
    const { messageId, message, plan, edit, conversation } = delivery;
    const { frame, parts, actions } = await liveFrame(messageId, message, plan, edit?.platformMessageId, files, (reason, err) =>
      log.warn({ err, reason, messageId }, 'webchat: media not shown'),
    );
    // Resolves once every web replica was told (or, without a bus, the local tabs have it).
    await live.deliver(messageId, conversation.id, conversation.chatId, { frame, actions });
    // A tab never shows a message twice, so a resend is harmless; a retry that says how many
    // parts were already recorded gets the ids of the rest only.
    const skip = (delivery as { skip?: number }).skip ?? 0;
    return { platformMessageIds: parts.slice(skip).map((p) => p.id) };
  }

  async function download(attachment: Attachment): Promise<Buffer> {
    return files.read(attachment);
  }

  return {
    platform: 'webchat',
    bot,
    capabilities,
    receiveMode: 'push',
    registerRoutes,
    send,
    download,
    get openSockets() {
      return visitors.socketCount;
    },
    async close() {
      await live.close();
      visitors.closeAll(1001, 'server shutting down');
    },
  };
}
