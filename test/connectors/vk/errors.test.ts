import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVkEmulator, type VkEmulator } from '../../../emulators/vk/index.ts';
import { DeliveryError, type Connector } from '../../../src/connectors/connector.ts';
import { createVkConnector, SendWindow } from '../../../src/connectors/vk/index.ts';
import { delivery } from './helpers.ts';

let vk: VkEmulator;
let c: Connector;
let nextUser = 7000;

async function person() {
  const p = vk.client.person(nextUser++);
  await p.sendText('hi');
  return p;
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

beforeAll(async () => {
  vk = await startVkEmulator();
  c = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll', timeoutMs: 3000 });
});
afterAll(async () => {
  await vk.close();
});

describe('VK delivery failures', () => {
  it.each([
    [6, 'rate-limited', 1000],
    [9, 'rate-limited', 5000],
  ])('error %i means wait and retry', async (code, kind, retryAfterMs) => {
    const p = await person();
    // A single 6 is retried inside the connector (see below): it takes two to reach the gateway.
    await vk.client.inject({ method: 'messages.send', error: code, times: code === 6 ? 2 : 1 });
    const err = await failure(c.send(delivery(c.capabilities, String(p.id), { text: 'x' })));
    expect(err).toMatchObject({ kind, code: String(code), retryAfterMs, unreachable: false, platform: 'vk' });
  });

  it('a person who denied messages is unreachable (901) and receives nothing', async () => {
    const p = await person();
    await p.deny();
    const err = await failure(c.send(delivery(c.capabilities, String(p.id), { text: 'news' })));
    expect(err).toMatchObject({ kind: 'permanent', code: '901', unreachable: true });
    expect(await p.messages()).toEqual([]);
  });

  it('a person who never wrote to the community cannot be messaged (901)', async () => {
    const err = await failure(c.send(delivery(c.capabilities, '7999', { text: 'hello stranger' })));
    expect(err).toMatchObject({ kind: 'permanent', code: '901', unreachable: true });
  });

  it.each([914, 911])('error %i fails the message for good without marking the person', async (code) => {
    const p = await person();
    await vk.client.inject({ method: 'messages.send', error: code });
    const err = await failure(c.send(delivery(c.capabilities, String(p.id), { text: 'x' })));
    expect(err).toMatchObject({ kind: 'permanent', code: String(code), unreachable: false });
  });

  it('a payload VK cannot carry fails before any call, as a keyboard error', async () => {
    const p = await person();
    const d = delivery(c.capabilities, String(p.id), { text: 'x', buttons: [[{ type: 'action', label: 'Go', payload: '"'.repeat(200) }]] });
    const err = await failure(c.send(d));
    expect(err).toMatchObject({ kind: 'permanent', code: '911' });
  });

  it('a wrong token (error 5) fails with a message that says what to fix, without the token', async () => {
    const bad = createVkConnector({ ...vk.connectorOptions, accessToken: 'wrong-token-value', mode: 'longpoll' });
    const err = await failure(bad.send(delivery(bad.capabilities, '7001', { text: 'x' })));
    expect(err).toMatchObject({ kind: 'permanent', code: '5' });
    expect(err.message).toContain('VK_ACCESS_TOKEN');
    expect(err.message).not.toContain('wrong-token-value');
  });

  it.each([
    [{ httpStatus: 502 }, '502'],
    [{ error: 10 }, '10'],
  ])('%o is transient', async (fault, code) => {
    const p = await person();
    await vk.client.inject({ method: 'messages.send', ...fault });
    const err = await failure(c.send(delivery(c.capabilities, String(p.id), { text: 'x' })));
    expect(err).toMatchObject({ kind: 'transient', code });
  });

  it('an unreachable API is transient', async () => {
    const gone = createVkConnector({ ...vk.connectorOptions, apiRoot: 'http://127.0.0.1:9/method', mode: 'longpoll', timeoutMs: 3000 });
    const err = await failure(gone.send(delivery(gone.capabilities, '7001', { text: 'x' })));
    expect(err.kind).toBe('transient');
  });

  it('reports the parts already delivered when a later part fails, and a full resend delivers only the rest', async () => {
    const p = await person();
    const d = delivery(c.capabilities, String(p.id), { text: 'a'.repeat(9000) + ' ' + 'b'.repeat(100) });
    expect(d.plan.parts).toHaveLength(2);
    await vk.client.inject({ method: 'messages.send', error: 10, after: 1 });
    const err = await failure(c.send(d));
    expect(err.kind).toBe('transient');
    const [first] = await p.messages();
    expect(err.deliveredIds).toEqual([String(first.id)]);
    // The gateway may resend everything: VK's random_id dedup keeps part 1 from arriving twice.
    const ok = await c.send({ ...d, attempt: 2 });
    expect(ok.platformMessageIds[0]).toBe(String(first.id));
    expect((await p.messages()).map((m) => m.text.length)).toEqual([9000, 100]);
  });

  it('absorbs a single error 6 (requests bunched in transit): the message is delivered once', async () => {
    const p = await person();
    await vk.client.inject({ method: 'messages.send', error: 6 });
    const r = await c.send(delivery(c.capabilities, String(p.id), { text: 'after a 6' }));
    expect((await p.messages()).map((m) => [String(m.id), m.text])).toEqual([[r.platformMessageIds[0], 'after a 6']]);
  });

  it('keeps a burst within the VK limit: every message of a burst is delivered, once', async () => {
    const fresh = await startVkEmulator({ rps: 20 });
    try {
      const conn = createVkConnector({ ...fresh.connectorOptions, mode: 'longpoll' });
      const p = fresh.client.person(42);
      await p.sendText('hi');
      const results = await Promise.allSettled(
        Array.from({ length: 45 }, (_, i) => conn.send(delivery(conn.capabilities, '42', { text: `n${i}` }))),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const texts = (await p.messages()).map((m) => m.text).sort();
      expect(texts).toEqual(Array.from({ length: 45 }, (_, i) => `n${i}`).sort());
    } finally {
      await fresh.close();
    }
  });
});

describe('VK send window', () => {
  it('lets at most `limit` calls leave in any second, however the timers bunch', () => {
    const w = new SendWindow(18);
    // 40 calls all trying at the same instant: 18 go, the rest are told to wait for the window.
    const waits = Array.from({ length: 40 }, () => w.tryEnter(10_000));
    expect(waits.filter((x) => x === 0)).toHaveLength(18);
    expect(new Set(waits.filter((x) => x > 0))).toEqual(new Set([1000]));
    expect(w.tryEnter(10_999)).toBe(1);
    expect(w.tryEnter(11_000)).toBe(0);
  });
});
