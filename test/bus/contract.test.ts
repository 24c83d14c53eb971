/**
 * One contract, every implementation: what the runtime relies on from any Bus. Runs against the
 * in-process bus always and against RabbitMQ when it is reachable (see test/helpers/services.ts).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, Notification } from '../../src/bus/bus.ts';
import { createMemoryBus } from '../../src/bus/memory.ts';
import { createRabbitBus } from '../../src/bus/rabbitmq.ts';
import { haveRabbitMQ, RABBITMQ_URL } from '../helpers/services.ts';
import { eventually } from '../helpers/eventually.ts';

const rabbit = await haveRabbitMQ();
const silent = pino({ level: 'silent' });
const TOPICS = ['inbound', 'outbound.telegram'];

interface Impl {
  name: string;
  available: boolean;
  /** Creates a bus isolated from every other test (fresh queue prefix for RabbitMQ). */
  create(): Promise<{ bus: Bus; cleanup(): Promise<void> }>;
}

const impls: Impl[] = [
  {
    name: 'memory',
    available: true,
    create: async () => ({ bus: createMemoryBus({ log: silent, retryDelayMs: 5 }), cleanup: async () => {} }),
  },
  {
    name: 'rabbitmq',
    available: rabbit,
    create: async () => {
      const prefix = `test.${randomUUID().slice(0, 8)}.`;
      const bus = await createRabbitBus(RABBITMQ_URL, { log: silent, prefix, retryDelayMs: 5 });
      return { bus, cleanup: () => deleteQueues([...TOPICS.map((t) => prefix + t), `${prefix}dead`]) };
    },
  },
];

