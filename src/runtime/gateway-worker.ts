/**
 * The gateway's sending half: takes a conversation's send lease, sends its queued outbound
 * messages in order through the connector, records every attempt, and decides retries by the
 * DeliveryError's kind. A crash between the platform's answer and our `sent` mark resends once
 * after the lease expires (VK drops that duplicate by random_id).
 */
import type { Logger } from 'pino';
import { DeliveryError, type Connector } from '../connectors/connector.ts';
import type { OutgoingMessage } from '../core/model.ts';
import { renderMessage } from '../core/render.ts';
import type { Store } from '../storage/database.ts';
import { claimConversation, loadConversation, releaseConversation } from '../storage/repositories/conversations.ts';
import { finishWork, getMessage, nextOpen, recordAttempt, retryLater, startWork } from '../storage/repositories/messages.ts';
import { setUnreachable } from '../storage/repositories/persons.ts';
import type { MessageRow } from '../storage/schema.ts';
import type { Notification } from '../bus/bus.ts';
import { ConversationQueue } from './conversation-queue.ts';
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
  readonly #queue: ConversationQueue;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(opts: GatewayWorkerOptions) {
    this.#o = opts;
    this.#queue = new ConversationQueue(
      (id) => this.#drain(id),
      (err, conversationId) => opts.log.error({ err, conversationId }, 'gateway: drain failed; the sweeper will retry'),
    );
  }

  async onNotification(n: Notification): Promise<void> {
    let conversationId = n.conversationId;
    if (conversationId === undefined) {
      const row = await getMessage(this.#o.store.db, n.id);
      if (!row) return;
      conversationId = row.conversation_id;
    }
    await this.#queue.notify(conversationId);
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    await this.#queue.idle();
  }

  async #drain(conversationId: number): Promise<void> {
    const { store, owner, leaseMs } = this.#o;
    for (;;) {
      if (!(await claimConversation(store.db, conversationId, 'send', owner, Date.now(), leaseMs))) return;
      try {
        for (;;) {
          const msg = await nextOpen(store.db, conversationId, 'out');
          if (!msg) break;
          if (msg.available_at > Date.now()) {
            this.#wakeAt(conversationId, msg.available_at);
            break;
          }
          await claimConversation(store.db, conversationId, 'send', owner, Date.now(), leaseMs);
          // Order: a message waiting for a retry holds back the ones after it.
          if (!(await this.#sendOne(msg))) break;
        }
      } finally {
        await releaseConversation(store.db, conversationId, 'send', owner);
      }
      const pending = await nextOpen(store.db, conversationId, 'out');
      if (!pending || pending.status !== 'queued' || pending.available_at > Date.now()) return;
    }
  }

  #wakeAt(conversationId: number, at: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#queue.notify(conversationId);
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.#timers.add(timer);
  }

  /** Sends one message; false when it must be retried later (the conversation waits for it). */
  async #sendOne(msg: MessageRow): Promise<boolean> {
    const { store, owner, leaseMs, connector, log, metrics } = this.#o;
    const db = store.db;
    if (!(await startWork(db, msg.id, 'out', owner, Date.now(), leaseMs))) return true;
    const attempt = msg.attempts + 1;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id, platform: connector.platform, attempt };
    const conversation = await loadConversation(db, msg.conversation_id);
    const identity = await db
      .selectFrom('identities')
      .select('platform_user_id')
      .where('person_id', '=', conversation.person_id)
      .where('platform', '=', conversation.platform)
      .executeTakeFirst();
    const message = JSON.parse(msg.content) as OutgoingMessage;
    const plan = renderMessage(message, connector.capabilities);
    const previous = msg.raw ? (JSON.parse(msg.raw) as SentRecord) : {};
    let edit: { platformMessageId: string } | undefined;
    if (msg.edit_of && connector.capabilities.edits) {
      const target = await getMessage(db, msg.edit_of);
      if (target?.platform_message_id) edit = { platformMessageId: target.platform_message_id };
    }
    const delivered = previous.ids ?? [];
    try {
      const result = await connector.send(Object.assign(
        {
          messageId: msg.id,
          conversation: { id: conversation.id, bot: conversation.bot, platform: conversation.platform, chatId: conversation.chat_id },
          recipient: identity?.platform_user_id ?? conversation.chat_id,
          message,
          plan,
          edit,
          lastInboundAt: conversation.last_inbound_at,
          attempt,
        },
        { skip: delivered.length },
      ));
      const ids = [...delivered, ...result.platformMessageIds];
      const record = JSON.stringify({ ids, options: plan.options });
      const now = Date.now();
      await db.transaction().execute(async (trx) => {
        await finishWork(trx, msg.id, owner, { status: 'sent', error: null, platform_message_id: ids[ids.length - 1] ?? null, raw: record }, now);
        await recordAttempt(trx, { messageId: msg.id, attempt, outcome: 'sent', now });
      });
      metrics.outbound.inc({ platform: connector.platform, status: 'sent' });
      log.debug(logCtx, 'outbound sent');
      return true;
    } catch (err: unknown) {
      return this.#onError(msg, attempt, err, delivered, plan.options, identity?.platform_user_id, logCtx);
    }
  }

  async #onError(
    msg: MessageRow,
    attempt: number,
    err: unknown,
    delivered: string[],
    options: unknown[],
    recipient: string | undefined,
    logCtx: Record<string, unknown>,
  ): Promise<boolean> {
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
      return true;
    }
    const wait = e.kind === 'rate-limited' ? Math.max(e.retryAfterMs ?? 1000, 50) : backoff(attempt);
    await retryLater(db, msg.id, owner, 'out', now + wait, `${e.code}: ${e.message}`, now);
    this.#wakeAt(msg.conversation_id, now + wait);
    log.warn({ ...logCtx, code: e.code, kind: e.kind, retryInMs: wait }, 'send failed; will retry');
    return false;
  }
}

/** Exponential back-off with jitter: ~1 s, 2 s, 4 s ... capped at 60 s. */
export function backoff(attempt: number): number {
  const base = Math.min(60_000, 1000 * 2 ** (attempt - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
