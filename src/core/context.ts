/**
 * The context of one turn: the event, the person, the conversation and its state, and what the
 * handlers say back. Nothing here talks to a platform or a database: `reply`, `send` and `edit`
 * append to an outbox that the runtime stores, with the new state, in one transaction.
 */
import type { RichText, Span } from './format.ts';
import type { HandleInput, JsonObject, OutboxItem } from './handling.ts';
import type { ConversationRef, InboundEvent, OutgoingMessage, Person } from './model.ts';
import { DialogControl, type DialogRegistry } from './dialog.ts';
import type { I18n, Param, RichParam } from './i18n.ts';

/** What the bot lends each context. */
export interface ContextServices {
  i18n: I18n;
  dialogs: DialogRegistry;
}

/** Everything of an outgoing message but its text, to pass beside a text. */
export type MessageExtra = Omit<OutgoingMessage, 'text'>;

function isRichText(content: RichText | OutgoingMessage): content is RichText {
  return typeof content === 'string' || Array.isArray(content);
}

/** Normalises `reply`'s arguments into one message; refuses a message with nothing to show. */
export function toMessage(content: RichText | OutgoingMessage, extra?: MessageExtra): OutgoingMessage {
  const message: OutgoingMessage = isRichText(content) ? { ...extra, text: content } : { ...content, ...extra };
  const hasText = message.text !== undefined && message.text.length > 0;
  if (!hasText && !message.images?.length && !message.files?.length && !message.buttons?.length) {
    throw new Error('Refusing to send an empty message (no text, images, files or buttons)');
  }
  // A copy, so a handler changing its object afterwards cannot alter what was queued.
  return structuredClone(message);
}

export class Context<S extends object = JsonObject> {
  /** Row id of the inbound message being handled. */
  readonly messageId: number;
  readonly event: InboundEvent;
  /** The person (a copy). Changes to `name` and `language` are saved after the turn. */
  readonly person: Person;
  readonly conversation: ConversationRef;
  /** The conversation's state: mutable JSON, saved after the turn (a copy until then). */
  state: S;
  /** Set by `command`, `hears`, `action`, `start`, `system`: arguments, data or the RegExp match. */
  match: string | RegExpMatchArray | undefined;
  /** Enter and leave multi-step dialogs. */
  readonly dialog: DialogControl;

  readonly #i18n: I18n;
  readonly #outbox: OutboxItem[] = [];
  readonly #resolveOutbound: HandleInput['resolveOutbound'];

  constructor(input: HandleInput, services: ContextServices) {
    this.messageId = input.messageId;
    this.event = input.event;
    this.person = structuredClone(input.person);
    this.conversation = input.conversation;
    this.state = structuredClone(input.state) as S;
    this.#i18n = services.i18n;
    this.#resolveOutbound = input.resolveOutbound;
    this.dialog = new DialogControl(this, services.dialogs);
  }

  /** The catalogue language picked from the person's language (`ru-RU` → `ru`, unknown → fallback). */
  get lang(): string {
    return this.#i18n.pick(this.person.language);
  }

  /**
   * Translates `key` into the person's language. With formatted parameters
   * (`{ text: italic(x) }`) it returns spans that keep the formatting.
   */
  t(key: string, params?: Record<string, Param>): string;
  t(key: string, params: Record<string, RichParam>): string | Span[];
  t(key: string, params: Record<string, RichParam> = {}): string | Span[] {
    return this.#i18n.t(this.lang, key, params);
  }

  /** Replies in this conversation. */
  reply(content: RichText | OutgoingMessage, extra?: MessageExtra): void {
    this.#outbox.push({ message: toMessage(content, extra) });
  }

  /** Sends a message to another conversation (by our id), e.g. an operator's chat. */
  send(conversationId: number, content: RichText | OutgoingMessage, extra?: MessageExtra): void {
    this.#outbox.push({ message: toMessage(content, extra), conversationId });
  }

  /** Replaces an earlier outbound message (our id); connectors without edits send it anew. */
  edit(outboundId: number, content: RichText | OutgoingMessage, extra?: MessageExtra): void {
    this.#outbox.push({ message: toMessage(content, extra), editOf: outboundId });
  }

  /** Our id of the message whose button was pressed, when the platform and the runtime know it. */
  async sourceOutboundId(): Promise<number | undefined> {
    const e = this.event;
    if (e.kind !== 'action' || !e.sourceMessageId || !this.#resolveOutbound) return undefined;
    return this.#resolveOutbound(e.sourceMessageId);
  }

  /** Edits the message whose button was pressed when it is known, and replies otherwise. */
  async editOrReply(content: RichText | OutgoingMessage, extra?: MessageExtra): Promise<void> {
    const id = await this.sourceOutboundId();
    if (id === undefined) this.reply(content, extra);
    else this.edit(id, content, extra);
  }

  /** What this turn has queued so far. */
  get outbox(): readonly OutboxItem[] {
    return this.#outbox;
  }
}
