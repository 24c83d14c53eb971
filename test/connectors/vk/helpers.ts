/** Shared pieces of the VK connector tests: a fake inbox, deliveries, fixtures, a small PNG. */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { pino } from 'pino';
import type { ConnectorContext, Delivery, IngestResult } from '../../../src/connectors/connector.ts';
import type { Capabilities } from '../../../src/core/capabilities.ts';
import type { InboundUpdate, OutgoingMessage } from '../../../src/core/model.ts';
import { renderMessage } from '../../../src/core/render.ts';

export const GROUP_ID = 218000001;
export const FIXTURE_SECRET = 'fixture-secret';

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** An inbox that stores updates in memory and dedups by key, like the runtime's. */
export class FakeInbox {
  readonly updates: InboundUpdate[] = [];
  readonly keys = new Map<string, number>();
  /** When set, the next calls throw (as a failing database would). */
  failNext = 0;
  readonly inbox = async (u: InboundUpdate): Promise<IngestResult> => {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database unavailable');
    }
    const seen = this.keys.get(u.dedupKey);
    if (seen !== undefined) return { id: seen, duplicate: true };
    this.updates.push(u);
    this.keys.set(u.dedupKey, this.updates.length);
    return { id: this.updates.length, duplicate: false };
  };

  context(signal = new AbortController().signal): ConnectorContext {
    return { inbox: this.inbox, log: pino({ level: 'silent' }), signal };
  }

  /** Resolves when at least `n` updates arrived. */
  async waitFor(n: number, timeoutMs = 15_000): Promise<InboundUpdate[]> {
    const until = Date.now() + timeoutMs;
    while (this.updates.length < n) {
      if (Date.now() > until) throw new Error(`expected ${n} updates, got ${this.updates.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.updates;
  }
}

let nextMessageId = 1000;

export function delivery(
  caps: Capabilities,
  chatId: string,
  message: OutgoingMessage,
  extra: Partial<Delivery> & { skip?: number } = {},
): Delivery & { skip?: number } {
  return {
    messageId: nextMessageId++,
    conversation: { id: 1, bot: 'main', platform: 'vk', chatId },
    recipient: chatId,
    message,
    plan: renderMessage(message, caps),
    attempt: 1,
    ...extra,
  };
}

/** A real PNG of `w`×`h` pixels. */
export function png(w = 8, h = 6): Buffer {
  const img = new PNG({ width: w, height: h });
  img.data.fill(200);
  return PNG.sync.write(img);
}

export async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
