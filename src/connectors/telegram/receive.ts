/**
 * Receiving updates, both ways Telegram offers: the webhook route (secret header checked in
 * constant time before the body is even read; the update stored before 2xx) and the getUpdates
 * long-poll loop (offset advanced only past stored updates; errors backed off; 409 explained).
 * Either way a callback query is answered right after the inbox stored it, duplicates included,
 * so the person's button stops spinning.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Update } from '@grammyjs/types';
import type { Logger } from 'pino';
import type { Inbox } from '../connector.ts';
import { sleep } from '../rate-limiter.ts';
import { TelegramApiError, type TelegramApi } from './api.ts';
import { ALLOWED_UPDATES, isUpdate, normaliseUpdate } from './inbound.ts';

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface ReceiveDeps {
  api: TelegramApi;
  bot: string;
  log: Logger;
  inbox: Inbox;
  /** Answers a callback query without holding up the caller. */
  answerCallback(id: string): void;
}

/** Normalises and stores one update; throws when the inbox fails (the platform must retry). */
export async function ingest(update: Update, deps: ReceiveDeps): Promise<'stored' | 'duplicate' | 'ignored'> {
  const result = normaliseUpdate(update, { bot: deps.bot });
  if ('ignored' in result) {
    deps.log.info({ updateId: update.update_id, reason: result.ignored }, 'telegram update ignored');
    if (result.callbackQueryId) deps.answerCallback(result.callbackQueryId);
    return 'ignored';
  }
  const stored = await deps.inbox(result.update);
  if (result.callbackQueryId) deps.answerCallback(result.callbackQueryId);
  return stored.duplicate ? 'duplicate' : 'stored';
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A constant-time check of the secret header, also across lengths (both sides are hashed). */
export function secretChecker(expected: string): (received: unknown) => boolean {
  const want = sha256(expected);
  return (received) => typeof received === 'string' && timingSafeEqual(sha256(received), want);
}

/** Registers `POST {path}` in an encapsulated plugin with its own raw-body parser and limit. */
export function registerWebhookRoute(app: FastifyInstance, opts: { path: string; secret: string; deps: ReceiveDeps }): void {
  const { path, secret, deps } = opts;
  const secretMatches = secretChecker(secret);
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.post(path, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      // Checked before anything is parsed or stored: a forged update costs us a hash, nothing else.
      if (!secretMatches(req.headers[SECRET_HEADER])) {
        deps.log.warn({ ip: req.ip }, 'telegram webhook: wrong or missing secret token; rejected');
        return reply.code(401).send({ ok: false, error: 'unauthorized' });
      }
      const raw = req.body;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : '');
      } catch {
        deps.log.warn('telegram webhook: malformed JSON body; rejected');
        return reply.code(400).send({ ok: false, error: 'malformed JSON' });
      }
      if (!isUpdate(body)) {
        deps.log.warn('telegram webhook: body is not a Telegram Update (no integer update_id); rejected');
        return reply.code(400).send({ ok: false, error: 'not a Telegram update' });
      }
      try {
        await ingest(body, deps);
      } catch (err: unknown) {
        deps.log.error({ err, updateId: body.update_id }, 'telegram webhook: storing the update failed; Telegram will retry');
        return reply.code(500).send({ ok: false, error: 'not stored' });
      }
      return reply.code(200).send({ ok: true });
    });
  });
}

/** Explains a failed poll in words an operator can act on. */
function explain(err: unknown): string {
  if (err instanceof TelegramApiError) {
    if (err.errorCode === 409 && /webhook/i.test(err.description)) {
      return 'Telegram refuses getUpdates (409) because a webhook is set for this bot. Either run with TELEGRAM_MODE=webhook, or delete the webhook: this connector deletes it at start in polling mode, so something set it again.';
    }
    if (err.errorCode === 409) {
      return 'Telegram refuses getUpdates (409) because another process is polling with the same bot token. Only one poller per bot may run: stop the other instance (or run polling in one gateway only).';
    }
    if (err.errorCode === 401) return 'Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN.';
    if (err.errorCode === 429) return `Telegram asked to slow down (429), retry after ${err.retryAfter ?? '?'} s.`;
    return `getUpdates failed: ${err.errorCode} ${err.description}`;
  }
  return `getUpdates failed: ${(err as Error)?.message ?? String(err)}`;
}

