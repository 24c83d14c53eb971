/**
 * Telegram delivery benchmark against the emulator: a broadcast of one message to many people,
 * sent through the connector's rate limiter. Reports the achieved send rate, how many calls the
 * emulator refused with 429 (the limiter's job is to keep this at 0), and the same for a bot with
 * raised limits (TELEGRAM_MAX_RPS and the emulator's limit raised together). Also measures how
 * many updates per second the webhook route stores (fake in-memory inbox).
 *
 * Run alone: `node --import tsx bench/telegram.ts` (TG_BENCH_PEOPLE=N, default 150).
 */
import Fastify from 'fastify';
import pino from 'pino';
import { pathToFileURL } from 'node:url';
import { startTelegramEmulator } from '../emulators/telegram/index.ts';
import { createTelegramConnector } from '../src/connectors/telegram/index.ts';
import { renderMessage } from '../src/core/render.ts';
import { bold, fmt } from '../src/core/format.ts';
import type { OutgoingMessage } from '../src/core/model.ts';

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function broadcast(people: number, maxRps: number): Promise<{ rate: number; refused: number }> {
  const emu = await startTelegramEmulator({ limits: { overallPerSecond: maxRps } });
  try {
    const connector = createTelegramConnector({ token: emu.token, mode: 'polling', apiRoot: emu.url, maxRps });
    const ids = Array.from({ length: people }, (_, i) => 10_000 + i);
    for (const id of ids) await emu.person(id).sendText('/start');
    const message: OutgoingMessage = { text: fmt`The ${bold('programme')} is out!`, buttons: [[{ type: 'action', label: 'Register', payload: 'reg' }]] };
    const plan = renderMessage(message, connector.capabilities);
    await emu.client.clearCalls();
    const start = performance.now();
    await Promise.all(
      ids.map((id, i) =>
        connector.send({ messageId: i, conversation: { id: i, bot: 'main', platform: 'telegram', chatId: String(id) }, recipient: String(id), message, plan, attempt: 1 }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const refused = (await emu.client.calls()).filter((c) => c.status === 429).length;
    await connector.close?.();
    return { rate: round1(people / seconds), refused };
  } finally {
    await emu.close();
  }
}

async function webhookIngest(updates: number): Promise<number> {
  const connector = createTelegramConnector({ token: '1:benchbenchbenchbenchbench', mode: 'webhook', webhookSecret: 's', apiRoot: 'http://127.0.0.1:9', maxRps: 30 });
  const app = Fastify();
  let stored = 0;
  connector.registerRoutes!(app, { inbox: async () => ({ id: ++stored, duplicate: false }), log: pino({ level: 'silent' }), signal: new AbortController().signal });
  await app.ready();
  const start = performance.now();
  for (let i = 0; i < updates; i++) {
    await app.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 's' },
      payload: JSON.stringify({ update_id: i, message: { message_id: i, date: 0, chat: { id: 5, type: 'private', first_name: 'A' }, from: { id: 5, is_bot: false, first_name: 'A' }, text: `hi ${i}` } }),
    });
  }
  const rate = updates / ((performance.now() - start) / 1000);
  await app.close();
  return Math.round(rate);
}

export async function benchTelegram(people = Number(process.env.TG_BENCH_PEOPLE ?? 150)): Promise<Record<string, number>> {
  const normal = await broadcast(people, 30);
  const raised = await broadcast(people * 4, 300);
  return {
    'telegram broadcast rate at TELEGRAM_MAX_RPS=30 (msg/s)': normal.rate,
    'telegram 429 answers at 30/s': normal.refused,
    'telegram broadcast rate at TELEGRAM_MAX_RPS=300 (msg/s)': raised.rate,
    'telegram 429 answers at 300/s': raised.refused,
    'telegram webhook updates stored per second': await webhookIngest(2000),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchTelegram();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${v}\n`);
}
