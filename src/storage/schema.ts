/**
 * Table types of the Kysely query layer. Timestamps are milliseconds since the epoch (integer /
 * bigint); JSON is stored as text in both dialects so one query layer serves both.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Id = Generated<number>;

export interface PersonsTable {
  id: Id;
  name: string | null;
  language: string | null;
  created_at: number;
  updated_at: number;
}

export interface IdentitiesTable {
  id: Id;
  person_id: number;
  platform: string;
  platform_user_id: string;
  username: string | null;
  unreachable: string | null;
  unreachable_at: number | null;
  created_at: number;
}

export interface ConversationsTable {
  id: Id;
  bot: string;
  platform: string;
  chat_id: string;
  person_id: number;
  last_inbound_at: number | null;
  /** Core's lease: one replica handles this conversation's inbound messages at a time. */
  lease_owner: string | null;
  lease_until: number | null;
  /** Gateway's lease: one replica sends this conversation's outbound messages at a time. */
  send_owner: string | null;
  send_until: number | null;
  /**
   * JSON `[{label, payload}]`: the action buttons of the reply keyboard shown now (a pressed one
   * arrives as its label on Telegram); null when none. Written by the gateway before it sends.
   */
  reply_keyboard: Generated<string | null>;
  created_at: number;
}

export type Direction = 'in' | 'out';

export interface MessagesTable {
  id: Id;
  conversation_id: number;
  direction: Direction;
  /** Inbound: the event kind; outbound: `message` or `edit`. */
  kind: string;
  /** in: received → processing → handled | failed; out: queued → sending → sent | failed. */
  status: string;
  dedup_key: string | null;
  /** Normalised content (InboundEvent or OutgoingMessage) as JSON. */
  content: string;
  /** The untouched platform payload (inbound) or what was rendered (outbound), as JSON. */
  raw: string | null;
  platform_message_id: string | null;
  /** Outbound: the inbound message whose handling produced it. */
  cause_id: number | null;
  /** Outbound edits: the outbound message being edited. */
  edit_of: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  /** Not before this time (retry back-off, rate-limit waits). */
  available_at: number;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface DialogStateTable {
  conversation_id: number;
  data: string;
  updated_at: number;
}

export interface DeliveryAttemptsTable {
  id: Id;
  message_id: number;
  attempt: number;
  at: number;
  outcome: string;
  code: string | null;
  detail: string | null;
}

export interface MediaCacheTable {
  platform: string;
  bot: string;
  key: string;
  file_ref: string;
  created_at: number;
}

/** The web chat's files (see connectors/webchat/file-store.ts). */
export interface WebchatFilesTable {
  name: string;
  size: number;
  width: number | null;
  height: number | null;
  bytes: Buffer;
  created_at: number;
}

export interface LeasesTable {
  name: string;
  owner: string;
  until: number;
}

export interface Database {
  persons: PersonsTable;
  identities: IdentitiesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  dialog_state: DialogStateTable;
  delivery_attempts: DeliveryAttemptsTable;
  media_cache: MediaCacheTable;
  webchat_files: WebchatFilesTable;
  leases: LeasesTable;
}

export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type PersonRow = Selectable<PersonsTable>;
export type IdentityRow = Selectable<IdentitiesTable>;
export type Timestamp = ColumnType<number, number, number>;
