/**
 * The contract between the runtime and the bot logic. The runtime loads an inbound message, the
 * person and the conversation's state, calls `BotLogic.handle`, and writes what comes back (the
 * replies, the new state, the person's changes) in one transaction with the inbound message's new
 * status. Handlers therefore never talk to the platform or the database directly.
 */
import type { ConversationRef, InboundEvent, OutgoingMessage, Person } from './model.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface HandleInput {
  /** Row id of the inbound message being handled. */
  messageId: number;
  event: InboundEvent;
  person: Person;
  conversation: ConversationRef;
  /** The conversation's persisted state (dialog position, answers, the bot's own data). */
  state: JsonObject;
  /** Platform message id -> our outbound message id, for actions on earlier messages (edits). */
  resolveOutbound?(platformMessageId: string): Promise<number | undefined>;
}

/** One message the handler wants sent. */
export interface OutboxItem {
  message: OutgoingMessage;
  /** Another conversation to send to (e.g. an operator's chat); default: the current one. */
  conversationId?: number;
  /** Edit this earlier outbound message (our id) instead of sending a new one. */
  editOf?: number;
}

export interface HandleOutput {
  outbox: OutboxItem[];
  /** The new state; `undefined` keeps the old one. */
  state?: JsonObject;
  /** Changes to the person (name, language) learnt in this turn. */
  person?: { name?: string | null; language?: string | null };
}

/** What the runtime runs for every inbound message. `Bot` implements it. */
export interface BotLogic {
  handle(input: HandleInput): Promise<HandleOutput>;
}