async function deleteQueues(queues: string[]): Promise<void> {
  const admin = new Connection(RABBITMQ_URL);
  try {
    for (const queue of queues) await admin.queueDelete({ queue });
  } finally {
    await admin.close();
  }
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ids = (ns: Notification[]) => ns.map((n) => n.id).sort((a, b) => a - b);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

for (const impl of impls) {
  describe.skipIf(!impl.available)(`Bus contract: ${impl.name}`, () => {
    let bus: Bus;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ bus, cleanup } = await impl.create());
    });
    afterEach(async () => {
      await bus.close();
      await cleanup();
    });

    it('delivers a published notification to a subscriber, ids intact', async () => {
      const got: Notification[] = [];
      await bus.subscribe('inbound', async (n) => void got.push(n));
      await bus.publish('inbound', { id: 42, conversationId: 7 });
      await bus.publish('inbound', { id: 43 });
      await eventually(() => expect(got).toHaveLength(2));
      expect(got).toContainEqual({ id: 42, conversationId: 7 });
      expect(got).toContainEqual({ id: 43 });
    });

    it('keeps topics apart', async () => {
      const inbound: Notification[] = [];
      const outbound: Notification[] = [];
      await bus.subscribe('inbound', async (n) => void inbound.push(n));
      await bus.subscribe('outbound.telegram', async (n) => void outbound.push(n));
      await bus.publish('inbound', { id: 1 });
      await bus.publish('outbound.telegram', { id: 2 });
      await eventually(() => expect(inbound.length + outbound.length).toBe(2));
      expect(ids(inbound)).toEqual([1]);
      expect(ids(outbound)).toEqual([2]);
    });

    it('delivers notifications published before anyone subscribed', async () => {
      await Promise.all(range(1, 5).map((id) => bus.publish('inbound', { id })));
      const got: Notification[] = [];
      await bus.subscribe('inbound', async (n) => void got.push(n));
      await eventually(() => expect(ids(got)).toEqual(range(1, 5)));
    });

    it('gives each notification to exactly one of the competing subscribers', async () => {
      const a: Notification[] = [];
      const b: Notification[] = [];
      const slow = () => new Promise((r) => setTimeout(r, 5));
      await bus.subscribe('inbound', async (n) => void (a.push(n), await slow()), { concurrency: 1 });
      await bus.subscribe('inbound', async (n) => void (b.push(n), await slow()), { concurrency: 1 });
      await Promise.all(range(1, 40).map((id) => bus.publish('inbound', { id })));
      await eventually(() => expect(a.length + b.length).toBe(40));
      expect(ids([...a, ...b])).toEqual(range(1, 40)); // none twice, none missing
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
    });

    it('never runs more handlers at once than the subscription allows', async () => {
      const gate = deferred();
      let running = 0;
      let maxRunning = 0;
      const done: number[] = [];
      await bus.subscribe(
        'inbound',
        async (n) => {
          maxRunning = Math.max(maxRunning, ++running);
          await gate.promise;
          running--;
          done.push(n.id);
        },
        { concurrency: 3 },
      );
      await Promise.all(range(1, 12).map((id) => bus.publish('inbound', { id })));
      await eventually(() => expect(running).toBe(3));
      await new Promise((r) => setTimeout(r, 300)); // give an over-eager bus the chance to start a 4th
      expect(running).toBe(3);
      gate.resolve();
      await eventually(() => expect(done).toHaveLength(12));
      expect(maxRunning).toBe(3);
    });

    it('redelivers a notification whose handler threw, or asked to retry', async () => {
      const calls = new Map<number, number>();
      const handled: number[] = [];
      await bus.subscribe('inbound', async (n) => {
        const call = (calls.get(n.id) ?? 0) + 1;
        calls.set(n.id, call);
        if (n.id === 1 && call === 1) throw new Error('database is busy');
        if (n.id === 2 && call < 3) return 'retry';
        handled.push(n.id);
      });
      await bus.publish('inbound', { id: 1 });
      await bus.publish('inbound', { id: 2 });
      await bus.publish('inbound', { id: 3 });
      await eventually(() => expect(handled.sort()).toEqual([1, 2, 3]));
      expect(Object.fromEntries(calls)).toEqual({ 1: 2, 2: 3, 3: 1 });
    });

    it("does not redeliver a notification the handler acked or dropped", async () => {
      const calls: number[] = [];
      await bus.subscribe('inbound', async (n) => {
        calls.push(n.id);
        return n.id === 1 ? 'drop' : 'ack';
      });
      await bus.publish('inbound', { id: 1 });
      await bus.publish('inbound', { id: 2 });
      await eventually(() => expect(calls.sort()).toEqual([1, 2]));
      await new Promise((r) => setTimeout(r, 200));
      expect(calls).toEqual([1, 2]);
    });

    it('closing a subscription waits for the handlers in flight and stops delivery', async () => {
      const gate = deferred();
      const events: string[] = [];
      const sub = await bus.subscribe('inbound', async (n) => {
        events.push(`start ${n.id}`);
        await gate.promise;
        events.push(`end ${n.id}`);
      });
      await bus.publish('inbound', { id: 1 });
      await eventually(() => expect(events).toEqual(['start 1']));
      const closing = sub.close().then(() => events.push('closed'));
      await new Promise((r) => setTimeout(r, 100));
      expect(events).toEqual(['start 1']); // still waiting for the handler
      gate.resolve();
      await closing;
      expect(events).toEqual(['start 1', 'end 1', 'closed']);

      // A later subscriber gets what is published after the first one left.
      await bus.publish('inbound', { id: 2 });
      const later: Notification[] = [];
      await bus.subscribe('inbound', async (n) => void later.push(n));
      await eventually(() => expect(ids(later)).toEqual([2]));
      expect(events).not.toContain('start 2');
    });

    it('closing the bus waits for handlers in flight, then refuses to publish', async () => {
      const gate = deferred();
      const events: string[] = [];
      await bus.subscribe('inbound', async () => {
        events.push('start');
        await gate.promise;
        events.push('end');
      });
      await bus.publish('inbound', { id: 1 });
      await eventually(() => expect(events).toEqual(['start']));
      expect(bus.healthy()).toBe(true);
      const closing = bus.close().then(() => events.push('closed'));
      setTimeout(() => gate.resolve(), 100);
      await closing;
      expect(events).toEqual(['start', 'end', 'closed']);
      expect(bus.healthy()).toBe(false);
      await expect(bus.publish('inbound', { id: 2 })).rejects.toThrow(/closed/);
    });
  });
}
