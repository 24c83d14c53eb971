/**
 * The emulator answers as the Bot API does: a connector that passes against it should pass
 * against Telegram. These tests call it as a raw HTTP client would.
 */
import Fastify from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTelegramHtml, startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import { until } from './helpers.ts';

type Answer = { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: { retry_after: number } }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Telegram emulator', () => {
  let emu: TelegramEmulator;
  let nextUser = 5000;

  async function call(method: string, params: Record<string, unknown> = {}, token = emu.token): Promise<Answer & { status: number }> {
    const res = await fetch(`${emu.url}/bot${token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    return { status: res.status, ...((await res.json()) as Answer) };
  }

  async function person() {
    const p = emu.person(++nextUser);
    await p.start();
    return p;
  }

  beforeAll(async () => {
    emu = await startTelegramEmulator({ webhookRetry: { minDelayMs: 30, maxDelayMs: 100 } });
  });
  afterAll(() => emu.close());

  it('answers getMe, and 401 Unauthorized to a wrong token, 404 to an unknown method', async () => {
    expect((await call('getMe')).result).toMatchObject({ id: 7000000001, is_bot: true, username: emu.bot.username });
    expect(await call('getMe', {}, '1:wrong')).toMatchObject({ status: 401, ok: false, error_code: 401, description: 'Unauthorized' });
    expect(await call('sendTelepathy')).toMatchObject({ status: 404, error_code: 404, description: 'Not Found' });
  });

  it('validates HTML: unknown and unclosed tags are 400 "can\'t parse entities"', async () => {
    const p = await person();
    expect(await call('sendMessage', { chat_id: p.id, text: 'a <p>b</p>', parse_mode: 'HTML' })).toMatchObject({
      status: 400,
      description: 'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 2',
    });
    expect((await call('sendMessage', { chat_id: p.id, text: '<b>bold', parse_mode: 'HTML' })).description).toBe(
      'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"',
    );
    expect((await call('sendMessage', { chat_id: p.id, text: '<b><i>x</b></i>', parse_mode: 'HTML' })).description).toMatch(/Unmatched end tag/);
    expect((await call('sendMessage', { chat_id: p.id, text: '1 < 2', parse_mode: 'HTML' })).status).toBe(400);
    expect((await call('sendMessage', { chat_id: p.id, text: '1 &lt; 2 &amp; <a href="https://x.org/?a=1&amp;b=2">x</a>', parse_mode: 'HTML' })).result.text).toBe('1 < 2 & x');
  });

  it('counts the 4096 limit after entity parsing and refuses empty text', async () => {
    const p = await person();
    expect((await call('sendMessage', { chat_id: p.id, text: `<b>${'x'.repeat(4096)}</b>`, parse_mode: 'HTML' })).ok).toBe(true);
    expect(await call('sendMessage', { chat_id: p.id, text: 'x'.repeat(4097) })).toMatchObject({ status: 400, description: 'Bad Request: message is too long' });
    expect((await call('sendMessage', { chat_id: p.id, text: '<b> </b>', parse_mode: 'HTML' })).description).toBe('Bad Request: message text is empty');
  });

  it('limits callback data to 1-64 bytes and checks keyboards', async () => {
    const p = await person();
    const inline = (data: string) => ({ inline_keyboard: [[{ text: 'b', callback_data: data }]] });
    expect((await call('sendMessage', { chat_id: p.id, text: 'ok', reply_markup: inline('é'.repeat(32)) })).ok).toBe(true);
    expect((await call('sendMessage', { chat_id: p.id, text: 'x', reply_markup: inline('é'.repeat(33)) })).description).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect((await call('sendMessage', { chat_id: p.id, text: 'x', reply_markup: inline('') })).description).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect((await call('sendMessage', { chat_id: p.id, text: 'x', reply_markup: { inline_keyboard: [[{ text: 'plain' }]] } })).status).toBe(400);
    const kb = await call('sendMessage', { chat_id: p.id, text: 'k', reply_markup: JSON.stringify({ keyboard: [[{ text: 'Phone', request_contact: true }]] }) });
    expect(kb.ok).toBe(true);
    expect(await p.keyboard()).toEqual([[{ text: 'Phone', request_contact: true }]]);
  });

  it('refuses chats that never started the bot, and blocked ones with 403', async () => {
    emu.world.user(99_001);
    expect(await call('sendMessage', { chat_id: 99_001, text: 'hi' })).toMatchObject({ status: 403, description: "Forbidden: bot can't initiate conversation with a user" });
    expect(await call('sendMessage', { chat_id: 99_002, text: 'hi' })).toMatchObject({ status: 400, description: 'Bad Request: chat not found' });
    const p = await person();
    await p.block();
    expect(await call('sendMessage', { chat_id: p.id, text: 'hi' })).toMatchObject({ status: 403, error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    await p.sendText('I am back'); // writing to a blocked bot unblocks it, as Telegram's Restart does
    expect((await call('sendMessage', { chat_id: p.id, text: 'welcome back' })).ok).toBe(true);
  });

  it('answers 429 with retry_after over the per-chat limit, and the limits can be raised', async () => {
    const p = await person();
    let limited: (Answer & { status: number }) | undefined;
    for (let i = 0; i < 50 && !limited; i++) {
      const r = await call('sendMessage', { chat_id: p.id, text: `m${i}` });
      if (r.status === 429) limited = r;
    }
    expect(limited).toMatchObject({ ok: false, error_code: 429, parameters: { retry_after: expect.any(Number) } });
    expect(limited!.description).toMatch(/^Too Many Requests: retry after \d+$/);
    const old = await emu.client.limits();
    await emu.client.setLimits({ perChatBurst: 1000, overallBurst: 1000, overallPerSecond: 1000 });
    try {
      expect((await call('sendMessage', { chat_id: p.id, text: 'now fine' })).ok).toBe(true);
    } finally {
      await emu.client.setLimits(old);
    }
  });

  it('uploads photos by multipart, serves them by getFile, and accepts their file_id again', async () => {
    const p = await person();
    const png = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#0af' } }).png().toBuffer();
    const form = new FormData();
    form.set('chat_id', String(p.id));
    form.set('caption', '<b>Hi</b>');
    form.set('parse_mode', 'HTML');
    form.set('photo', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'qr.png');
    const sent = (await (await fetch(`${emu.url}/bot${emu.token}/sendPhoto`, { method: 'POST', body: form })).json()) as Answer;
    expect(sent.ok).toBe(true);
    const sizes = sent.result.photo as Array<{ file_id: string; width: number; height: number }>;
    expect(sizes.map((s) => s.width)).toEqual([90, 320, 800, 1000]);
    const file = (await call('getFile', { file_id: sizes.at(-1)!.file_id })).result;
    const bytes = Buffer.from(await (await fetch(`${emu.url}/file/bot${emu.token}/${file.file_path}`)).arrayBuffer());
    expect(bytes).toEqual(png);
    expect((await call('sendPhoto', { chat_id: p.id, photo: sizes.at(-1)!.file_id })).ok).toBe(true);
    expect((await call('sendPhoto', { chat_id: p.id, photo: 'AgACnope' })).description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    expect((await call('sendPhoto', { chat_id: p.id, photo: sizes[0].file_id, caption: 'c'.repeat(1025) })).description).toBe('Bad Request: message caption is too long');
  });

  it('answers a callback query once; a second answer is refused', async () => {
    const p = await person();
    await call('sendMessage', { chat_id: p.id, text: 'q', reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'y' }]] } });
    const pressed = await p.press('Yes');
    expect(pressed.kind).toBe('callback');
    const id = pressed.kind === 'callback' ? pressed.callback_query_id : '';
    expect((await call('answerCallbackQuery', { callback_query_id: id })).ok).toBe(true);
    expect((await call('answerCallbackQuery', { callback_query_id: id })).description).toMatch(/query is too old/);
    expect(await p.callbacks()).toEqual([expect.objectContaining({ id, data: 'y', answered: true })]);
  });

  it('refuses an edit that changes nothing, as Telegram does', async () => {
    const p = await person();
    const sent = (await call('sendMessage', { chat_id: p.id, text: 'same' })).result;
    expect((await call('editMessageText', { chat_id: p.id, message_id: sent.message_id, text: 'same' })).description).toMatch(/^Bad Request: message is not modified/);
    expect((await call('editMessageText', { chat_id: p.id, message_id: 424242, text: 'x' })).description).toBe('Bad Request: message to edit not found');
  });

  it('hands updates to one poller: getUpdates confirms by offset, a second poller and a webhook mean 409', async () => {
    const solo = await startTelegramEmulator();
    try {
      const get = (q: string) => fetch(`${solo.url}/bot${solo.token}/getUpdates?${q}`).then(async (r) => ({ status: r.status, ...((await r.json()) as Answer) }));
      const waiting = get('timeout=10');
      await until(async () => solo.world.bot()!.poller !== null, 'the long poll to wait');
      await solo.person(1).sendText('hi');
      const first = await waiting;
      expect(first.result.map((u: { message: { text: string } }) => u.message.text)).toEqual(['hi']);
      const id = first.result[0].update_id;
      expect((await get(`offset=${id}`)).result).toHaveLength(1); // not confirmed yet
      expect((await get(`offset=${id + 1}`)).result).toHaveLength(0);
      const older = get('timeout=10');
      await until(async () => solo.world.bot()!.poller !== null, 'the long poll to wait');
      const newer = get('timeout=1');
      expect(await older).toMatchObject({ status: 409, description: expect.stringContaining('terminated by other getUpdates request') });
      await newer;
      await fetch(`${solo.url}/bot${solo.token}/setWebhook?url=${encodeURIComponent('http://127.0.0.1:9/x')}`);
      expect(await get('timeout=0')).toMatchObject({ status: 409, description: expect.stringContaining("can't use getUpdates method while webhook is active") });
    } finally {
      await solo.close();
    }
  });

  it('pushes updates to the webhook with the secret header, retrying until it answers 2xx', async () => {
    const hook = Fastify();
    const received: Array<{ secret: unknown; update_id: number }> = [];
    let failures = 2;
    hook.post('/hook', async (req, reply) => {
      if (failures-- > 0) return reply.code(500).send();
      received.push({ secret: req.headers['x-telegram-bot-api-secret-token'], update_id: (req.body as { update_id: number }).update_id });
      return { ok: true };
    });
    await hook.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(hook.server.address() as { port: number }).port}/hook`;
    try {
      expect((await call('setWebhook', { url, secret_token: 's3cr3t', drop_pending_updates: true })).ok).toBe(true);
      const p = emu.person(++nextUser);
      await p.sendText('one');
      await p.sendText('two');
      await until(() => received.length === 2, 'two pushes');
      expect(received.map((r) => r.secret)).toEqual(['s3cr3t', 's3cr3t']);
      expect(received[0].update_id).toBeLessThan(received[1].update_id);
      const info = (await call('getWebhookInfo')).result;
      expect(info).toMatchObject({ url, pending_update_count: 0, last_error_message: 'Wrong response from the webhook: 500 Internal Server Error' });
      expect((await call('setWebhook', { url, secret_token: 'bad secret!' })).description).toBe('Bad Request: secret token contains unallowed characters');
    } finally {
      await call('deleteWebhook');
      await hook.close();
    }
  });

  it('parses Telegram HTML into text and UTF-16 entities', () => {
    expect(parseTelegramHtml('👋 <b>Hi</b> <a href="tg://user?id=5">you</a>')).toEqual({
      text: '👋 Hi you',
      entities: [
        { type: 'bold', offset: 3, length: 2 },
        { type: 'text_mention', offset: 6, length: 3, user: { id: 5, is_bot: false, first_name: '' } },
      ],
    });
  });
});
