import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createMessengerConnector } from '../../../src/connectors/messenger/index.ts';
import { connectorOptions, context, fakeInbox, fixture, post, signed, VERIFY_TOKEN, webhookApp } from './helpers.ts';

const verifyUrl = (token: string, mode = 'subscribe') =>
  `/webhooks/messenger?hub.mode=${mode}&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`;

describe('Messenger webhook: verification handshake', () => {
  it('answers the challenge as plain text when the verify token matches', async () => {
    const { app } = await webhookApp();
    const res = await app.inject({ method: 'GET', url: verifyUrl(VERIFY_TOKEN) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
    await app.close();
  });

  it('refuses a wrong token or mode with 403 and no challenge', async () => {
    const { app } = await webhookApp();
    for (const url of [verifyUrl('wrong'), verifyUrl(VERIFY_TOKEN, 'unsubscribe'), '/webhooks/messenger']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(403);
      expect(res.body).not.toContain('1158201444');
    }
    await app.close();
  });
});

describe('Messenger webhook: events', () => {
  it('stores a signed event and answers 200', async () => {
    const { app, stored } = await webhookApp();
    const res = await post(app, fixture('text'));
    expect(res.statusCode).toBe(200);
    expect(stored.map((u) => u.event)).toEqual([{ kind: 'message', text: 'hello, world!' }]);
    await app.close();
  });

  it('stores every event of a batched POST before answering', async () => {
    const { app, stored } = await webhookApp();
    const res = await post(app, fixture('batched'));
    expect(res.statusCode).toBe(200);
    expect(stored).toHaveLength(3);
    await app.close();
  });

  it('verifies the signature over the exact bytes Meta sent, whitespace and all', async () => {
    const { app, stored } = await webhookApp();
    const body = JSON.stringify(JSON.parse(fixture('text')), null, 2).replace(/\//g, '\\/');
    const res = await post(app, body);
    expect(res.statusCode).toBe(200);
    expect(stored).toHaveLength(1);
    await app.close();
  });

  it('deduplicates a redelivered event by its mid', async () => {
    const { app, stored } = await webhookApp();
    await post(app, fixture('quick-reply'));
    const again = await post(app, fixture('quick-reply'));
    expect(again.statusCode).toBe(200);
    expect(stored).toHaveLength(1);
    await app.close();
  });

  it('refuses a wrong, missing or malformed signature with 403 and stores nothing', async () => {
    const { app, stored } = await webhookApp();
    const body = fixture('text');
    const cases: Record<string, string>[] = [
      signed(body, 'not-the-secret'),
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=' },
      { 'content-type': 'application/json', 'x-hub-signature-256': signed(body)['x-hub-signature-256'].replace('sha256=', 'sha1=') },
      { 'content-type': 'application/json', 'x-hub-signature-256': `${signed(body)['x-hub-signature-256']}00` },
    ];
    for (const headers of cases) {
      const res = await post(app, body, headers);
      expect(res.statusCode).toBe(403);
    }
    // A body changed after signing fails too.
    const tampered = await post(app, body.replace('hello', 'HELLO'), signed(body));
    expect(tampered.statusCode).toBe(403);
    expect(stored).toEqual([]);
    await app.close();
  });

  it('answers 400 to signed bytes that are not JSON, and stays up', async () => {
    const { app, stored } = await webhookApp();
    const res = await post(app, '{"object":"page",');
    expect(res.statusCode).toBe(400);
    expect((await post(app, fixture('text'))).statusCode).toBe(200);
    expect(stored).toHaveLength(1);
    await app.close();
  });

  it('answers 200 to unknown kinds, echoes and other objects without storing them', async () => {
    const { app, stored } = await webhookApp();
    for (const name of ['echo', 'read', 'delivery', 'instagram']) {
      const res = await post(app, fixture(name));
      expect(res.statusCode, name).toBe(200);
    }
    expect((await post(app, '{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"game_play":{}}]}]}')).statusCode).toBe(200);
    expect(stored).toEqual([]);
    await app.close();
  });

  it('refuses a body over 1 MiB with 413 and stores nothing', async () => {
    const { app, stored } = await webhookApp();
    const big = JSON.stringify({ object: 'page', entry: [], pad: 'x'.repeat(1024 * 1024) });
    const res = await post(app, big);
    expect(res.statusCode).toBe(413);
    expect(stored).toEqual([]);
    await app.close();
  });

  it('answers 500 when the inbox cannot store, so Meta delivers the batch again', async () => {
    let down = true;
    const { app, stored } = await webhookApp({ failOn: (u) => down && u.event.kind === 'action' });
    const res = await post(app, fixture('batched'));
    expect(res.statusCode).toBe(500);
    expect(stored).toHaveLength(1);
    down = false;
    const retry = await post(app, fixture('batched'));
    expect(retry.statusCode).toBe(200);
    expect(stored.map((u) => u.event.kind)).toEqual(['message', 'action', 'message']);
    await app.close();
  });

  it('does not change how the rest of the server parses JSON', async () => {
    const app = Fastify({ logger: false });
    app.post('/api/echo', async (req) => req.body);
    const { inbox, stored } = fakeInbox();
    await createMessengerConnector(connectorOptions()).registerRoutes?.(app, context(inbox));
    await app.ready();
    const res = await app.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ a: 1 });
    expect((await post(app, fixture('text'))).statusCode).toBe(200);
    expect(stored).toHaveLength(1);
    await app.close();
  });
});
