/**
 * Shared pieces of the Telegram connector tests: real-shaped fixtures, a fake inbox that records
 * what it stored (deduplicating like the real one), and a Delivery built through renderMessage.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Update } from '@grammyjs/types';
import type { ConnectorContext, Delivery, IngestResult } from '../../../src/connectors/connector.ts';
import type { Capabilities } from '../../../src/core/capabilities.ts';
import type { InboundUpdate, OutgoingMessage } from '../../../src/core/model.ts';
import { renderMessage } from '../../../src/core/render.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export function fixture(name: string): Update {
  return JSON.parse(readFileSync(path.join(here, 'fixtures', `${name}.json`), 'utf8')) as Update;
}

export const silent = pino({ level: 'silent' });

/** An inbox that stores in memory, deduplicated by dedupKey, and can be told to fail. */
export class FakeInbox {
  readonly stored: InboundUpdate[] = [];
  readonly seen = new Set<string>();
  calls = 0;
  failNext = 0;

  readonly inbox = async (update: InboundUpdate): Promise<IngestResult> => {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database unavailable');
    }
    const duplicate = this.seen.has(update.dedupKey);
    if (!duplicate) {
      this.seen.add(update.dedupKey);
      this.stored.push(update);
    }
    return { id: this.stored.length, duplicate };
  };

  context(signal = new AbortController().signal): ConnectorContext {
    return { inbox: this.inbox, log: silent, signal };
  }
}

export function delivery(message: OutgoingMessage, caps: Capabilities, chatId: string, extra: Partial<Delivery> = {}): Delivery {
  return {
    messageId: 1,
    conversation: { id: 1, bot: 'main', platform: 'telegram', chatId },
    recipient: chatId,
    message,
    plan: renderMessage(message, caps),
    attempt: 1,
    ...extra,
  };
}

/** Polls until `probe` is truthy (generous timeout; never used to assert timing). */
export async function until<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
