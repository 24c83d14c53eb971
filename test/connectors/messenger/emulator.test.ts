import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { startMessengerEmulator, type MessengerEmulator } from '../../../emulators/messenger/index.ts';

const HOUR = 3_600_000;
let fb: MessengerEmulator;
let seq = 0;

beforeAll(async () => {
  fb = await startMessengerEmulator({ retryDelaysMs: [20, 20] });
});
afterAll(async () => {
  await fb.close();
});

/** Calls the Graph Send API the way a bot does, returning status and body. */
async function graph(body: unknown, opts: { token?: string; path?: string } = {}) {
  const res = await fetch(`${fb.apiRoot}/${opts.path ?? 'me/messages'}?access_token=${opts.token ?? fb.accessToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: number; error_subcode?: number; message: string }; message_id?: string } };
}

async function personWhoWrote() {
  const p = fb.person(`80000000000${++seq}`);
  await p.sendText('hello');
  return p;
}

const send = (psid: string, message: unknown, extra: Record<string, unknown> = {}) =>
  graph({ recipient: { id: psid }, messaging_type: 'RESPONSE', message, ...extra });

describe('Messenger emulator: Send API limits and errors', () => {
  it('accepts text up to 2000 characters and refuses longer with error 100', async () => {
    const p = await personWhoWrote();
    expect((await send(p.psid, { text: 'x'.repeat(2000) })).status).toBe(200);
    const long = await send(p.psid, { text: 'x'.repeat(2001) });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: 100, message: expect.stringContaining('2000') });
  });

  it('refuses more than 13 quick replies, titles over 20 and templates over 3 buttons or 640 characters', async () => {
    const p = await personWhoWrote();
    const qr = (n: number, title = 'T') => Array.from({ length: n }, (_, i) => ({ content_type: 'text', title, payload: `p${i}` }));
    const template = (text: string, n: number) => ({
      attachment: { type: 'template', payload: { template_type: 'button', text, buttons: Array.from({ length: n }, (_, i) => ({ type: 'postback', title: `B${i}`, payload: `b${i}` })) } },
    });
    expect((await send(p.psid, { text: 'ok', quick_replies: qr(13) })).status).toBe(200);
    for (const bad of [{ text: 'x', quick_replies: qr(14) }, { text: 'x', quick_replies: qr(1, 'x'.repeat(21)) }, template('x', 4), template('x'.repeat(641), 1)]) {
      const res = await send(p.psid, bad);
      expect(res.body.error?.code, JSON.stringify(bad).slice(0, 80)).toBe(100);
    }
    expect((await send(p.psid, template('x'.repeat(640), 3))).status).toBe(200);
  });

  it('requires a known messaging type and tag', async () => {
    const p = await personWhoWrote();
    expect((await graph({ recipient: { id: p.psid }, message: { text: 'x' } })).body.error?.code).toBe(100);
    expect((await send(p.psid, { text: 'x' }, { messaging_type: 'MESSAGE_TAG', tag: 'NOT_A_TAG' })).body.error?.code).toBe(100);
  });

  it('enforces the 24-hour window, letting tags through and HUMAN_AGENT for 7 days', async () => {
    const p = await personWhoWrote();
    await p.lastMessageAgo(25 * HOUR);
    const late = await send(p.psid, { text: 'late' });
    expect(late.body.error).toMatchObject({ code: 10, error_subcode: 2018278 });
    expect((await send(p.psid, { text: 'x' }, { messaging_type: 'MESSAGE_TAG', tag: 'CONFIRMED_EVENT_UPDATE' })).status).toBe(200);
    expect((await send(p.psid, { text: 'x' }, { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' })).status).toBe(200);
    await p.lastMessageAgo(8 * 24 * HOUR);
    expect((await send(p.psid, { text: 'x' }, { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' })).body.error?.error_subcode).toBe(2018278);
    // Writing again reopens the window.
    await p.sendText('back');
    expect((await send(p.psid, { text: 'welcome back' })).status).toBe(200);
  });

  it('answers 551 for a person who blocked the page, 100/2018001 for an unknown one, 190 for a bad token', async () => {
    const p = await personWhoWrote();
    await p.block();
    expect((await send(p.psid, { text: 'x' })).body.error).toMatchObject({ code: 551, error_subcode: 1545041 });
    await expect(p.sendText('hi')).rejects.toThrow(/blocked/);
    await p.unblock();
    expect((await send(p.psid, { text: 'x' })).status).toBe(200);
    expect((await send('999999', { text: 'x' })).body.error).toMatchObject({ code: 100, error_subcode: 2018001 });
    expect((await graph({ recipient: { id: p.psid }, messaging_type: 'RESPONSE', message: { text: 'x' } }, { token: 'nope' })).body.error?.code).toBe(190);
  });

  it('answers 613 above the page’s send rate', async () => {
    const p = await personWhoWrote();
    await fb.configure({ maxRps: 2 });
    const codes = (await Promise.all([0, 1, 2, 3, 4, 5].map((i) => send(p.psid, { text: `n${i}` })))).map((r) => r.body.error?.code);
    await fb.configure({ maxRps: 300 });
    expect(codes).toContain(613);
  });

  it('saves attachments for reuse and sends them by attachment_id', async () => {
    const p = await personWhoWrote();
    const saved = await graph({ message: { attachment: { type: 'image', payload: { url: 'https://ex.org/logo.png', is_reusable: true } } } }, { path: 'me/message_attachments' });
    const id = (saved.body as { attachment_id?: string }).attachment_id;
    expect(id).toBeTruthy();
    expect((await send(p.psid, { attachment: { type: 'image', payload: { attachment_id: id } } })).status).toBe(200);
    expect((await p.messages()).at(-1)?.attachment).toMatchObject({ type: 'image', url: 'https://ex.org/logo.png' });
  });
});

describe('Messenger emulator: webhook pushes and the person’s side', () => {
  let bot: FastifyInstance;
  let botUrl: string;
  const received: { raw: string; signature: string; body: { entry: { messaging: unknown[] }[] } }[] = [];
  let failNext = 0;

  beforeAll(async () => {
    bot = Fastify({ logger: false });
    bot.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    bot.get('/hook', async (req) => (req.query as Record<string, string>)['hub.challenge']);
    bot.post('/hook', async (req, reply) => {
      if (failNext > 0) {
        failNext--;
        return reply.code(500).send('busy');
      }
      received.push({ raw: req.body as string, signature: String(req.headers['x-hub-signature-256']), body: JSON.parse(req.body as string) });
      return 'EVENT_RECEIVED';
    });
    botUrl = await bot.listen({ port: 0, host: '127.0.0.1' });
    await fb.setWebhook(`${botUrl}/hook`);
  });
  afterAll(async () => {
    await bot.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read arbitrary webhook JSON
  const events = () => received.flatMap((r) => r.body.entry.flatMap((e) => e.messaging)) as Record<string, any>[];

  it('refuses a callback URL that fails the verification handshake', async () => {
    const other = Fastify({ logger: false });
    other.get('/hook', async () => 'not the challenge');
    const url = await other.listen({ port: 0, host: '127.0.0.1' });
    await expect(fb.setWebhook(`${url}/hook`)).rejects.toThrow(/challenge/);
    await other.close();
    expect((await fb.info()).webhookUrl).toBe(`${botUrl}/hook`);
  });

  it('signs every POST with HMAC-SHA256 of the raw body under the app secret', async () => {
    await fb.person('p-sign').sendText('signed?');
    const last = received.at(-1)!;
    expect(last.signature).toBe(`sha256=${createHmac('sha256', fb.appSecret).update(last.raw).digest('hex')}`);
    expect(events().at(-1)).toMatchObject({ sender: { id: 'p-sign' }, recipient: { id: fb.pageId }, message: { text: 'signed?' } });
  });

  it('pushes Get Started, images and files as Meta shapes them, with downloadable URLs', async () => {
    const p = fb.person('p-media');
    await p.getStarted('ref-1');
    expect(events().at(-1)?.postback).toMatchObject({ title: 'Get Started', payload: 'GET_STARTED', referral: { ref: 'ref-1' } });
    await p.sendImage(Buffer.from('fake-png'));
    const image = events().at(-1)?.message.attachments[0];
    expect(image.type).toBe('image');
    expect(Buffer.from(await (await fetch(image.payload.url)).arrayBuffer()).toString()).toBe('fake-png');
    await p.sendFile(Buffer.from('%PDF'), 'a.pdf', 'application/pdf');
    expect(events().at(-1)?.message.attachments[0].type).toBe('file');
  });

  it('batches several events in one POST, across entries', async () => {
    const before = received.length;
    const res = await fb.batch(
      [
        { type: 'text', psid: 'p-b1', text: 'one' },
        { type: 'text', psid: 'p-b2', text: 'two' },
        { type: 'start', psid: 'p-b3' },
      ],
      2,
    );
    expect(res.delivered).toBe(true);
    expect(received.length).toBe(before + 1);
    expect(received.at(-1)!.body.entry.map((e) => e.messaging.length)).toEqual([2, 1]);
  });

  it('retries a POST the bot did not answer with 200', async () => {
    failNext = 1;
    const res = await fb.person('p-retry').sendText('again');
    expect(res.delivered).toBe(false);
    await fb.flush();
    expect(events().at(-1)?.message.text).toBe('again');
    const attempts = (await fb.deliveries()).slice(-2);
    expect(attempts.map((d) => d.status)).toEqual([500, 200]);
  });

  it('lets a person press quick replies only on the latest message, template buttons on any', async () => {
    const p = fb.person('p-press');
    await p.sendText('hi');
    await send(p.psid, { attachment: { type: 'template', payload: { template_type: 'button', text: 'Menu', buttons: [{ type: 'postback', title: 'Events', payload: 'events' }, { type: 'web_url', title: 'Site', url: 'https://ex.org' }] } } });
    await send(p.psid, { text: 'Sure?', quick_replies: [{ content_type: 'text', title: 'Yes', payload: 'yes' }, { content_type: 'user_phone_number' }] });
    await p.press('Yes');
    expect(events().at(-1)?.message).toMatchObject({ text: 'Yes', quick_reply: { payload: 'yes' } });
    await expect(p.press('Yes')).rejects.toThrow(/no button/);
    await expect(p.sharePhone()).rejects.toThrow(/phone/);
    await p.press('Events');
    expect(events().at(-1)?.postback).toMatchObject({ title: 'Events', payload: 'events' });
    expect((await p.press('Site')).opened).toBe('https://ex.org');
  });

  it('shares the person’s phone through the phone quick reply', async () => {
    const p = fb.person('p-phone');
    await p.profile({ phone: '+15551234567' });
    await p.sendText('hi');
    await send(p.psid, { text: 'Your phone?', quick_replies: [{ content_type: 'user_phone_number' }] });
    expect((await p.messages()).at(-1)?.quickReplies?.[0].title).toBe('+15551234567');
    await p.sharePhone();
    expect(events().at(-1)?.message).toMatchObject({ text: '+15551234567', quick_reply: { payload: '+15551234567' } });
  });

  it('pushes echoes of the page’s own messages when asked to', async () => {
    await fb.configure({ echoes: true });
    const p = await personWhoWrote();
    await send(p.psid, { text: 'echo me' });
    await fb.flush();
    await fb.configure({ echoes: false });
    expect(events().at(-1)).toMatchObject({ sender: { id: fb.pageId }, recipient: { id: p.psid }, message: { is_echo: true, text: 'echo me' } });
  });
});
