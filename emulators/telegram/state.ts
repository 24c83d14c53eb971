/**
 * The emulated Telegram world: bots (one per token), people, the private chat of each person with
 * each bot, pending updates, uploaded files, answered callback queries and a log of every Bot API
 * call. Everything lives in memory; the HTTP layers (bot-api.ts, user-api.ts) read and change it.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type {
  CallbackQuery,
  Chat,
  Message,
  ReplyKeyboardMarkup,
  Update,
  User,
  UserFromGetMe,
} from '@grammyjs/types';
import { Bucket, defaultLimits, type EmulatorLimits, type ReplyMarkup } from './limits.ts';

/** A person on the emulated Telegram. */
export interface EmulatorUser extends User {
  /** The phone number shared by a contact-request button. */
  phone: string;
}

export interface StoredFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  bytes: Buffer;
  kind: 'photo' | 'document';
  mime?: string;
  name?: string;
  width?: number;
  height?: number;
}

/** A message in a chat, with what the emulator needs beyond the Bot API object. */
export interface StoredMessage {
  message: Message;
  sentBy: 'bot' | 'user';
  /** The text or caption exactly as the bot sent it (before HTML parsing). */
  source?: string;
  parseMode?: string;
  markup?: ReplyMarkup;
  edits: number;
}

export class ChatState {
  readonly user: EmulatorUser;
  readonly messages: StoredMessage[] = [];
  nextMessageId = 1;
  blocked = false;
  /** False until the person first wrote: a bot cannot open a conversation. */
  started = false;
  /** The reply keyboard currently shown to the person, if any. */
  keyboard: ReplyKeyboardMarkup | null = null;
  readonly bucket: Bucket;

  constructor(user: EmulatorUser, world: LimitsHolder) {
    this.user = user;
    this.bucket = new Bucket({ rate: () => world.limits.perChatPerSecond, capacity: () => world.limits.perChatBurst, generation: () => world.limitsGeneration });
  }

  get chat(): Chat.PrivateChat {
    const { id, first_name, last_name, username } = this.user;
    return { id, type: 'private', first_name, ...(last_name ? { last_name } : {}), ...(username ? { username } : {}) };
  }

  find(messageId: number): StoredMessage | undefined {
    return this.messages.find((m) => m.message.message_id === messageId);
  }
}

export interface CallbackRecord {
  query: CallbackQuery;
  at: number;
  answered: boolean;
  answer?: { text?: string; show_alert?: boolean; url?: string };
}

export interface WebhookConfig {
  url: string;
  secret?: string;
  maxConnections: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

/** One Bot API call as the emulator saw it. */
export interface CallRecord {
  seq: number;
  at: number;
  bot: string;
  method: string;
  /** Parameters as sent; uploaded files appear as `{ file, size, mime }`. */
  params: Record<string, unknown>;
  ok: boolean;
  status: number;
  error_code?: number;
  description?: string;
  retry_after?: number;
}

export type UpdateKind = Exclude<keyof Update, 'update_id'>;

/** Which chat an update belongs to, so webhook pushes of one chat stay in order. */
export function chatOfUpdate(update: Update): number {
  return (
    update.message?.chat.id ??
    update.callback_query?.from.id ??
    update.my_chat_member?.chat.id ??
    update.edited_message?.chat.id ??
    0
  );
}

export const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

export class BotState {
  readonly token: string;
  /** The bot as getMe describes it. */
  readonly user: UserFromGetMe;
  /** The bot as messages and chat members show it (a plain User). */
  readonly asUser: User;
  readonly chats = new Map<number, ChatState>();
  readonly files = new Map<string, StoredFile>();
  readonly filesByPath = new Map<string, StoredFile>();
  readonly callbacks = new Map<string, CallbackRecord>();
  /** Updates not yet confirmed (getUpdates offset) or not yet pushed (webhook). */
  updates: Update[] = [];
  nextUpdateId = 100_000_001;
  webhook: WebhookConfig | null = null;
  allowedUpdates: string[] | null = null;
  /** The pending long poll, if one waits; a second poll terminates it with 409. */
  poller: { deliver: () => void; conflict: (err: Error) => void } | null = null;
  readonly overall: Bucket;
  readonly events = new EventEmitter();
  #fileSeq = 0;

  constructor(token: string, username: string, firstName: string, world: LimitsHolder) {
    this.token = token;
    this.user = {
      id: Number(token.split(':')[0]),
      is_bot: true,
      first_name: firstName,
      username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    } as UserFromGetMe;
    this.asUser = { id: this.user.id, is_bot: true, first_name: firstName, username };
    this.overall = new Bucket({ rate: () => world.limits.overallPerSecond, capacity: () => world.limits.overallBurst, generation: () => world.limitsGeneration });
    this.events.setMaxListeners(0);
  }

