/**
 * A connector for runtime tests: inbound updates are pushed by the test through `receive`,
 * deliveries are recorded, and the next sends can be scripted to fail.
 */
import { FULL_CAPABILITIES, type Capabilities } from '../../src/core/capabilities.ts';
import { DeliveryError, type Connector, type ConnectorContext, type Delivery, type IngestResult } from '../../src/connectors/connector.ts';
import type { InboundEvent } from '../../src/core/model.ts';
import { plainText } from '../../src/core/format.ts';

export interface FakeConnector extends Connector {
  deliveries: Delivery[];
  /** Errors thrown by the next sends, in order (undefined entries succeed). */
  failNext: Array<DeliveryError | Error | undefined>;
  receive(chatId: string, event: InboundEvent, dedupKey?: string): Promise<IngestResult>;
  /** Texts sent to a chat, one per rendered part. */
  texts(chatId: string): string[];
  /** Resolves when `n` deliveries (successful sends) reached `chatId`. */
  waitFor(chatId: string, n: number, timeoutMs?: number): Promise<string[]>;
}

export function createFakeConnector(opts: { platform?: string; capabilities?: Partial<Capabilities>; sendDelayMs?: number } = {}): FakeConnector {
  let ctx: ConnectorContext | undefined;
  let seq = 0;
  const sent: Array<{ chatId: string; text: string }> = [];
  const c: FakeConnector = {
    platform: opts.platform ?? 'fake',
    bot: 'main',
    capabilities: { ...FULL_CAPABILITIES, ...opts.capabilities },
    receiveMode: 'push',
    deliveries: [],
    failNext: [],
    async start(context) {
      ctx = context;
    },
    async send(delivery) {
      if (opts.sendDelayMs) await new Promise((r) => setTimeout(r, opts.sendDelayMs));
      const failure = c.failNext.shift();
      if (failure) throw failure;
      c.deliveries.push(delivery);
      const skip = (delivery as { skip?: number }).skip ?? 0;
      const ids: string[] = [];
      for (const part of delivery.plan.parts.slice(skip)) {
        sent.push({ chatId: delivery.conversation.chatId, text: part.text ? plainText(part.text) : '[media]' });
        ids.push(String(++seq));
      }
      return { platformMessageIds: ids };
    },
    async receive(chatId, event, dedupKey) {
      if (!ctx) throw new Error('fake connector not started');
      return ctx.inbox({
        platform: c.platform,
        bot: 'main',
        dedupKey: dedupKey ?? `${chatId}-${++seq}`,
        chatId,
        sender: { platformUserId: chatId, language: 'en' },
        event,
        raw: { chatId, event },
      });
    },
    texts: (chatId) => sent.filter((s) => s.chatId === chatId).map((s) => s.text),
    async waitFor(chatId, n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (c.texts(chatId).length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages to ${chatId}, got ${JSON.stringify(c.texts(chatId))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return c.texts(chatId);
    },
  };
  return c;
}

export function permanent(code: string, unreachable = false): DeliveryError {
  return new DeliveryError(`fake ${code}`, { kind: 'permanent', platform: 'fake', code, unreachable });
}
export function rateLimited(ms: number): DeliveryError {
  return new DeliveryError('fake 429', { kind: 'rate-limited', platform: 'fake', code: '429', retryAfterMs: ms });
}
export function transient(): DeliveryError {
  return new DeliveryError('fake ECONNRESET', { kind: 'transient', platform: 'fake', code: 'ECONNRESET' });
}
