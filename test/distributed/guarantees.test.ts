/**
 * The guarantees of distributed mode with replicas (point 3 of the distributed-mode issue), each
 * proven on PostgreSQL + RabbitMQ with real role processes and the Telegram emulator:
 * - two core replicas racing on the same conversations write and send one reply per message;
 * - with two cores and two gateways, the replies of each conversation arrive in order;
 * - a notification lost with a process is recovered by the sweeper (inbound and outbound);
 * - a stalled handler whose lease expired is taken over, and its late commit is refused;
 * - a stalled send whose lease expired is taken over, and the stalled gateway then stops;
 * - exactly one long-poller per bot, and another takes over when it dies.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitBus } from '../../src/bus/rabbitmq.ts';
import type { Bus } from '../../src/bus/bus.ts';
import type { BotLogic } from '../../src/core/handling.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { insertInbound, insertOutbound } from '../../src/storage/repositories/messages.ts';
import { RABBITMQ_URL, haveRabbitMQ, havePostgres } from '../helpers/services.ts';
import { startApiProxy } from './helpers/api-proxy.ts';
import { Cluster, TEST_TIMINGS, eventually } from './helpers/cluster.ts';
import { explain, Load, overtakenSends, printTally, settle, tally, unknownOutcomeSends } from './helpers/load.ts';

const services = (await havePostgres()) && (await haveRabbitMQ());
const T = 120_000;

/** Texts the bot sent to one chat, in the order the person received them. */
function received(c: Cluster, user: number): string[] {
  return (c.emu.world.bot()!.chats.get(user)?.messages ?? []).filter((m) => m.sentBy === 'bot').map((m) => m.message.text ?? '');
}

/** The conversation of a Telegram user in the cluster's database. */
async function conversationOf(c: Cluster, user: number) {
  return c.store.db.selectFrom('conversations').selectAll().where('chat_id', '=', String(user)).executeTakeFirstOrThrow();
}

