/**
 * The Messenger webhook routes, as an encapsulated Fastify plugin:
 * - `GET /webhooks/messenger` answers Meta's verification handshake (hub.challenge);
 * - `POST /webhooks/messenger` checks X-Hub-Signature-256 over the raw body bytes, parses,
 *   stores every event through the inbox, and only then answers 200 (Meta retries non-200).
 * The plugin keeps the body as bytes (its own content-type parser) because the signature is an
 * HMAC of exactly those bytes; re-serialising parsed JSON would not reproduce them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ConnectorContext } from '../connector.ts';
import { normalizeWebhook, type NormalizeOptions } from './inbound.ts';

export const MESSENGER_WEBHOOK_PATH = '/webhooks/messenger';
/** Larger bodies are refused with 413 before any parsing. Meta's batches are far smaller. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface WebhookOptions extends NormalizeOptions {
  appSecret: string;
  verifyToken: string;
}

/** `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`, as Meta sends it. */
export function signBody(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Compares the header with our own HMAC in constant time. */
export function verifySignature(body: Buffer, header: unknown, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Builds the plugin; `registerRoutes` registers it on the web server. */
export function messengerWebhook(opts: WebhookOptions, ctx: ConnectorContext): FastifyPluginAsync {
  const log = ctx.log.child({ platform: 'messenger', bot: opts.bot });

  return async (scope: FastifyInstance) => {
    // Every content type arrives as bytes: the signature decides, not the header Meta set.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => {
      done(null, body);
    });

    scope.get(MESSENGER_WEBHOOK_PATH, async (req, reply) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      if (q['hub.mode'] === 'subscribe' && sameSecret(q['hub.verify_token'], opts.verifyToken) && typeof q['hub.challenge'] === 'string') {
        log.info('messenger webhook verified');
        return reply.code(200).type('text/plain').send(q['hub.challenge']);
      }
      log.warn('messenger webhook verification refused: wrong mode or verify token');
      return reply.code(403).type('text/plain').send('Forbidden');
    });

    scope.post(MESSENGER_WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifySignature(raw, req.headers['x-hub-signature-256'], opts.appSecret)) {
        log.warn({ bytes: raw.length }, 'messenger webhook refused: missing or wrong X-Hub-Signature-256');
        return reply.code(403).send({ error: 'invalid signature' });
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        log.warn({ bytes: raw.length }, 'messenger webhook refused: body is not JSON');
        return reply.code(400).send({ error: 'body is not JSON' });
      }

      const { updates, skipped } = normalizeWebhook(body, opts);
      for (const reason of skipped) log.info({ reason }, 'messenger event skipped');
      // In order, one at a time: events of one person keep their order, and every one is stored
      // before Meta hears 200. A failure answers 500 so Meta delivers the batch again; the
      // events stored before it are deduplicated by mid on that retry.
      for (const update of updates) {
        try {
          await ctx.inbox(update);
        } catch (err: unknown) {
          log.error({ err, dedupKey: update.dedupKey }, 'messenger event could not be stored; asking Meta to retry');
          return reply.code(500).send({ error: 'could not store the event' });
        }
      }
      return reply.code(200).type('text/plain').send('EVENT_RECEIVED');
    });
  };
}
