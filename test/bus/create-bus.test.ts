/** `createBus` picks the implementation from BROKER_URL and refuses anything else clearly. */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Connection } from 'rabbitmq-client';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/index.ts';
import type { Notification } from '../../src/bus/bus.ts';
import { haveRabbitMQ, RABBITMQ_URL } from '../helpers/services.ts';

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err: unknown) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const rabbit = await haveRabbitMQ();
const log = pino({ level: 'silent' });

async function roundTrip(url: string, prefix?: string): Promise<Notification[]> {
  const bus = await createBus(url, { log, prefix });
  try {
    const got: Notification[] = [];
    await bus.subscribe('inbound', async (n) => void got.push(n));
    await bus.publish('inbound', { id: 5 });
    for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(bus.healthy()).toBe(true);
    return got;
  } finally {
    await bus.close();
  }
}

describe('createBus', () => {
  it('memory: gives the in-process bus', async () => {
    expect(await roundTrip('memory:')).toEqual([{ id: 5 }]);
  });

  it.skipIf(!rabbit)('amqp:// gives the RabbitMQ bus', async () => {
    const prefix = `test.${randomUUID().slice(0, 8)}.`;
    try {
      expect(await roundTrip(RABBITMQ_URL, prefix)).toEqual([{ id: 5 }]);
    } finally {
      const admin = new Connection(RABBITMQ_URL);
      await admin.queueDelete({ queue: `${prefix}inbound` });
      await admin.queueDelete({ queue: `${prefix}dead` });
      await admin.close();
    }
  });

  it('names the accepted schemes for any other scheme, without echoing credentials', async () => {
    const err = await rejection(createBus('redis://user:hunter2@localhost:6379', { log }));
    expect(err.message).toMatch(/unsupported scheme "redis:".*memory:.*amqp:\/\//);
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses a value that is not a URL', async () => {
    await expect(createBus('rabbit at localhost', { log })).rejects.toThrow(/BROKER_URL is not a URL/);
  });

  it('fails with a clear error, without the password, when RabbitMQ is unreachable', async () => {
    const err = await rejection(createBus('amqp://guest:hunter2@127.0.0.1:1', { log, connectTimeoutMs: 1000 }));
    expect(err.message).toMatch(/RabbitMQ is not reachable at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
    expect(err.message).not.toContain('hunter2');
  });
});
