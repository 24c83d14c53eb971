import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import { DeliveryError } from '../../../src/connectors/connector.ts';
import { createTelegramConnector, type TelegramConnector, type TelegramOptions } from '../../../src/connectors/telegram/index.ts';
import { bold, fmt, italic, link } from '../../../src/core/format.ts';
import type { OutgoingMessage } from '../../../src/core/model.ts';
import { delivery } from './helpers.ts';

const png = (color: string) => sharp({ create: { width: 400, height: 300, channels: 3, background: color } }).png().toBuffer();

describe('Telegram outbound against the emulator', () => {
  let emu: TelegramEmulator;
  let connector: TelegramConnector;
  let nextUser = 3000;

  const connect = (over: Partial<TelegramOptions> = {}) =>
    createTelegramConnector({ token: emu.token, mode: 'polling', apiRoot: emu.url, maxRps: 30, ...over });

  /** A person who has opened the bot (a bot cannot write first). */
  async function person() {
    const p = emu.person(++nextUser);
    await p.start();
    return p;
  }

  const send = (c: TelegramConnector, chat: number, message: OutgoingMessage, extra = {}) =>
    c.send(delivery(message, c.capabilities, String(chat), extra));

  async function failure(p: Promise<unknown>): Promise<DeliveryError> {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    return err as DeliveryError;
  }

  beforeAll(async () => {
    emu = await startTelegramEmulator({ limits: { perChatBurst: 50, overallPerSecond: 1000 } });
    connector = connect({ perChatPerSecond: 100, perChatBurst: 50, maxRps: 1000 });
  });
  afterAll(async () => {
    await connector.close!();
    await emu.close();
  });

  it('sends formatted text as HTML the person sees as bold, italic and links, with < and & intact', async () => {
    const p = await person();
    await send(connector, p.id, { text: fmt`Hi ${bold('Ann')} <3 & ${italic('welcome')}, see ${link('site', 'https://example.org/?a=1&b=2')}` });
    const [m] = await p.messages();
    expect(m.text).toBe('Hi Ann <3 & welcome, see site');
    expect(m.entities?.map((e) => e.type)).toEqual(['bold', 'italic', 'text_link']);
    expect(m.entities?.[2]).toMatchObject({ url: 'https://example.org/?a=1&b=2' });
  });

  it('splits text longer than 4096 characters and puts the buttons under the last part', async () => {
    const p = await person();
    const text = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ') + '\n\n' + 'tail '.repeat(300);
    const res = await send(connector, p.id, { text, buttons: [[{ type: 'action', label: 'OK', payload: 'ok' }]] });
    const seen = await p.messages();
    expect(res.platformMessageIds).toHaveLength(seen.length);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((m) => m.text.length <= 4096)).toBe(true);
    expect(seen.slice(0, -1).every((m) => !m.inline_keyboard)).toBe(true);
    expect(seen.at(-1)?.inline_keyboard).toEqual([[{ text: 'OK', callback_data: 'ok' }]]);
  });

  it('shows action and URL buttons inline, and too-long payloads as a numbered list', async () => {
    const p = await person();
    await send(connector, p.id, {
      text: 'Menu',
      buttons: [[{ type: 'action', label: 'Events', payload: 'e'.repeat(64) }, { type: 'url', label: 'Site', url: 'https://example.org' }]],
    });
    await send(connector, p.id, { text: 'Too big', buttons: [[{ type: 'action', label: 'Big', payload: 'x'.repeat(65) }]] });
    const [menu, numbered] = await p.messages();
    expect(menu.inline_keyboard).toEqual([[{ text: 'Events', callback_data: 'e'.repeat(64) }, { text: 'Site', url: 'https://example.org' }]]);
    expect(numbered.text).toBe('Too big\n\n1. Big');
    expect(numbered.inline_keyboard).toBeUndefined();
  });

  it('asks for contact and location on a reply keyboard, and removes it on request', async () => {
    const p = await person();
    await send(connector, p.id, { text: 'Share?', buttons: [[{ type: 'contact', label: 'Send my phone' }], [{ type: 'location', label: 'Where am I' }]] });
    expect(await p.keyboard()).toEqual([[{ text: 'Send my phone', request_contact: true }], [{ text: 'Where am I', request_location: true }]]);
    await send(connector, p.id, { text: 'Thanks', removeKeyboard: true });
    expect(await p.keyboard()).toBeNull();
  });

  it('sends a message of buttons only (Telegram refuses empty text)', async () => {
    const p = await person();
    await send(connector, p.id, { buttons: [[{ type: 'action', label: 'Go', payload: 'go' }]] });
    const [m] = await p.messages();
    expect(m.inline_keyboard?.[0][0].text).toBe('Go');
  });

  it('uploads an image once and sends it by file_id the next time', async () => {
    const p = await person();
    const image = { base64: (await png('#c00')).toString('base64'), caption: fmt`Your ${bold('QR')}` };
    await emu.client.clearCalls();
    await send(connector, p.id, { images: [image] });
    await send(connector, p.id, { images: [image] });
    const calls = await emu.client.calls({ method: 'sendPhoto' });
    expect(calls).toHaveLength(2);
    expect(calls[0].params.photo).toMatchObject({ size: expect.any(Number) }); // an upload
    const seen = await p.messages();
    expect(calls[1].params.photo).toBe(seen[0].photo?.file_id); // reused
    expect(seen.map((m) => m.text)).toEqual(['Your QR', 'Your QR']);
  });

  it('sends images by URL and files from a path, reusing file_ids after the first send', async () => {
    const p = await person();
    const url = await emu.client.host('logo.png', await png('#0c0'), 'image/png');
    const dir = await mkdtemp(path.join(tmpdir(), 'tg-out-'));
    const file = path.join(dir, 'programme.pdf');
    await writeFile(file, Buffer.from('%PDF-1.4 test'));
    await emu.client.clearCalls();
    for (let i = 0; i < 2; i++) await send(connector, p.id, { images: [{ url }], files: [{ path: file, mime: 'application/pdf' }] });
    const photos = await emu.client.calls({ method: 'sendPhoto' });
    const docs = await emu.client.calls({ method: 'sendDocument' });
    expect(photos.map((c) => c.params.photo)).toEqual([url, expect.stringMatching(/^AgAC/)]);
    expect(docs[0].params.document).toMatchObject({ file: 'programme.pdf' });
    expect(docs[1].params.document).toEqual(expect.stringMatching(/^BQAC/));
    const seen = await p.messages();
    expect(seen.filter((m) => m.document?.file_name === 'programme.pdf')).toHaveLength(2);
  });

  it('sends a caption too long for Telegram as text after the image', async () => {
    const p = await person();
    await send(connector, p.id, { images: [{ base64: (await png('#00c')).toString('base64'), caption: 'c'.repeat(1500) }], buttons: [[{ type: 'action', label: 'Next', payload: 'n' }]] });
    const seen = await p.messages();
    expect(seen[0].photo).toBeDefined();
    expect(seen[0].text).toBe('');
    expect(seen[1].text).toBe('c'.repeat(1500));
    expect(seen[1].inline_keyboard?.[0][0].text).toBe('Next');
  });

  it('edits an earlier message, treats "not modified" as done, and sends anew when the message is gone', async () => {
    const p = await person();
    const first = await send(connector, p.id, { text: 'Step 1', buttons: [[{ type: 'action', label: 'Next', payload: 'n' }]] });
    const edit = { platformMessageId: first.platformMessageIds[0] };
    expect((await send(connector, p.id, { text: 'Step 2' }, { edit })).platformMessageIds).toEqual(first.platformMessageIds);
    expect((await send(connector, p.id, { text: 'Step 2' }, { edit })).platformMessageIds).toEqual(first.platformMessageIds);
    const seen = await p.messages();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ text: 'Step 2', edited: true });
    expect(seen[0].inline_keyboard).toBeUndefined();
    const fresh = await send(connector, p.id, { text: 'Step 3' }, { edit: { platformMessageId: '99999' } });
    expect(fresh.platformMessageIds).not.toEqual(['99999']);
    expect((await p.messages()).map((m) => m.text)).toEqual(['Step 2', 'Step 3']);
  });

  it('skips the parts an earlier attempt delivered', async () => {
    const p = await person();
    const text = 'a '.repeat(2000) + '\n\n' + 'b '.repeat(1000); // two parts
    const res = await send(connector, p.id, { text }, { skip: 1 });
    expect(res.platformMessageIds).toHaveLength(1);
    expect((await p.messages())[0].text.startsWith('b')).toBe(true);
  });

  it('fails permanently and marks the person unreachable once they blocked the bot', async () => {
    const p = await person();
    await p.block();
    const err = await failure(send(connector, p.id, { text: 'hello?' }));
    expect(err).toMatchObject({ kind: 'permanent', code: '403', unreachable: true });
    expect(err.message).toContain('bot was blocked by the user');
  });

  it('fails permanently (unreachable) for an unknown chat, and permanently for a wrong token', async () => {
    expect(await failure(send(connector, 424242, { text: 'hi' }))).toMatchObject({ kind: 'permanent', code: '400', unreachable: true });
    const wrong = connect({ token: '7000000001:AAwrongwrongwrongwrongwrong' });
    expect(await failure(send(wrong, 3001, { text: 'hi' }))).toMatchObject({ kind: 'permanent', code: '401', unreachable: false });
  });

  it('reports 429 as rate-limited with retry_after, keeping the ids of parts already sent', async () => {
    const tight = await startTelegramEmulator({ limits: { perChatBurst: 1, perChatPerSecond: 0.2 } });
    try {
      const fast = createTelegramConnector({ token: tight.token, mode: 'polling', apiRoot: tight.url, maxRps: 1000, perChatPerSecond: 1000, perChatBurst: 100 });
      const p = tight.person(77);
      await p.start();
      const err = await failure(fast.send(delivery({ text: 'x '.repeat(3000) }, fast.capabilities, '77')));
      expect(err.kind).toBe('rate-limited');
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(err.deliveredIds).toHaveLength(1);
      expect(await p.messages()).toHaveLength(1);
    } finally {
      await tight.close();
    }
  });

  it('keeps normal traffic under the platform limits with its own limiter (no 429)', async () => {
    const strict = await startTelegramEmulator();
    try {
      const normal = createTelegramConnector({ token: strict.token, mode: 'polling', apiRoot: strict.url, maxRps: 30 });
      const p = strict.person(88);
      await p.start();
      for (let i = 0; i < 6; i++) await normal.send(delivery({ text: `message ${i}` }, normal.capabilities, '88'));
      expect((await p.messages()).map((m) => m.text)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `message ${i}`));
      expect((await strict.client.calls()).filter((c) => c.status === 429)).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('reports a network failure as transient', async () => {
    const down = connect({ apiRoot: 'http://127.0.0.1:9', requestTimeoutMs: 2000 });
    expect(await failure(send(down, 1, { text: 'hi' }))).toMatchObject({ kind: 'transient' });
  });

  it('downloads what a person sent', async () => {
    const p = await person();
    const bytes = await png('#123456');
    const sent = await p.sendPhoto(bytes);
    const largest = sent.photo!.at(-1)!;
    expect(await connector.download!({ ref: largest.file_id })).toEqual(bytes);
  });
});
