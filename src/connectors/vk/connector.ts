/**
 * The VK connector: a community bot receiving through the Callback API (`POST /webhooks/vk`) or
 * Bots Long Poll, and sending through `messages.send` within VK_MAX_RPS.
 *
 * ```ts
 * const vk = createVkConnector(vkConfigFromEnv(process.env)!);
 * await vk.registerRoutes?.(app, ctx);   // callback mode
 * await vk.start?.(ctx);                 // long-poll mode
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Capabilities } from '../../core/capabilities.ts';
import type { Attachment, InboundUpdate } from '../../core/model.ts';
import type { Connector, ConnectorContext, Delivery, SendResult } from '../connector.ts';
import { RateLimiter, sleep } from '../rate-limiter.ts';
import { SendWindow, VkApi } from './api.ts';
import type { VkOptions } from './config.ts';
import { normaliseVkEvent, type VkEvent } from './inbound.ts';
import { sendDelivery, VK_TEXT_LIMIT } from './outbound.ts';

/** Largest webhook body accepted; VK events are a few kilobytes. */
export const VK_BODY_LIMIT = 1024 * 1024;
/** Largest inbound file the connector downloads. */
const MAX_DOWNLOAD = 50 * 1024 * 1024;
/**
 * The pace kept below VK_MAX_RPS: VK counts requests as they arrive, and network jitter can
 * bunch requests that left evenly spaced, so sending at exactly the limit would hit error 6.
 */
const RATE_HEADROOM = 0.9;

/** What VK lets a community bot show (API 5.199). */
export const VK_CAPABILITIES: Capabilities = {
  textLimit: VK_TEXT_LIMIT,
  captionLimit: VK_TEXT_LIMIT,
  markup: 'none',
  // Payloads travel as `{"a":"..."}` within VK's 255 bytes; 240 leaves room for JSON escapes.
  inline: { perRow: 5, rows: 6, total: 10, payloadBytes: 240, labelLength: 40 },
  replyKeyboard: { perRow: 5, rows: 10, total: 40, payloadBytes: 240, labelLength: 40 },
  urlButtons: true,
  contactRequest: false,
  locationRequest: true,
  edits: true,
  images: true,
  files: true,
  idempotentSend: true,
};

