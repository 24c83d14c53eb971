/**
 * The gateway's sending half: takes a conversation's send lease, sends its queued outbound
 * messages in order through the connector (the loop is conversation-drain.ts, shared with core), records every attempt, and decides retries by the
 * DeliveryError's kind. A crash between the platform's answer and our `sent` mark resends once
 * after the lease expires (VK drops that duplicate by random_id).
 *
 * Round trips are kept few, since they are most of a message's cost: the claim returns the
 * conversation's row, the recipient and the next message's id; marking it `sending` returns the
 * row; recording the send also releases the lease and looks for more. Leases and the `sending`
 * mark go through `store.relaxed` (losing them to a crash resends the message, which the
 * send-crash window above allows anyway).
 */
import type { Logger } from 'pino';
import { DeliveryError, type Connector, type SendResult } from '../connectors/connector.ts';
import type { OutgoingMessage } from '../core/model.ts';
import { renderMessage } from '../core/render.ts';
import type { Store } from '../storage/database.ts';
import { setReplyKeyboard, type ClaimedRow } from '../storage/repositories/conversations.ts';
import { finishSent } from '../storage/repositories/combined-writes.ts';
import { finishWork, getMessage, recordAttempt, retryLater } from '../storage/repositories/messages.ts';
import { setUnreachable } from '../storage/repositories/persons.ts';
import type { MessageRow } from '../storage/schema.ts';
import type { Notification } from '../bus/bus.ts';
import { ConversationDrain } from './conversation-drain.ts';
import { replyKeyboardOf, storedKeyboard } from './reply-keyboard.ts';
import type { Metrics } from './metrics.ts';

export interface GatewayWorkerOptions {
  store: Store;
  connector: Connector;
  log: Logger;
  metrics: Metrics;
  owner: string;
  leaseMs: number;
  maxAttempts: number;
}

/** Rendered record kept on a sent message: platform ids of every part and the numbered options. */
interface SentRecord {
  ids?: string[];
  options?: unknown[];
}

export class GatewayWorker {
  readonly #o: GatewayWorkerOptions;
  readonly #drain: ConversationDrain;

