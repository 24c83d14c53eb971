import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../../emulators/telegram/index.ts';
import { createTelegramConnector, type TelegramConnector } from '../../../src/connectors/telegram/index.ts';
import { FakeInbox, delivery, fixture, until } from './helpers.ts';

const SECRET = 'webhook-secret_123';

describe('Telegram webhook route', () => {
  let emu: TelegramEmulator;
  let app: FastifyInstance;
  let connector: TelegramConnector;
  let inbox: FakeInbox;

  beforeAll(async () => {
    emu = await startTelegramEmulator();
  });
  afterAll(() => emu.close());

  beforeEach(async () => {
    inbox = new FakeInbox();
    connector = createTelegramConnector({ token: emu.token, mode: 'webhook', webhookSecret: SECRET, apiRoot: emu.url, maxRps: 30 });
    app = Fastify();
    connector.registerRoutes!(app, inbox.context());
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await connector.close!();
  });

  const post = (body: unknown, headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET }) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('stores an update with the right secret and answers 200', async () => {
    const res = await post(fixture('text-message'));
    expect(res.statusCode).toBe(200);
    expect(inbox.stored.map((u) => u.event)).toEqual([{ kind: 'message', text: 'Hello there' }]);
  });

  it('rejects a wrong or missing secret with 401 and never calls the inbox', async () => {
    expect((await post(fixture('text-message'), { 'x-telegram-bot-api-secret-token': 'webhook-secret_124' })).statusCode).toBe(401);
    expect((await post(fixture('text-message'), {})).statusCode).toBe(401);
    expect((await post(fixture('text-message'), { 'x-telegram-bot-api-secret-token': '' })).statusCode).toBe(401);
    expect(inbox.calls).toBe(0);
  });

  it('answers 4xx to malformed JSON and to bodies that are not updates, storing nothing', async () => {
    expect((await post('{"update_id": 1, "message": ')).statusCode).toBe(400);
    expect((await post('[1,2,3]')).statusCode).toBe(400);
    expect((await post({ message: { text: 'no update id' } })).statusCode).toBe(400);
    expect((await post('')).statusCode).toBe(400);
    expect(inbox.calls).toBe(0);
  });

  it('answers 413 to a body over 1 MiB, storing nothing', async () => {
    const huge = { ...fixture('text-message'), message: { ...fixture('text-message').message, text: 'x'.repeat(1024 * 1024 + 10) } };
    expect((await post(huge)).statusCode).toBe(413);
    expect(inbox.calls).toBe(0);
  });

  it('acknowledges unknown update kinds with 200 and stores nothing', async () => {
    const res = await post(fixture('inline-query'));
    expect(res.statusCode).toBe(200);
    expect(inbox.calls).toBe(0);
  });

  it('answers 500 when the inbox fails, so Telegram retries; the retry is stored once', async () => {
    inbox.failNext = 1;
    expect((await post(fixture('text-message'))).statusCode).toBe(500);
    expect(inbox.stored).toHaveLength(0);
    expect((await post(fixture('text-message'))).statusCode).toBe(200);
    expect((await post(fixture('text-message'))).statusCode).toBe(200);
    expect(inbox.stored).toHaveLength(1);
  });

  it('answers the callback query after storing it, and again for a duplicate', async () => {
    await emu.client.clearCalls();
    await post(fixture('callback-query'));
    await post(fixture('callback-query'));
    const calls = await until(async () => {
      const c = await emu.client.calls({ method: 'answerCallbackQuery' });
      return c.length === 2 ? c : undefined;
    }, 'two answerCallbackQuery calls');
    expect(calls.map((c) => c.params.callback_query_id)).toEqual(['4382bfdwdsb323b2d9', '4382bfdwdsb323b2d9']);
    expect(inbox.stored).toHaveLength(1);
  });
});

describe('Telegram webhook mode against the emulator', () => {
  it('sets the webhook at start and receives pushed updates with the secret; button presses get answered', async () => {
    const emu = await startTelegramEmulator({ webhookRetry: { minDelayMs: 50, maxDelayMs: 200 } });
    const inbox = new FakeInbox();
    const app = Fastify();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    await app.close();
    // Listen again on the same port after routes are registered (a Fastify app cannot add routes once listening).
    const app2 = Fastify();
    const connector = createTelegramConnector({
      token: emu.token,
      mode: 'webhook',
      webhookSecret: SECRET,
      webhookUrl: `http://127.0.0.1:${port}/webhooks/telegram`,
      apiRoot: emu.url,
      maxRps: 30,
    });
    const ctx = inbox.context();
    connector.registerRoutes!(app2, ctx);
    await app2.listen({ port, host: '127.0.0.1' });
    try {
      await connector.start!(ctx);
      await until(async () => (await emu.client.bots())[0].webhook?.url.endsWith('/webhooks/telegram'), 'setWebhook');
      const alice = emu.person(2001);
      inbox.failNext = 1; // the first push fails: Telegram must retry it
      await alice.start();
      await until(() => inbox.stored.length === 1, 'the /start update');
      expect(inbox.stored[0].event).toEqual({ kind: 'start' });
      const msg = { text: 'Pick one', buttons: [[{ type: 'action' as const, label: 'Yes', payload: 'yes' }]] };
      await connector.send(delivery(msg, connector.capabilities, '2001'));
      await alice.press('Yes');
      await until(() => inbox.stored.length === 2, 'the button press');
      expect(inbox.stored[1].event).toMatchObject({ kind: 'action', payload: 'yes' });
      await until(async () => (await alice.callbacks())[0]?.answered, 'the callback answer');
    } finally {
      await connector.close!();
      await app2.close();
      await emu.close();
    }
  });
});
