/**
 * The conformance driver for the web chat. The web chat needs no emulator: the person is a
 * WebSocket client speaking the frame protocol, exactly as the page does (hello with a token,
 * frames acked after they are stored, images through `/webchat/upload`).
 *
 * Web chat facts that shape the person handle:
 * - contact is a typed phone number and location the browser's position; both are frames;
 * - there is no "block" in a browser; the nearest is "End chat", which stores a membership
 *   `blocked` event and makes the page forget the visitor, so `block()` sends `leave`.
 *
 * The connector's `history` is empty here (the runtime in the suite does not hand its store to
 * drivers); the person keeps one socket open per scenario, so every message arrives live.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebchatConnector } from '../../../src/connectors/webchat/index.ts';
import { ChatClient, textOf, type PartFrame } from '../../webchat/ws-client.ts';
import type { DriverSetup, PersonHandle, PlatformDriver, SeenMessage } from '../driver.ts';

/** What the person sees of one part: its text (and caption), its buttons, whether it shows an image. */
function seen(part: PartFrame): SeenMessage {
  const caption = part.image?.captionHtml ?? part.file?.captionHtml;
  const text = [textOf(part.html), textOf(caption)].filter(Boolean).join('\n');
  return { id: part.id, text, buttons: (part.buttons ?? []).map((row) => row.map((b) => b.label)), ...(part.image ? { image: true } : {}) };
}

export const webchatDriver: PlatformDriver = {
  platform: 'webchat',
  modes: ['push'],

  async setup(mode: string): Promise<DriverSetup> {
    if (mode !== 'push') throw new Error(`the web chat has no "${mode}" mode; it pushes over its WebSocket`);
    const uploadDir = await mkdtemp(path.join(tmpdir(), 'webchat-conformance-'));
    const connector = createWebchatConnector({ uploadDir, history: async () => [] });
    const clients = new Map<string, ChatClient>();
    let baseUrl: string | undefined;

    async function client(id: string): Promise<ChatClient> {
      let c = clients.get(id);
      if (c?.isOpen) return c;
      if (!baseUrl) throw new Error('web chat driver: attach() was not called');
      // One stable visitor per person id, as one browser keeps its token.
      c ??= new ChatClient(createHash('sha256').update(`conformance:${id}`).digest('base64url'));
      clients.set(id, c);
      await c.connect(baseUrl);
      return c;
    }

    const person = (id: string): PersonHandle => ({
      async start() {
        await (await client(id)).sendAcked({ type: 'start' });
      },
      async sendText(text: string) {
        await (await client(id)).sendAcked({ type: 'text', text });
      },
      async sendPhoto(png: Buffer) {
        const c = await client(id);
        const res = await fetch(`${baseUrl}/webchat/upload`, {
          method: 'POST',
          headers: { 'content-type': 'image/png', 'x-webchat-token': c.token! },
          body: new Uint8Array(png),
        });
        if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
        const { url } = (await res.json()) as { url: string };
        await c.sendAcked({ type: 'image', url });
      },
      async sendContact(phone: string) {
        await (await client(id)).sendAcked({ type: 'contact', phone });
      },
      async sendLocation(latitude: number, longitude: number) {
        await (await client(id)).sendAcked({ type: 'location', latitude, longitude });
      },
      async pressButton(label: string) {
        const c = await client(id);
        const parts = c.parts();
        for (let i = parts.length - 1; i >= 0; i--) {
          const button = parts[i].buttons?.flat().find((b) => b.label === label);
          if (button?.type === 'action') return void (await c.sendAcked({ type: 'action', payload: button.payload, messageId: parts[i].id }));
          if (button?.type === 'contact' || button?.type === 'location') throw new Error(`"${label}" is a ${button.type} request: use sendContact/sendLocation`);
        }
        throw new Error(`no button "${label}" on the messages shown: ${JSON.stringify(parts.map((p) => p.buttons ?? []))}`);
      },
      async block() {
        const c = await client(id);
        await c.sendAcked({ type: 'leave' });
        await c.next((f) => f.type === 'left');
      },
      async messages() {
        const c = clients.get(id);
        return c ? c.parts().map(seen) : [];
      },
    });

    return {
      connector,
      person,
      async attach(url: string) {
        baseUrl = url.replace(/\/+$/, '');
      },
      async close() {
        for (const c of clients.values()) await c.close();
        await rm(uploadDir, { recursive: true, force: true });
      },
    };
  },
};
