/**
 * What the emulated Messenger remembers: the page, the people (PSIDs) with their threads and
 * 24-hour windows, uploaded files, every Send API call, and injected failures.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_RPS, type GraphError } from './limits.ts';

/** A button as the person sees it. */
export interface ShownButton {
  kind: 'postback' | 'web_url' | 'quick_reply' | 'user_phone_number' | 'user_email';
  /** What the person sees: the title; for the phone/email quick reply, their own phone/email. */
  title: string;
  payload?: string;
  url?: string;
}

export interface SentAttachment {
  type: 'image' | 'file' | 'audio' | 'video';
  /** URL the bot gave, or the emulator's CDN URL of an uploaded file. */
  url: string;
  name?: string;
  mime?: string;
  size?: number;
}

/** A message the page sent, as recorded and shown to the person. */
export interface PageMessage {
  mid: string;
  at: number;
  recipient: string;
  messagingType: string;
  tag?: string;
  text?: string;
  attachment?: SentAttachment;
  /** Button template buttons (they stay pressable on old messages). */
  buttons?: ShownButton[];
  /** Quick replies (usable only while this is the thread's latest message). */
  quickReplies?: ShownButton[];
}

export interface ThreadItem {
  from: 'user' | 'page';
  mid: string;
  at: number;
}

export interface EmulatedUser {
  psid: string;
  name: string;
  phone: string;
  email: string;
  blocked: boolean;
  /** When the person last wrote or tapped (opens the 24-hour window); null when never. */
  lastUserMessageAt: number | null;
  thread: ThreadItem[];
  received: PageMessage[];
}

export interface StoredFile {
  bytes: Buffer;
  mime: string;
  name: string;
}

/** One bot-side API call, as the tests inspect it. */
export interface ApiCallRecord {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The request's fields (token removed); uploads are described, not copied. */
  body: unknown;
  error?: { code: number; subcode?: number; message: string };
}

export interface DeliveryRecord {
  at: number;
  attempt: number;
  url: string;
  /** HTTP status, or null when the request failed (refused, timeout). */
  status: number | null;
  events: number;
  error?: string;
}

export interface EmulatorConfig {
  pageId: string;
  appId: string;
  appSecret: string;
  verifyToken: string;
  accessToken: string;
  graphVersion: string;
  maxRps: number;
  /** Push `is_echo` copies of the page's own sends to the webhook, as Meta does when subscribed. */
  echoes: boolean;
  /** Delays between webhook retries after a non-200 (Meta retries for hours; tests want ms). */
  retryDelaysMs: number[];
  webhookTimeoutMs: number;
}

export class EmulatorState {
  readonly config: EmulatorConfig;
  readonly users = new Map<string, EmulatedUser>();
  readonly files = new Map<string, StoredFile>();
  /** Reusable attachments by attachment_id. */
  readonly attachments = new Map<string, SentAttachment>();
  readonly calls: ApiCallRecord[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  /** Injected failures: each lets `after` calls pass, then fails one. */
  readonly failures: { after: number; error: GraphError }[] = [];
  webhookUrl: string | null = null;
  getStartedPayload = 'GET_STARTED';
  baseUrl = '';
  #sendTimes: number[] = [];
  #userCount = 0;

  constructor(config: Partial<EmulatorConfig>) {
    this.config = {
      pageId: config.pageId ?? '104000000000001',
      appId: config.appId ?? '900000000000001',
      appSecret: config.appSecret ?? 'emulator-app-secret',
      verifyToken: config.verifyToken ?? 'emulator-verify-token',
      accessToken: config.accessToken ?? 'emulator-page-token',
      graphVersion: config.graphVersion ?? 'v24.0',
      maxRps: config.maxRps ?? DEFAULT_MAX_RPS,
      echoes: config.echoes ?? false,
      retryDelaysMs: config.retryDelaysMs ?? [1000, 5000, 30_000],
      webhookTimeoutMs: config.webhookTimeoutMs ?? 20_000,
    };
  }

  /** The person with this PSID, created on first use with a phone and email of their own. */
  user(psid: string, profile: { name?: string; phone?: string; email?: string } = {}): EmulatedUser {
    let u = this.users.get(psid);
    if (!u) {
      const n = ++this.#userCount;
      u = {
        psid,
        name: `Person ${n}`,
        phone: `+1555${String(n).padStart(7, '0')}`,
        email: `person${n}@example.com`,
        blocked: false,
        lastUserMessageAt: null,
        thread: [],
        received: [],
      };
      this.users.set(psid, u);
    }
    if (profile.name) u.name = profile.name;
    if (profile.phone) u.phone = profile.phone;
    if (profile.email) u.email = profile.email;
    return u;
  }

  /** The injected failure due on this call, if any. */
  takeFailure(): GraphError | undefined {
    const next = this.failures[0];
    if (!next) return undefined;
    if (next.after > 0) {
      next.after--;
      return undefined;
    }
    this.failures.shift();
    return next.error;
  }

  /** Counts a send against the page's rate; false when over it (→ 613). */
  takeSendSlot(now: number): boolean {
    this.#sendTimes = this.#sendTimes.filter((t) => now - t < 1000);
    if (this.#sendTimes.length >= this.config.maxRps) return false;
    this.#sendTimes.push(now);
    return true;
  }

  storeFile(bytes: Buffer, mime: string, name: string): string {
    const id = randomBytes(9).toString('base64url');
    this.files.set(id, { bytes, mime, name });
    return `${this.baseUrl}/cdn/${id}/${encodeURIComponent(name)}`;
  }

  /** Everything the page sent to this person, oldest first. */
  sentTo(psid: string): PageMessage[] {
    return this.users.get(psid)?.received ?? [];
  }
}
