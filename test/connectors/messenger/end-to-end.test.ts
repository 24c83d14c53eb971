/**
 * The connector against the emulator over real HTTP: the emulator verifies the webhook and pushes
 * signed events to the connector's routes; the connector answers through the Send API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createMessengerConnector, MESSENGER_CAPABILITIES, type MessengerConnector } from '../../../src/connectors/messenger/index.ts';
import type { OutgoingMessage } from '../../../src/core/model.ts';
import { renderMessage } from '../../../src/core/render.ts';
import { startMessengerEmulator, type MessengerEmulator } from '../../../emulators/messenger/index.ts';
import { context, fakeInbox } from './helpers.ts';

let fb: MessengerEmulator;
let app: FastifyInstance;
let connector: MessengerConnector;
const { inbox, stored } = fakeInbox();

beforeAll(async () => {
  fb = await startMessengerEmulator();
  connector = createMessengerConnector({
    apiRoot: fb.apiRoot,
    pageAccessToken: fb.accessToken,
    appSecret: fb.appSecret,
    verifyToken: fb.verifyToken,
    maxRps: 250,
    getStartedPayload: 'HELLO',
  });
  app = Fastify({ logger: false });
  await connector.registerRoutes?.(app, context(inbox));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  await connector.start?.(context(inbox));
  await fb.setWebhook(`${base}/webhooks/messenger`);
});
afterAll(async () => {
  await app.close();
  await connector.close?.();
  await fb.close();
});

function reply(to: string, message: OutgoingMessage) {
  return connector.send({
    messageId: 1,
    conversation: { id: 1, bot: 'main', platform: 'messenger', chatId: to },
    recipient: to,
    message,
    plan: renderMessage(message, MESSENGER_CAPABILITIES),
    lastInboundAt: Date.now(),
    attempt: 1,
  });
}

const last = () => stored[stored.length - 1];

describe('Messenger connector ↔ emulator', () => {
  it('sets the Get Started payload on start, so the first tap arrives as a start', async () => {
    expect((await fb.info()).getStartedPayload).toBe('HELLO');
    const res = await fb.person('5001').getStarted();
    expect(res.delivered).toBe(true);
    expect(last()).toMatchObject({ chatId: '5001', event: { kind: 'start' } });
  });

  it('carries a conversation: buttons pressed, phone shared, photo downloaded', async () => {
    const p = fb.person('5002');
    await p.profile({ phone: '+15550001111' });
    await p.sendText('hi');
    expect(last().event).toEqual({ kind: 'message', text: 'hi' });

    await reply(p.psid, { text: 'Menu', buttons: [[{ type: 'action', label: 'Events', payload: 'events' }]] });
    await p.press('Events');
    expect(last().event).toEqual({ kind: 'action', payload: 'events' });

    const many = [Array.from({ length: 5 }, (_, i) => ({ type: 'action' as const, label: `Day ${i + 1}`, payload: `day:${i + 1}` }))];
    await reply(p.psid, { text: 'Which day?', buttons: many });
    await p.press('Day 4');
    expect(last().event).toEqual({ kind: 'action', payload: 'day:4' });

    await reply(p.psid, { text: 'Your phone?', buttons: [[{ type: 'contact', label: 'Share' }]] });
    await p.sharePhone();
    expect(last().event).toEqual({ kind: 'message', contact: { phone: '+15550001111', own: true } });

    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    await p.sendImage(png);
    const ev = last().event;
    if (ev.kind !== 'message' || !ev.images) throw new Error('expected an image message');
    expect((await connector.download!(ev.images[0])).equals(png)).toBe(true);
  });

  it('stores every event of a batch, and ignores echoes of its own sends', async () => {
    const before = stored.length;
    const res = await fb.batch([
      { type: 'text', psid: '5003', text: 'a' },
      { type: 'text', psid: '5004', text: 'b' },
      { type: 'text', psid: '5003', text: 'c' },
    ]);
    expect(res.delivered).toBe(true);
    expect(stored.slice(before).map((u) => [u.chatId, u.event])).toEqual([
      ['5003', { kind: 'message', text: 'a' }],
      ['5004', { kind: 'message', text: 'b' }],
      ['5003', { kind: 'message', text: 'c' }],
    ]);

    await fb.configure({ echoes: true });
    const count = stored.length;
    await reply('5003', { text: 'echo?' });
    await fb.flush();
    await fb.configure({ echoes: false });
    expect(stored.length).toBe(count);
    expect((await fb.deliveries()).at(-1)?.status).toBe(200);
  });
});
