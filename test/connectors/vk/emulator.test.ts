/** The VK emulator speaks VK as a real client sees it: raw HTTP calls, no connector in between. */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVkEmulator, type VkEmulator } from '../../../emulators/vk/index.ts';
import { png } from './helpers.ts';

let vk: VkEmulator;

/** A form-encoded call, as VK expects. */
async function call(method: string, params: Record<string, string | number>, token = vk.accessToken) {
  const body = new URLSearchParams({ access_token: token, v: '5.199', ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${vk.apiRoot}/${method}`, { method: 'POST', body });
  expect(res.status).toBe(200);
  return (await res.json()) as { response?: unknown; error?: { error_code: number; error_msg: string; request_params: { key: string; value: string }[] } };
}

const kb = (k: unknown) => JSON.stringify(k);
const text = (label: string) => ({ action: { type: 'text', label, payload: '{"a":"x"}' } });

beforeAll(async () => {
  vk = await startVkEmulator({ groupId: 55, rps: 1000 });
  await vk.client.person(1).sendText('hi');
  await vk.client.person(2).sendText('hi');
});
afterAll(() => vk.close());

describe('VK emulator: the API as VK answers it', () => {
  it('ignores a JSON body like VK does, so the call has no token (error 5)', async () => {
    const res = await fetch(`${vk.apiRoot}/messages.send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: vk.accessToken, v: '5.199', peer_id: 1, random_id: 1, message: 'x' }),
    });
    expect(await res.json()).toMatchObject({ error: { error_code: 5, error_msg: expect.stringContaining('no access_token') } });
  });

  it('answers errors with HTTP 200, the request parameters without the token', async () => {
    const r = await call('messages.send', { peer_id: 1, random_id: 5 }, 'bad');
    expect(r.error?.error_code).toBe(5);
    expect(JSON.stringify(r)).not.toContain(vk.accessToken);
    expect((await call('messages.nope', {})).error?.error_code).toBe(3);
    const noV = await (await fetch(`${vk.apiRoot}/users.get?access_token=${vk.accessToken}&user_ids=1`)).json();
    expect(noV).toMatchObject({ error: { error_code: 8 } });
  });

  it('delivers a random_id once per conversation and answers a repeat with the first message id', async () => {
    const a = await call('messages.send', { peer_id: 1, random_id: 777, message: 'first' });
    const b = await call('messages.send', { peer_id: 1, random_id: 777, message: 'second' });
    const other = await call('messages.send', { peer_id: 2, random_id: 777, message: 'to another person' });
    expect(b.response).toBe(a.response);
    expect(other.response).not.toBe(a.response);
    expect((await vk.client.person(1).messages()).map((m) => m.text)).toEqual(['first']);
  });

  it('refuses text over 9000 characters (914) and empty messages (100)', async () => {
    expect((await call('messages.send', { peer_id: 1, random_id: 1001, message: 'x'.repeat(9001) })).error?.error_code).toBe(914);
    expect((await call('messages.send', { peer_id: 1, random_id: 1002, message: 'x'.repeat(9000) })).response).toBeTypeOf('number');
    expect((await call('messages.send', { peer_id: 1, random_id: 1003, message: '' })).error?.error_code).toBe(100);
  });

  it.each([
    ['11 inline buttons', { inline: true, buttons: [[text('1'), text('2'), text('3'), text('4'), text('5')], [text('6'), text('7'), text('8'), text('9'), text('10')], [text('11')]] }],
    ['7 inline rows', { inline: true, buttons: Array.from({ length: 7 }, (_, i) => [text(String(i))]) }],
    ['6 buttons in a row', { buttons: [[text('1'), text('2'), text('3'), text('4'), text('5'), text('6')]] }],
    ['11 chat rows', { buttons: Array.from({ length: 11 }, (_, i) => [text(String(i))]) }],
    ['a 41-character label', { buttons: [[text('x'.repeat(41))]] }],
    ['a 256-byte payload', { buttons: [[{ action: { type: 'text', label: 'x', payload: JSON.stringify({ a: 'y'.repeat(250) }) } }]] }],
    ['a payload that is not JSON', { buttons: [[{ action: { type: 'callback', label: 'x', payload: 'nope' } }]] }],
    ['a location button in an inline keyboard', { inline: true, buttons: [[{ action: { type: 'location' } }]] }],
    ['a location button sharing its row', { buttons: [[{ action: { type: 'location' } }, text('x')]] }],
    ['three links in a row', { inline: true, buttons: [[1, 2, 3].map((i) => ({ action: { type: 'open_link', label: `l${i}`, link: 'https://ex.org' } }))] }],
    ['a contact button, which VK does not have', { buttons: [[{ action: { type: 'contact', label: 'phone' } }]] }],
  ])('refuses a keyboard with %s (911)', async (_what, keyboard) => {
    const r = await call('messages.send', { peer_id: 1, random_id: Math.floor(Math.random() * 1e9), message: 'x', keyboard: kb(keyboard) });
    expect(r.error?.error_code).toBe(911);
  });

  it('accepts keyboards at the limits', async () => {
    const chat = { one_time: false, buttons: Array.from({ length: 8 }, (_, r) => Array.from({ length: 5 }, (_, c) => text(`${r}${c}`))) };
    const inline = { inline: true, buttons: [[text('1'), text('2'), text('3'), text('4'), text('5')], [text('6'), text('7'), text('8'), text('9'), text('10')]] };
    for (const k of [chat, inline]) expect((await call('messages.send', { peer_id: 1, random_id: Math.floor(Math.random() * 1e9), message: 'x', keyboard: kb(k) })).response).toBeTypeOf('number');
  });

  it('refuses to write to someone who never wrote or who denied messages (901)', async () => {
    expect((await call('messages.send', { peer_id: 99, random_id: 1, message: 'x' })).error?.error_code).toBe(901);
    await vk.client.person(3).sendText('hi');
    expect((await call('messages.send', { peer_id: 3, random_id: 1, message: 'x' })).response).toBeTypeOf('number');
    await vk.client.person(3).deny();
    expect((await call('messages.send', { peer_id: 3, random_id: 2, message: 'x' })).error?.error_code).toBe(901);
    await vk.client.person(3).allow();
    expect((await call('messages.send', { peer_id: 3, random_id: 3, message: 'x' })).response).toBeTypeOf('number');
  });

  it('uploads a photo in three steps and refuses bytes that are not an image or a wrong hash', async () => {
    const server = (await call('photos.getMessagesUploadServer', { peer_id: 1 })).response as { upload_url: string };
    const form = new FormData();
    form.set('photo', new Blob([new Uint8Array(png(30, 20))], { type: 'image/png' }), 'a.png');
    const up = (await (await fetch(server.upload_url, { method: 'POST', body: form })).json()) as { server: number; photo: string; hash: string };
    expect((await call('photos.saveMessagesPhoto', { ...up, hash: 'nope' })).error?.error_code).toBe(121);
    const saved = (await call('photos.saveMessagesPhoto', up)).response as { id: number; owner_id: number; access_key: string; sizes: { width: number }[] }[];
    expect(saved[0].sizes.at(-1)?.width).toBe(30);
    const att = `photo${saved[0].owner_id}_${saved[0].id}_${saved[0].access_key}`;
    expect((await call('messages.send', { peer_id: 1, random_id: 4242, attachment: att })).response).toBeTypeOf('number');
    expect((await call('messages.send', { peer_id: 1, random_id: 4243, attachment: 'photo1_999999' })).error?.error_code).toBe(100);

    const server2 = (await call('photos.getMessagesUploadServer', { peer_id: 1 })).response as { upload_url: string };
    const notImage = new FormData();
    notImage.set('photo', new Blob(['hello']), 'a.png');
    const bad = (await (await fetch(server2.upload_url, { method: 'POST', body: notImage })).json()) as { photo: string };
    expect(bad.photo).toBe('[]');
  });

  it('limits requests per second with error 6 and lets them through again a second later', async () => {
    const slow = await startVkEmulator({ rps: 5 });
    try {
      const codes: (number | undefined)[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${slow.apiRoot}/users.get`, { method: 'POST', body: new URLSearchParams({ access_token: slow.accessToken, v: '5.199', user_ids: '1' }) });
        codes.push(((await res.json()) as { error?: { error_code: number } }).error?.error_code);
      }
      expect(codes.filter((c) => c === 6)).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 1100));
      const again = await fetch(`${slow.apiRoot}/users.get`, { method: 'POST', body: new URLSearchParams({ access_token: slow.accessToken, v: '5.199', user_ids: '1' }) });
      expect(await again.json()).toHaveProperty('response');
    } finally {
      await slow.close();
    }
  });

  it('serves Bots Long Poll with ts, and failed 1 / 2 / 3', async () => {
    const lp = (await call('groups.getLongPollServer', { group_id: 55 })).response as { server: string; key: string; ts: string };
    const check = async (key: string, ts: string) => (await (await fetch(`${lp.server}?act=a_check&key=${key}&ts=${ts}&wait=1`)).json()) as Record<string, unknown>;
    const sent = await vk.client.person(4).sendText('polled');
    const got = (await check(lp.key, lp.ts)) as { ts: string; updates: { type: string; event_id: string; object: { message: { text: string } } }[] };
    expect(got.updates.map((u) => u.object.message.text)).toEqual(['polled']);
    expect(got.updates[0].event_id).toBe(sent.eventId);
    expect(Number(got.ts)).toBe(Number(lp.ts) + 1);
    expect(await check(lp.key, got.ts)).toEqual({ ts: got.ts, updates: [] });
    expect(await check(lp.key, String(Number(got.ts) + 100))).toMatchObject({ failed: 1 });
    await vk.client.truncateLongPollHistory();
    await vk.client.person(4).sendText('x');
    expect(await check(lp.key, lp.ts)).toEqual({ failed: 1, ts: String(Number(got.ts) + 1) });
    await vk.client.expireLongPollKeys();
    expect(await check(lp.key, got.ts)).toEqual({ failed: 2 });
    const lp2 = (await call('groups.getLongPollServer', { group_id: 55 })).response as { key: string };
    await vk.client.loseLongPoll();
    expect(await check(lp2.key, got.ts)).toEqual({ failed: 3 });
  });

  it('pushes Callback API events after confirming the server, with the secret, retrying until it hears ok', async () => {
    const seen: { body: Record<string, unknown>; retry?: string }[] = [];
    let failures = 2;
    const app = Fastify();
    app.post('/cb', async (req, reply) => {
      const body = req.body as Record<string, unknown>;
      seen.push({ body, retry: req.headers['x-retry-counter'] as string | undefined });
      if (body.type === 'confirmation') return reply.type('text/plain').send('conf-42');
      if (failures-- > 0) return reply.type('text/plain').send('not ok');
      return reply.type('text/plain').send('ok');
    });
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/cb`;
    const em = await startVkEmulator({ groupId: 55, callbackRetryDelayMs: 10 });
    try {
      await em.client.setCallbackServer({ url, secret: 'sec', confirmation: 'conf-42' });
      const sent = await em.client.person(8).sendText('pushed');
      expect(await em.client.waitDelivered(sent.eventId!)).toBe('callback');
      expect(seen[0].body).toEqual({ type: 'confirmation', group_id: 55, secret: 'sec' });
      expect(seen.slice(1).map((s) => [s.body.type, s.body.secret, s.body.event_id, s.retry])).toEqual([
        ['message_new', 'sec', sent.eventId, undefined],
        ['message_new', 'sec', sent.eventId, '1'],
        ['message_new', 'sec', sent.eventId, '2'],
      ]);
      expect(seen[1].body).toMatchObject({ group_id: 55, v: '5.199', object: { message: { text: 'pushed', from_id: 8, peer_id: 8 } } });
    } finally {
      await em.close();
      await app.close();
    }
  });
});