/** Re-publishes notifications for the open rows of these chats, over and over, to make replicas race. */
function startRacer(c: Cluster, bus: Bus, users: number[], direction: 'in' | 'out'): { published: () => number; stop: () => Promise<void> } {
  let published = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await c.store.db
        .selectFrom('messages')
        .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
        .select(['messages.id', 'messages.conversation_id'])
        .where('messages.direction', '=', direction)
        .where('messages.status', 'in', direction === 'in' ? ['received', 'processing'] : ['queued', 'sending'])
        .where('conversations.chat_id', 'in', users.map(String))
        .execute();
      const topic = direction === 'in' ? 'inbound' : 'outbound.telegram';
      // Each open row announced twice more: both replicas get notified about the same work.
      await Promise.all(rows.flatMap((r) => [0, 1].map(() => bus.publish(topic, { id: r.id, conversationId: r.conversation_id }))));
      published += rows.length * 2;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    published: () => published,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe.skipIf(!services)('guarantees with replicas (2 core + 2 gateway processes)', () => {
  let c: Cluster;
  let bus: Bus;

  beforeAll(async () => {
    // A long lease: a replica starved on this shared machine must not be overtaken mid-send.
    c = await Cluster.start({ env: { LEASE_MS: '15000' } });
    await c.spawnAll(['core', 'core', 'gateway', 'gateway']);
    await c.setWebhook();
    bus = await createRabbitBus(RABBITMQ_URL, { log: pino({ level: 'silent' }), prefix: c.prefix, connectionName: `${c.prefix}racer` });
  }, T);

  afterAll(async () => {
    await bus?.close();
    await c?.close();
  }, T);

  it('two core replicas racing on the same conversations write and send one reply per message', { timeout: T }, async () => {
    const load = new Load(c, { chats: 40, perChat: 8, ratePerSecond: 400, firstUser: 6_000_001 });
    const racer = startRacer(c, bus, load.users, 'in');
    try {
      await load.run();
      await settle(load, 90_000).catch(async (err: unknown) => {
        throw new Error(`${(err as Error).message}\n${await explain(load)}`);
      });
    } finally {
      await racer.stop();
    }
    // Let every racing notification published so far be consumed before counting.
    await new Promise((r) => setTimeout(r, 1000));
    const t = await settle(load, 30_000);
    const retaken = await c.store.db
      .selectFrom('messages')
      .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
      .select('messages.id')
      .where('messages.direction', '=', 'in')
      .where('messages.attempts', '>', 1)
      .where('conversations.chat_id', 'in', load.users.map(String))
      .execute();
    const unknown = await unknownOutcomeSends(c);
    if (t.outOfOrderChats || t.duplicates) console.log(await explain(load));
    printTally('two cores racing (every inbound notification published 3 times)', t, {
      'extra inbound notifications': racer.published(),
      'inbound whose handling started twice': retaken.length,
      'sends with an unknown outcome (timeouts)': unknown,
      'sends overtaken after a stall past LEASE_MS': await overtakenSends(c),
    });
    expect(racer.published()).toBeGreaterThan(0);
    expect(t.doubleHandled, 'inbound messages with more than one reply row').toBe(0);
    expect(t.replyRows).toBe(load.total);
    expect(t.lostReplies).toBe(0);
    expect(t.duplicates, 'replies received twice').toBeLessThanOrEqual(unknown);
    expect(t.outOfOrderChats).toBe(0);
  });

  it('with two cores and two gateways racing, every conversation is answered in order', { timeout: T }, async () => {
    // Each person writes 8 messages as fast as the emulator takes them; both roles get every
    // notification three times, so both replicas of each role compete for every conversation.
    const load = new Load(c, { chats: 40, perChat: 8, ratePerSecond: 2000, firstUser: 6_100_001 });
    const inRacer = startRacer(c, bus, load.users, 'in');
    const outRacer = startRacer(c, bus, load.users, 'out');
    let t;
    try {
      await load.run();
      t = await settle(load, 90_000);
    } finally {
      await Promise.all([inRacer.stop(), outRacer.stop()]);
    }
    if (t.outOfOrderChats || t.duplicates) console.log(await explain(load));
    const unknown = await unknownOutcomeSends(c);
    printTally('order with two cores and two gateways racing', t, {
      'extra notifications (in, out)': `${inRacer.published()}, ${outRacer.published()}`,
      'sends with an unknown outcome (timeouts)': unknown,
      'sends overtaken after a stall past LEASE_MS': await overtakenSends(c),
    });
    expect(t.outOfOrderChats, 'chats whose replies came out of order').toBe(0);
    expect(t.doubleHandled).toBe(0);
    expect(t.lostReplies).toBe(0);
    expect(t.duplicates).toBeLessThanOrEqual(unknown);
  });

  it('recovers an inbound and an outbound message whose notification was lost with a process', { timeout: T }, async () => {
    const user = 6_200_001;
    const person = c.emu.client.person(user);
    await person.sendText('hello');
    await eventually(() => received(c, user).includes('echo hello'), 'the first answer');
    const conv = await conversationOf(c, user);
    // Committed, never published: what a process that died between commit and publish leaves.
    // Three inbound messages of one conversation: one recovery drains them all, in order.
    const now = Date.now();
    for (const n of [1, 2, 3]) {
      await insertInbound(c.store.db, { conversationId: conv.id, kind: 'message', dedupKey: `telegram:lost-${n}`, content: { kind: 'message', text: `orphan ${n}` }, raw: null, now });
    }
    await insertOutbound(c.store.db, { conversationId: conv.id, content: { text: 'queued and never announced' }, causeId: null, now });
    await eventually(() => received(c, user).length >= 5, 'the sweeper to recover them', 30_000, () => received(c, user).join(' | '));
    await new Promise((r) => setTimeout(r, 1000));
    const got = received(c, user);
    expect([...got].sort()).toEqual(['echo hello', 'echo orphan 1', 'echo orphan 2', 'echo orphan 3', 'queued and never announced']);
    expect(got.filter((t) => t.startsWith('echo orphan'))).toEqual(['echo orphan 1', 'echo orphan 2', 'echo orphan 3']);
  });
});

describe.skipIf(!services)('a stalled handler is taken over and fenced (2 in-process cores)', () => {
  let c: Cluster | undefined;
  const instances: Switchboard[] = [];
  afterEach(async () => {
    for (const sb of instances.splice(0)) await sb.close().catch(() => undefined);
    await c?.close();
  }, T);

  it("refuses the stalled worker's late commit: the message is answered once, by the worker that took over", { timeout: T }, async () => {
    c = await Cluster.start();
    await c.spawn('gateway');
    await c.setWebhook();
    const env = { ...c.env, LEASE_MS: '1500', SWEEP_INTERVAL_MS: '300' };
    let entered = false;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const stalling: BotLogic = {
      async handle(input) {
        const text = input.event.kind === 'message' ? input.event.text : '';
        if (text === 'stall') {
          entered = true;
          await released;
          return { outbox: [{ message: { text: 'late echo stall' } }] };
        }
        return { outbox: [{ message: { text: `echo ${text}` } }] };
      },
    };
    const echo: BotLogic = {
      async handle(input) {
        return { outbox: [{ message: { text: `echo ${input.event.kind === 'message' ? input.event.text : ''}` } }] };
      },
    };
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    instances.push(await startSwitchboard({ env, roles: ['core'], bot: stalling, log: capture }));
    const user = 6_300_001;
    await c.emu.client.person(user).sendText('stall');
    await eventually(() => entered, 'the first core to start handling');
    // The second core starts while the first is stuck; it takes over once the lease expires.
    instances.push(await startSwitchboard({ env, roles: ['core'], bot: echo, log: pino({ level: 'silent' }) }));
    await eventually(() => received(c!, user).includes('echo stall'), 'the second core to answer', 30_000);
    release();
    await eventually(() => lines.some((l) => l.includes('lease lost while handling')), 'the stalled core to find its lease lost', 30_000, () => lines.join(''));
    await c.emu.client.person(user).sendText('after');
    await eventually(() => received(c!, user).includes('echo after'), 'the conversation to go on');
    await new Promise((r) => setTimeout(r, 1000));

    expect(received(c, user)).toEqual(['echo stall', 'echo after']);
    const conv = await conversationOf(c, user);
    const rows = await c.store.db.selectFrom('messages').select(['direction', 'status', 'attempts', 'content', 'cause_id']).where('conversation_id', '=', conv.id).orderBy('id').execute();
    const stalled = rows[0];
    expect(stalled).toMatchObject({ direction: 'in', status: 'handled', attempts: 2 });
    expect(rows.filter((r) => r.direction === 'out').map((r) => JSON.parse(r.content).text)).toEqual(['echo stall', 'echo after']);
  });
});

describe.skipIf(!services)('a stalled send is taken over (1 core + 2 gateway processes)', () => {
  let c: Cluster | undefined;
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await c?.close();
    for (const fn of closers.splice(0)) await fn();
  }, T);

  // Guards against two gateways draining one conversation: a gateway that ignored the loss of
  // its send lease used to keep sending next to the one that took over, and the two kept taking
  // each other's `sending` rows (up to 12 copies of one reply under load).
  it('the gateway that stalled past its lease stops: one extra copy of the stalled reply at most, the others once', { timeout: T }, async () => {
    const user = 6_400_001;
    let stalledOnce = false;
    c = await Cluster.start({ env: { LEASE_MS: '2000', SWEEP_INTERVAL_MS: '300' } });
    const cluster = c;
    // The first reply to this person is held 7 s on its way to Telegram, far past the 2 s lease.
    const proxy = await startApiProxy(cluster.emu.url, (path, body) => {
      if (stalledOnce || !/\/sendMessage$/i.test(path)) return 0;
      const params = JSON.parse(body.toString('utf8') || '{}') as { chat_id?: string | number };
      if (String(params.chat_id) !== String(user)) return 0;
      stalledOnce = true;
      return 7000;
    });
    closers.push(() => proxy.close());
    await Promise.all([cluster.spawn('core'), cluster.spawn('gateway', { env: { TELEGRAM_API_ROOT: proxy.url } }), cluster.spawn('gateway', { env: { TELEGRAM_API_ROOT: proxy.url } })]);
    await cluster.setWebhook();
    // One person writes m1..m16 at once: the gateway that takes over needs ~14 s for them at
    // Telegram's 1 message per second per chat, so it is still at it when the stalled one wakes.
    const load = new Load(cluster, { chats: 1, perChat: 16, ratePerSecond: 100, firstUser: user });
    await load.run();
    await settle(load, 60_000);
    // The held request is yet to reach Telegram; then give a runaway gateway time to show itself.
    await eventually(() => proxy.released() === 1, 'the held request to be answered', 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const t = await tally(load);
    const got = received(cluster, user);
    const copies = (n: number) => got.filter((x) => x === `echo m${n}`).length;
    const firsts = got.filter((x, i) => got.indexOf(x) === i);
    printTally('a send stalled 7 s, past its 2 s lease', t, { 'received in this order': got.map((x) => x.slice(6)).join(' ') });
    const later = Array.from({ length: 15 }, (_, i) => i + 2);
    expect(firsts).toEqual([1, ...later].map((n) => `echo m${n}`));
    expect(copies(1), 'the stalled reply: the takeover copy and the late one').toBeLessThanOrEqual(2);
    expect(later.map(copies), 'every later reply exactly once').toEqual(later.map(() => 1));
  });
});

