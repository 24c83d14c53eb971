/**
 * A typed client of the emulator's user-side HTTP API (`/_emulator/...`): what tests and the
 * conformance driver use to act as people and to inspect the emulator. It works the same against
 * an emulator in this process and one started with `switchboard emulate vk`.
 */
import type { CallbackDelivery } from './callback.ts';
import type { ActionResult, SeenMessage } from './people.ts';
import type { CallRecord, MessageEventRecord, User, VkUpdate } from './state.ts';

export class VkEmulatorError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'VkEmulatorError';
    this.status = status;
  }
}

async function request<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/_emulator${path}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const why = (data as { error?: string } | undefined)?.error ?? text;
    throw new VkEmulatorError(res.status, `VK emulator ${method} ${path}: ${res.status} ${why}`);
  }
  return data as T;
}

/** One person in the emulator: a VK user id. */
export class VkPerson {
  readonly id: number;
  readonly #base: string;

  constructor(base: string, id: number) {
    this.#base = base;
    this.id = id;
  }

  #post<T = ActionResult>(path: string, body: unknown = {}): Promise<T> {
    return request<T>(this.#base, 'POST', `/users/${this.id}${path}`, body);
  }

  /** Presses «Начать» (payload `{"command":"start"}`), optionally arriving through a `ref` link. */
  start(ref?: string): Promise<ActionResult> {
    return this.#post('/start', ref ? { ref } : {});
  }

  sendText(text: string): Promise<ActionResult> {
    return this.#post('/messages', { text });
  }

  sendPhoto(image: Buffer, caption?: string): Promise<ActionResult> {
    return this.#post('/messages', { photos: [image.toString('base64')], ...(caption ? { text: caption } : {}) });
  }

  sendDoc(bytes: Buffer, name: string, text?: string): Promise<ActionResult> {
    return this.#post('/messages', { doc: { base64: bytes.toString('base64'), name }, ...(text ? { text } : {}) });
  }

  sendLocation(latitude: number, longitude: number): Promise<ActionResult> {
    return this.#post('/messages', { geo: { latitude, longitude } });
  }

  /** Presses the button with this label on the latest bot message that shows it. */
  press(label: string, opts: { messageId?: number } = {}): Promise<ActionResult> {
    return this.#post('/press', { label, ...opts });
  }

  /** Presses the location-request button of the chat keyboard, sharing these coordinates. */
  shareLocation(latitude: number, longitude: number): Promise<ActionResult> {
    return this.#post('/press', { type: 'location', latitude, longitude });
  }

  /** «Запретить сообщения» — the bot receives message_deny; sends fail with 901. */
  deny(): Promise<ActionResult> {
    return this.#post('/deny');
  }

  allow(): Promise<ActionResult> {
    return this.#post('/allow');
  }

  /** Sets the person's name or client language (VK lang_id: 0 ru, 3 en, ...). */
  update(fields: { firstName?: string; lastName?: string; langId?: number }): Promise<User> {
    return request(this.#base, 'PUT', `/users/${this.id}`, fields);
  }

  /** What the bot sent this person, oldest first (everything, with `all`). */
  messages(opts: { all?: boolean } = {}): Promise<SeenMessage[]> {
    return request(this.#base, 'GET', `/users/${this.id}/messages${opts.all ? '?all=1' : ''}`);
  }
}

export class VkEmulatorClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  person(id: number): VkPerson {
    return new VkPerson(this.url, id);
  }

  /** API calls the bot made (without its token), optionally of one method. */
  calls(method?: string): Promise<CallRecord[]> {
    return request(this.url, 'GET', `/calls${method ? `?method=${encodeURIComponent(method)}` : ''}`);
  }

  /**
   * Makes `times` calls of `method` (`*` for any) fail with a VK error or an HTTP status, after
   * letting `after` of them through.
   */
  inject(fault: { method: string; error?: number; httpStatus?: number; times?: number; after?: number }): Promise<void> {
    return request(this.url, 'POST', '/faults', fault);
  }

  /** The community's event stream as Bots Long Poll keeps it, and how often polls were answered `failed`. */
  events(): Promise<{ firstTs: number; nextTs: number; events: VkUpdate[]; longPollFailed: Record<'1' | '2' | '3', number> }> {
    return request(this.url, 'GET', '/events');
  }

  /** Waits until the bot received an event (through long poll or an `ok` callback answer). */
  async waitDelivered(eventId: string, timeoutMs = 10_000): Promise<string | null> {
    const r = await request<{ via: string | null }>(this.url, 'GET', `/events/${eventId}/delivered?timeoutMs=${timeoutMs}`);
    return r.via;
  }

  /** Callback-button presses and the bot's answers to them. */
  eventAnswers(): Promise<MessageEventRecord[]> {
    return request(this.url, 'GET', '/event-answers');
  }

  /** Expires every long-poll key: the next request answers `failed: 2`. */
  expireLongPollKeys(): Promise<void> {
    return request(this.url, 'POST', '/longpoll/expire-keys');
  }

  /** Loses long-poll state: the next request answers `failed: 3`. */
  loseLongPoll(): Promise<void> {
    return request(this.url, 'POST', '/longpoll/lose');
  }

  /** Forgets the event history: a poller still behind answers `failed: 1`. */
  truncateLongPollHistory(): Promise<void> {
    return request(this.url, 'POST', '/longpoll/truncate');
  }

  /** Adds and confirms a Callback API server; rejects when it does not answer the confirmation. */
  setCallbackServer(target: { url: string; secret?: string; confirmation: string }): Promise<void> {
    return request(this.url, 'POST', '/callback', target);
  }

  removeCallbackServer(): Promise<void> {
    return request(this.url, 'DELETE', '/callback');
  }

  callbackDeliveries(): Promise<CallbackDelivery[]> {
    return request(this.url, 'GET', '/callback/deliveries');
  }

  /** Resolves when the Callback API queue is empty. */
  callbackIdle(): Promise<void> {
    return request(this.url, 'POST', '/callback/idle');
  }
}
