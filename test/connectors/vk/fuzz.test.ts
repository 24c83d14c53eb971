import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createVkConnector } from '../../../src/connectors/vk/index.ts';
import { INBOUND_KINDS } from '../../../src/core/model.ts';
import { FakeInbox, fixture, FIXTURE_SECRET, GROUP_ID } from './helpers.ts';

/** A small seeded PRNG, so that a failing case can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['message_new_text', 'message_new_start', 'message_new_button', 'message_new_photo', 'message_new_doc', 'message_new_geo', 'message_new_chat_mention', 'message_event', 'message_allow', 'message_deny', 'message_reply', 'confirmation'];
const WEIRD: unknown[] = [null, 0, -1, 1e308, '', 'x', '{"a":1}', '{"command":"start"}', [], [1, [2]], {}, { __proto__: { polluted: true } }, true, '💥'.repeat(50), 2 ** 53 + 1, '\u0000'];

function mutate(value: unknown, rnd: () => number, depth = 0): unknown {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  if (rnd() < 0.08) return pick(WEIRD);
  if (Array.isArray(value)) {
    const out = value.map((v) => (rnd() < 0.3 ? mutate(v, rnd, depth + 1) : v));
    if (rnd() < 0.2) out.push(pick(WEIRD));
    return rnd() < 0.1 ? [] : out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = rnd();
      if (r < 0.1) continue;
      out[r < 0.15 ? `${k}_` : k] = r < 0.5 ? mutate(v, rnd, depth + 1) : v;
    }
    if (rnd() < 0.1) out.__proto__ = { type: 'message_new' };
    if (depth === 0 && rnd() < 0.2) out.type = pick(['message_new', 'message_event', 'message_allow', 'message_deny', 'confirmation', 'group_join', 'MESSAGE_NEW', 42]);
    return out;
  }
  return rnd() < 0.5 ? pick(WEIRD) : value;
}

describe('VK webhook under fuzzing', () => {
  it('survives thousands of mutated payloads and still stores a real update afterwards', async () => {
    const inbox = new FakeInbox();
    const connector = createVkConnector({ groupId: GROUP_ID, accessToken: 't', apiRoot: 'http://127.0.0.1:9/method', maxRps: 20, mode: 'callback', secret: FIXTURE_SECRET, confirmation: 'conf' });
    const app = Fastify();
    await connector.registerRoutes?.(app, inbox.context());
    await app.ready();
    const rnd = mulberry32(20240611);
    const fixtures = NAMES.map(fixture);
    const statuses = new Map<number, number>();
    const CASES = 2500;
    for (let i = 0; i < CASES; i++) {
      const base = fixtures[i % fixtures.length];
      let body = JSON.stringify(mutate(base, rnd));
      const r = rnd();
      if (r < 0.1) body = body.slice(0, Math.floor(rnd() * body.length)); // truncated
      else if (r < 0.15) body = body.replace(/[{}[\]":,]/, String.fromCharCode(Math.floor(rnd() * 128))); // broken syntax
      else if (r < 0.17) body = '['.repeat(5000) + ']'.repeat(5000); // deep nesting
      const res = await app.inject({ method: 'POST', url: '/webhooks/vk', headers: { 'content-type': 'application/json' }, payload: body });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect([200, 400, 401, 403], `case ${i}: ${body.slice(0, 300)}`).toContain(res.statusCode);
    }
    // The mix reached every outcome: accepted, malformed, unauthenticated.
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(400)).toBeGreaterThan(50);
    expect(statuses.get(401)).toBeGreaterThan(50);
    // Whatever was stored is well-formed.
    for (const u of inbox.updates) {
      expect(u.platform).toBe('vk');
      expect(u.chatId).toMatch(/^-?\d+$/);
      expect(u.sender.platformUserId).toMatch(/^-?\d+$/);
      expect(INBOUND_KINDS).toContain(u.event.kind);
      expect(typeof u.dedupKey).toBe('string');
    }
    const before = inbox.updates.length;
    const real = { ...fixture('message_new_text'), event_id: 'after-the-fuzz' };
    const res = await app.inject({ method: 'POST', url: '/webhooks/vk', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(real) });
    expect(res.body).toBe('ok');
    expect(inbox.updates.length).toBe(before + 1);
    expect(inbox.updates.at(-1)?.dedupKey).toBe('after-the-fuzz');
    await app.close();
  });
});
