import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVkEmulator, type VkEmulator } from '../../../emulators/vk/index.ts';
import { createVkConnector, type VkConnectorOptions } from '../../../src/connectors/vk/index.ts';
import type { MessageEvent } from '../../../src/core/model.ts';
import { FakeInbox, fixture, FIXTURE_SECRET, GROUP_ID, png, until } from './helpers.ts';

const SECRET = FIXTURE_SECRET;
const CONFIRMATION = 'a1b2c3d4';

async function appWith(inbox: FakeInbox, overrides: Partial<VkConnectorOptions> = {}, emulator?: VkEmulator) {
  const connector = createVkConnector({
    groupId: GROUP_ID,
    accessToken: emulator?.accessToken ?? 'token',
    apiRoot: emulator?.apiRoot ?? 'http://127.0.0.1:9/method',
    maxRps: 20,
    mode: 'callback',
    secret: SECRET,
    confirmation: CONFIRMATION,
    ...overrides,
  });
  const app = Fastify();
  await connector.registerRoutes?.(app, inbox.context());
  await app.ready();
  return { app, connector };
}

const post = (app: FastifyInstance, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.inject({ method: 'POST', url: '/webhooks/vk', headers, payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

describe('VK Callback API endpoint', () => {
  let inbox: FakeInbox;
  let app: FastifyInstance;

  beforeAll(async () => {
    inbox = new FakeInbox();
    ({ app } = await appWith(inbox));
  });
  afterAll(() => app.close());
  afterEach(() => {
    inbox.updates.length = 0;
    inbox.keys.clear();
  });

  it('answers the confirmation request with the configured string, as plain text', async () => {
    const res = await post(app, fixture('confirmation'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(CONFIRMATION);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(inbox.updates).toEqual([]);
  });

  it('stores an event and answers the plain string ok', async () => {
    const res = await post(app, fixture('message_new_text'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
    expect(inbox.updates.map((u) => u.event)).toEqual([{ kind: 'message', text: 'Привет! Когда начало?' }]);
  });

  it('stores an event VK sends twice only once, answering ok both times', async () => {
    expect((await post(app, fixture('message_new_button'))).body).toBe('ok');
    expect((await post(app, fixture('message_new_button'))).body).toBe('ok');
    expect(inbox.updates).toHaveLength(1);
  });

  it.each([
    ['a wrong secret', { ...fixture('message_new_text'), secret: 'guess' }],
    ['no secret', { ...fixture('message_new_text'), secret: undefined }],
    ['a wrong secret on the confirmation request', { ...fixture('confirmation'), secret: 'guess' }],
  ])('refuses %s with 401 and stores nothing', async (_what, body) => {
    const res = await post(app, body);
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain(CONFIRMATION);
    expect(inbox.updates).toEqual([]);
  });

  it('refuses events of another community with 403', async () => {
    const res = await post(app, { ...fixture('message_new_text'), group_id: 1 });
    expect(res.statusCode).toBe(403);
    expect(inbox.updates).toEqual([]);
  });

  it.each([
    ['malformed JSON', '{"type":"message_new",', 400],
    ['a JSON array', '[1,2]', 400],
    ['an object without type', '{"object":{}}', 400],
    ['an empty body', '', 400],
  ])('answers %s with a 4xx and stores nothing', async (_what, body, status) => {
    const res = await post(app, body);
    expect(res.statusCode).toBe(status);
    expect(inbox.updates).toEqual([]);
  });

  it('accepts a body whatever its content type says', async () => {
    const res = await post(app, JSON.stringify(fixture('message_new_geo')), { 'content-type': 'text/plain' });
    expect(res.body).toBe('ok');
    expect(inbox.updates).toHaveLength(1);
  });

  it('answers ok to event types it does not handle, storing nothing', async () => {
    for (const name of ['message_reply', 'message_new_sticker']) expect((await post(app, fixture(name))).body).toBe('ok');
    expect((await post(app, { type: 'wall_post_new', group_id: GROUP_ID, secret: SECRET, object: { id: 1 }, event_id: 'w1' })).body).toBe('ok');
    expect(inbox.updates).toEqual([]);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ ...fixture('message_new_text'), pad: 'x'.repeat(1024 * 1024) });
    const res = await post(app, big);
    expect(res.statusCode).toBe(413);
    expect(inbox.updates).toEqual([]);
  });

  it('answers 500 when the event could not be stored, so that VK sends it again', async () => {
    inbox.failNext = 1;
    expect((await post(app, fixture('message_new_doc'))).statusCode).toBe(500);
    expect((await post(app, fixture('message_new_doc'))).body).toBe('ok');
    expect(inbox.updates).toHaveLength(1);
  });

  it('adds no route in long-poll mode', async () => {
    const lp = await appWith(new FakeInbox(), { mode: 'longpoll' });
    expect((await post(lp.app, fixture('message_new_text'))).statusCode).toBe(404);
    await lp.app.close();
  });
});

describe('VK Callback API against the emulator', () => {
  let vk: VkEmulator;
  let inbox: FakeInbox;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    vk = await startVkEmulator({ groupId: GROUP_ID, callbackRetryDelayMs: 20 });
    inbox = new FakeInbox();
    ({ app } = await appWith(inbox, {}, vk));
    url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/webhooks/vk`;
    await vk.client.setCallbackServer({ url, secret: SECRET, confirmation: CONFIRMATION });
  });
  afterAll(async () => {
    await vk.close();
    await app.close();
  });

  it('is confirmed by VK only with the right confirmation string', async () => {
    const other = await startVkEmulator({ groupId: GROUP_ID });
    try {
      await expect(other.client.setCallbackServer({ url, secret: SECRET, confirmation: 'something-else' })).rejects.toThrow(/did not confirm/);
    } finally {
      await other.close();
    }
  });

  it('receives what people do: start, text, photo, document, location, deny and allow', async () => {
    const p = vk.client.person(321);
    const acts = [
      await p.start(),
      await p.sendText('hello'),
      await p.sendPhoto(png(20, 20)),
      await p.sendDoc(Buffer.from('%PDF-1.4'), 'ticket.pdf'),
      await p.sendLocation(59.93, 30.31),
      await p.deny(),
      await p.allow(),
    ];
    for (const a of acts) expect(await vk.client.waitDelivered(a.eventId!)).toBe('callback');
    expect(inbox.updates.map((u) => u.event.kind)).toEqual(['start', 'message', 'message', 'message', 'message', 'membership', 'membership']);
    expect(inbox.updates.every((u) => u.chatId === '321' && u.sender.platformUserId === '321')).toBe(true);
    const photo = (inbox.updates[2].event as MessageEvent).images![0];
    const bytes = await createVkConnector({ ...vk.connectorOptions, mode: 'callback' }).download!(photo);
    expect(bytes.equals(png(20, 20))).toBe(true);
  });

  it('answers a callback-button press so the spinner stops, once', async () => {
    const connector = createVkConnector({ ...vk.connectorOptions, mode: 'callback', secret: SECRET, confirmation: CONFIRMATION });
    const p = vk.client.person(654);
    await p.sendText('menu');
    await connector.send({
      messageId: 1,
      conversation: { id: 1, bot: 'main', platform: 'vk', chatId: '654' },
      recipient: '654',
      message: {},
      plan: { parts: [{ text: [{ text: 'Menu' }], buttons: [[{ type: 'action', label: 'Events', payload: 'events' }]], keyboard: 'inline' }], options: [] },
      attempt: 1,
    });
    const press = await p.press('Events');
    expect(await vk.client.waitDelivered(press.eventId!)).toBe('callback');
    const answers = await until(async () => {
      const a = await vk.client.eventAnswers();
      return a.length && a[0].answers.length ? a : null;
    });
    expect(answers).toHaveLength(1);
    expect(answers[0].answers).toHaveLength(1);
    // The press names the conversation's id of the message; the connector looks up the message id
    // the send returned, so the runtime can find its own message (to edit it).
    const [menu] = await p.messages();
    expect(inbox.updates.at(-1)?.event).toEqual({ kind: 'action', payload: 'events', sourceMessageId: String(menu.id) });
  });

  it('gets an event again after failing to store it: VK retries until it hears ok', async () => {
    inbox.failNext = 2;
    const p = vk.client.person(987);
    const sent = await p.sendText('retry me');
    expect(await vk.client.waitDelivered(sent.eventId!)).toBe('callback');
    const tries = (await vk.client.callbackDeliveries()).filter((d) => d.eventId === sent.eventId);
    expect(tries.map((t) => [t.status, t.ok])).toEqual([
      [500, false],
      [500, false],
      [200, true],
    ]);
    expect(inbox.updates.filter((u) => u.chatId === '987')).toHaveLength(1);
  });
});
