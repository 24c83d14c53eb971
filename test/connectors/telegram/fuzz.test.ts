/**
 * Thousands of mutated payloads against the webhook: the process stays up, every answer is a
 * 2xx or 4xx, nothing malformed reaches the inbox, and a real update afterwards is still stored.
 */
import Fastify from 'fastify';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTelegramConnector } from '../../../src/connectors/telegram/index.ts';
import { FakeInbox, fixture } from './helpers.ts';

const SECRET = 'fuzz-secret';
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = readdirSync(path.join(here, 'fixtures')).map((f) => f.replace(/\.json$/, ''));

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, true, 0, -1, 1e308, -0, 2 ** 53 + 1, '', 'x'.repeat(5000), '\u0000\ud800', [], {}, [[[]]], { __proto__: { polluted: 1 } }, 'NaN', '42'];

function mutate(value: unknown, rand: () => number, depth = 0): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const edits = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < edits && keys.length; i++) {
      const k = pick(keys);
      const r = rand();
      if (r < 0.2) delete (copy as Record<string, unknown>)[k];
      else if (r < 0.5) (copy as Record<string, unknown>)[k] = pick(WEIRD);
      else (copy as Record<string, unknown>)[k] = mutate((copy as Record<string, unknown>)[k], rand, depth + 1);
    }
    if (rand() < 0.1) (copy as Record<string, unknown>)[pick(['text', 'photo', 'contact', 'data', 'message', 'callback_query'])] = pick(WEIRD);
    return copy;
  }
  return rand() < 0.7 ? pick(WEIRD) : value;
}

function payload(rand: () => number): string {
  const base = fixture(FIXTURES[Math.floor(rand() * FIXTURES.length)]);
  const r = rand();
  if (r < 0.6) {
    const mutated = mutate(base, rand);
    // Fresh update ids most of the time, so mutations reach normalisation instead of dedup.
    if (mutated && typeof mutated === 'object' && !Array.isArray(mutated) && rand() < 0.7) (mutated as { update_id: number }).update_id = Math.floor(rand() * 1e9);
    return JSON.stringify(mutated);
  }
  const text = JSON.stringify(base);
  if (r < 0.75) return text.slice(0, Math.floor(rand() * text.length)); // truncated JSON
  if (r < 0.85) {
    const chars = [...text];
    for (let i = 0; i < 5; i++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
    return chars.join('');
  }
  if (r < 0.9) return '['.repeat(5000) + ']'.repeat(5000);
  if (r < 0.95) return JSON.stringify({ update_id: Math.floor(rand() * 1e9), [pick(rand)]: mutate(base, rand) });
  return JSON.stringify(mutate(mutate(base, rand), rand));
}

function pick(rand: () => number): string {
  const kinds = ['message', 'callback_query', 'my_chat_member', 'edited_message', 'poll', 'unknown_kind'];
  return kinds[Math.floor(rand() * kinds.length)];
}

describe('Telegram webhook under fuzzing', () => {
  it('survives 2500 mutated payloads and still stores a real update afterwards', async () => {
    const inbox = new FakeInbox();
    // The API root points nowhere: answering callback queries fails quietly, as when Telegram is down.
    const connector = createTelegramConnector({ token: '1:fuzzfuzzfuzzfuzzfuzzfuzz', mode: 'webhook', webhookSecret: SECRET, apiRoot: 'http://127.0.0.1:9', maxRps: 1000 });
    const app = Fastify();
    connector.registerRoutes!(app, inbox.context());
    await app.ready();
    const rand = rng(20240611);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2500; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/telegram',
        headers: { 'content-type': rand() < 0.9 ? 'application/json' : 'text/plain', 'x-telegram-bot-api-secret-token': SECRET },
        payload: payload(rand),
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
    if (process.env.FUZZ_STATS) console.log(statuses, inbox.stored.length);
    expect([...statuses.keys()].every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
    // Whatever reached the inbox is well-formed.
    for (const u of inbox.stored) {
      expect(typeof u.chatId).toBe('string');
      expect(typeof u.sender.platformUserId).toBe('string');
      if (u.event.kind === 'message' && u.event.text !== undefined) expect(typeof u.event.text).toBe('string');
      if (u.event.kind === 'action') expect(typeof u.event.payload).toBe('string');
    }
    const before = inbox.stored.length;
    const real = { ...fixture('text-message'), update_id: 999_999_999 };
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      payload: JSON.stringify(real),
    });
    expect(res.statusCode).toBe(200);
    expect(inbox.stored.length).toBe(before + 1);
    expect(inbox.stored.at(-1)?.event).toEqual({ kind: 'message', text: 'Hello there' });
    await app.close();
    await connector.close!();
  });
});
