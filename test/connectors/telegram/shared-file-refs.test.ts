/**
 * Telegram file_ids shared through the database: a file one replica uploaded is sent by file_id
 * from another replica and after a restart; a file_id Telegram refuses is replaced everywhere;
 * a failing store never fails a send.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import type { FileRefs } from '../../../src/connectors/connector.ts';
import { createTelegramConnector, type TelegramConnector } from '../../../src/connectors/telegram/index.ts';
import type { OutgoingMessage } from '../../../src/core/model.ts';
import { fileRefsIn } from '../../../src/storage/repositories/file-refs.ts';
import { freshStore } from '../../helpers/stores.ts';
import { delivery, silent } from './helpers.ts';

describe('Telegram file_ids shared by replicas', () => {
  let emu: TelegramEmulator;
  let store: Awaited<ReturnType<typeof freshStore>>;
  const connectors: TelegramConnector[] = [];
  let nextUser = 7000;

  beforeAll(async () => {
    emu = await startTelegramEmulator({ limits: { perChatBurst: 50, overallPerSecond: 1000 } });
    store = await freshStore('sqlite');
  });
  afterAll(async () => {
    for (const c of connectors) await c.close!();
    await emu.close();
    await store.drop();
  });

  const replica = (fileRefs?: FileRefs) => {
    const c = createTelegramConnector({ token: emu.token, mode: 'polling', apiRoot: emu.url, maxRps: 1000, perChatPerSecond: 100, perChatBurst: 50, fileRefs, log: silent });
    connectors.push(c);
    return c;
  };
  async function person() {
    const p = emu.person(++nextUser);
    await p.start();
    return p;
  }
  const send = (c: TelegramConnector, chat: number, message: OutgoingMessage) => c.send(delivery(message, c.capabilities, String(chat)));
  const photoParams = async () => (await emu.client.calls({ method: 'sendPhoto' })).map((c) => c.params.photo);

  it('sends by file_id from a second replica what the first one uploaded', async () => {
    const refs = fileRefsIn(store.db, 'telegram', 'main');
    const [a, b] = [replica(refs), replica(refs)];
    const p = await person();
    const image = { base64: (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } }).png().toBuffer()).toString('base64') };
    await emu.client.clearCalls();
    await send(a, p.id, { images: [image] });
    await send(b, p.id, { images: [image] });
    const [first, second] = await photoParams();
    expect(first).toMatchObject({ size: expect.any(Number) }); // uploaded
    expect(second).toBe((await p.messages())[0].photo?.file_id); // reused by the other replica
    const rows = await store.db.selectFrom('media_cache').selectAll().execute();
    expect(rows).toMatchObject([{ platform: 'telegram', bot: 'main', key: expect.stringMatching(/^sha256:/), file_ref: second }]);
  });

  it('uploads again when the shared file_id is refused, and shares the new one', async () => {
    const refs = fileRefsIn(store.db, 'telegram', 'main');
    const p = await person();
    const image = { base64: (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c63' } }).png().toBuffer()).toString('base64') };
    const key = `sha256:${(await import('node:crypto')).createHash('sha256').update(image.base64).digest('hex')}`;
    await refs.set(key, 'AgACbogus-file-id');
    await emu.client.clearCalls();
    await send(replica(refs), p.id, { images: [image] });
    const [refused, uploaded] = await photoParams();
    expect(refused).toBe('AgACbogus-file-id');
    expect(uploaded).toMatchObject({ size: expect.any(Number) });
    expect(await refs.get(key)).toBe((await p.messages())[0].photo?.file_id);
  });

  it('sends anyway when the store fails', async () => {
    const broken: FileRefs = {
      get: () => Promise.reject(new Error('database down')),
      set: () => Promise.reject(new Error('database down')),
      delete: () => Promise.reject(new Error('database down')),
    };
    const p = await person();
    const image = { base64: (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3c6' } }).png().toBuffer()).toString('base64') };
    const c = replica(broken);
    await send(c, p.id, { images: [image] });
    await send(c, p.id, { images: [image] });
    // Its own memory still serves the second send.
    expect((await photoParams()).slice(-1)[0]).toBe((await p.messages())[0].photo?.file_id);
    expect(await p.messages()).toHaveLength(2);
  });
});
