/**
 * The platform-independent model. Everything here is plain JSON-serialisable data: it is what
 * the messages table stores as normalised content, and what connectors produce and consume.
 * Nothing in this file knows which platform it runs on.
 */
import type { RichText } from './format.ts';

/** A platform name. The built-in connectors use these four; others may add their own. */
export type Platform = 'telegram' | 'vk' | 'messenger' | 'webchat' | (string & {});

/** One account of a person on one platform. */
export interface Identity {
  platform: Platform;
  platformUserId: string;
  username?: string;
  /** Set when the platform said the person cannot be reached (blocked the bot, 901, 551, ...). */
  unreachable?: string | null;
}

/** One human, with one or more identities. */
export interface Person {
  id: number;
  name: string | null;
  language: string | null;
  identities: Identity[];
}

/** (bot, platform, chat): where a dialog happens. */
export interface ConversationRef {
  id: number;
  bot: string;
  platform: Platform;
  chatId: string;
}

/** A file or image as it arrives: `ref` is whatever the connector needs to fetch it later. */
export interface Attachment {
  /** Platform reference: a Telegram file_id, a VK/Messenger URL, a web chat upload URL. */
  ref: string;
  url?: string;
  name?: string;
  mime?: string;
  size?: number;
  width?: number;
  height?: number;
}

export interface Contact {
  phone: string;
  firstName?: string;
  lastName?: string;
  /** True when the platform vouches that the contact is the sender's own (Telegram user_id == from.id). */
  own?: boolean;
}

export interface GeoLocation {
  latitude: number;
  longitude: number;
}

/** A message a person wrote. Any of the parts may be absent; at least one is present. */
export interface MessageEvent {
  kind: 'message';
  text?: string;
  images?: Attachment[];
  files?: Attachment[];
  contact?: Contact;
  location?: GeoLocation;
  /** Platform message id this message replies to. */
  replyTo?: string;
}

/** A button press. `payload` is what the bot put on the button (the action id and its data). */
export interface ActionEvent {
  kind: 'action';
  payload: string;
  /** Platform message id of the message that carried the button, when the platform tells it. */
  sourceMessageId?: string;
}

/** The person opened the bot: Telegram /start, VK "Start", Messenger Get Started, web chat opened. */
export interface StartEvent {
  kind: 'start';
  /** Deep-link payload (`/start abc`, VK start payload, Messenger ref), when any. */
  payload?: string;
}

/** The person blocked the bot, or allowed it again. */
export interface MembershipEvent {
  kind: 'membership';
  status: 'blocked' | 'allowed';
}

/** An event produced inside Switchboard (admin, support, broadcasts), routed like a message. */
export interface SystemEvent {
  kind: 'system';
  event: string;
  data?: unknown;
}

export type InboundEvent = MessageEvent | ActionEvent | StartEvent | MembershipEvent | SystemEvent;
export type InboundKind = InboundEvent['kind'];
export const INBOUND_KINDS: readonly InboundKind[] = ['message', 'action', 'start', 'membership', 'system'];

/** The sender as the platform describes them. */
export interface Sender {
  platformUserId: string;
  name?: string;
  username?: string;
  /** IETF language tag as the platform reports it (Telegram language_code, browser language). */
  language?: string;
}

/**
 * What a connector hands to the runtime for every platform update it accepts. The runtime stores
 * it (deduplicated by `dedupKey`) before the connector acknowledges the platform.
 */
export interface InboundUpdate {
  platform: Platform;
  bot: string;
  /** The platform's own id of the update (Telegram update_id, VK event_id, Messenger mid). */
  dedupKey: string;
  chatId: string;
  sender: Sender;
  event: InboundEvent;
  /** Platform id of the message itself, when there is one. */
  platformMessageId?: string;
  /** The untouched platform payload, stored for audit and debugging. */
  raw: unknown;
}

/** A button. `action` buttons come back as an ActionEvent with their payload. */
export type Button =
  | { type: 'action'; label: string; payload: string }
  | { type: 'url'; label: string; url: string }
  | { type: 'contact'; label: string }
  | { type: 'location'; label: string };

/** A media item to send: a URL, a local file path, or bytes (base64) for small generated images. */
export interface OutgoingMedia {
  url?: string;
  path?: string;
  base64?: string;
  name?: string;
  mime?: string;
  caption?: RichText;
}

/** A message the bot sends. Connectors render it within their capabilities. */
export interface OutgoingMessage {
  text?: RichText;
  /** Rows of buttons. */
  buttons?: Button[][];
  /**
   * `inline` buttons sit under the message; a `reply` keyboard replaces the person's keyboard.
   * Default: `inline`, except when a row holds a contact or location request (those need a
   * reply keyboard where the platform has one).
   */
  keyboard?: 'inline' | 'reply';
  /** Remove a reply keyboard shown earlier. */
  removeKeyboard?: boolean;
  images?: OutgoingMedia[];
  files?: OutgoingMedia[];
  /**
   * Why the message may be sent outside a platform's reply window (Messenger 24 h): a message
   * tag such as `CONFIRMED_EVENT_UPDATE` or `HUMAN_AGENT`. Without one such a send fails.
   */
  tag?: string;
}

/** Status of a stored message, by direction. */
export type InboundStatus = 'received' | 'processing' | 'handled' | 'failed';
export type OutboundStatus = 'queued' | 'sending' | 'sent' | 'failed';
