import pino from 'pino';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import { createTelegramConnector, type TelegramConnector } from '../../../src/connectors/telegram/index.ts';
import { FakeInbox, delivery, until } from './helpers.ts';

describe('Telegram long polling against the emulator', () => {
  let emu: TelegramEmulator;
  let connector: TelegramConnector;
  let inbox: FakeInbox;
  let stop: AbortController;
  let logs: string[];

  async function startPolling() {
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
    await connector.start!({ inbox: inbox.inbox, log, signal: stop.signal });
  }

  beforeEach(async () => {
    emu = await startTelegramEmulator();
    connector = createTelegramConnector({ token: emu.token, mode: 'polling', apiRoot: emu.url, maxRps: 30, pollTimeoutSeconds: 2 });
    inbox = new FakeInbox();
    stop = new AbortController();
    logs = [];
  });
  afterEach(async () => {
    stop.abort();
    await connector.close!();
    await emu.close();
  });

  it('receives what a person does: start, text, photo, shared contact and location, reply buttons, blocking', async () => {
    expect(connector.receiveMode).toBe('poll');
    await startPolling();
    const bob = emu.person(4001);
    await bob.start('promo');
    await until(() => inbox.stored.length === 1, 'start');
    await connector.send(delivery({
      text: 'Share?',
      keyboard: 'reply',
      buttons: [[{ type: 'contact', label: 'Phone' }, { type: 'location', label: 'Location' }], [{ type: 'action', label: 'Skip', payload: 'skip' }]],
    }, connector.capabilities, '4001'));
    await bob.sendText('hello');
    const image = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#fff' } }).png().toBuffer();
    await bob.sendPhoto(image);
    await bob.press('Phone');
    await bob.press('Location', { location: { latitude: 1.5, longitude: 2.5 } });
    await bob.press('Skip');
    await bob.block();
    await bob.unblock();
    await until(() => inbox.stored.length === 8, 'eight updates');
    expect(inbox.stored.map((u) => u.event)).toEqual([
      { kind: 'start', payload: 'promo' },
      { kind: 'message', text: 'hello' },
      { kind: 'message', images: [expect.objectContaining({ width: 100, height: 100 })] },
      { kind: 'message', contact: { phone: '+15550004001', firstName: 'User 4001', own: true } },
      { kind: 'message', location: { latitude: 1.5, longitude: 2.5 } },
      // A pressed reply button is its label as text; the runtime maps it back (reply-keyboard.ts).
      { kind: 'message', text: 'Skip' },
      { kind: 'membership', status: 'blocked' },
      { kind: 'membership', status: 'allowed' },
    ]);
    expect(new Set(inbox.stored.map((u) => u.chatId))).toEqual(new Set(['4001']));
    const [photoUpdate] = inbox.stored.filter((u) => u.event.kind === 'message' && u.event.images);
    const ref = photoUpdate.event.kind === 'message' ? photoUpdate.event.images![0].ref : '';
    expect(await connector.download!({ ref })).toEqual(image);
  });

  it('refetches an update the inbox failed to store, so nothing is lost or doubled', async () => {
    inbox.failNext = 1;
    await startPolling();
    const p = emu.person(4002);
    await p.sendText('one');
    await p.sendText('two');
    await until(() => inbox.stored.length === 2, 'both messages');
    expect(inbox.stored.map((u) => (u.event.kind === 'message' ? u.event.text : ''))).toEqual(['one', 'two']);
    expect(logs.some((l) => l.includes('storing an update failed'))).toBe(true);
  });

  it('removes a webhook left from webhook mode before polling', async () => {
    await fetch(`${emu.url}/bot${emu.token}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) });
    await startPolling();
    await emu.person(4003).sendText('hi');
    await until(() => inbox.stored.length === 1, 'the message');
    expect((await emu.client.bots())[0].webhook).toBeNull();
  });

  it('explains a 409 from a second poller in the log and keeps polling', async () => {
    await startPolling();
    await until(async () => (await emu.client.calls({ method: 'getUpdates' })).length > 0, 'the first poll');
    // Another process polls with the same token: Telegram terminates the older request with 409.
    const other = await fetch(`${emu.url}/bot${emu.token}/getUpdates?timeout=0`).then((r) => r.json());
    expect(other.ok).toBe(true);
    await until(() => logs.some((l) => l.includes('another process is polling with the same bot token')), 'the 409 explanation');
    await emu.person(4004).sendText('still here');
    await until(() => inbox.stored.length === 1, 'the message after the conflict');
  });

  it('stops polling when closed', async () => {
    await startPolling();
    await connector.close!();
    const before = (await emu.client.calls({ method: 'getUpdates' })).length;
    await emu.person(4005).sendText('anyone?');
    await new Promise((r) => setTimeout(r, 300));
    expect((await emu.client.calls({ method: 'getUpdates' })).length).toBe(before);
    expect(inbox.stored).toHaveLength(0);
  });
});
