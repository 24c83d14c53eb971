/**
 * Everything the VK emulator remembers: people and whether they allow messages, conversations
 * with their messages and random_ids, the community's event stream (what Bots Long Poll serves and
 * the Callback API pushes), long-poll keys, uploads, callback-button presses and the API call log.
 */
import { randomBytes } from 'node:crypto';
import { FileStore, type DocObject, type PhotoObject } from './media.ts';
import type { VkKeyboard } from './limits.ts';

export const API_VERSION = '5.199';

/** One message in a conversation, in either direction. */
export interface StoredMessage {
  id: number;
  cmid: number;
  peerId: number;
  fromId: number;
  /** True for messages the community (the bot) sent. */
  out: boolean;
  date: number;
  text: string;
  attachments: ({ type: 'photo'; photo: PhotoObject } | { type: 'doc'; doc: DocObject })[];
  keyboard?: VkKeyboard;
  payload?: string;
  geo?: { type: 'point'; coordinates: { latitude: number; longitude: number } };
  ref?: string;
  randomId?: number;
  edited?: number;
}

export interface Peer {
  id: number;
  messages: StoredMessage[];
  /** random_id → message id: a repeated random_id returns the first message, delivers nothing. */
  randomIds: Map<number, number>;
  cmid: number;
  /** The chat keyboard the person currently sees, and the message that set it. */
  chatKeyboard?: { keyboard: VkKeyboard; messageId: number };
}

export interface User {
  id: number;
  firstName: string;
  lastName: string;
  /** Whether the community may write: writing to it or allowing messages sets it; denying clears it. */
  allowed: boolean;
  langId: number;
}

/** One community event, as both Bots Long Poll and the Callback API carry it. */
export interface VkUpdate {
  type: string;
  object: Record<string, unknown>;
  group_id: number;
  event_id: string;
  v: string;
}

export interface CallRecord {
  method: string;
  /** Parameters without access_token. */
  params: Record<string, string>;
  at: number;
  errorCode?: number;
  response?: unknown;
}

/** An error to return instead of running the method, `times` times. */
export interface Fault {
  method: string;
  error?: number;
  httpStatus?: number;
  times: number;
  /** Let this many matching calls through first. */
  after?: number;
}

export interface MessageEventRecord {
  eventId: string;
  userId: number;
  peerId: number;
  answers: { eventData?: unknown; at: number }[];
}

export class VkState {
  readonly groupId: number;
  readonly token: string;
  readonly files: FileStore;
  readonly users = new Map<number, User>();
  readonly peers = new Map<number, Peer>();
  readonly calls: CallRecord[] = [];
  readonly faults: Fault[] = [];
  readonly messageEvents = new Map<string, MessageEventRecord>();
  readonly photos = new Map<string, PhotoObject>();
  readonly docs = new Map<string, DocObject>();
  /** Upload tickets (upload URL → kind) and uploaded-but-unsaved files (token → file id). */
  readonly tickets = new Map<string, 'photo' | 'doc'>();
  readonly pendingUploads = new Map<string, { fileId: string; kind: 'photo' | 'doc'; hash: string }>();

  /** The event stream: `events[i]` has number `firstTs + i`; `nextTs` is the next number. */
  events: VkUpdate[] = [];
  firstTs = 1;
  /** Long-poll keys and their state. */
  readonly keys = new Map<string, 'ok' | 'expired' | 'lost'>();
  /** How many long-poll answers said `failed: 1 | 2 | 3`. */
  readonly longPollFailed: Record<1 | 2 | 3, number> = { 1: 0, 2: 0, 3: 0 };
  /** Set on close: pending long-poll requests answer at once. */
  closing = false;
  readonly #historyLimit: number;
  readonly #listeners = new Set<(u: VkUpdate) => void>();
  readonly #waiters = new Set<() => void>();
  readonly #delivered = new Map<string, string>();
  readonly #deliveryWaiters = new Map<string, Set<(via: string) => void>>();
  #messageSeq = 0;
  #objectSeq = 100;

