/**
 * The conformance driver for Facebook Messenger: starts the Messenger emulator, builds the
 * connector pointed at it, points the emulator's webhook at Switchboard, and acts as people.
 *
 * Two Messenger facts shape the person handle:
 * - there is no spontaneous contact or location sharing (only the phone quick reply the bot
 *   offers), so `sendContact` and `sendLocation` are absent;
 * - Meta tells a page nothing when someone blocks it; the page learns from its next send (551).
 *   `block()` therefore has the person write a last message and block right after, so the
 *   bot's reply is the send that discovers the block.
 */
import { createMessengerConnector } from '../../../src/connectors/messenger/index.ts';
import { EmulatorRequestError, startMessengerEmulator, type PageMessage } from '../../../emulators/messenger/index.ts';
import type { DriverSetup, PersonHandle, PlatformDriver, SeenMessage } from '../driver.ts';

/** What the person sees: quick replies as one row, template buttons one per row. */
function seen(m: PageMessage): SeenMessage {
  const buttons: string[][] = [];
  if (m.buttons?.length) for (const b of m.buttons) buttons.push([b.title]);
  if (m.quickReplies?.length) buttons.push(m.quickReplies.map((q) => q.title));
  return { id: m.mid, text: m.text ?? '', buttons, ...(m.attachment?.type === 'image' ? { image: true } : {}) };
}

export const messengerDriver: PlatformDriver = {
  platform: 'messenger',
  modes: ['webhook'],

  async setup(mode: string): Promise<DriverSetup> {
    if (mode !== 'webhook') throw new Error(`Messenger has no "${mode}" mode; it only pushes to a webhook`);
    const fb = await startMessengerEmulator({ retryDelaysMs: [200, 1000, 3000] });
    const connector = createMessengerConnector({
      apiRoot: fb.apiRoot,
      pageAccessToken: fb.accessToken,
      appSecret: fb.appSecret,
      verifyToken: fb.verifyToken,
      maxRps: 250,
    });

    const person = (id: string): PersonHandle => {
      const p = fb.person(id);
      return {
        async start() {
          await p.getStarted();
        },
        async sendText(text: string) {
          await p.sendText(text);
        },
        async sendPhoto(png: Buffer) {
          await p.sendImage(png, 'image/png');
        },
        async pressButton(label: string) {
          try {
            await p.press(label);
          } catch (err: unknown) {
            if (!(err instanceof EmulatorRequestError) || err.status !== 409) throw err;
            // Buttons that did not fit were rendered as a numbered list: answer with the number.
            const line = new RegExp(`^(\\d+)\\. ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
            const messages = await p.messages();
            for (let i = messages.length - 1; i >= 0; i--) {
              const n = line.exec(messages[i].text ?? '')?.[1];
              if (n) return void (await p.sendText(n));
            }
            throw err;
          }
        },
        async block() {
          await p.block('bye');
        },
        async messages() {
          return (await p.messages()).map(seen);
        },
      };
    };

    return {
      connector,
      person,
      async attach(baseUrl: string) {
        await fb.setWebhook(`${baseUrl.replace(/\/+$/, '')}/webhooks/messenger`);
      },
      async close() {
        await connector.close?.();
        await fb.close();
      },
    };
  },
};

export default messengerDriver;
