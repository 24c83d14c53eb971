/**
 * Core's half of store-and-notify: takes a conversation's lease, handles its open inbound
 * messages in order, and for each writes the replies, the state and the inbound message's new
 * status in ONE transaction, then notifies the gateways. A message already handled is skipped;
 * a worker whose lease was taken over cannot commit (fencing), so no reply is written twice.
 *
 * Round trips per turn are kept few, because they are most of a message's cost: the claim returns
 * the conversation's row and the next message's id, marking it `processing` returns the row, the
 * person, state and last sent message come in one read, and the turn's write also releases the
 * lease and looks for more (on PostgreSQL, the whole write is one statement). Leases and the
 * `processing` mark go through `store.relaxed`: losing them to a crash only lets the lease expire
 * sooner (see database.ts).
 */
import type { Logger } from 'pino';
import type { Bus, Notification } from '../bus/bus.ts';
import type { BotLogic, HandleOutput, JsonObject } from '../core/handling.ts';
import type { InboundEvent } from '../core/model.ts';
import { matchOption, type NumberedOption } from '../core/render.ts';
import { isPostgres, type Store } from '../storage/database.ts';
import { claimConversationRow, loadConversation, loadTurnContext, releaseAndLook, saveState } from '../storage/repositories/conversations.ts';
import { finishTurnPg } from '../storage/repositories/combined-writes.ts';
import { finishWork, insertOutbound, nextOpen, outboundByPlatformId, retryLater, startWorkRow } from '../storage/repositories/messages.ts';
import { setUnreachable, updatePerson } from '../storage/repositories/persons.ts';
import type { ConversationRow, MessageRow } from '../storage/schema.ts';
import { ConversationQueue, inboundBacklog, type InboundBacklog } from './conversation-queue.ts';
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

/** One claim of a conversation. */
interface Drain {
  conversation: ConversationRow;
  /** Set once the lease is released: whether work was waiting for the next holder. */
  again?: boolean;
}

export class CoreWorker {
  readonly #o: CoreWorkerOptions;
  readonly #queue: ConversationQueue;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #backlog: InboundBacklog;
  readonly #detach: () => void;

  constructor(opts: CoreWorkerOptions) {
    this.#o = opts;
    this.#backlog = inboundBacklog(opts.store);
    this.#detach = this.#backlog.attachCore();
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
    this.#detach();
  }

