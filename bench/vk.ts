/**
 * VK delivery benchmark against the emulator: a broadcast of one message (text and an inline
 * button) to many people through the connector's pacing. Reports the achieved send rate, how
 * many calls the emulator refused with error 6 (the pacing's job is to keep this at 0), the same
 * for a community with raised limits (VK_MAX_RPS and the emulator's limit raised together), and
 * how many Callback API events per second the webhook route stores (fake in-memory inbox).
 *
 * Run alone: `node --import tsx bench/vk.ts` (VK_BENCH_PEOPLE=N, default 100).
 */
import Fastify from 'fastify';
import { pino } from 'pino';
import { pathToFileURL } from 'node:url';
import { startVkEmulator } from '../emulators/vk/index.ts';
import { createVkConnector } from '../src/connectors/vk/index.ts';
import { renderMessage } from '../src/core/render.ts';
import type { OutgoingMessage } from '../src/core/model.ts';

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function broadcast(people: number, maxRps: number): Promise<{ rate: number; refused: number }> {
  const emu = await startVkEmulator({ rps: maxRps });
  try {
    const connector = createVkConnector({ ...emu.connectorOptions, maxRps, mode: 'longpoll' });
    const ids = Array.from({ length: people }, (_, i) => 10_000 + i);
    for (const id of ids) await emu.client.person(id).start();
    const message: OutgoingMessage = { text: 'The programme is out!', buttons: [[{ type: 'action', label: 'Register', payload: 'reg' }]] };
    const plan = renderMessage(message, connector.capabilities);
    const before = emu.state.calls.length;
    const start = performance.now();
    await Promise.all(
      ids.map((id, i) =>
        connector.send({ messageId: i + 1, conversation: { id: i, bot: 'main', platform: 'vk', chatId: String(id) }, recipient: String(id), message, plan, attempt: 1 }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const refused = emu.state.calls.slice(before).filter((c) => c.errorCode === 6).length;
    return { rate: round1(people / seconds), refused };
  } finally {
    await emu.close();
  }
}

async function callbackIngest(events: number): Promise<number> {
  const connector = createVkConnector({ groupId: 1, accessToken: 't', apiRoot: 'http://127.0.0.1:9/method', maxRps: 20, mode: 'callback', secret: 's', confirmation: 'c' });
  const app = Fastify();
  let stored = 0;
  connector.registerRoutes!(app, { inbox: async () => ({ id: ++stored, duplicate: false }), log: pino({ level: 'silent' }), signal: new AbortController().signal });
  await app.ready();
  const start = performance.now();
  for (let i = 0; i < events; i++) {
    const message = { date: 0, from_id: 5, id: i + 1, out: 0, attachments: [], conversation_message_id: i + 1, fwd_messages: [], important: false, is_hidden: false, peer_id: 5, random_id: 0, text: `hi ${i}` };
    await app.inject({
      method: 'POST',
      url: '/webhooks/vk',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ group_id: 1, type: 'message_new', event_id: `e${i}`, v: '5.199', secret: 's', object: { message, client_info: { lang_id: 0 } } }),
    });
  }
  const rate = events / ((performance.now() - start) / 1000);
  await app.close();
  return Math.round(rate);
}

export async function benchVk(people = Number(process.env.VK_BENCH_PEOPLE ?? 100)): Promise<Record<string, number>> {
  const normal = await broadcast(people, 20);
  const raised = await broadcast(people * 3, 100);
  return {
    'vk broadcast rate at VK_MAX_RPS=20 (msg/s)': normal.rate,
    'vk error 6 answers at 20/s': normal.refused,
    'vk broadcast rate at VK_MAX_RPS=100 (msg/s)': raised.rate,
    'vk error 6 answers at 100/s': raised.refused,
    'vk callback events stored per second': await callbackIngest(2000),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchVk();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${v}\n`);
}
