/**
 * What only the in-process bus does beyond the shared contract (test/bus/contract.test.ts): it
 * gives up on a notification after `maxDeliveries` with a log line, leaving it to the sweeper.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/bus/bus.ts';
import { createMemoryBus } from '../../src/bus/memory.ts';
import { eventually } from '../helpers/eventually.ts';

function capturingLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('memory bus', () => {
  it('drops a notification that keeps failing after maxDeliveries, with a log line, and keeps serving others', async () => {
    const { log, lines } = capturingLogger();
    const bus = createMemoryBus({ log, maxDeliveries: 3, retryDelayMs: 1 });
    const calls = new Map<number, number>();
    const handled: number[] = [];
    await bus.subscribe('inbound', async (n) => {
      calls.set(n.id, (calls.get(n.id) ?? 0) + 1);
      if (n.id === 13) throw new Error('row 13 is corrupt');
      handled.push(n.id);
    });
    for (const id of [12, 13, 14]) await bus.publish('inbound', { id, conversationId: 1 });

    await eventually(() => expect(lines.some((l) => l.id === 13)).toBe(true));
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, topic: 'inbound', id: 13, conversationId: 1, deliveries: 3, reason: 'row 13 is corrupt' }),
    ]);
    expect(calls.get(13)).toBe(3);
    await eventually(() => expect(handled.sort()).toEqual([12, 14]));
    await bus.close();
  });

  it('treats a handler that throws before returning a promise like a rejected one', async () => {
    const bus = createMemoryBus({ log: pino({ level: 'silent' }), retryDelayMs: 1 });
    let calls = 0;
    const handled: Notification[] = [];
    await bus.subscribe('inbound', ((n: Notification) => {
      if (++calls === 1) throw new Error('sync throw');
      handled.push(n);
      return Promise.resolve();
    }) as never);
    await bus.publish('inbound', { id: 1 });
    await eventually(() => expect(handled).toEqual([{ id: 1 }]));
    expect(calls).toBe(2);
    await bus.close();
  });

  it('abandons pending redeliveries on close instead of running handlers afterwards', async () => {
    const bus = createMemoryBus({ log: pino({ level: 'silent' }), retryDelayMs: 50 });
    let calls = 0;
    await bus.subscribe('inbound', async () => {
      calls++;
      return 'retry';
    });
    await bus.publish('inbound', { id: 1 });
    await eventually(() => expect(calls).toBe(1));
    await bus.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(1);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    const bus = createMemoryBus({ log: pino({ level: 'silent' }) });
    await expect(bus.subscribe('inbound', async () => {}, { concurrency: 0 })).rejects.toThrow(/positive integer/);
    await bus.close();
  });
});