function backoffMs(err: unknown, failures: number): number {
  if (err instanceof TelegramApiError && err.errorCode === 429) return Math.max(1, err.retryAfter ?? 1) * 1000;
  if (err instanceof TelegramApiError && err.errorCode === 401) return 60_000;
  const base = Math.min(30_000, 500 * 2 ** Math.min(failures, 10));
  return base / 2 + Math.random() * (base / 2);
}

export interface PollOptions {
  timeoutSeconds: number;
  signal: AbortSignal;
}

/** Runs getUpdates until `signal` aborts. The offset moves past an update only once it is stored. */
export async function pollLoop(deps: ReceiveDeps, opts: PollOptions): Promise<void> {
  const { api, log } = deps;
  const { signal } = opts;
  try {
    const info = await api.call('getWebhookInfo', {}, { signal });
    if (info.url) {
      await api.call('deleteWebhook', { drop_pending_updates: false }, { signal });
      log.warn('telegram: a webhook was set for this bot; removed it to poll (TELEGRAM_MODE=polling)');
    }
  } catch (err: unknown) {
    if (signal.aborted) return;
    log.warn({ err }, 'telegram: could not check for a webhook before polling; polling anyway');
  }
  let offset: number | undefined;
  let failures = 0;
  while (!signal.aborted) {
    let updates: Update[];
    try {
      updates = await api.call(
        'getUpdates',
        { offset, limit: 100, timeout: opts.timeoutSeconds, allowed_updates: [...ALLOWED_UPDATES] },
        { signal, timeoutMs: (opts.timeoutSeconds + 15) * 1000 },
      );
      failures = 0;
    } catch (err: unknown) {
      if (signal.aborted) return;
      failures++;
      const wait = backoffMs(err, failures);
      log.error({ err: err instanceof TelegramApiError ? undefined : err, retryInMs: Math.round(wait) }, explain(err));
      await sleep(wait, signal).catch(() => undefined);
      continue;
    }
    for (const update of updates) {
      try {
        await ingest(update, deps);
      } catch (err: unknown) {
        // Not stored: keep the offset here so the next getUpdates hands this update back.
        failures++;
        const wait = backoffMs(err, failures);
        log.error({ err, updateId: update.update_id, retryInMs: Math.round(wait) }, 'telegram: storing an update failed; will fetch it again');
        await sleep(wait, signal).catch(() => undefined);
        break;
      }
      offset = update.update_id + 1;
    }
  }
}

/** Calls setWebhook, retrying in the background until it succeeds or `signal` aborts. */
export async function ensureWebhook(
  deps: Pick<ReceiveDeps, 'api' | 'log'>,
  opts: { url: string; secret: string; signal: AbortSignal },
): Promise<boolean> {
  for (let failures = 0; !opts.signal.aborted; failures++) {
    try {
      await deps.api.call(
        'setWebhook',
        { url: opts.url, secret_token: opts.secret, allowed_updates: [...ALLOWED_UPDATES] },
        { signal: opts.signal },
      );
      deps.log.info({ host: new URL(opts.url).host }, 'telegram webhook set');
      return true;
    } catch (err: unknown) {
      if (opts.signal.aborted) return false;
      const wait = backoffMs(err, failures + 1);
      deps.log.error({ retryInMs: Math.round(wait), error: err instanceof Error ? err.message : String(err) }, 'telegram: setWebhook failed; retrying');
      await sleep(wait, opts.signal).catch(() => undefined);
    }
  }
  return false;
}
