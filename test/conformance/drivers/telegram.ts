/**
 * The conformance driver for Telegram: starts the Telegram emulator, builds the connector in
 * webhook or polling mode pointed at it, points the emulator's webhook at Switchboard's
 * `/webhooks/telegram` (webhook mode), and acts as people through the emulator's user side.
 *
 * Telegram facts that shape the person handle:
 * - people are numeric user ids: a person name that is not a number gets a stable id of its own;
 * - contact and location are shared natively (the person's own contact carries their user_id);
 * - blocking the bot sends my_chat_member (kicked); later sends fail with 403.
 */
import { EmulatorRequestError, startTelegramEmulator, type MessageView } from '../../../emulators/telegram/index.ts';
import { createTelegramConnector } from '../../../src/connectors/telegram/index.ts';
import type { DriverSetup, PersonHandle, PlatformDriver, SeenMessage } from '../driver.ts';

const SECRET = 'conformance-secret';

/** A stable Telegram user id for a person name ("alice" → 1xxxxxxxx). */
function userId(name: string): number {
  if (/^\d{1,15}$/.test(name)) return Number(name);
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
  return 100_000_000 + (h % 900_000_000);
}

function seen(m: MessageView): SeenMessage {
  const rows = m.inline_keyboard ?? m.keyboard ?? [];
  return { id: String(m.message_id), text: m.text, buttons: rows.map((r) => r.map((b) => b.text)), ...(m.photo ? { image: true } : {}) };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const telegramDriver: PlatformDriver = {
  platform: 'telegram',
  modes: ['webhook', 'polling'],

  async setup(mode: string): Promise<DriverSetup> {
    if (mode !== 'webhook' && mode !== 'polling') throw new Error(`Telegram has no "${mode}" mode; use webhook or polling`);
    const tg = await startTelegramEmulator({ webhookRetry: { minDelayMs: 200, maxDelayMs: 2000 } });
    const connector = createTelegramConnector({
      token: tg.token,
      mode,
      apiRoot: tg.url,
      maxRps: 30,
      pollTimeoutSeconds: 5,
      ...(mode === 'webhook' ? { webhookSecret: SECRET } : {}),
    });

    const person = (name: string): PersonHandle => {
      const p = tg.person(userId(name));
      let named = false;
      const ensureNamed = async () => {
        if (!named && !/^\d+$/.test(name)) await p.profile({ first_name: name });
        named = true;
      };
      return {
        async start() {
          await ensureNamed();
          await p.start();
        },
        async sendText(text: string) {
          await ensureNamed();
          await p.sendText(text);
        },
        async sendPhoto(png: Buffer) {
          await ensureNamed();
          await p.sendPhoto(png);
        },
        async sendContact(phone: string) {
          await ensureNamed();
          await p.sendContact({ phone });
        },
        async sendLocation(latitude: number, longitude: number) {
          await ensureNamed();
          await p.sendLocation(latitude, longitude);
        },
        async pressButton(label: string) {
          try {
            await p.press(label);
          } catch (err: unknown) {
            if (!(err instanceof EmulatorRequestError) || err.status !== 404) throw err;
            // Buttons that did not fit were rendered as a numbered list: answer with the number.
            const line = new RegExp(`^(\\d+)\\. ${escapeRe(label)}$`, 'm');
            const messages = await p.messages();
            for (let i = messages.length - 1; i >= 0; i--) {
              const n = line.exec(messages[i].text)?.[1];
              if (n) return void (await p.sendText(n));
            }
            throw err;
          }
        },
        async block() {
          await p.block();
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
        if (mode !== 'webhook') return;
        const url = `${baseUrl.replace(/\/+$/, '')}/webhooks/telegram`;
        const res = await fetch(`${tg.url}/bot${tg.token}/setWebhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url, secret_token: SECRET, allowed_updates: ['message', 'callback_query', 'my_chat_member'] }),
        });
        const answer = (await res.json()) as { ok: boolean; description?: string };
        if (!answer.ok) throw new Error(`setWebhook on the Telegram emulator failed: ${answer.description}`);
      },
      async close() {
        await connector.close?.();
        await tg.close();
      },
    };
  },
};

export default telegramDriver;
