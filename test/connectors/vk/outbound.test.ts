import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVkEmulator, type VkEmulator } from '../../../emulators/vk/index.ts';
import { createVkConnector } from '../../../src/connectors/vk/index.ts';
import { randomId } from '../../../src/connectors/vk/outbound.ts';
import type { Connector } from '../../../src/connectors/connector.ts';
import { bold, link } from '../../../src/core/format.ts';
import { matchOption } from '../../../src/core/render.ts';
import { delivery, png } from './helpers.ts';

let vk: VkEmulator;
let c: Connector;
let nextUser = 5000;

/** A person who wrote to the community, so it may answer them. */
async function person() {
  const p = vk.client.person(nextUser++);
  await p.sendText('hi');
  return p;
}

beforeAll(async () => {
  vk = await startVkEmulator({ groupId: 218000001 });
  c = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll' });
});
afterAll(async () => {
  await c.close?.();
  await vk.close();
});

describe('VK sending', () => {
  it('sends plain text, dropping formatting but keeping link addresses', async () => {
    const p = await person();
    const r = await c.send(delivery(c.capabilities, String(p.id), { text: [bold('Welcome'), { text: ', see ' }, link('the programme', 'https://ex.org/p')] }));
    const seen = await p.messages();
    expect(seen.map((m) => m.text)).toEqual(['Welcome, see the programme (https://ex.org/p)']);
    expect(r.platformMessageIds).toEqual([String(seen[0].id)]);
  });

  it('never delivers a resent message twice: the random_id comes from the message id and part', async () => {
    const p = await person();
    const d = delivery(c.capabilities, String(p.id), { text: 'only once' });
    const first = await c.send(d);
    const second = await c.send({ ...d, attempt: 2 });
    expect(second.platformMessageIds).toEqual(first.platformMessageIds);
    expect((await p.messages()).map((m) => m.text)).toEqual(['only once']);
    const sends = await vk.client.calls('messages.send');
    const mine = sends.filter((s) => s.params.peer_id === String(p.id));
    expect(mine.map((s) => s.params.random_id)).toEqual([String(randomId(d.messageId, 0)), String(randomId(d.messageId, 0))]);
  });

  it('gives each message and part its own positive int32 random_id', () => {
    const seen = new Set<number>();
    for (let m = 1; m <= 2000; m++) for (let part = 0; part < 4; part++) seen.add(randomId(m, part));
    for (const m of [67_108_862, 3_000_000_000]) for (let part = 0; part < 40; part++) seen.add(randomId(m, part));
    expect(seen.size).toBe(8000 + 80);
    for (const id of seen) expect(id >= 1 && id <= 2_147_483_647).toBe(true);
    expect(randomId(42, 1)).toBe(randomId(42, 1));
  });

  it('splits text above 9000 characters into parts, each delivered once even when the whole message is resent', async () => {
    const p = await person();
    const text = Array.from({ length: 1500 }, (_, i) => `word${i % 10}`.padEnd(9, ' ') + (i % 50 === 49 ? '\n' : ' ')).join('').repeat(2);
    const d = delivery(c.capabilities, String(p.id), { text });
    expect(d.plan.parts.length).toBeGreaterThan(1);
    const r = await c.send(d);
    await c.send(d);
    const seen = await p.messages();
    expect(seen).toHaveLength(d.plan.parts.length);
    expect(seen.every((m) => m.text.length <= 9000)).toBe(true);
    expect(r.platformMessageIds).toEqual(seen.map((m) => String(m.id)));
  });

  it('skips the parts a previous attempt delivered when the gateway says so', async () => {
    const p = await person();
    const d = delivery(c.capabilities, String(p.id), { text: 'caption', images: [{ base64: png().toString('base64') }] }, { skip: 1 });
    const r = await c.send(d);
    const seen = await p.messages();
    expect(r.platformMessageIds).toHaveLength(1);
    expect(seen.map((m) => ({ text: m.text, image: m.image }))).toEqual([{ text: 'caption', image: false }]);
  });

  it('shows action buttons as callback buttons under the message and links as link buttons', async () => {
    const p = await person();
    await c.send(
      delivery(c.capabilities, String(p.id), {
        text: 'Menu',
        buttons: [[{ type: 'action', label: 'Events', payload: 'events' }, { type: 'action', label: 'Ask', payload: 'ask' }], [{ type: 'url', label: 'Site', url: 'https://ex.org' }]],
      }),
    );
    const [m] = await p.messages();
    expect(m.keyboard).toEqual({
      inline: true,
      oneTime: false,
      buttons: [
        [
          { type: 'callback', label: 'Events', payload: '{"a":"events"}' },
          { type: 'callback', label: 'Ask', payload: '{"a":"ask"}' },
        ],
        [{ type: 'open_link', label: 'Site', link: 'https://ex.org' }],
      ],
    });
  });

  it('uses a chat keyboard with text buttons and a location request when asked for a reply keyboard', async () => {
    const p = await person();
    await c.send(
      delivery(c.capabilities, String(p.id), {
        text: 'Where are you?',
        buttons: [[{ type: 'location', label: 'Send my location' }, { type: 'action', label: 'Skip', payload: 'skip' }]],
      }),
    );
    const [m] = await p.messages();
    expect(m.keyboard?.inline).toBe(false);
    expect(m.keyboard?.buttons.map((r) => r.map((b) => b.type))).toEqual([['location'], ['text']]);
    // Pressing the text button sends its label with the payload; the location button shares geo.
    const pressed = await p.press('Skip');
    expect(pressed.eventId).toBeTruthy();
    await p.shareLocation(55.75, 37.62);
    const all = await p.messages({ all: true });
    expect(all.at(-2)?.text).toBe('Skip');
  });

  it('asks for a contact in words, since VK has no contact button', async () => {
    const p = await person();
    await c.send(delivery(c.capabilities, String(p.id), { text: 'We need your phone', buttons: [[{ type: 'contact', label: 'Type your phone number' }]] }));
    const [m] = await p.messages();
    expect(m.text).toBe('We need your phone\n\nType your phone number');
    expect(m.keyboard).toBeUndefined();
  });

  it('turns more buttons than an inline keyboard holds into numbered options', async () => {
    const p = await person();
    const buttons = Array.from({ length: 12 }, (_, i) => [{ type: 'action' as const, label: `Talk ${i + 1}`, payload: `talk:${i + 1}` }]);
    const d = delivery(c.capabilities, String(p.id), { text: 'Pick a talk', buttons });
    await c.send(d);
    const [m] = await p.messages();
    expect(m.text.split('\n').slice(2, 4)).toEqual(['1. Talk 1', '2. Talk 2']);
    expect(matchOption('12', d.plan.options)).toBe('talk:12');
  });

  it('sends buttons without text, as VK refuses an empty message', async () => {
    const p = await person();
    await c.send(delivery(c.capabilities, String(p.id), { buttons: [[{ type: 'action', label: 'Next', payload: 'next' }]] }));
    const [m] = await p.messages();
    expect(m.buttons).toEqual([['Next']]);
    expect(m.text.trim()).toBe('\u3164');
  });

  it('removes a chat keyboard shown earlier', async () => {
    const p = await person();
    await c.send(delivery(c.capabilities, String(p.id), { text: 'Pick', keyboard: 'reply', buttons: [[{ type: 'action', label: 'A', payload: 'a' }]] }));
    await c.send(delivery(c.capabilities, String(p.id), { text: 'Done', removeKeyboard: true }));
    await expect(p.press('A')).rejects.toThrow(/no visible button/);
  });

  it('uploads a photo through the upload server and attaches it with its caption', async () => {
    const p = await person();
    const r = await c.send(delivery(c.capabilities, String(p.id), { images: [{ base64: png(40, 30).toString('base64'), caption: 'Your QR code' }] }));
    const [m] = await p.messages();
    expect(m).toMatchObject({ text: 'Your QR code', image: true });
    expect(r.platformMessageIds).toEqual([String(m.id)]);
    const bytes = Buffer.from(await (await fetch(m.attachments[0].url)).arrayBuffer());
    expect(bytes.equals(png(40, 30))).toBe(true);
    const methods = (await vk.client.calls()).map((x) => x.method);
    expect(methods).toEqual(expect.arrayContaining(['photos.getMessagesUploadServer', 'photos.saveMessagesPhoto']));
  });

  it('uploads a file from disk as a document', async () => {
    const p = await person();
    const dir = mkdtempSync(join(tmpdir(), 'vk-out-'));
    const path = join(dir, 'slides.pdf');
    writeFileSync(path, Buffer.from('%PDF-1.4 slides'));
    await c.send(delivery(c.capabilities, String(p.id), { files: [{ path }], text: 'Slides of the talk' }));
    const seen = await p.messages();
    expect(seen[0].attachments).toEqual([{ type: 'doc', url: expect.any(String), title: 'slides.pdf' }]);
    expect(seen[1].text).toBe('Slides of the talk');
  });

  it('edits an earlier message, by message id or by the conversation id a button press reports', async () => {
    const p = await person();
    const d = delivery(c.capabilities, String(p.id), { text: 'Seats left: 3', buttons: [[{ type: 'action', label: 'Register', payload: 'reg' }]] });
    const [id] = (await c.send(d)).platformMessageIds;
    await c.send(delivery(c.capabilities, String(p.id), { text: 'Seats left: 2' }, { edit: { platformMessageId: id } }));
    let [m] = await p.messages();
    expect(m).toMatchObject({ text: 'Seats left: 2', edited: true, buttons: [] });
    await c.send(delivery(c.capabilities, String(p.id), { text: 'Seats left: 1' }, { edit: { platformMessageId: `cmid:${m.cmid}` } }));
    [m] = await p.messages();
    expect(m.text).toBe('Seats left: 1');
    expect(await p.messages()).toHaveLength(1);
  });

  it('downloads what a person sent', async () => {
    const p = await person();
    await p.sendPhoto(png(12, 10));
    const [, photoMsg] = (await vk.client.events()).events.filter((e) => e.type === 'message_new' && (e.object.message as { from_id: number }).from_id === p.id);
    const att = (photoMsg.object.message as { attachments: { photo: { sizes: { url: string }[] } }[] }).attachments[0];
    const bytes = await c.download!({ ref: att.photo.sizes[2].url, url: att.photo.sizes[2].url });
    expect(bytes.equals(png(12, 10))).toBe(true);
  });
});
