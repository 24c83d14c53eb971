/**
 * The conformance driver for VK: starts the VK emulator, builds the connector in Callback API or
 * Bots Long Poll mode pointed at it, confirms Switchboard's `/webhooks/vk` as the community's
 * callback server (callback mode), and acts as people.
 *
 * VK facts that shape the person handle:
 * - people are numeric user ids: the driver gives each person name its own id;
 * - VK has no contact sharing, so `sendContact` is absent; location is a geo message;
 * - blocking is «deny messages»: VK sends message_deny, and later sends fail with 901;
 * - VK reports the client's language; people here use English clients (lang_id 3).
 */
import { startVkEmulator, VkEmulatorError, type SeenMessage as VkSeen } from '../../../emulators/vk/index.ts';
import { createVkConnector } from '../../../src/connectors/vk/index.ts';
import type { DriverSetup, PersonHandle, PlatformDriver, SeenMessage } from '../driver.ts';

const SECRET = 'conformance-secret';
const CONFIRMATION = 'c0nf1rm';

function seen(m: VkSeen): SeenMessage {
  return { id: String(m.id), text: m.text, buttons: m.buttons, ...(m.image ? { image: true } : {}) };
}

export const vkDriver: PlatformDriver = {
  platform: 'vk',
  modes: ['callback', 'longpoll'],

  async setup(mode: string): Promise<DriverSetup> {
    if (mode !== 'callback' && mode !== 'longpoll') throw new Error(`VK has no "${mode}" mode; use callback or longpoll`);
    const vk = await startVkEmulator({ groupId: 218000001, callbackRetryDelayMs: 200 });
    const connector = createVkConnector({
      ...vk.connectorOptions,
      mode,
      longPollWait: 2,
      ...(mode === 'callback' ? { secret: SECRET, confirmation: CONFIRMATION } : {}),
    });
    const ids = new Map<string, number>();

    const person = (name: string): PersonHandle => {
      let id = ids.get(name);
      if (id === undefined) ids.set(name, (id = 100_001 + ids.size));
      const p = vk.client.person(id);
      // VK reports each person's client language (lang_id); the scenarios are written in English.
      const english = p.update({ langId: 3 });
      const act = async (fn: () => Promise<unknown>) => {
        await english;
        await fn();
      };
      return {
        async start() {
          await act(() => p.start());
        },
        async sendText(text: string) {
          await act(() => p.sendText(text));
        },
        async sendPhoto(png: Buffer) {
          await act(() => p.sendPhoto(png));
        },
        async sendLocation(latitude: number, longitude: number) {
          await act(() => p.sendLocation(latitude, longitude));
        },
        async pressButton(label: string) {
          try {
            await act(() => p.press(label));
          } catch (err: unknown) {
            if (!(err instanceof VkEmulatorError) || err.status !== 404) throw err;
            // Buttons that did not fit were rendered as a numbered list: answer with the number.
            const line = new RegExp(`^(\\d+)\\. ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
            const messages = await p.messages();
            for (let i = messages.length - 1; i >= 0; i--) {
              const n = line.exec(messages[i].text)?.[1];
              if (n) return void (await act(() => p.sendText(n)));
            }
            throw err;
          }
        },
        async block() {
          await act(() => p.deny());
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
        if (mode === 'callback') {
          await vk.client.setCallbackServer({ url: `${baseUrl.replace(/\/+$/, '')}/webhooks/vk`, secret: SECRET, confirmation: CONFIRMATION });
          return;
        }
        // A poller sees only events after it took its first key: wait for that before people act.
        const deadline = Date.now() + 20_000;
        while (!(await vk.client.calls('groups.getLongPollServer')).some((c) => c.errorCode === undefined)) {
          if (Date.now() > deadline) throw new Error('the VK connector did not start long polling within 20 s');
          await new Promise((r) => setTimeout(r, 25));
        }
      },
      async close() {
        await connector.close?.();
        await vk.close();
      },
    };
  },
};

export default vkDriver;
