/** Shared pieces of the Messenger connector tests: fixtures, a fake inbox, a signed webhook app. */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ConnectorContext, IngestResult } from '../../../src/connectors/connector.ts';
import { createMessengerConnector, type MessengerConnectorOptions } from '../../../src/connectors/messenger/index.ts';
import { signBody } from '../../../src/connectors/messenger/webhook.ts';
import type { InboundUpdate } from '../../../src/core/model.ts';

export const APP_SECRET = 'test-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';
export const PAGE_TOKEN = 'EAAtestPageTokenThatMustNeverLeak';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixture(name));
}

/** An inbox that records what it stores, deduplicating by dedupKey as the real one does. */
export function fakeInbox(opts: { failOn?: (u: InboundUpdate) => boolean } = {}) {
  const stored: InboundUpdate[] = [];
  const keys = new Map<string, number>();
  const inbox = async (update: InboundUpdate): Promise<IngestResult> => {
    if (opts.failOn?.(update)) throw new Error('database is down');
    const seen = keys.get(update.dedupKey);
    if (seen !== undefined) return { id: seen, duplicate: true };
    stored.push(update);
    keys.set(update.dedupKey, stored.length);
    return { id: stored.length, duplicate: false };
  };
  return { inbox, stored };
}

export const silentLog = pino({ level: 'silent' });

export function context(inbox: ConnectorContext['inbox']): ConnectorContext {
  return { inbox, log: silentLog, signal: new AbortController().signal };
}

export function connectorOptions(extra: Partial<MessengerConnectorOptions> = {}): MessengerConnectorOptions {
  return {
    pageAccessToken: PAGE_TOKEN,
    appSecret: APP_SECRET,
    verifyToken: VERIFY_TOKEN,
    apiRoot: 'http://127.0.0.1:9/v24.0',
    maxRps: 250,
    ...extra,
  };
}

/** A Fastify app with only the Messenger routes registered, and a fake inbox behind them. */
export async function webhookApp(
  opts: { failOn?: (u: InboundUpdate) => boolean; connector?: Partial<MessengerConnectorOptions> } = {},
): Promise<{ app: FastifyInstance; stored: InboundUpdate[] }> {
  const { inbox, stored } = fakeInbox(opts);
  const app = Fastify({ logger: false });
  const connector = createMessengerConnector(connectorOptions(opts.connector));
  await connector.registerRoutes?.(app, context(inbox));
  await app.ready();
  return { app, stored };
}

/** Headers Meta would send with this body. */
export function signed(body: string | Buffer, secret = APP_SECRET): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, secret) };
}

export function post(app: FastifyInstance, body: string | Buffer, headers: Record<string, string> = signed(body)) {
  return app.inject({ method: 'POST', url: '/webhooks/messenger', payload: body, headers });
}
