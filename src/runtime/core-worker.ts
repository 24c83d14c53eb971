/**
 * Core's half of store-and-notify: takes a conversation's lease, handles its open inbound
 * messages in order, and for each writes the replies, the state and the inbound message's new
 * status in ONE transaction, then notifies the gateways. A message already handled is skipped;
 * a worker whose lease was taken over cannot commit (fencing), so no reply is written twice.
 *
 * Round trips per turn are kept few, because they are most of a message's cost: the claim returns
 * the conversation's row, open messages are read in batches, the person, state and last sent
 * message come in one read per drain, and the lease is released in the last turn's transaction.
 * Leases and the `processing` mark go through `store.relaxed`: losing them to a crash only lets
 * the lease expire sooner (see database.ts).
 */
import type { Logger } from 'pino';
import type { Bus, Notification } from '../bus/bus.ts';
import type { BotLogic, HandleOutput, JsonObject } from '../core/handling.ts';
import type { InboundEvent } from '../core/model.ts';
import { matchOption, type NumberedOption } from '../core/render.ts';
import { isPostgres, type Store } from '../storage/database.ts';
import { claimConversationRow, loadConversation, loadTurnContext, releaseAndLook, saveState, type TurnContext } from '../storage/repositories/conversations.ts';
import { finishTurnPg, finishWork, insertOutbound, lastSent, openMessages, outboundByPlatformId, retryLater, startWork } from '../storage/repositories/messages.ts';
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

/** Open messages read at once; a burst longer than this is read again after it. */
const BATCH = 16;

class LeaseLost extends Error {}

/** What a drain keeps between the turns of one conversation. */
interface Drain {
  conversation: ConversationRow;
  leaseUntil: number;
  /** Loaded before the first turn; null after a turn that changed the person. */
  context: TurnContext | null;
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
      const conversation = await claimConversationRow(store.relaxed, conversationId, 'handle', owner, Date.now(), leaseMs);
      if (!conversation) return;
      const drain: Drain = { conversation, leaseUntil: Date.now() + leaseMs, context: null };
      try {
        const batch = await openMessages(store.db, conversationId, 'in', BATCH);
        for (let i = 0; i < batch.length; i++) {
          const msg = batch[i];
          if (msg.available_at > Date.now()) {
            this.#wakeAt(conversationId, msg.available_at);
            break;
          }
          if (drain.leaseUntil - Date.now() < leaseMs / 2) {
            if (!(await claimConversationRow(store.relaxed, conversationId, 'handle', owner, Date.now(), leaseMs))) return;
            drain.leaseUntil = Date.now() + leaseMs;
          }
          // Order: a message put back for a retry holds back the ones after it.
          if (!(await this.#handleOne(msg, drain, i === batch.length - 1))) {
            this.#wakeAt(conversationId, Date.now() + 1);
            break;
          }
          if (drain.again !== undefined) break;
        }
      } finally {
        drain.again ??= await releaseAndLook(store.relaxed, conversationId, 'handle', owner, Date.now());
      }
      // A message stored while we held the lease found it taken, so its notification is spent:
      // this drain goes on with it (or past the batch).
      if (!drain.again) return;
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

  /**
   * Handles one message; `last` releases the conversation's lease in the turn's transaction.
   * False when the message was put back for a retry later.
   */
  async #handleOne(msg: MessageRow, drain: Drain, last: boolean): Promise<boolean> {
    try {
      return await this.#turn(msg, drain, last);
    } finally {
      this.#backlog.done(msg.id);
    }
  }

  async #turn(msg: MessageRow, drain: Drain, last: boolean): Promise<boolean> {
    const { store, owner, leaseMs, bot, log, metrics } = this.#o;
    const db = store.db;
    if (!(await startWork(store.relaxed, msg.id, 'in', owner, Date.now(), leaseMs))) return true;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id };
    const conversation = drain.conversation;
    const first = drain.context === null;
    const context = (drain.context ??= await loadTurnContext(db, conversation.id, conversation.person_id));
    const { person } = context;
    const event = await this.#withOptionAnswer(JSON.parse(msg.content) as InboundEvent, conversation.id, first ? context.lastSentRaw : undefined);
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
      return this.#failed(msg, err);
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
        release: last,
      });
      if (!res) {
        log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
        return true;
      }
      if (last) drain.again = res.again;
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
          if (last) again = await releaseAndLook(trx, conversation.id, 'handle', owner, now);
          return out;
        });
        drain.again = again;
      } catch (err: unknown) {
        if (err instanceof LeaseLost) {
          log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
          return true;
        }
        throw err;
      }
    }
    // The next turn of this drain sees what this one saved, as if it read it back.
    if (output.state !== undefined) context.stateData = JSON.stringify(output.state);
    if (output.person || event.kind === 'membership') drain.context = null;
    metrics.handled.inc({ status: 'handled' });
    log.debug({ ...logCtx, replies: queued.length }, 'inbound handled');
    for (const q of queued) {
      this.#o.bus.publish(outboundTopic(q.platform), { id: q.id, conversationId: q.conversationId }).catch((err: unknown) => {
        log.warn({ err, messageId: q.id, conversationId: q.conversationId }, 'notify failed; the sweeper will send it');
      });
    }
    return true;
  }

  /**
   * A typed answer to a numbered list (shown where buttons did not fit) becomes the button's
   * action. `lastSentRaw` is the drain's first read of the latest sent message; later turns read
   * it again, since replies go out while the drain runs.
   */
  async #withOptionAnswer(event: InboundEvent, conversationId: number, lastSentRaw: string | null | undefined): Promise<InboundEvent> {
    if (event.kind !== 'message' || !event.text || event.images?.length || event.files?.length) return event;
    if (event.text.length > 200) return event;
    const raw = lastSentRaw !== undefined ? lastSentRaw : ((await lastSent(this.#o.store.db, conversationId))?.raw ?? null);
    if (!raw) return event;
    const options = (JSON.parse(raw) as { options?: NumberedOption[] }).options;
    const payload = options?.length ? matchOption(event.text, options) : undefined;
    return payload === undefined ? event : { kind: 'action', payload };
  }

  /** Fails the message for good (true: go on with the next) or puts it back for a retry (false). */
  async #failed(msg: MessageRow, err: unknown): Promise<boolean> {
    const { store, owner, log, maxAttempts } = this.#o;
    const attempt = msg.attempts + 1;
    const error = err instanceof Error ? err.message : String(err);
    const logCtx = { err, messageId: msg.id, conversationId: msg.conversation_id, attempt };
    if (attempt >= maxAttempts) {
      await finishWork(store.db, msg.id, owner, { status: 'failed', error }, Date.now());
      log.error(logCtx, 'core: handler failed; giving up on the message');
      return true;
    }
    const backoff = Math.min(60_000, 500 * 2 ** (attempt - 1));
    await retryLater(store.db, msg.id, owner, 'in', Date.now() + backoff, error, Date.now());
    log.warn(logCtx, `core: handler failed; retrying in ${backoff} ms`);
    return false;
  }
}
