/**
 * The web chat connector on a bare Fastify server with an in-memory inbox and history: what the
 * runtime gives it, and nothing else. Logs are captured so tests can check the log line a
 * rejected frame leaves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Delivery, Inbox } from '../../src/connectors/connector.ts';
import {
  createWebchatConnector,
  type HistoryItem,
  type LiveBus,
  type OutboundItem,
  type WebchatConnector,
  type WebchatOptions,
} from '../../src/connectors/webchat/index.ts';
import type { InboundUpdate, OutgoingMessage } from '../../src/core/model.ts';
import { renderMessage } from '../../src/core/render.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Harness {
  url: string;
  app: FastifyInstance;
  connector: WebchatConnector;
  uploadDir: string;
  /** Updates the inbox stored, in order (duplicates are not stored twice). */
  stored: InboundUpdate[];
  /** History the connector reads, by chat id. */
  history: Map<string, HistoryItem[]>;
  /** Chat ids the history was asked for. */
  historyAsked: string[];
  logs: LogLine[];
  /** The next `n` inbox calls throw (the database is down). */
  failInbox(n: number): void;
  /** Holds every history load until the returned function is called (a slow database). */
  holdHistory(): () => void;
  /** Sends as the gateway would; also records the message in `outbox`, for other replicas. */
  deliver(chatId: string, messageId: number, message: OutgoingMessage, edit?: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The outbound messages every harness sent, as the database would hold them: replicas started with
 * `outbound: outboxLoader(outbox)` load from it what another replica sent.
 */
export type Outbox = Map<number, OutboundItem>;

export interface HarnessOptions extends Partial<Omit<WebchatOptions, 'history' | 'uploadDir'>> {
  preRegisterWebsocket?: boolean;
  /** The bus the runtime would give (several replicas share one). */
  bus?: LiveBus;
  /** Where `deliver` records what it sent. */
  outbox?: Outbox;
}

/** Conversation ids by chat id, shared by every harness (as by one database). */
const conversations = new Map<string, number>();
const conversationOf = (chatId: string) => conversations.get(chatId) ?? conversations.set(chatId, conversations.size + 1).get(chatId)!;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'webchat-test-'));
  const stored: InboundUpdate[] = [];
  const keys = new Map<string, number>();
  const history = new Map<string, HistoryItem[]>();
  const historyAsked: string[] = [];
  const logs: LogLine[] = [];
  let failing = 0;
  let historyHeld: Promise<void> | undefined;
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const inbox: Inbox = async (update) => {
    // A real store takes a moment; so does this one, so that frames can pile up behind it.
    await new Promise((r) => setTimeout(r, 2));
    if (failing > 0) {
      failing--;
      throw new Error('database is down');
    }
    const known = keys.get(update.dedupKey);
    if (known !== undefined) return { id: known, duplicate: true };
    stored.push(update);
    keys.set(update.dedupKey, stored.length);
    return { id: stored.length, duplicate: false };
  };
  const { preRegisterWebsocket, bus, outbox, ...connectorOpts } = opts;
  const connector = createWebchatConnector({
    ...connectorOpts,
    uploadDir,
    history: async (chatId) => {
      historyAsked.push(chatId);
      const items = history.get(chatId) ?? [];
      await historyHeld;
      return items;
    },
    log,
  });
  const app = Fastify();
  if (preRegisterWebsocket) await app.register(import('@fastify/websocket'));
  const controller = new AbortController();
  await connector.registerRoutes!(app, { inbox, log, signal: controller.signal, ...(bus ? { bus } : {}) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    url,
    app,
    connector,
    uploadDir,
    stored,
    history,
    historyAsked,
    logs,
    failInbox(n) {
      failing = n;
    },
    holdHistory() {
      let release!: () => void;
      historyHeld = new Promise<void>((r) => (release = r));
      return () => {
        historyHeld = undefined;
        release();
      };
    },
    async deliver(chatId, messageId, message, edit) {
      const delivery: Delivery = {
        messageId,
        conversation: { id: conversationOf(chatId), bot: 'main', platform: 'webchat', chatId },
        recipient: chatId,
        message,
        plan: renderMessage(message, connector.capabilities),
        attempt: 1,
        ...(edit ? { edit: { platformMessageId: edit } } : {}),
      };
      outbox?.set(messageId, edit ? { chatId, message, editTarget: edit } : { chatId, message });
      return (await connector.send(delivery)).platformMessageIds;
    },
    async close() {
      controller.abort();
      await connector.close?.();
      await app.close();
      await rm(uploadDir, { recursive: true, force: true });
    },
  };
}

/** A 1×1 PNG. */
export const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
