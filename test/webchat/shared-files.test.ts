/**
 * The web chat's files live in the database, so web replicas share them without a shared disk:
 * an image uploaded through one replica is served by another, and a visitor connected to the other
 * can send it; the connector of either replica reads its bytes. The store itself is checked on both dialects.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebchatConnector, directoryFiles, withOlderFiles, type WebchatFileStore } from '../../src/connectors/webchat/index.ts';
import { WebchatFiles } from '../../src/connectors/webchat/uploads.ts';
import { webchatFilesIn } from '../../src/storage/repositories/webchat-files.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshStore } from '../helpers/stores.ts';
import { PNG_1PX, startHarness, type Harness } from './harness.ts';
import { ChatClient } from './ws-client.ts';

const pgAvailable = await havePostgres();

describe('web chat file store option', () => {
  it('refuses to start without a place for files, naming both options', () => {
    expect(() => createWebchatConnector({ history: async () => [] })).toThrow(/`files`.*`uploadDir`/);
  });
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`web chat files on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof freshStore>>;
    const harnesses: Harness[] = [];
    const clients: ChatClient[] = [];

    beforeAll(async () => {
      store = await freshStore(dialect);
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      for (const h of harnesses.splice(0)) await h.close();
    });
    afterAll(async () => {
      await store?.drop();
    });

    it('keeps every byte, knows size and dimensions without the bytes, and never replaces a name', async () => {
      const files = webchatFilesIn(store.db);
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
      await files.put({ name: 'a'.repeat(32) + '.bin', bytes });
      await files.put({ name: 'b'.repeat(32) + '.png', bytes: PNG_1PX, width: 1, height: 1 });
      await files.put({ name: 'a'.repeat(32) + '.bin', bytes: Buffer.from('new') });
      const got = await files.get('a'.repeat(32) + '.bin');
      expect(got?.bytes.equals(bytes)).toBe(true);
      expect(got?.size).toBe(512);
      expect(await files.info('b'.repeat(32) + '.png')).toEqual({ name: 'b'.repeat(32) + '.png', size: PNG_1PX.length, width: 1, height: 1 });
      expect(await files.info('a'.repeat(32) + '.bin')).toEqual({ name: 'a'.repeat(32) + '.bin', size: 512 });
      expect(await files.get('c'.repeat(32) + '.png')).toBeUndefined();
      expect(await files.info('c'.repeat(32) + '.png')).toBeUndefined();
    });

    it('stores media sent to many people once, also across replicas', async () => {
      const calls: string[] = [];
      const files = webchatFilesIn(store.db);
      const counting: WebchatFileStore = {
        put: (f) => (calls.push(`put ${f.name}`), files.put(f)),
        get: (n) => files.get(n),
        info: (n) => (calls.push(`info ${n}`), files.info(n)),
      };
      const media = { base64: PNG_1PX.toString('base64'), mime: 'image/png' };
      const [replicaA, replicaB] = [new WebchatFiles(counting), new WebchatFiles(counting)];
      const url = await replicaA.materialise(media, 'image');
      for (let i = 0; i < 5; i++) expect(await replicaA.materialise(media, 'image')).toBe(url);
      expect(await replicaB.materialise(media, 'image')).toBe(url);
      const name = url!.split('/').pop()!;
      // A looks once and stores; B looks once and finds it; nobody sends the bytes twice.
      expect(calls).toEqual([`info ${name}`, `put ${name}`, `info ${name}`]);
      expect((await files.get(name))?.bytes.equals(PNG_1PX)).toBe(true);
    });

    it('still serves the files an older version kept in a directory', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'webchat-older-'));
      try {
        const name = 'd'.repeat(32) + '.png';
        await writeFile(path.join(dir, name), PNG_1PX);
        const h = await startHarness({ files: withOlderFiles(webchatFilesIn(store.db), directoryFiles(dir)) });
        harnesses.push(h);
        const served = await fetch(`${h.url}/webchat/files/${name}`);
        expect(served.status).toBe(200);
        expect(Buffer.from(await served.arrayBuffer()).equals(PNG_1PX)).toBe(true);
        // A new file goes to the database, not to the old directory.
        const c = new ChatClient();
        clients.push(c);
        await c.connect(h.url);
        const res = await fetch(h.url + '/webchat/upload', { method: 'POST', headers: { 'content-type': 'image/png', 'x-webchat-token': c.token! }, body: new Uint8Array(PNG_1PX) });
        const { url } = (await res.json()) as { url: string };
        expect(await webchatFilesIn(store.db).info(url.split('/').pop()!)).toMatchObject({ size: PNG_1PX.length });
        expect(await readdir(dir)).toEqual([name]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('serves an upload from any replica, and a visitor on another replica can send it', async () => {
      const files = webchatFilesIn(store.db);
      const [a, b] = [await startHarness({ files }), await startHarness({ files })];
      harnesses.push(a, b);
      const onA = new ChatClient();
      clients.push(onA);
      await onA.connect(a.url);
      const res = await fetch(a.url + '/webchat/upload', {
        method: 'POST',
        headers: { 'content-type': 'image/png', 'x-webchat-token': onA.token! },
        body: new Uint8Array(PNG_1PX),
      });
      expect(res.status).toBe(201);
      const { url } = (await res.json()) as { url: string };

      // Replica B never saw the upload: it serves it from the database.
      const served = await fetch(b.url + url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await served.arrayBuffer()).equals(PNG_1PX)).toBe(true);

      // The same visitor, now connected to B, sends the image.
      const onB = new ChatClient(onA.token);
      clients.push(onB);
      await onB.connect(b.url);
      await onB.sendAcked({ type: 'image', url, text: 'my badge' });
      const event = b.stored[0].event as { images: Array<{ ref: string; width: number; height: number; size: number }> };
      expect(event.images[0]).toMatchObject({ width: 1, height: 1, size: PNG_1PX.length });
      // The bytes, through the other replica's connector.
      expect((await a.connector.download!(event.images[0] as never)).equals(PNG_1PX)).toBe(true);
      // Nothing went to either replica's own directory.
      expect([...(await readdir(a.uploadDir)), ...(await readdir(b.uploadDir))]).toEqual([]);
      expect((await fetch(b.url + '/webchat/files/' + 'f'.repeat(32) + '.png')).status).toBe(404);
    });
  });
}
