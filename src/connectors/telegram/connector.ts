/**
 * The Telegram connector: `createTelegramConnector(options)` gives a Connector that receives by
 * webhook (POST /webhooks/telegram, setWebhook at start when a URL is configured) or by long
 * polling, sends rendered messages within Telegram's limits (overall TELEGRAM_MAX_RPS, ~1/s per
 * private chat, 20/min per group), and downloads inbound files.
 */
import { setMaxListeners } from 'node:events';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Capabilities } from '../../core/capabilities.ts';
import type { Attachment } from '../../core/model.ts';
import type { Connector, ConnectorContext, Delivery, SendResult } from '../connector.ts';
import { RateLimiter } from '../rate-limiter.ts';
import { TelegramApi, TelegramApiError } from './api.ts';
import type { TelegramOptions } from './config.ts';
import { MediaCache } from './media-cache.ts';
import { CAPTION_LIMIT, TEXT_LIMIT, sendDelivery } from './outbound.ts';
import { ensureWebhook, pollLoop, registerWebhookRoute, type ReceiveDeps } from './receive.ts';

/**
 * What Telegram shows: HTML bold/italic/links, 4096-character messages, 1024-character captions,
 * inline buttons with 64-byte callback data, reply keyboards with contact and location requests.
 */
export const TELEGRAM_CAPABILITIES: Capabilities = {
  textLimit: TEXT_LIMIT,
  captionLimit: CAPTION_LIMIT,
  markup: 'html',
  inline: { perRow: 8, rows: 12, total: 100, payloadBytes: 64, labelLength: 64 },
  replyKeyboard: { perRow: 8, rows: 12, total: 100, payloadBytes: 64, labelLength: 64 },
  urlButtons: true,
  contactRequest: true,
  locationRequest: true,
  edits: true,
  images: true,
  files: true,
  idempotentSend: false,
};

/** Telegram's limit for groups: 20 messages per minute per group. */
const GROUP_PER_SECOND = 20 / 60;
/** Telegram serves files up to 20 MB through getFile. */
const DOWNLOAD_LIMIT = 20 * 1024 * 1024;

export interface TelegramConnector extends Connector {
  readonly platform: 'telegram';
  /** Route of the webhook on the web server. */
  readonly webhookPath: string;
}

class TelegramConnectorImpl implements TelegramConnector {
  readonly platform = 'telegram' as const;
  readonly bot: string;
  readonly capabilities = TELEGRAM_CAPABILITIES;
  readonly receiveMode: 'push' | 'poll';
  readonly webhookPath: string;
  readonly #opts: TelegramOptions;
  readonly #api: TelegramApi;
  /** Overall rate plus ~1/s per private chat. */
  readonly #limiter: RateLimiter;
  /** 20/min per group chat (negative chat ids); overall still counted by #limiter. */
  readonly #groups = new RateLimiter({ platform: 'telegram', perSecond: 1_000_000, perChatPerSecond: GROUP_PER_SECOND, perChatBurst: 3 });
  readonly #media: MediaCache;
  readonly #stop = new AbortController();
  readonly #pending = new Set<Promise<unknown>>();
  #log: Logger = pino({ level: 'silent' });
  #loop: Promise<void> | null = null;

  constructor(opts: TelegramOptions) {
    if (opts.mode === 'webhook' && !opts.webhookSecret) {
      throw new Error('Telegram webhook mode needs a webhook secret (TELEGRAM_WEBHOOK_SECRET)');
    }
    this.#opts = opts;
    this.bot = opts.bot ?? 'main';
    this.receiveMode = opts.mode === 'webhook' ? 'push' : 'poll';
    this.webhookPath = opts.webhookPath ?? '/webhooks/telegram';
    if (opts.log) this.#log = opts.log;
    this.#api = new TelegramApi({ token: opts.token, apiRoot: opts.apiRoot, timeoutMs: opts.requestTimeoutMs });
    this.#limiter = new RateLimiter({
      platform: 'telegram',
      perSecond: opts.maxRps,
      perChatPerSecond: opts.perChatPerSecond ?? 1,
      perChatBurst: opts.perChatBurst ?? 3,
    });
    this.#media = new MediaCache(opts.mediaCacheSize ?? 1000, opts.fileRefs, () => this.#log);
    // Every send waiting for the rate limiter listens on this signal (a broadcast: thousands).
    setMaxListeners(0, this.#stop.signal);
  }

  #deps(ctx: ConnectorContext): ReceiveDeps {
    const log = this.#opts.log ?? ctx.log;
    this.#log = log;
    return {
      api: this.#api,
      bot: this.bot,
      log,
      inbox: ctx.inbox,
      answerCallback: (id) => this.#answer(id),
    };
  }

  /** Answers a callback query in the background; close() waits for it. */
  #answer(id: string): void {
    const p = this.#api
      .call('answerCallbackQuery', { callback_query_id: id })
      .catch((err: unknown) => {
        const detail = err instanceof TelegramApiError ? `${err.errorCode} ${err.description}` : (err as Error).message;
        this.#log.warn({ detail }, 'telegram: answerCallbackQuery failed');
      })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  registerRoutes(app: FastifyInstance, ctx: ConnectorContext): void {
    if (this.#opts.mode !== 'webhook') return;
    registerWebhookRoute(app, { path: this.webhookPath, secret: this.#opts.webhookSecret!, deps: this.#deps(ctx) });
  }

  async start(ctx: ConnectorContext): Promise<void> {
    const deps = this.#deps(ctx);
    const signal = AbortSignal.any([ctx.signal, this.#stop.signal]);
    if (this.#opts.mode === 'polling') {
      this.#loop = pollLoop(deps, { timeoutSeconds: this.#opts.pollTimeoutSeconds ?? 25, signal }).catch((err: unknown) => {
        deps.log.error({ err }, 'telegram polling stopped unexpectedly');
      });
      return;
    }
    if (this.#opts.webhookUrl) {
      this.#loop = ensureWebhook(deps, { url: this.#opts.webhookUrl, secret: this.#opts.webhookSecret!, signal }).then(() => undefined);
    }
  }

  async #acquire(chatId: string): Promise<void> {
    const group = chatId.startsWith('-');
    await this.#limiter.acquire(group ? undefined : chatId, this.#stop.signal);
    if (group) await this.#groups.acquire(chatId, this.#stop.signal);
  }

  send(delivery: Delivery): Promise<SendResult> {
    return sendDelivery({ api: this.#api, acquire: (chat) => this.#acquire(chat), media: this.#media, log: this.#log }, delivery);
  }

  async download(attachment: Attachment): Promise<Buffer> {
    const file = await this.#api.call('getFile', { file_id: attachment.ref });
    if (!file.file_path) throw new Error('Telegram returned no file_path for this file');
    if ((file.file_size ?? 0) > DOWNLOAD_LIMIT) throw new Error('file is larger than the 20 MB Telegram lets bots download');
    return this.#api.download(file.file_path);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await Promise.allSettled([...this.#pending]);
  }
}

/** Creates the Telegram connector. Throws when webhook mode lacks a secret. */
export function createTelegramConnector(opts: TelegramOptions): TelegramConnector {
  return new TelegramConnectorImpl(opts);
}
