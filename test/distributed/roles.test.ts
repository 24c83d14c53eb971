/**
 * Roles as separate processes (point 2 of the distributed-mode issue): `--roles web` alone serves
 * the web chat and leaves the bot logic to core, several web replicas all push every reply live,
 * and `--connectors` limits what a gateway runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { haveRabbitMQ, havePostgres } from '../helpers/services.ts';
import { WebchatClient } from '../helpers/webchat-client.ts';
import { Cluster, WEBHOOK_SECRET, eventually } from './helpers/cluster.ts';

const services = (await havePostgres()) && (await haveRabbitMQ());
const T = 120_000;

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe.skipIf(!services)('roles as separate processes', () => {
  let c: Cluster | undefined;
  const clients: WebchatClient[] = [];
  afterEach(async () => {
    for (const w of clients.splice(0)) w.close();
    await c?.close();
    c = undefined;
  }, T);

  it('--roles web alone serves the web chat; the answer comes once a core process runs', { timeout: T }, async () => {
    c = await Cluster.start({ env: { WEBCHAT_ENABLED: 'true' } });
    const web = await c.spawn('web');
    expect(web.url).toBeTruthy();
    const page = await fetch(`${web.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    // The web role runs no gateway: Telegram's webhook is not served here, although configured.
    expect((await post(`${web.url}/webhooks/telegram`, { update_id: 1 }, { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET })).status).toBe(404);

    const visitor = new WebchatClient();
    clients.push(visitor);
    await visitor.connect(web.url!);
    const id = visitor.send({ type: 'text', text: 'hello from the web' });
    await visitor.next((f) => f.type === 'ack' && f.id === id);
    // Stored by the web process, but nobody handles it: the web role does not run the bot.
    await new Promise((r) => setTimeout(r, 1500));
    const inbound = await c.store.db.selectFrom('messages').select(['status']).where('direction', '=', 'in').execute();
    expect(inbound).toEqual([{ status: 'received' }]);
    expect(visitor.messageTexts()).toEqual([]);

    const core = await c.spawn('core');
    await visitor.next((f) => f.type === 'message', 60_000);
    expect(visitor.messageTexts()).toEqual(['echo hello from the web']);
    // A core replica has no web chat but can be probed and scraped like every process.
    expect((await fetch(`${core.url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${core.url}/metrics`)).text()).toMatch(/^switchboard_handled_total\{status="handled"\} 1$/m);
    expect((await fetch(`${core.url}/`)).status).toBe(404);
  });

  // Each reply goes to whichever web replica takes its `outbound.webchat` notification (competing
  // consumers); that replica broadcasts it and the replica holding the socket pushes it.
  it('with two web replicas, a visitor connected to one gets every reply live', { timeout: T }, async () => {
    c = await Cluster.start({ env: { WEBCHAT_ENABLED: 'true' } });
    const [web1] = await c.spawnAll(['web', 'web', 'core']);
    const visitor = new WebchatClient();
    clients.push(visitor);
    await visitor.connect(web1.url!);
    const sent = async () => (await c!.store.db.selectFrom('messages').select('id').where('direction', '=', 'out').where('status', '=', 'sent').execute()).length;
    // One message at a time: each reply is announced once, so each goes to one web replica.
    for (let i = 1; i <= 8; i++) {
      const id = visitor.send({ type: 'text', text: `w${i}` });
      await visitor.next((f) => f.type === 'ack' && f.id === id);
      await eventually(async () => (await sent()) === i, `reply ${i} to be sent`, 60_000);
    }
    await new Promise((r) => setTimeout(r, 1000));
    // The history (the mailbox) has them all, and so did the open tab, live, once each, in order.
    const again = new WebchatClient(visitor.token);
    clients.push(again);
    const welcome = await again.connect(web1.url!);
    const all = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `echo w${i}`);
    expect((welcome.history as Array<{ dir: string }>).filter((h) => h.dir === 'out')).toHaveLength(8);
    expect(visitor.messageTexts(), 'replies that reached the open tab').toEqual(all);
  });

  it('--connectors telegram limits a gateway to Telegram; without it a gateway runs every configured platform', { timeout: T }, async () => {
    c = await Cluster.start({
      env: { VK_ACCESS_TOKEN: 'vk-test-token', VK_GROUP_ID: '4242', VK_MODE: 'callback', VK_SECRET: 'vk-test-secret', VK_CONFIRMATION: 'vk-confirm-code', LOG_LEVEL: 'info' },
    });
    const [limited, full] = await Promise.all([c.spawn('gateway', { args: ['--connectors', 'telegram'] }), c.spawn('gateway')]);
    const started = (p: typeof limited) =>
      p
        .output()
        .split('\n')
        .filter((l) => l.includes('"switchboard started"'))
        .map((l) => JSON.parse(l) as { roles: string[]; connectors: string[] })[0];
    // The log line may come a moment after the "running" line (pino writes asynchronously).
    expect(await eventually(() => started(limited), 'the start log line')).toMatchObject({ roles: ['gateway'], connectors: ['telegram'] });
    expect(await eventually(() => started(full), 'the start log line')).toMatchObject({ roles: ['gateway'], connectors: ['telegram', 'vk'] });

    const confirmation = { type: 'confirmation', group_id: 4242, secret: 'vk-test-secret' };
    expect((await post(`${limited.url}/webhooks/vk`, confirmation)).status).toBe(404);
    const answered = await post(`${full.url}/webhooks/vk`, confirmation);
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe('vk-confirm-code');

    // Both serve Telegram: an update posted to the limited one is stored, handled by nobody yet.
    const update = { update_id: 77, message: { message_id: 1, date: 1, chat: { id: 9001, type: 'private', first_name: 'A' }, from: { id: 9001, is_bot: false, first_name: 'A' }, text: 'hi' } };
    expect((await post(`${limited.url}/webhooks/telegram`, update, { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET })).status).toBe(200);
    await eventually(async () => (await c!.store.db.selectFrom('messages').select('id').where('direction', '=', 'in').execute()).length === 1, 'the update to be stored');
  });
});
