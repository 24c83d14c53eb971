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
import { createWebchatConnector, type HistoryItem, type WebchatConnector, type WebchatOptions } from '../../src/connectors/webchat/index.ts';
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
  deliver(chatId: string, messageId: number, message: OutgoingMessage, edit?: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: Partial<Omit<WebchatOptions, 'history' | 'uploadDir'>> & { preRegisterWebsocket?: boolean } = {},
): Promise<Harness> {
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'webchat-test-'));
  const stored: InboundUpdate[] = [];
  const keys = new Map<string, number>();
  const history = new Map<string, HistoryItem[]>();
  const historyAsked: string[] = [];
  const logs: LogLine[] = [];
  let failing = 0;
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
  const { preRegisterWebsocket, ...connectorOpts } = opts;
  const connector = createWebchatConnector({
    ...connectorOpts,
    uploadDir,
    history: async (chatId) => {
      historyAsked.push(chatId);
      return history.get(chatId) ?? [];
    },
    log,
  });
  const app = Fastify();
  if (preRegisterWebsocket) await app.register(import('@fastify/websocket'));
  const controller = new AbortController();
  await connector.registerRoutes!(app, { inbox, log, signal: controller.signal });
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
    async deliver(chatId, messageId, message, edit) {
      const delivery: Delivery = {
        messageId,
        conversation: { id: 1, bot: 'main', platform: 'webchat', chatId },
        recipient: chatId,
        message,
        plan: renderMessage(message, connector.capabilities),
        attempt: 1,
        ...(edit ? { edit: { platformMessageId: edit } } : {}),
      };
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
