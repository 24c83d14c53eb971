/**
 * Live delivery of the bot's messages to every web replica. The replica whose gateway sends a
 * message is often not the one holding the visitor's tabs, so `send` broadcasts "message 57 of
 * conversation 12 was sent" on the bus, and every replica (the sender too) pushes it to the tabs
 * it holds for that conversation: the sender from the frame it rendered, the others after
 * loading the message. Each replica handles one conversation's broadcasts one at a time, in the
 * order the bus delivered them, which is the order they were sent; tabs drop a message they
 * already show, so a resend or a broadcast racing the history never shows anything twice.
 *
 * Broadcasts are not kept: a replica cut off from the broker misses them, and its visitors see
 * those messages in the history when their tab reconnects. The sender's own tabs do not depend
 * on the bus: if its broadcast fails, or does not come back within a few seconds, it pushes the
 * frame to them itself.
 */
import type { Logger } from 'pino';
import type { BroadcastHandler, Notification, Subscription } from '../../bus/bus.ts';
import type { Capabilities } from '../../core/capabilities.ts';
import type { OutgoingMessage } from '../../core/model.ts';
import { renderMessage } from '../../core/render.ts';
import { liveFrame } from './outbound.ts';
import type { ServerFrame } from './protocol.ts';
import type { WebchatFiles } from './uploads.ts';
import type { Visitors } from './visitors.ts';

/** The part of the bus the web chat uses: fan-out between web replicas. */
export interface LiveBus {
  broadcast(topic: string, n: Notification): Promise<void>;
  listen(topic: string, handler: BroadcastHandler): Promise<Subscription>;
}

/** One outbound web chat message, as another replica loads it to push it to its tabs. */
export interface OutboundItem {
  /** The visitor (chat id) of its conversation. */
  chatId: string;
  message: OutgoingMessage;
  /** For an edit: the recorded id of the part it replaces (the earlier message's last part). */
  editTarget?: string;
}

export interface LiveDeps {
  bot: string;
  capabilities: Capabilities;
  files: WebchatFiles;
  visitors: Visitors;
  /** Loads a message this replica did not send; undefined when it is not this bot's web chat's. */
  outbound?: (id: number) => Promise<OutboundItem | undefined>;
  log: () => Logger;
}

/** A message this replica sent, waiting for its own broadcast to come back. */
interface Pending {
  chatId: string;
  frame: ServerFrame;
  actions: Array<{ payload: string; label: string }>;
  timer: NodeJS.Timeout;
}

/** How long the sender waits for its own broadcast before pushing to its tabs itself. */
const OWN_BROADCAST_WAIT_MS = 3000;
/** Conversation → visitor pairs remembered, to skip broadcasts for visitors not connected here. */
const MAX_KNOWN_CONVERSATIONS = 10_000;

/** The broadcast topic of one bot's web chat. */
export const liveTopic = (bot: string) => `webchat.sent.${bot}`;

export class LiveFeed {
  readonly #deps: LiveDeps;
  #bus: LiveBus | undefined;
  #listening: Subscription | undefined;
  readonly #pending = new Map<number, Pending>();
  /** Per conversation, the tail of its broadcasts being handled. */
  readonly #chains = new Map<number, Promise<void>>();
  readonly #chatOf = new Map<number, string>();

  constructor(deps: LiveDeps) {
    this.#deps = deps;
  }

  /** Starts listening to the other replicas. Without a bus, `deliver` pushes to local tabs only. */
  async start(bus: LiveBus): Promise<void> {
    this.#listening = await bus.listen(liveTopic(this.#deps.bot), (n) => this.#onBroadcast(n));
    this.#bus = bus;
  }

  /** Shows a message this replica sent in every tab of the visitor, on whichever replica. */
  async deliver(messageId: number, conversationId: number, chatId: string, rendered: Omit<Pending, 'chatId' | 'timer'>): Promise<void> {
    this.#remember(conversationId, chatId);
    const bus = this.#bus;
    if (!bus) return this.#show(messageId, { ...rendered, chatId });
    this.#takePending(messageId); // a resend replaces the earlier attempt's wait
    const timer = setTimeout(() => {
      if (this.#takePending(messageId)) {
        this.#deps.log().warn({ messageId }, 'webchat: own broadcast did not come back; pushed to local tabs directly');
        this.#show(messageId, { ...rendered, chatId });
      }
    }, OWN_BROADCAST_WAIT_MS).unref();
    this.#pending.set(messageId, { ...rendered, chatId, timer });
    try {
      await bus.broadcast(liveTopic(this.#deps.bot), { id: messageId, conversationId });
    } catch (err: unknown) {
      // The message is stored and counts as sent; other replicas' tabs get it from the history.
      this.#deps.log().warn({ err, messageId }, 'webchat: broadcast failed; only this replica pushes the message live');
      if (this.#takePending(messageId)) this.#show(messageId, { ...rendered, chatId });
    }
  }

  async close(): Promise<void> {
    const listening = this.#listening;
    this.#listening = undefined;
    this.#bus = undefined;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    await listening?.close();
  }

  #onBroadcast(n: Notification): void {
    const key = n.conversationId ?? 0;
    const next = (this.#chains.get(key) ?? Promise.resolve())
      .then(() => this.#handle(n))
      .catch((err: unknown) => this.#deps.log().warn({ err, messageId: n.id }, 'webchat: could not push a message sent by another replica'));
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #handle(n: Notification): Promise<void> {
    const own = this.#takePending(n.id);
    if (own) return this.#show(n.id, own);
    const { visitors } = this.#deps;
    if (visitors.socketCount === 0) return;
    const known = n.conversationId === undefined ? undefined : this.#chatOf.get(n.conversationId);
    if (known !== undefined && !visitors.connected(known)) return;
    const item = await this.#deps.outbound?.(n.id);
    if (!item) return;
    if (n.conversationId !== undefined) this.#remember(n.conversationId, item.chatId);
    if (!visitors.connected(item.chatId)) return;
    const plan = renderMessage(item.message, this.#deps.capabilities);
    const { frame, actions } = await liveFrame(n.id, item.message, plan, item.editTarget, this.#deps.files, (reason, err) =>
      this.#deps.log().warn({ err, reason, messageId: n.id }, 'webchat: media not shown'),
    );
    this.#show(n.id, { chatId: item.chatId, frame, actions });
  }

  #show(messageId: number, m: Omit<Pending, 'timer'>): void {
    const { visitors } = this.#deps;
    if (m.actions.length) visitors.offer(m.chatId, m.actions);
    const tabs = visitors.deliver(m.chatId, messageId, m.frame);
    this.#deps.log().debug({ messageId, tabs }, 'webchat: message pushed');
  }

  #takePending(messageId: number): Pending | undefined {
    const p = this.#pending.get(messageId);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.#pending.delete(messageId);
    return p;
  }

  #remember(conversationId: number, chatId: string): void {
    if (this.#chatOf.has(conversationId)) return;
    if (this.#chatOf.size >= MAX_KNOWN_CONVERSATIONS) this.#chatOf.delete(this.#chatOf.keys().next().value!);
    this.#chatOf.set(conversationId, chatId);
  }
}
