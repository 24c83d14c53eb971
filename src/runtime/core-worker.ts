/**
 * Core's half of store-and-notify: takes a conversation's lease, handles its open inbound
 * messages in order, and for each writes the replies, the state and the inbound message's new
 * status in ONE transaction, then notifies the gateways. A message already handled is skipped;
 * a worker whose lease was taken over cannot commit (fencing), so no reply is written twice.
 */
import type { Logger } from 'pino';
import type { Bus, Notification } from '../bus/bus.ts';
import type { BotLogic, HandleOutput, JsonObject } from '../core/handling.ts';
import type { InboundEvent } from '../core/model.ts';
import { matchOption, type NumberedOption } from '../core/render.ts';
import type { Store } from '../storage/database.ts';
import { claimConversation, loadConversation, loadState, releaseConversation, saveState } from '../storage/repositories/conversations.ts';
import { finishWork, insertOutbound, lastSent, nextOpen, outboundByPlatformId, retryLater, startWork } from '../storage/repositories/messages.ts';
import { loadPerson, setUnreachable, updatePerson } from '../storage/repositories/persons.ts';
import type { MessageRow } from '../storage/schema.ts';
import { ConversationQueue } from './conversation-queue.ts';
import type { Metrics } from './metrics.ts';
import { outboundTopic } from './topics.ts';

export interface CoreWorkerOptions {
  store: Store;
  bus: Bus;
  bot: BotLogic;
  log: Logger;
  metrics: Metrics;
  owner: string;
  leaseMs: number;
  maxAttempts: number;
}

class LeaseLost extends Error {}

export class CoreWorker {
  readonly #o: CoreWorkerOptions;
  readonly #queue: ConversationQueue;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(opts: CoreWorkerOptions) {
    this.#o = opts;
    this.#queue = new ConversationQueue(
      (id) => this.#drain(id),
      (err, conversationId) => opts.log.error({ err, conversationId }, 'core: conversation drain failed; the sweeper will retry'),
    );
  }

  /** Bus handler for `inbound` notifications. */
  async onNotification(n: Notification): Promise<void> {
    let conversationId = n.conversationId;
    if (conversationId === undefined) {
      const row = await this.#o.store.db.selectFrom('messages').select('conversation_id').where('id', '=', n.id).executeTakeFirst();
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
      if (!(await claimConversation(store.db, conversationId, 'handle', owner, Date.now(), leaseMs))) return;
      let leaseUntil = Date.now() + leaseMs;
      try {
        for (;;) {
          const msg = await nextOpen(store.db, conversationId, 'in');
          if (!msg) break;
          if (msg.available_at > Date.now()) {
            this.#wakeAt(conversationId, msg.available_at);
            break;
          }
          if (leaseUntil - Date.now() < leaseMs / 2) {
            if (!(await claimConversation(store.db, conversationId, 'handle', owner, Date.now(), leaseMs))) return;
            leaseUntil = Date.now() + leaseMs;
          }
          await this.#handleOne(msg);
        }
      } finally {
        await releaseConversation(store.db, conversationId, 'handle', owner);
      }
      // A message stored between our last look and the release found the lease taken: look again.
      const pending = await nextOpen(store.db, conversationId, 'in');
      if (!pending || pending.status !== 'received' || pending.available_at > Date.now()) return;
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

  async #handleOne(msg: MessageRow): Promise<void> {
    const { store, owner, leaseMs, bot, log, metrics } = this.#o;
    const db = store.db;
    if (!(await startWork(db, msg.id, 'in', owner, Date.now(), leaseMs))) return;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id };
    const conversation = await loadConversation(db, msg.conversation_id);
    const person = await loadPerson(db, conversation.person_id);
    const state = await loadState(db, conversation.id);
    const event = await this.#withOptionAnswer(JSON.parse(msg.content) as InboundEvent, conversation.id);
    const ref = { id: conversation.id, bot: conversation.bot, platform: conversation.platform, chatId: conversation.chat_id };

    const started = performance.now();
    let output: HandleOutput;
    try {
      output = await bot.handle({
        messageId: msg.id,
        event,
        person,
        conversation: ref,
        state,
        resolveOutbound: (platformMessageId) => outboundByPlatformId(db, conversation.id, platformMessageId),
      });
    } catch (err: unknown) {
      metrics.handled.inc({ status: 'error' });
      await this.#failed(msg, err);
      return;
    } finally {
      metrics.handlerSeconds.observe((performance.now() - started) / 1000);
    }

    const now = Date.now();
    let queued: Array<{ id: number; conversationId: number; platform: string }>;
    try {
      queued = await db.transaction().execute(async (trx) => {
        if (!(await finishWork(trx, msg.id, owner, { status: 'handled', error: null }, now))) throw new LeaseLost();
        if (event.kind === 'membership') {
          const identity = person.identities.find((i) => i.platform === conversation.platform);
          if (identity) await setUnreachable(trx, identity.platform, identity.platformUserId, event.status === 'blocked' ? 'blocked' : null, now);
        }
        const out: Array<{ id: number; conversationId: number; platform: string }> = [];
        for (const item of output.outbox) {
          const target = item.conversationId ?? conversation.id;
          const platform = target === conversation.id ? conversation.platform : (await loadConversation(trx, target)).platform;
          const id = await insertOutbound(trx, { conversationId: target, content: item.message, causeId: msg.id, editOf: item.editOf, now });
          out.push({ id, conversationId: target, platform });
        }
        if (output.state !== undefined) await saveState(trx, conversation.id, output.state as JsonObject, now);
        if (output.person) await updatePerson(trx, person.id, output.person, now);
        return out;
      });
    } catch (err: unknown) {
      if (err instanceof LeaseLost) {
        log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
        return;
      }
      throw err;
    }
    metrics.handled.inc({ status: 'handled' });
    log.debug({ ...logCtx, replies: queued.length }, 'inbound handled');
    for (const q of queued) {
      this.#o.bus.publish(outboundTopic(q.platform), { id: q.id, conversationId: q.conversationId }).catch((err: unknown) => {
        log.warn({ err, messageId: q.id, conversationId: q.conversationId }, 'notify failed; the sweeper will send it');
      });
    }
  }

  /** A typed answer to a numbered list (shown where buttons did not fit) becomes the button's action. */
  async #withOptionAnswer(event: InboundEvent, conversationId: number): Promise<InboundEvent> {
    if (event.kind !== 'message' || !event.text || event.images?.length || event.files?.length) return event;
    if (event.text.length > 200) return event;
    const last = await lastSent(this.#o.store.db, conversationId);
    if (!last?.raw) return event;
    const options = (JSON.parse(last.raw) as { options?: NumberedOption[] }).options;
    const payload = options?.length ? matchOption(event.text, options) : undefined;
    return payload === undefined ? event : { kind: 'action', payload };
  }

  async #failed(msg: MessageRow, err: unknown): Promise<void> {
    const { store, owner, log, maxAttempts } = this.#o;
    const attempt = msg.attempts + 1;
    const error = err instanceof Error ? err.message : String(err);
    const logCtx = { err, messageId: msg.id, conversationId: msg.conversation_id, attempt };
    if (attempt >= maxAttempts) {
      await finishWork(store.db, msg.id, owner, { status: 'failed', error }, Date.now());
      log.error(logCtx, 'core: handler failed; giving up on the message');
      return;
    }
    const backoff = Math.min(60_000, 500 * 2 ** (attempt - 1));
    await retryLater(store.db, msg.id, owner, 'in', Date.now() + backoff, error, Date.now());
    log.warn(logCtx, `core: handler failed; retrying in ${backoff} ms`);
  }
}