describe.skipIf(!services)('exactly one long-poller per bot (2 gateway processes, TELEGRAM_MODE=polling)', () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.close();
  }, T);

  it('one replica polls; when it is SIGKILLed the other takes over within POLL_LEASE_MS, and no update is lost', { timeout: T }, async () => {
    c = await Cluster.start({ telegramMode: 'polling' });
    const cluster = c;
    await cluster.spawnAll(['core', 'gateway', 'gateway']);
    const holder = async () => (await cluster.store.db.selectFrom('leases').select(['owner', 'until']).where('name', '=', 'poll:telegram:main').executeTakeFirst())?.owner;
    const first = await eventually(async () => cluster.processOf(await holder()), 'a gateway to take the poll lease', 30_000);

    const before = new Load(cluster, { chats: 10, perChat: 2, ratePerSecond: 50, firstUser: 6_500_001 });
    await before.run();
    await settle(before, 60_000);

    await cluster.kill(first);
    const killedAt = Date.now();
    // People keep writing while nobody polls: their updates wait at Telegram.
    const during = new Load(cluster, { chats: 10, perChat: 2, ratePerSecond: 20, firstUser: 6_600_001 });
    const writing = during.run();
    const second = await eventually(async () => {
      const p = cluster.processOf(await holder());
      return p && p !== first ? p : undefined;
    }, 'the other gateway to take over', 30_000);
    const takeoverMs = Date.now() - killedAt;
    await writing;
    const t = await settle(during, 60_000);
    const b = await tally(before);

    const conflicts = cluster.emu.world.calls.filter((call) => call.method.toLowerCase() === 'getupdates' && call.error_code === 409).length;
    printTally('long polling: SIGKILL of the polling replica', t, {
      'takeover after the kill (ms)': takeoverMs,
      'POLL_LEASE_MS': TEST_TIMINGS.POLL_LEASE_MS,
      'getUpdates answered 409 (two pollers)': conflicts,
      'answered before the kill (of 20)': b.answered,
    });
    expect(second.alive()).toBe(true);
    expect(takeoverMs, 'takeover within POLL_LEASE_MS and a margin for a loaded machine').toBeLessThan(TEST_TIMINGS.POLL_LEASE_MS + 7000);
    expect(conflicts, 'two replicas never polled at once').toBe(0);
    for (const x of [b, t]) {
      expect(x.lostInbound).toBe(0);
      expect(x.stored).toBe(x.sent);
      expect(x.lostReplies).toBe(0);
      expect(x.duplicates).toBe(0);
    }
  });
});
