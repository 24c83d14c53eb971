/**
 * Thousands of mutated payloads at the webhook: structurally mutated JSON (signed, so they reach
 * the normaliser), byte-mangled bodies, wrong signatures and odd content types. The server must
 * answer each with 200 or a 4xx, store only well-formed updates, and keep serving real ones.
 */
import { describe, expect, it } from 'vitest';
import { INBOUND_KINDS } from '../../../src/core/model.ts';
import { fixture, post, signed, webhookApp } from './helpers.ts';

const FIXTURES = ['text', 'quick-reply', 'phone-quick-reply', 'get-started', 'get-started-referral', 'postback', 'image', 'file', 'sticker', 'reply', 'batched', 'echo', 'read', 'delivery', 'referral', 'location'];

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutateJson(value: unknown, r: () => number, depth = 0): unknown {
  const weird = [null, true, 0, -1, 1e308, '', 'x'.repeat(300), [], {}, [[[]]], { mid: 1 }, '\u0000\ud800', NaN];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  if (r() < 0.12) return pick(weird);
  if (Array.isArray(value)) {
    let out = value.map((v) => mutateJson(v, r, depth + 1));
    if (r() < 0.2) out = [...out, ...out];
    if (r() < 0.1) out = [];
    if (r() < 0.1) out.push(pick(weird));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (r() < 0.1) continue;
      out[r() < 0.05 ? `${k}_` : k] = mutateJson(v, r, depth + 1);
    }
    if (r() < 0.1) out[pick(['is_echo', 'quick_reply', 'postback', 'message', 'referral', 'attachments', 'sender'])] = pick(weird);
    return out;
  }
  if (typeof value === 'string' && r() < 0.2) return value.slice(0, Math.floor(r() * value.length)) + pick(['', '+1 555 0100', '\u202e', '"']);
  return value;
}

function mangleBytes(body: string, r: () => number): Buffer {
  const b = Buffer.from(body);
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n && b.length; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  return r() < 0.3 ? b.subarray(0, Math.floor(r() * b.length)) : b;
}

describe('Messenger webhook fuzz', () => {
  it('survives 2500 mutated payloads and still stores a real update afterwards', async () => {
    const { app, stored } = await webhookApp();
    const r = rng(20240611);
    const statuses = new Map<number, number>();
    const bodies = FIXTURES.map((name) => fixture(name));

    for (let i = 0; i < 2500; i++) {
      const base = bodies[i % bodies.length];
      const mode = r();
      let payload: string | Buffer;
      let headers: Record<string, string>;
      if (mode < 0.55) {
        payload = JSON.stringify(mutateJson(JSON.parse(base), r));
        headers = signed(payload);
      } else if (mode < 0.75) {
        payload = mangleBytes(base, r);
        headers = signed(payload);
      } else if (mode < 0.85) {
        payload = JSON.stringify(mutateJson(JSON.parse(base), r));
        headers = signed(`${payload} `);
      } else if (mode < 0.92) {
        payload = base;
        headers = { ...signed(base), 'content-type': ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', ''][i % 4] };
      } else {
        payload = '['.repeat(50_000 + Math.floor(r() * 10_000));
        headers = signed(payload);
      }
      const res = await post(app, payload, headers);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect([200, 400, 403, 413, 415], `payload #${i}`).toContain(res.statusCode);
    }

    // Every stored update is well-formed, whatever the payload was.
    for (const u of stored) {
      expect(u.platform).toBe('messenger');
      expect(typeof u.dedupKey === 'string' && u.dedupKey.length > 0).toBe(true);
      expect(typeof u.chatId === 'string' && u.chatId.length > 0).toBe(true);
      expect(INBOUND_KINDS).toContain(u.event.kind);
    }
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(403)).toBeGreaterThan(100);

    const before = stored.length;
    const real = fixture('text').replace('hello, world!', 'still here').replace(/"mid":"m_AG5[^"]+"/, '"mid":"m_after_fuzz"');
    const res = await post(app, real);
    expect(res.statusCode).toBe(200);
    expect(stored.slice(before).map((u) => u.event)).toEqual([{ kind: 'message', text: 'still here' }]);
    await app.close();
  });
});
