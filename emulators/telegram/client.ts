/**
 * A typed client of the emulator's user-side API (`/_emulator/...`), usable against an emulator
 * started in-process or by `switchboard emulate telegram`. Tests act as a person through it and
 * read what the bot sent.
 */
import type { Message } from '@grammyjs/types';
import type { EmulatorLimits } from './limits.ts';
import type { CallRecord, EmulatorUser } from './state.ts';
import type { CallbackView, MessageView } from './user-api.ts';

export type { CallbackView, MessageView } from './user-api.ts';

/** What pressing a button did. */
export type PressResult =
  | { kind: 'callback'; update_id: number | null; callback_query_id: string }
  | { kind: 'url'; url: string }
  | { kind: 'reply'; message: Message };

export interface WaitOptions {
  /** Give up after this long (default 15 s: generous, for loaded CI machines). */
  timeoutMs?: number;
  intervalMs?: number;
}

export class EmulatorRequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'EmulatorRequestError';
    this.status = status;
  }
}

/** Polls `probe` until it returns something truthy; throws with `what` on timeout. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, what: string, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

export class TelegramEmulatorClient {
  readonly url: string;
  /** Username of the bot the person talks to (default: the emulator's first bot). */
  readonly bot?: string;

  constructor(url: string, opts: { bot?: string } = {}) {
    this.url = url.replace(/\/$/, '');
    this.bot = opts.bot;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(this.url + path);
    if (this.bot && path.startsWith('/_emulator/users/')) url.searchParams.set('bot', this.bot);
    const res = await fetch(url, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new EmulatorRequestError(res.status, (data && (data.error ?? data.description)) || `HTTP ${res.status}`);
    return data as T;
  }

  /** A person; created on first use. */
  person(id: number): EmulatedPerson {
    return new EmulatedPerson(this, id);
  }

  /** Bot API calls the emulator received, optionally of one method and after a sequence number. */
  calls(filter: { method?: string; since?: number } = {}): Promise<CallRecord[]> {
    const q = new URLSearchParams();
    if (filter.method) q.set('method', filter.method);
    if (filter.since) q.set('since', String(filter.since));
    return this.request('GET', `/_emulator/calls?${q}`);
  }

  clearCalls(): Promise<void> {
    return this.request('DELETE', '/_emulator/calls');
  }

  bots(): Promise<Array<{ id: number; username: string; token: string; webhook: { url: string; last_error_message: string | null } | null; pending_updates: number }>> {
    return this.request('GET', '/_emulator/bots');
  }

  limits(): Promise<EmulatorLimits> {
    return this.request('GET', '/_emulator/limits');
  }

  setLimits(limits: Partial<EmulatorLimits>): Promise<EmulatorLimits> {
    return this.request('PUT', '/_emulator/limits', limits);
  }

  /** Serves bytes at a URL the emulator can download (for sendPhoto / sendDocument by URL). */
  async host(name: string, bytes: Buffer, type = 'application/octet-stream'): Promise<string> {
    const res = await fetch(`${this.url}/_emulator/static/${encodeURIComponent(name)}`, { method: 'PUT', headers: { 'content-type': type }, body: new Uint8Array(bytes) });
    if (!res.ok) throw new EmulatorRequestError(res.status, await res.text());
    return `${this.url}/_emulator/static/${encodeURIComponent(name)}`;
  }
}

/** One person on the emulated Telegram, talking to the bot in a private chat. */
export class EmulatedPerson {
  readonly #client: TelegramEmulatorClient;
  readonly id: number;

  constructor(client: TelegramEmulatorClient, id: number) {
    this.#client = client;
    this.id = id;
  }

  #post<T>(action: string, body: unknown = {}): Promise<T> {
    return this.#client.request('POST', `/_emulator/users/${this.id}/${action}`, body);
  }

  /** Sets name, username, language or phone (what a contact-request button shares). */
  profile(profile: Partial<Pick<EmulatorUser, 'first_name' | 'last_name' | 'username' | 'language_code' | 'phone'>>): Promise<EmulatorUser> {
    return this.#client.request('POST', `/_emulator/users/${this.id}`, profile);
  }

  /** Presses Start (sends `/start`, with a deep-link payload when given). */
  start(payload?: string): Promise<Message> {
    return this.sendText(payload ? `/start ${payload}` : '/start');
  }

  sendText(text: string): Promise<Message> {
    return this.#post('text', { text });
  }

  sendPhoto(bytes: Buffer, caption?: string): Promise<Message> {
    return this.#post('photo', { base64: bytes.toString('base64'), caption });
  }

  sendDocument(bytes: Buffer, opts: { name?: string; mime?: string; caption?: string } = {}): Promise<Message> {
    return this.#post('document', { base64: bytes.toString('base64'), ...opts });
  }

  /** Shares a contact: the person's own by default (user_id set), or someone else's. */
  sendContact(opts: { phone?: string; own?: boolean; firstName?: string; userId?: number } = {}): Promise<Message> {
    return this.#post('contact', { phone: opts.phone, own: opts.own, first_name: opts.firstName, user_id: opts.userId });
  }

  sendLocation(latitude: number, longitude: number): Promise<Message> {
    return this.#post('location', { latitude, longitude });
  }

  /** Presses the button with this label on the latest bot message that shows it (inline or reply keyboard). */
  press(label: string, opts: { messageId?: number; location?: { latitude: number; longitude: number } } = {}): Promise<PressResult> {
    return this.#post('press', { label, message_id: opts.messageId, ...(opts.location ?? {}) });
  }

  /** Presses the inline button carrying this callback data. */
  pressData(data: string, messageId?: number): Promise<PressResult> {
    return this.#post('press', { data, message_id: messageId });
  }

  async block(): Promise<boolean> {
    return (await this.#post<{ changed: boolean }>('block')).changed;
  }

  async unblock(): Promise<boolean> {
    return (await this.#post<{ changed: boolean }>('unblock')).changed;
  }

  /** Every message the bot sent to this person, oldest first. */
  messages(): Promise<MessageView[]> {
    return this.#client.request('GET', `/_emulator/users/${this.id}/messages`);
  }

  async lastMessage(): Promise<MessageView | undefined> {
    const all = await this.messages();
    return all[all.length - 1];
  }

  /** Waits until the bot has sent at least `count` messages; returns them all. */
  waitForMessages(count: number, opts?: WaitOptions): Promise<MessageView[]> {
    return waitFor(async () => {
      const all = await this.messages();
      return all.length >= count ? all : undefined;
    }, `${count} bot message(s) to user ${this.id}`, opts);
  }

  /** The reply keyboard currently shown, or null. */
  async keyboard(): Promise<Array<Array<{ text: string; request_contact?: boolean; request_location?: boolean }>> | null> {
    return (await this.#client.request<{ keyboard: Array<Array<{ text: string }>> | null }>('GET', `/_emulator/users/${this.id}/keyboard`)).keyboard;
  }

  /** Button presses of this person and whether the bot answered each. */
  callbacks(): Promise<CallbackView[]> {
    return this.#client.request('GET', `/_emulator/users/${this.id}/callbacks`);
  }
}
