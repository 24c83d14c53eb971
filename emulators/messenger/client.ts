/**
 * A typed client of the emulator's user-side HTTP API, usable against an in-process emulator or
 * one started with `switchboard emulate messenger`.
 */
import type { PushResult } from './pusher.ts';
import type { ApiCallRecord, DeliveryRecord, PageMessage } from './state.ts';
import type { UserAction } from './user-api.ts';

/** What a person's action returns: the mid of their message and how the webhook answered. */
export interface ActionResult extends PushResult {
  mid?: string;
  /** Set when the pressed button was a link: the URL the person opened (no webhook). */
  opened?: string;
}

export interface EmulatorInfo {
  url: string;
  apiRoot: string;
  pageId: string;
  appId: string;
  appSecret: string;
  verifyToken: string;
  accessToken: string;
  graphVersion: string;
  webhookUrl: string | null;
  getStartedPayload: string;
}

export class EmulatorRequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'EmulatorRequestError';
    this.status = status;
  }
}

/** One person on the emulated Messenger, identified by their PSID. */
export class EmulatedPerson {
  readonly psid: string;
  readonly #client: MessengerEmulatorClient;

  constructor(client: MessengerEmulatorClient, psid: string) {
    this.#client = client;
    this.psid = psid;
  }

  #path(action: string): string {
    return `/_emulator/users/${encodeURIComponent(this.psid)}/${action}`;
  }

  /** Sets the person's profile (name, phone used by the phone quick reply, email). */
  profile(p: { name?: string; phone?: string; email?: string }): Promise<{ psid: string; name: string; phone: string; email: string }> {
    return this.#client.request('POST', `/_emulator/users/${encodeURIComponent(this.psid)}`, p);
  }
  sendText(text: string): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('text'), { text });
  }
  /** Sends an image: bytes (served from the emulator's CDN) or a URL. */
  sendImage(image: Buffer | { url: string }, mime = 'image/png'): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('image'), Buffer.isBuffer(image) ? { base64: image.toString('base64'), mime } : image);
  }
  sendFile(file: Buffer | { url: string }, name = 'file.bin', mime = 'application/octet-stream'): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('file'), Buffer.isBuffer(file) ? { base64: file.toString('base64'), name, mime } : file);
  }
  /** Taps Get Started (with an m.me `ref` when given). */
  getStarted(ref?: string): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('start'), ref ? { ref } : {});
  }
  /** Opens an m.me link with `ref` in an existing thread (a referral event). */
  openReferral(ref: string): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('referral'), { ref });
  }
  /** Presses a quick reply (only on the latest message) or a template button by its title. */
  press(label: string): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('press'), { label });
  }
  /** Taps the phone-number quick reply of the latest message. */
  sharePhone(): Promise<ActionResult> {
    return this.#client.request('POST', this.#path('share-phone'), {});
  }
  /**
   * Blocks the page (its sends then fail with 551). With `lastWords`, the person writes that
   * text and blocks right after it, so the bot's reply is what discovers the block.
   */
  block(lastWords?: string): Promise<{ ok: true } & Partial<ActionResult>> {
    return this.#client.request('POST', this.#path('block'), lastWords ? { lastWords } : {});
  }
  unblock(): Promise<{ ok: true }> {
    return this.#client.request('POST', this.#path('unblock'), {});
  }
  /** Moves the person's last message `agoMs` into the past (to leave the 24-hour window). */
  lastMessageAgo(agoMs: number): Promise<{ lastUserMessageAt: number | null }> {
    return this.#client.request('POST', this.#path('last-message'), { agoMs });
  }
  /** Everything the page sent to this person, oldest first. */
  messages(): Promise<PageMessage[]> {
    return this.#client.request('GET', this.#path('messages'));
  }
}

export class MessengerEmulatorClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  person(psid: string): EmulatedPerson {
    return new EmulatedPerson(this, psid);
  }
  info(): Promise<EmulatorInfo> {
    return this.request('GET', '/_emulator/info');
  }
  /** Sets the callback URL after Meta's verification handshake (GET with hub.challenge). */
  setWebhook(url: string): Promise<{ ok: true; url: string }> {
    return this.request('POST', '/_emulator/webhook', { url });
  }
  /** Pushes several people's actions in one signed POST, `perEntry` events per entry. */
  batch(actions: UserAction[], perEntry = 1): Promise<PushResult & { mids: (string | undefined)[] }> {
    return this.request('POST', '/_emulator/batch', { actions, perEntry });
  }
  calls(): Promise<ApiCallRecord[]> {
    return this.request('GET', '/_emulator/calls');
  }
  clearCalls(): Promise<{ ok: true }> {
    return this.request('DELETE', '/_emulator/calls');
  }
  deliveries(): Promise<DeliveryRecord[]> {
    return this.request('GET', '/_emulator/deliveries');
  }
  /** Waits until every webhook push and retry has finished. */
  flush(): Promise<{ ok: true }> {
    return this.request('POST', '/_emulator/flush', {});
  }
  /** Lets `after` Send API calls pass, then makes `times` (default 1) fail with this Graph error. */
  failNext(error: { code: number; subcode?: number; message?: string; status?: number; times?: number; after?: number }): Promise<{ queued: number }> {
    return this.request('POST', '/_emulator/fail-next', error);
  }
  configure(config: { maxRps?: number; echoes?: boolean; retryDelaysMs?: number[] }): Promise<{ maxRps: number; echoes: boolean; retryDelaysMs: number[] }> {
    return this.request('PATCH', '/_emulator/config', config);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const msg = (data as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`;
      throw new EmulatorRequestError(res.status, `${method} ${path}: ${msg}`);
    }
    return data as T;
  }
}