  constructor(opts: { groupId: number; token: string; baseUrl: () => string; historyLimit?: number }) {
    this.groupId = opts.groupId;
    this.token = opts.token;
    this.files = new FileStore(opts.baseUrl);
    this.#historyLimit = opts.historyLimit ?? 1000;
  }

  get nextTs(): number {
    return this.firstTs + this.events.length;
  }

  nextObjectId(): number {
    return ++this.#objectSeq;
  }

  user(id: number): User {
    let u = this.users.get(id);
    if (!u) {
      u = { id, firstName: 'User', lastName: String(id), allowed: false, langId: 0 };
      this.users.set(id, u);
    }
    return u;
  }

  peer(id: number): Peer {
    let p = this.peers.get(id);
    if (!p) {
      p = { id, messages: [], randomIds: new Map(), cmid: 0 };
      this.peers.set(id, p);
    }
    return p;
  }

  /** Appends a message to its conversation, giving it a message id and a conversation id. */
  addMessage(m: Omit<StoredMessage, 'id' | 'cmid' | 'date'>): StoredMessage {
    const peer = this.peer(m.peerId);
    const stored: StoredMessage = { ...m, id: ++this.#messageSeq, cmid: ++peer.cmid, date: Math.floor(Date.now() / 1000) };
    peer.messages.push(stored);
    if (stored.out && stored.keyboard && !stored.keyboard.inline) {
      peer.chatKeyboard = stored.keyboard.buttons.length ? { keyboard: stored.keyboard, messageId: stored.id } : undefined;
    }
    return stored;
  }

  /** Emits a community event: into the long-poll history and to the Callback API pusher. */
  emit(type: string, object: Record<string, unknown>): VkUpdate {
    const update: VkUpdate = { group_id: this.groupId, type, event_id: randomBytes(20).toString('hex'), v: API_VERSION, object };
    this.events.push(update);
    if (this.events.length > this.#historyLimit) {
      const drop = this.events.length - this.#historyLimit;
      this.events.splice(0, drop);
      this.firstTs += drop;
    }
    for (const l of this.#listeners) l(update);
    this.#wake();
    return update;
  }

  onEvent(listener: (u: VkUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events numbered `ts` and later; null when `ts` is older than the kept history. */
  eventsFrom(ts: number): VkUpdate[] | null {
    if (ts < this.firstTs) return null;
    return this.events.slice(ts - this.firstTs);
  }

  /** Forgets the history: a poller still behind gets `failed: 1`. */
  truncateHistory(): void {
    this.firstTs = this.nextTs;
    this.events = [];
  }

  newKey(): string {
    const key = randomBytes(20).toString('hex');
    this.keys.set(key, 'ok');
    return key;
  }

  /** Expires (`failed: 2`) or loses (`failed: 3`) every key handed out so far. */
  invalidateKeys(how: 'expired' | 'lost'): void {
    for (const k of this.keys.keys()) this.keys.set(k, how);
    this.#wake();
  }

  /** Resolves when an event arrives (or the wait is cut short); for long-poll requests. */
  waitForEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Ends every pending long-poll wait (on close). */
  wakeAll(): void {
    this.#wake();
  }

  markDelivered(eventId: string, via: string): void {
    if (this.#delivered.has(eventId)) return;
    this.#delivered.set(eventId, via);
    for (const w of this.#deliveryWaiters.get(eventId) ?? []) w(via);
    this.#deliveryWaiters.delete(eventId);
  }

  /** Resolves with how an event reached the bot (`longpoll`, `callback`), or null on timeout. */
  waitDelivered(eventId: string, ms: number): Promise<string | null> {
    const via = this.#delivered.get(eventId);
    if (via) return Promise.resolve(via);
    return new Promise((resolve) => {
      const set = this.#deliveryWaiters.get(eventId) ?? new Set();
      const done = (v: string | null) => {
        clearTimeout(timer);
        set.delete(done);
        resolve(v);
      };
      const timer = setTimeout(() => done(null), ms);
      set.add(done);
      this.#deliveryWaiters.set(eventId, set);
    });
  }

  /** Takes a matching injected fault, if any. */
  takeFault(method: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.method === method || f.method === '*');
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (f.after) {
      f.after--;
      return undefined;
    }
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }
}
