/**
 * Broadcast (fan-out), on every implementation: every listener, in this process and in others,
 * gets every broadcast once and in order, while `publish` keeps its competing consumers. The
 * RabbitMQ listener's recovery after a cut connection is in rabbitmq.test.ts.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, Notification } from '../../src/bus/bus.ts';
import { createMemoryBus } from '../../src/bus/memory.ts';
import { createRabbitBus } from '../../src/bus/rabbitmq.ts';
import { haveRabbitMQ, RABBITMQ_URL } from '../helpers/services.ts';
import { eventually } from '../helpers/eventually.ts';

const rabbit = await haveRabbitMQ();
const silent = pino({ level: 'silent' });
const TOPIC = 'webchat.sent.main';

interface Impl {
  name: string;
  available: boolean;
  /**
   * Creates `count` buses that share one broker (for RabbitMQ, as separate processes would), or
   * the same in-process bus `count` times (one process: there is nothing to share with others).
   */
  create(count: number): Promise<{ buses: Bus[]; cleanup(): Promise<void> }>;
}

const impls: Impl[] = [
  {
    name: 'memory',
    available: true,
    create: async (count) => {
      const bus = createMemoryBus({ log: silent });
      return { buses: Array.from({ length: count }, () => bus), cleanup: () => bus.close() };
    },
  },
  {
    name: 'rabbitmq',
    available: rabbit,
    create: async (count) => {
      const prefix = `test.${randomUUID().slice(0, 8)}.`;
      const buses = await Promise.all(Array.from({ length: count }, () => createRabbitBus(RABBITMQ_URL, { log: silent, prefix })));
      return {
        buses,
        cleanup: async () => {
          await Promise.all(buses.map((b) => b.close()));
          const admin = new Connection(RABBITMQ_URL);
          try {
            await admin.exchangeDelete({ exchange: `${prefix}broadcast.${TOPIC}` });
            await admin.queueDelete({ queue: `${prefix}${TOPIC}` });
            await admin.queueDelete({ queue: `${prefix}dead` });
          } finally {
            await admin.close();
          }
        },
      };
    },
  },
];

const settle = () => new Promise((r) => setTimeout(r, 300));
const idsOf = (ns: Notification[]) => ns.map((n) => n.id);

for (const impl of impls) {
  describe.skipIf(!impl.available)(`Bus broadcast: ${impl.name}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    it('gives every broadcast to every listener, in order, ids intact', async () => {
      const made = await impl.create(3);
      cleanup = made.cleanup;
      const [a, b, sender] = made.buses;
      const gotA: Notification[] = [];
      const gotB: Notification[] = [];
      await a.listen(TOPIC, (n) => void gotA.push(n));
      await b.listen(TOPIC, (n) => void gotB.push(n));
      for (let id = 1; id <= 20; id++) await sender.broadcast(TOPIC, { id, conversationId: 100 + id });

      const all = Array.from({ length: 20 }, (_, i) => i + 1);
      await eventually(() => expect(idsOf(gotA)).toEqual(all));
      await eventually(() => expect(idsOf(gotB)).toEqual(all));
      expect(gotA[6]).toEqual({ id: 7, conversationId: 107 });
      await settle();
      expect(gotA).toHaveLength(20); // once each, not once per listener
      expect(gotB).toHaveLength(20);
    });

    it('does not mix broadcasts with published notifications', async () => {
      const made = await impl.create(2);
      cleanup = made.cleanup;
      const [listener, sender] = made.buses;
      const heard: Notification[] = [];
      const consumed: Notification[] = [];
      await listener.listen(TOPIC, (n) => void heard.push(n));
      await listener.subscribe(TOPIC, async (n) => void consumed.push(n));
      await sender.publish(TOPIC, { id: 1 });
      await sender.broadcast(TOPIC, { id: 2 });
      await eventually(() => expect(idsOf(consumed)).toEqual([1]));
      await eventually(() => expect(idsOf(heard)).toEqual([2]));
      await settle();
      expect(idsOf(consumed)).toEqual([1]);
      expect(idsOf(heard)).toEqual([2]);
    });

    it('stops a closed listener and keeps the others; a throwing listener does not stop the rest', async () => {
      const made = await impl.create(2);
      cleanup = made.cleanup;
      const [listener, sender] = made.buses;
      const kept: number[] = [];
      const closed: number[] = [];
      await listener.listen(TOPIC, () => {
        throw new Error('listener bug');
      });
      await listener.listen(TOPIC, (n) => void kept.push(n.id));
      const sub = await listener.listen(TOPIC, (n) => void closed.push(n.id));
      await sender.broadcast(TOPIC, { id: 1 });
      await eventually(() => expect(closed).toEqual([1]));
      await sub.close();
      await sender.broadcast(TOPIC, { id: 2 });
      await eventually(() => expect(kept).toEqual([1, 2]));
      await settle();
      expect(closed).toEqual([1]);
    });

    it('resolves a broadcast nobody listens to, and loses it', async () => {
      const made = await impl.create(1);
      cleanup = made.cleanup;
      const [bus] = made.buses;
      await bus.broadcast(TOPIC, { id: 1 });
      const heard: number[] = [];
      await bus.listen(TOPIC, (n) => void heard.push(n.id));
      await bus.broadcast(TOPIC, { id: 2 });
      await eventually(() => expect(heard).toEqual([2]));
    });
  });
}