  /** Queues an update (unless allowed_updates excludes its kind) and wakes the poller or pusher. */
  enqueue(kind: UpdateKind, payload: Update[UpdateKind]): Update | null {
    const allowed = this.allowedUpdates;
    if (allowed && allowed.length > 0 && !allowed.includes(kind)) return null;
    const update = { update_id: this.nextUpdateId++, [kind]: payload } as Update;
    this.updates.push(update);
    this.poller?.deliver();
    this.events.emit('update', update);
    return update;
  }

  nextFilePath(kind: 'photo' | 'document', ext: string): string {
    return `${kind === 'photo' ? 'photos' : 'documents'}/file_${++this.#fileSeq}.${ext}`;
  }

  addFile(file: Omit<StoredFile, 'file_id' | 'file_unique_id'>): StoredFile {
    const stored: StoredFile = {
      ...file,
      file_id: `${file.kind === 'photo' ? 'AgACAgIAAxkBAAI' : 'BQACAgIAAxkBAAI'}${randomId(30)}`,
      file_unique_id: `AQAD${randomId(9)}`,
    };
    this.files.set(stored.file_id, stored);
    this.filesByPath.set(stored.file_path, stored);
    return stored;
  }
}

export interface EmulatorBotOptions {
  token: string;
  username?: string;
  firstName?: string;
}

export const DEFAULT_TOKEN = '7000000001:AAEmulatorTelegramBotToken_0123456789';

/** Where buckets read the current limits; the generation changes when they are replaced. */
interface LimitsHolder {
  readonly limits: EmulatorLimits;
  readonly limitsGeneration: number;
}

export class World implements LimitsHolder {
  readonly bots = new Map<string, BotState>();
  readonly users = new Map<number, EmulatorUser>();
  readonly calls: CallRecord[] = [];
  #limits: EmulatorLimits;
  #limitsGeneration = 0;
  #callSeq = 0;
  readonly maxCalls: number;

  constructor(bots: EmulatorBotOptions[], limits: Partial<EmulatorLimits> | undefined, maxCalls = 20_000) {
    this.#limits = defaultLimits(limits);
    this.maxCalls = maxCalls;
    for (const b of bots.length ? bots : [{ token: DEFAULT_TOKEN }]) {
      const username = b.username ?? `emulated_${b.token.split(':')[0]}_bot`;
      this.bots.set(b.token, new BotState(b.token, username, b.firstName ?? 'Emulated Bot', this));
    }
  }

  get limits(): EmulatorLimits {
    return this.#limits;
  }

  get limitsGeneration(): number {
    return this.#limitsGeneration;
  }

  /** Replaces the rate limits; every bucket starts full under the new ones. */
  setLimits(partial: Partial<EmulatorLimits>): EmulatorLimits {
    // A new overall rate without a burst gets the default burst for that rate.
    const burst = partial.overallPerSecond !== undefined && partial.overallBurst === undefined ? { overallBurst: undefined } : {};
    this.#limits = defaultLimits({ ...this.#limits, ...burst, ...partial });
    this.#limitsGeneration++;
    return this.#limits;
  }

  /** The bot with this username (or id), or the first one. */
  bot(name?: string): BotState | undefined {
    if (!name) return this.bots.values().next().value;
    for (const b of this.bots.values()) if (b.user.username === name || String(b.user.id) === name) return b;
    return undefined;
  }

  /** Creates or updates a person. */
  user(id: number, profile: Partial<Omit<EmulatorUser, 'id' | 'is_bot'>> = {}): EmulatorUser {
    const existing = this.users.get(id);
    const user: EmulatorUser = {
      first_name: `User ${id}`,
      language_code: 'en',
      phone: `+1555${String(id).padStart(7, '0').slice(-7)}`,
      ...existing,
      ...Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined)),
      id,
      is_bot: false,
    };
    this.users.set(id, user);
    for (const bot of this.bots.values()) {
      const chat = bot.chats.get(id);
      if (chat) Object.assign(chat.user, user);
    }
    return user;
  }

  chat(bot: BotState, userId: number): ChatState {
    let chat = bot.chats.get(userId);
    if (!chat) {
      chat = new ChatState(this.users.get(userId) ?? this.user(userId), this);
      bot.chats.set(userId, chat);
    }
    return chat;
  }

  record(call: Omit<CallRecord, 'seq' | 'at'>): void {
    this.calls.push({ seq: ++this.#callSeq, at: Date.now(), ...call });
    if (this.calls.length > this.maxCalls) this.calls.splice(0, this.calls.length - this.maxCalls);
  }
}