export interface VkConnectorOptions extends VkOptions {
  /** Logger for sends (receiving logs through the context's logger). Silent by default. */
  log?: Logger;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Creates the VK connector. Receives in `opts.mode`: `callback` (push) or `longpoll` (poll). */
export function createVkConnector(opts: VkConnectorOptions): Connector & { readonly api: VkApi } {
  const bot = opts.bot ?? 'main';
  const log = opts.log ?? pino({ level: 'silent' });
  const perSecond = opts.maxRps * RATE_HEADROOM;
  const limiter = new RateLimiter({ platform: 'vk', perSecond, burst: 1 });
  const sendWindow = new SendWindow(Math.max(1, Math.floor(perSecond)));
  const api = new VkApi({ apiRoot: opts.apiRoot, accessToken: opts.accessToken, timeoutMs: opts.timeoutMs, limiter, window: sendWindow });
  const uploads = new Map<string, string>();
  const secret = opts.secret ? digest(opts.secret) : null;
  const stop = new AbortController();
  let loop: { signal: AbortSignal; done: Promise<void> } | null = null;
  /** Long-poll position, kept across restarts so that a poller started again resumes where it stopped. */
  let lp: { server: string; key: string; ts: string } | null = null;

  /**
   * A callback-button press names its message only by the conversation's own id; the bot's sends
   * are recorded by message id. Look the message id up, so that the runtime can tell which of its
   * messages carried the button (to edit it). Without an answer the press keeps `cmid:N`, which
   * edits accept too.
   */
  async function resolveSource(update: InboundUpdate, log: Logger): Promise<void> {
    const ev = update.event;
    if (ev.kind !== 'action' || !ev.sourceMessageId?.startsWith('cmid:')) return;
    try {
      const found = await api.call<{ items?: { id?: number }[] }>(
        'messages.getByConversationMessageId',
        { peer_id: update.chatId, conversation_message_ids: ev.sourceMessageId.slice(5), group_id: opts.groupId },
        // Bounded: the press is stored with `cmid:N` rather than wait behind a busy send queue.
        AbortSignal.timeout(2000),
      );
      const id = found.items?.[0]?.id;
      if (typeof id === 'number' && id > 0) ev.sourceMessageId = String(id);
    } catch (err: unknown) {
      log.debug({ err }, 'could not look up the message of a VK button press');
    }
  }

  /** Stores an update; a new callback-button press is answered so the person's spinner stops. */
  async function deliver(update: InboundUpdate, ctx: ConnectorContext): Promise<void> {
    await resolveSource(update, ctx.log);
    const result = await ctx.inbox(update);
    const raw = update.raw as VkEvent;
    if (raw.type === 'message_event' && !result.duplicate && isObj(raw.object)) {
      const o = raw.object;
      api
        .call('messages.sendMessageEventAnswer', { event_id: o.event_id as string, user_id: o.user_id as number, peer_id: o.peer_id as number })
        .catch((err: unknown) => ctx.log.warn({ err, platform: 'vk' }, 'could not answer a VK callback button press'));
    }
  }

  function secretMatches(given: unknown): boolean {
    if (!secret) return true;
    return typeof given === 'string' && timingSafeEqual(digest(given), secret);
  }

  function registerRoutes(app: FastifyInstance, ctx: ConnectorContext): void {
    if (opts.mode !== 'callback') return;
    app.register(async (scope) => {
      // Own parser: any content type, raw bytes, so that bad JSON is our 400 and not a crash.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: VK_BODY_LIMIT }, (_req, body, done) => done(null, body));
      scope.post('/webhooks/vk', async (req, reply) => {
        const rlog = ctx.log.child({ platform: 'vk', bot });
        let body: unknown;
        try {
          body = JSON.parse((req.body as Buffer | undefined)?.toString('utf8') ?? '');
        } catch {
          rlog.warn('VK callback body is not JSON; ignored');
          return reply.code(400).type('text/plain').send('bad request');
        }
        if (!isObj(body) || typeof body.type !== 'string') {
          rlog.warn('VK callback body has no event type; ignored');
          return reply.code(400).type('text/plain').send('bad request');
        }
        if (body.group_id !== undefined && Number(body.group_id) !== opts.groupId) {
          rlog.warn({ groupId: Number(body.group_id) || null }, 'VK callback for another community; refused');
          return reply.code(403).type('text/plain').send('wrong community');
        }
        if (body.type === 'confirmation') {
          // The confirmation request carries the secret when one is set; never answer a wrong one.
          if (body.secret !== undefined && !secretMatches(body.secret)) return reply.code(401).type('text/plain').send('bad secret');
          rlog.info('VK asked to confirm this Callback API server');
          return reply.type('text/plain').send(opts.confirmation ?? '');
        }
        if (!secretMatches(body.secret)) {
          rlog.warn({ type: body.type }, 'VK callback with a wrong secret; refused');
          return reply.code(401).type('text/plain').send('bad secret');
        }
        const update = normaliseVkEvent(body as unknown as VkEvent, { bot, groupId: opts.groupId });
        if ('skip' in update) {
          rlog.info({ type: body.type }, `VK event ignored: ${update.skip}`);
          return reply.type('text/plain').send('ok');
        }
        try {
          await deliver(update, { ...ctx, log: rlog });
        } catch (err: unknown) {
          // Not stored: anything but `ok` makes VK send the event again.
          rlog.error({ err, type: body.type }, 'could not store a VK event; VK will retry');
          return reply.code(500).type('text/plain').send('error');
        }
        return reply.type('text/plain').send('ok');
      });
    });
  }

  async function poll(ctx: ConnectorContext, signal: AbortSignal): Promise<void> {
    const plog = ctx.log.child({ platform: 'vk', bot });
    const wait = opts.longPollWait ?? 25;
    let backoff = 0;
    const fresh = async () => {
      const r = await api.call<{ server: string; key: string; ts: string | number }>('groups.getLongPollServer', { group_id: opts.groupId }, signal);
      return { server: r.server, key: r.key, ts: String(r.ts) };
    };
    while (!signal.aborted) {
      try {
        lp ??= await fresh();
        const res = await api.longPoll(lp.server, lp.key, lp.ts, wait, signal);
        if (res.failed === 1) {
          plog.warn('VK long-poll history was lost or is too old; continuing from the newest events');
          lp.ts = String(res.ts);
        } else if (res.failed === 2) {
          lp = { ...(await fresh()), ts: lp.ts };
        } else if (res.failed === 3) {
          plog.warn('VK long-poll lost its state; starting again from a new key and ts');
          lp = null;
        } else if (res.failed !== undefined || !Array.isArray(res.updates)) {
          plog.warn({ failed: res.failed }, 'unexpected VK long-poll answer; getting a new server');
          lp = null;
        } else {
          for (const u of res.updates) {
            if (!isObj(u) || typeof u.type !== 'string') continue;
            const update = normaliseVkEvent(u as unknown as VkEvent, { bot, groupId: opts.groupId });
            if ('skip' in update) plog.info({ type: u.type }, `VK event ignored: ${update.skip}`);
            // A failure leaves ts unchanged: the batch comes again and the stored part dedups.
            else await deliver(update, { ...ctx, log: plog });
          }
          lp.ts = String(res.ts);
        }
        backoff = 0;
      } catch (err: unknown) {
        if (signal.aborted) break;
        backoff = Math.min(Math.max(1000, backoff * 2), 30_000);
        const auth = (err as { code?: unknown }).code === 5;
        plog.error(
          { err, retryInMs: backoff },
          auth ? 'VK rejected the access token (error 5): check VK_ACCESS_TOKEN' : 'VK long poll failed; retrying',
        );
        if ((err as { code?: unknown }).code !== undefined) lp = null;
        await sleep(backoff * (0.8 + Math.random() * 0.4), signal).catch(() => undefined);
      }
    }
  }

  return {
    platform: 'vk',
    bot,
    capabilities: VK_CAPABILITIES,
    receiveMode: opts.mode === 'callback' ? 'push' : 'poll',
    api,
    registerRoutes,
    async start(ctx: ConnectorContext): Promise<void> {
      // Callback mode needs nothing here: the server is set and confirmed in the community settings.
      if (opts.mode !== 'longpoll' || stop.signal.aborted) return;
      if (loop && !loop.signal.aborted) return;
      // Started again after its signal aborted (the poll lease moved and came back): let the old
      // loop finish first, so that two loops never poll at once.
      await loop?.done;
      const signal = AbortSignal.any([ctx.signal, stop.signal]);
      loop = { signal, done: poll(ctx, signal) };
    },
    send(delivery: Delivery): Promise<SendResult> {
      return sendDelivery({ api, log, uploads }, delivery);
    },
    download(attachment: Attachment): Promise<Buffer> {
      return api.download(attachment.url ?? attachment.ref, MAX_DOWNLOAD);
    },
    async close(): Promise<void> {
      stop.abort();
      await loop?.done;
    },
  };
}
