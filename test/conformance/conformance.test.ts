/**
 * One scenario suite — start, buttons, the demo dialog, a photo, contact and location where the
 * platform has them, blocking the bot — run against every connector and receive mode, through
 * the platform emulators, with the demo bot and the real runtime.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBot } from '../../src/bot/demo.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import type { DriverSetup, PersonHandle, PlatformDriver, SeenMessage } from './driver.ts';
import { messengerDriver } from './drivers/messenger.ts';
import { telegramDriver } from './drivers/telegram.ts';
import { vkDriver } from './drivers/vk.ts';
import { webchatDriver } from './drivers/webchat.ts';

const drivers: PlatformDriver[] = [telegramDriver, vkDriver, messengerDriver, webchatDriver];

/** A small valid PNG (8×8, grey), for the photo scenario. */
function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.alloc(8 * 9, 0x80);
  for (let y = 0; y < 8; y++) raw[y * 9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function expectReply(person: PersonHandle, seenBefore: number, pred: (m: SeenMessage) => boolean, what: string): Promise<SeenMessage> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const all = await person.messages();
    const found = all.slice(seenBefore).find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no reply ${what}; the bot sent: ${JSON.stringify(all.slice(seenBefore).map((m) => m.text))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const has = (text: string) => (m: SeenMessage) => m.text.includes(text);

for (const driver of drivers) {
  for (const mode of driver.modes) {
    describe(`conformance: ${driver.platform} (${mode})`, () => {
      let setup: DriverSetup;
      let sb: Switchboard;
      beforeAll(async () => {
        setup = await driver.setup(mode);
        sb = await startSwitchboard({
          env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEBCHAT_ENABLED: 'false', SWEEP_INTERVAL_MS: '500', POLL_LEASE_MS: '3000' },
          bot: createDemoBot(),
          connectors: [setup.connector],
        });
        await setup.attach?.(sb.url!);
      }, 60_000);
      afterAll(async () => {
        await sb?.close();
        await setup?.close();
      });

      it('greets on start with the menu buttons', async () => {
        const p = setup.person('u-start');
        await p.start();
        const hello = await expectReply(p, 0, has('Hello'), 'to start');
        expect(hello.text).toContain('Switchboard demo bot');
        const labels = hello.buttons.flat().join('|') + hello.text;
        expect(labels).toContain('Tell me about yourself');
        expect(labels).toContain('What can you do?');
      });

      it('runs the demo dialog from a button press, remembering name and city', async () => {
        const p = setup.person('u-dialog');
        await p.start();
        await expectReply(p, 0, has('Hello'), 'to start');
        let seen = (await p.messages()).length;
        await p.pressButton('Tell me about yourself');
        await expectReply(p, seen, has('What is your name?'), 'asking the name');
        seen = (await p.messages()).length;
        await p.sendText('Ann');
        await expectReply(p, seen, has('Nice to meet you, Ann!'), 'asking the city');
        seen = (await p.messages()).length;
        await p.sendText('Kazan');
        await expectReply(p, seen, has('I will remember that you are from Kazan'), 'confirming');
        seen = (await p.messages()).length;
        await p.start();
        await expectReply(p, seen, has('I remember that you are from Kazan'), 'remembering after the dialog');
      });

      it('quotes free text back', async () => {
        const p = setup.person('u-echo');
        await p.sendText('hello there');
        await expectReply(p, 0, has('You said: «hello there»'), 'quoting');
      });

      it('acknowledges a photo', async () => {
        const p = setup.person('u-photo');
        await p.sendPhoto(tinyPng());
        await expectReply(p, 0, has('Got your image'), 'to the photo');
      });

      it('takes a shared contact and a location where the platform has them', async () => {
        const p = setup.person('u-share');
        let seen = 0;
        if (p.sendContact) {
          await p.sendContact('+79001234567');
          await expectReply(p, seen, has('+79001234567'), 'to the contact');
          seen = (await p.messages()).length;
        }
        if (p.sendLocation) {
          await p.sendLocation(55.75, 37.61);
          await expectReply(p, seen, has('55.75000, 37.61000'), 'to the location');
        }
        expect(p.sendContact || p.sendLocation || driver.platform === 'messenger').toBeTruthy();
      });

      it('marks the person unreachable when they block the bot, and stops nothing else', async () => {
        const p = setup.person('u-block');
        await p.sendText('before');
        await expectReply(p, 0, has('before'), 'before blocking');
        await p.block();
        const deadline = Date.now() + 20_000;
        let unreachable: string | null = null;
        while (!unreachable && Date.now() < deadline) {
          const rows = await sb.store.db.selectFrom('identities').select(['unreachable', 'platform_user_id']).where('platform', '=', driver.platform).execute();
          unreachable = rows.map((r) => r.unreachable).find((u) => u) ?? null;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(unreachable).toBeTruthy();
        const other = setup.person('u-after-block');
        await other.sendText('still here');
        await expectReply(other, 0, has('still here'), 'to another person');
      });
    });
  }
}

it('covers every platform and receive mode', () => {
  expect(drivers.flatMap((d) => d.modes.map((m) => `${d.platform}:${m}`)).sort()).toEqual(
    ['messenger:webhook', 'telegram:polling', 'telegram:webhook', 'vk:callback', 'vk:longpoll', 'webchat:push'],
  );
});