  async #drain(conversationId: number): Promise<void> {
    const { store, owner, leaseMs } = this.#o;
    for (;;) {
      // One message per claim: the claim reads the oldest open one, and the statement that
      // records its handling releases the lease and looks for the next.
      const conversation = await claimConversationRow(store.relaxed, conversationId, 'handle', owner, Date.now(), leaseMs);
      if (!conversation) return;
      const drain: Drain = { conversation };
      try {
        if (conversation.next_id !== null) {
          const msg = await startWorkRow(store.relaxed, conversation.next_id, 'in', owner, Date.now(), leaseMs);
          if (msg) await this.#handleOne(msg, drain);
          else await this.#notDueYet(conversationId);
        }
      } finally {
        drain.again ??= await releaseAndLook(store.relaxed, conversationId, 'handle', owner, Date.now());
      }
      // A message stored while we held the lease found it taken, so its notification is spent:
      // this drain goes on with it.
      if (!drain.again) return;
    }
  }

  /** The oldest open message was not due (a retry waits) or no longer open: wake up when due. */
  async #notDueYet(conversationId: number): Promise<void> {
    const pending = await nextOpen(this.#o.store.db, conversationId, 'in');
    if (pending && pending.available_at > Date.now()) this.#wakeAt(conversationId, pending.available_at);
  }

  #wakeAt(conversationId: number, at: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#queue.notify(conversationId);
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * Handles one message, marked `processing` by this worker (`attempts` counts this attempt);
   * the turn's write releases the conversation's lease and sets `drain.again`.
   */
  async #handleOne(msg: MessageRow, drain: Drain): Promise<void> {
    try {
      await this.#turn(msg, drain);
    } finally {
      this.#backlog.done(msg.id);
    }
  }

  async #turn(msg: MessageRow, drain: Drain): Promise<void> {
    const { store, owner, bot, log, metrics } = this.#o;
    const db = store.db;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id };
    const conversation = drain.conversation;
    const context = await loadTurnContext(db, conversation.id, conversation.person_id);
    const { person } = context;
    const event = this.#withOptionAnswer(JSON.parse(msg.content) as InboundEvent, context.lastSentRaw);
    const ref = { id: conversation.id, bot: conversation.bot, platform: conversation.platform, chatId: conversation.chat_id };

    const started = performance.now();
    let output: HandleOutput;
    try {
      output = await bot.handle({
        messageId: msg.id,
        event,
        person,
        conversation: ref,
        // Parsed anew each turn, as loadState would: the handler may change the object it gets.
        state: context.stateData ? (JSON.parse(context.stateData) as JsonObject) : {},
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
    const simple =
      isPostgres(db) &&
      event.kind !== 'membership' &&
      !output.person &&
      output.outbox.length <= 1 &&
      output.outbox.every((item) => (item.conversationId ?? conversation.id) === conversation.id);
    if (simple) {
      // The usual turn on PostgreSQL: one statement instead of a transaction's five round trips.
      const [item] = output.outbox;
      const res = await finishTurnPg(db, {
        id: msg.id,
        owner,
        now,
        conversationId: conversation.id,
        reply: item ? { content: item.message, editOf: item.editOf } : undefined,
        state: output.state !== undefined ? JSON.stringify(output.state) : undefined,
        release: true,
      });
      if (!res) {
        log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
        return;
      }
      drain.again = res.again;
      queued = res.outboundId === null ? [] : [{ id: res.outboundId, conversationId: conversation.id, platform: conversation.platform }];
    } else {
      try {
        let again: boolean | undefined;
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
          again = await releaseAndLook(trx, conversation.id, 'handle', owner, now);
          return out;
        });
        drain.again = again;
      } catch (err: unknown) {
        if (err instanceof LeaseLost) {
          log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
          return;
        }
        throw err;
      }
    }
    metrics.handled.inc({ status: 'handled' });
    log.debug({ ...logCtx, replies: queued.length }, 'inbound handled');
    for (const q of queued) {
      this.#o.bus.publish(outboundTopic(q.platform), { id: q.id, conversationId: q.conversationId }).catch((err: unknown) => {
        log.warn({ err, messageId: q.id, conversationId: q.conversationId }, 'notify failed; the sweeper will send it');
      });
    }
  }

  /**
   * A typed answer to a numbered list (shown where buttons did not fit) becomes the button's
   * action; `lastSentRaw` is the record of the conversation's latest sent message.
   */
  #withOptionAnswer(event: InboundEvent, lastSentRaw: string | null): InboundEvent {
    if (event.kind !== 'message' || !event.text || event.images?.length || event.files?.length) return event;
    if (event.text.length > 200) return event;
    const raw = lastSentRaw;
    if (!raw) return event;
    const options = (JSON.parse(raw) as { options?: NumberedOption[] }).options;
    const payload = options?.length ? matchOption(event.text, options) : undefined;
    return payload === undefined ? event : { kind: 'action', payload };
  }

  /** Fails the message for good, or puts it back for a retry (which holds back the ones after it). */
  async #failed(msg: MessageRow, err: unknown): Promise<void> {
    const { store, owner, log, maxAttempts } = this.#o;
    const attempt = msg.attempts;
    const error = err instanceof Error ? err.message : String(err);
    const logCtx = { err, messageId: msg.id, conversationId: msg.conversation_id, attempt };
    if (attempt >= maxAttempts) {
      await finishWork(store.db, msg.id, owner, { status: 'failed', error }, Date.now());
      log.error(logCtx, 'core: handler failed; giving up on the message');
      return;
    }
    const backoff = Math.min(60_000, 500 * 2 ** (attempt - 1));
    await retryLater(store.db, msg.id, owner, 'in', Date.now() + backoff, error, Date.now());
    this.#wakeAt(msg.conversation_id, Date.now() + backoff);
    log.warn(logCtx, `core: handler failed; retrying in ${backoff} ms`);
  }
}