  constructor(opts: GatewayWorkerOptions) {
    this.#o = opts;
    this.#drain = new ConversationDrain({
      store: opts.store,
      owner: opts.owner,
      leaseMs: opts.leaseMs,
      kind: 'send',
      direction: 'out',
      work: (msg, conversation) => this.#sendOne(msg, conversation),
      log: opts.log,
      role: 'gateway',
    });
  }

  /** Bus handler for `outbound.<platform>` notifications. */
  onNotification(n: Notification): Promise<void> {
    return this.#drain.onNotification(n);
  }

  async close(): Promise<void> {
    await this.#drain.close();
  }

  /**
   * Sends one message (marked `sending` by this worker; `attempts` counts this attempt). Returns
   * whether more work is ready once the lease was released with the record of the send;
   * undefined when the lease is still held (a failed send: a retry holds back the messages after it).
   */
  async #sendOne(msg: MessageRow, conversation: ClaimedRow): Promise<boolean | undefined> {
    const { store, owner, leaseMs, connector, log, metrics } = this.#o;
    const db = store.db;
    const attempt = msg.attempts;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id, platform: connector.platform, attempt };
    const recipient = conversation.recipient ?? undefined;
    const message = JSON.parse(msg.content) as OutgoingMessage;
    const plan = renderMessage(message, connector.capabilities);
    const previous = msg.raw ? (JSON.parse(msg.raw) as SentRecord) : {};
    let edit: { platformMessageId: string } | undefined;
    if (msg.edit_of && connector.capabilities.edits) {
      const target = await getMessage(db, msg.edit_of);
      if (target?.platform_message_id) edit = { platformMessageId: target.platform_message_id };
    }
    const delivered = previous.ids ?? [];
    // Before the send: a person may press a button the moment it shows.
    const keyboard = replyKeyboardOf(plan);
    if (keyboard !== undefined) {
      const stored = storedKeyboard(keyboard);
      if (stored !== conversation.reply_keyboard) await setReplyKeyboard(db, conversation.id, stored);
    }
    let result: SendResult;
    try {
      result = await connector.send({
        messageId: msg.id,
        conversation: { id: conversation.id, bot: conversation.bot, platform: conversation.platform, chatId: conversation.chat_id },
        recipient: recipient ?? conversation.chat_id,
        message,
        plan,
        edit,
        lastInboundAt: conversation.last_inbound_at,
        attempt,
        skip: delivered.length,
      });
    } catch (err: unknown) {
      await this.#onError(msg, attempt, err, delivered, plan.options, recipient, logCtx);
      return undefined;
    }
    // The platform has the message now: a database error from here on must not send it again.
    // Saving is retried while the lease lasts; past that the row stays `sending` and falls under
    // the crash rule (at most one duplicate, docs/architecture.md).
    const ids = [...delivered, ...result.platformMessageIds];
    const record = JSON.stringify({ ids, options: plan.options });
    const deadline = Date.now() + leaseMs;
    let again: boolean;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      try {
        const now = Date.now();
        ({ again } = await finishSent(db, {
          id: msg.id,
          owner,
          now,
          platformMessageId: ids[ids.length - 1] ?? null,
          raw: record,
          attempt,
          conversationId: conversation.id,
          release: true,
        }));
        break;
      } catch (err: unknown) {
        if (Date.now() + wait > deadline) {
          log.error({ ...logCtx, err }, 'sent, but could not record it; the sweeper will resend once after the lease expires');
          return undefined;
        }
        log.warn({ ...logCtx, err }, 'sent, but could not record it yet; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    metrics.outbound.inc({ platform: connector.platform, status: 'sent' });
    log.debug(logCtx, 'outbound sent');
    return again;
  }

  async #onError(
    msg: MessageRow,
    attempt: number,
    err: unknown,
    delivered: string[],
    options: unknown[],
    recipient: string | undefined,
    logCtx: Record<string, unknown>,
  ): Promise<void> {
    const { store, owner, connector, log, metrics, maxAttempts } = this.#o;
    const db = store.db;
    const e =
      err instanceof DeliveryError
        ? err
        : new DeliveryError(err instanceof Error ? err.message : String(err), { kind: 'transient', platform: connector.platform, code: 'error', cause: err });
    metrics.sendErrors.inc({ platform: connector.platform, code: e.code, kind: e.kind });
    const now = Date.now();
    const ids = [...delivered, ...e.deliveredIds];
    await recordAttempt(db, { messageId: msg.id, attempt, outcome: e.kind, code: e.code, detail: e.message, now });
    if (ids.length > delivered.length) {
      await db.updateTable('messages').set({ raw: JSON.stringify({ ids, options }) }).where('id', '=', msg.id).execute();
    }
    if (e.kind === 'permanent' || attempt >= maxAttempts) {
      const reason = e.kind === 'permanent' ? `${e.code}: ${e.message}` : `gave up after ${attempt} attempts: ${e.code}: ${e.message}`;
      await db.transaction().execute(async (trx) => {
        await finishWork(trx, msg.id, owner, { status: 'failed', error: reason }, now);
        if (e.unreachable && recipient) await setUnreachable(trx, connector.platform, recipient, `${e.code}: ${e.message}`, now);
      });
      metrics.outbound.inc({ platform: connector.platform, status: 'failed' });
      log.warn({ ...logCtx, code: e.code, kind: e.kind, unreachable: e.unreachable }, `send failed: ${reason}`);
      return;
    }
    const wait = e.kind === 'rate-limited' ? Math.max(e.retryAfterMs ?? 1000, 50) : backoff(attempt);
    await retryLater(db, msg.id, owner, 'out', now + wait, `${e.code}: ${e.message}`, now);
    this.#drain.wakeAt(msg.conversation_id, now + wait);
    log.warn({ ...logCtx, code: e.code, kind: e.kind, retryInMs: wait }, 'send failed; will retry');
  }
}

/** Exponential back-off with jitter: ~1 s, 2 s, 4 s ... capped at 60 s. */
export function backoff(attempt: number): number {
  const base = Math.min(60_000, 1000 * 2 ** (attempt - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
