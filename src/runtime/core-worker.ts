/**
 * Core's half of store-and-notify: takes a conversation's lease, handles its open inbound
 * messages in order (the loop is conversation-drain.ts, shared with the gateway), and for each
 * writes the replies, the state and the inbound message's new status in ONE transaction, then
 * notifies the gateways. A message already handled is skipped; a worker whose lease was taken
 * over cannot commit (fencing), so no reply is written twice.
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
import { loadConversation, loadTurnContext, releaseAndLook, saveState, type ClaimedRow } from '../storage/repositories/conversations.ts';
import { finishTurnPg } from '../storage/repositories/combined-writes.ts';
import { finishWork, insertOutbound, outboundByPlatformId, retryLater } from '../storage/repositories/messages.ts';
import { setUnreachable, updatePerson } from '../storage/repositories/persons.ts';
import type { MessageRow } from '../storage/schema.ts';
import { ConversationDrain } from './conversation-drain.ts';
import type { InboundBacklog } from './inbound-backlog.ts';
import { pressedButton } from './reply-keyboard.ts';
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
  /** Admission control shared with this process's inbox: told when each message is done. */
  backlog: InboundBacklog;
}

class LeaseLost extends Error {}

export class CoreWorker {
  readonly #o: CoreWorkerOptions;
  readonly #drain: ConversationDrain;
  readonly #backlog: InboundBacklog;
  readonly #detach: () => void;

  constructor(opts: CoreWorkerOptions) {
    this.#o = opts;
    this.#backlog = opts.backlog;
    this.#detach = this.#backlog.attachCore();
    this.#drain = new ConversationDrain({
      store: opts.store,
      owner: opts.owner,
      leaseMs: opts.leaseMs,
      kind: 'handle',
      direction: 'in',
      work: (msg, conversation) => this.#handleOne(msg, conversation),
      log: opts.log,
      role: 'core',
    });
  }

  /** Bus handler for `inbound` notifications. */
  onNotification(n: Notification): Promise<void> {
    return this.#drain.onNotification(n);
  }

  async close(): Promise<void> {
    await this.#drain.close();
    this.#detach();
  }

  /**
   * Handles one message, marked `processing` by this worker (`attempts` counts this attempt).
   * Returns whether more is ready once the turn's write released the lease; undefined when the
   * lease is still held (the handler failed) or was lost.
   */
  async #handleOne(msg: MessageRow, conversation: ClaimedRow): Promise<boolean | undefined> {
    try {
      return await this.#turn(msg, conversation);
    } finally {
      this.#backlog.done(msg.id);
    }
  }

  async #turn(msg: MessageRow, conversation: ClaimedRow): Promise<boolean | undefined> {
    const { store, owner, bot, log, metrics } = this.#o;
    const db = store.db;
    const logCtx = { messageId: msg.id, conversationId: msg.conversation_id };
    const context = await loadTurnContext(db, conversation.id, conversation.person_id);
    const { person } = context;
    const event = this.#withOptionAnswer(JSON.parse(msg.content) as InboundEvent, context.lastSentRaw, conversation.reply_keyboard);
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
      return undefined;
    } finally {
      metrics.handlerSeconds.observe((performance.now() - started) / 1000);
    }

    const now = Date.now();
    let queued: Array<{ id: number; conversationId: number; platform: string }>;
    let again: boolean | undefined;
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
        return undefined;
      }
      again = res.again;
      queued = res.outboundId === null ? [] : [{ id: res.outboundId, conversationId: conversation.id, platform: conversation.platform }];
    } else {
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
          again = await releaseAndLook(trx, conversation.id, 'handle', owner, now);
          return out;
        });
      } catch (err: unknown) {
        if (err instanceof LeaseLost) {
          log.warn(logCtx, 'core: lease lost while handling; another worker owns the message now');
          return undefined;
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
    return again;
  }

  /**
   * A pressed reply-keyboard button (its label as text, see reply-keyboard.ts) or a typed answer
   * to a numbered list (shown where buttons did not fit) becomes the button's action;
   * `lastSentRaw` is the record of the conversation's latest sent message.
   */
  #withOptionAnswer(event: InboundEvent, lastSentRaw: string | null, replyKeyboard: string | null): InboundEvent {
    if (event.kind !== 'message' || !event.text || event.images?.length || event.files?.length) return event;
    if (event.text.length > 200) return event;
    const pressed = pressedButton(event.text, replyKeyboard);
    if (pressed !== undefined) return { kind: 'action', payload: pressed };
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
    this.#drain.wakeAt(msg.conversation_id, Date.now() + backoff);
    log.warn(logCtx, `core: handler failed; retrying in ${backoff} ms`);
  }
}
