/**
 * One browser tab's WebSocket. It checks every frame before anything is stored (JSON, schema,
 * limits, rate, known button, known upload), stores accepted frames one at a time in arrival
 * order through the inbox, and acks each only after the inbox resolved. A bad frame gets an
 * `error` frame and a log line and the socket stays open; a client that keeps sending bad frames
 * is disconnected. Nothing a client sends can throw out of this class.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Capabilities } from '../../core/capabilities.ts';
import type { Inbox } from '../connector.ts';
import { inboundView, toInboundUpdate } from './inbound.ts';
import { historyEntries, type HistoryItem } from './outbound.ts';
import {
  CLIENT_FRAME_TYPES,
  PROTOCOL_VERSION,
  clientFrame,
  describeIssues,
  type ErrorCode,
  type EventFrame,
  type HelloFrame,
  type Limits,
  type ServerFrame,
} from './protocol.ts';
import type { WebchatFiles } from './uploads.ts';
import { newVisitorToken, visitorId } from './visitor.ts';
import type { VisitorSocket, Visitors } from './visitors.ts';

export interface SessionDeps {
  bot: string;
  capabilities: Capabilities;
  limits: Limits;
  files: WebchatFiles;
  visitors: Visitors;
  inbox: Inbox;
  history: (chatId: string) => Promise<HistoryItem[]>;
  log: Logger;
  /** Bad frames a socket may send before it is closed. */
  maxBadFrames: number;
}

/** Close codes: 1008 policy violation (abuse, no hello), 1011 server could not load the chat. */
const CLOSE_POLICY = 1008;
const CLOSE_UNAVAILABLE = 1011;
const HELLO_TIMEOUT_MS = 15_000;
const KEEPALIVE_MS = 30_000;
/** A tab that does not read its frames is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * Outbound message ids a socket remembers having shown. A repeat comes soon after the original
 * (a resend, a broadcast racing the history), so the most recent ones are enough.
 */
const SHOWN_MEMORY = 1000;

export class Session implements VisitorSocket {
  readonly #ws: WebSocket;
  readonly #deps: SessionDeps;
  #log: Logger;
  #visitor = '';
  #language: string | undefined;
  #welcomed = false;
  /** Frames held until the welcome, with the outbound message each shows (if any). */
  #beforeWelcome: Array<{ frame: ServerFrame; messageId?: number }> = [];
  /** Outbound messages this tab has shown (live or in its history), oldest first. */
  readonly #shown = new Set<number>();
  #chain: Promise<void> = Promise.resolve();
  #badFrames = 0;
  #rejected = 0;
  #cooldownUntil = 0;
  #alive = true;
  #closed = false;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(ws: WebSocket, deps: SessionDeps) {
    this.#ws = ws;
    this.#deps = deps;
    this.#log = deps.log;
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on('pong', () => (this.#alive = true));
    ws.on('close', () => this.#onClose());
    ws.on('error', (err) => this.#log.debug({ err }, 'webchat: socket error'));
    this.#timers.push(
      setTimeout(() => {
        if (!this.#visitor) this.close(CLOSE_POLICY, 'hello expected');
      }, HELLO_TIMEOUT_MS).unref(),
      // A tab that vanished without closing (sleep, lost network) is found by its missing pong.
      setInterval(() => {
        if (!this.#alive) return this.#ws.terminate();
        this.#alive = false;
        this.#ws.ping();
      }, KEEPALIVE_MS).unref(),
    );
  }

  get visitor(): string {
    return this.#visitor;
  }

  /** Sends a frame now, or after the welcome when the history is still loading. */
  push(frame: ServerFrame): void {
    if (this.#closed) return;
    if (!this.#welcomed && frame.type !== 'welcome' && frame.type !== 'error' && frame.type !== 'pong') {
      this.#beforeWelcome.push({ frame });
      return;
    }
    this.#write(frame);
  }

  deliver(messageId: number, frame: ServerFrame): void {
    if (this.#closed) return;
    // Held until the welcome: only then is it known whether the history already shows it.
    if (!this.#welcomed) {
      this.#beforeWelcome.push({ frame, messageId });
      return;
    }
    if (!this.#remember(messageId)) {
      this.#log.debug({ messageId }, 'webchat: tab already shows this message; frame dropped');
      return;
    }
    this.#write(frame);
  }

  /** Records that this tab shows `messageId`; false when it already did. */
  #remember(messageId: number): boolean {
    if (this.#shown.has(messageId)) return false;
    this.#shown.add(messageId);
    if (this.#shown.size > SHOWN_MEMORY) this.#shown.delete(this.#shown.values().next().value!);
    return true;
  }

  #write(frame: ServerFrame): void {
    if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#log.warn({ visitor: this.#visitor }, 'webchat: tab does not read its frames, dropping it');
      this.#ws.terminate();
      return;
    }
    this.#ws.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#ws.close(code, reason);
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    if (this.#visitor) this.#deps.visitors.remove(this);
  }

  #onMessage(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    try {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.#accept(bytes, isBinary);
    } catch (err: unknown) {
      // A bug here must cost one frame, never the process.
      this.#log.error({ err, visitor: this.#visitor }, 'webchat: frame handling failed');
      this.#reject(undefined, 'unavailable', 'The server could not handle this frame. Please retry.');
    }
  }

  #accept(bytes: Buffer, isBinary: boolean): void {
    const { limits } = this.#deps;
    if (bytes.length > limits.maxFrameBytes) {
      return this.#bad(undefined, 'too-large', `Frame is ${bytes.length} bytes; the limit is ${limits.maxFrameBytes}.`);
    }
    if (isBinary) return this.#bad(undefined, 'bad-frame', 'Frames are JSON text, not binary.');
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return this.#bad(undefined, 'bad-json', 'Frame is not valid JSON.');
    }
    const id = idOf(json);
    const type = json && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') return this.#bad(id, 'bad-frame', 'Frame has no "type".');
    if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
      return this.#bad(id, 'unknown-type', `Unknown frame type "${type.slice(0, 40)}"; expected one of ${CLIENT_FRAME_TYPES.join(', ')}.`);
    }
    const parsed = clientFrame.safeParse(json);
    if (!parsed.success) return this.#bad(id, 'bad-frame', `Invalid ${type} frame: ${describeIssues(parsed.error)}.`);
    const frame = parsed.data;
    if (frame.type === 'ping') return this.push({ type: 'pong' });
    if (frame.type === 'hello') return this.#hello(frame);
    if (!this.#visitor) return this.#bad(frame.id, 'hello-required', 'Send a hello frame first.');

    const text = frame.type === 'text' || frame.type === 'image' ? frame.text : undefined;
    if (frame.type === 'text' && !frame.text.trim()) return this.#bad(frame.id, 'empty', 'Message is empty.');
    if (text !== undefined && text.length > limits.maxTextLength) {
      return this.#bad(frame.id, 'too-long', `Message is ${text.length} characters; the limit is ${limits.maxTextLength}.`);
    }
    const now = Date.now();
    const wait = now < this.#cooldownUntil ? this.#cooldownUntil - now : this.#deps.visitors.take(this.#visitor);
    if (wait > 0) {
      // Everything after a refused frame is refused until the wait is over, so a client that
      // resends in order never gets a later message stored before an earlier one.
      this.#cooldownUntil = now + wait;
      if (++this.#rejected > 100) return this.#abuse('too many frames while rate-limited');
      if (this.#rejected === 1 || this.#rejected % 20 === 0) {
        this.#log.warn({ visitor: this.#visitor, rejected: this.#rejected }, 'webchat: visitor is sending too fast');
      }
      this.push({ type: 'error', id: frame.id, code: 'rate-limited', message: 'You are sending messages too fast. Please wait a moment.', retryAfterMs: wait });
      return;
    }
    this.#chain = this.#chain.then(() => this.#store(frame));
  }

  #hello(frame: HelloFrame): void {
    if (this.#visitor) return this.#bad(undefined, 'already-hello', 'This socket already said hello.');
    const token = frame.token ?? newVisitorToken();
    this.#visitor = visitorId(token);
    this.#language = frame.language?.trim() || undefined;
    this.#log = this.#deps.log.child({ visitor: this.#visitor });
    this.#deps.visitors.add(this);
    this.#chain = this.#chain.then(() => this.#welcome(token, !frame.token));
  }

  async #welcome(token: string, isNew: boolean): Promise<void> {
    const deps = this.#deps;
    try {
      const items = isNew ? [] : await deps.history(this.#visitor);
      const { entries, labels } = await historyEntries(items, deps.capabilities, deps.files, (reason, err) =>
        this.#log.warn({ err, reason }, 'webchat: history media not shown'),
      );
      deps.visitors.offer(this.#visitor, [...labels].map(([payload, label]) => ({ payload, label })));
      this.push({
        type: 'welcome',
        v: PROTOCOL_VERSION,
        token,
        visitor: this.#visitor,
        fresh: items.length === 0,
        history: entries,
        limits: deps.limits,
      });
      this.#welcomed = true;
      // Everything the history shows (edits included, applied in place) is shown: a live frame
      // of it that arrived while the history loaded would show it twice.
      for (const item of items) if (item.direction === 'out') this.#remember(item.id);
      const queued = this.#beforeWelcome;
      this.#beforeWelcome = [];
      for (const q of queued) {
        if (q.messageId === undefined) this.push(q.frame);
        else this.deliver(q.messageId, q.frame);
      }
      this.#log.debug({ isNew, history: entries.length }, 'webchat: visitor connected');
    } catch (err: unknown) {
      this.#log.error({ err }, 'webchat: could not load the history');
      this.push({ type: 'error', code: 'unavailable', message: 'The chat is unavailable right now. Reconnecting…' });
      this.close(CLOSE_UNAVAILABLE, 'history unavailable');
    }
  }

  async #store(frame: EventFrame): Promise<void> {
    if (this.#closed) return;
    const deps = this.#deps;
    try {
      if (frame.type === 'action' && !(await this.#knownAction(frame.payload))) {
        return this.#bad(frame.id, 'unknown-action', 'This button is no longer available.');
      }
      const image = frame.type === 'image' ? await deps.files.attachmentFor(frame.url) : undefined;
      if (frame.type === 'image' && !image) {
        return this.#bad(frame.id, 'unknown-upload', 'Image not found: upload it through /webchat/upload first.');
      }
      const update = toInboundUpdate(frame, { bot: deps.bot, visitor: this.#visitor, language: this.#language }, image);
      const result = await deps.inbox(update);
      this.push({ type: 'ack', id: frame.id, duplicate: result.duplicate });
      if (frame.type === 'leave') {
        this.#log.info('webchat: visitor left the chat');
        deps.visitors.broadcast(this.#visitor, { type: 'left' });
        deps.visitors.closeVisitor(this.#visitor, 1000, 'left the chat');
        return;
      }
      if (!result.duplicate) {
        const view = inboundView(update.event, (p) => deps.visitors.labelOf(this.#visitor, p));
        if (view) deps.visitors.broadcast(this.#visitor, { type: 'echo', id: frame.id, at: Date.now(), view }, this);
      }
    } catch (err: unknown) {
      this.#log.error({ err, frame: frame.type }, 'webchat: could not store a frame');
      this.#reject(frame.id, 'unavailable', 'Your message could not be saved. It will be retried.');
    }
  }

  /** True when the bot offered this payload on a button (remembered, or in the history). */
  async #knownAction(payload: string): Promise<boolean> {
    const { visitors } = this.#deps;
    if (visitors.offered(this.#visitor, payload)) return true;
    const items = await this.#deps.history(this.#visitor);
    const buttons = items.flatMap((i) => (i.message?.buttons ?? []).flat());
    visitors.offer(this.#visitor, buttons.flatMap((b) => (b?.type === 'action' ? [b] : [])));
    return visitors.offered(this.#visitor, payload);
  }

  /** A frame the client should not have sent: error frame, log line, and a strike. */
  #bad(id: string | undefined, code: ErrorCode, message: string): void {
    this.#log.warn({ visitor: this.#visitor || undefined, code, reason: message }, 'webchat: rejected a frame');
    this.#reject(id, code, message);
    if (++this.#badFrames > this.#deps.maxBadFrames) this.#abuse(`more than ${this.#deps.maxBadFrames} bad frames`);
  }

  #reject(id: string | undefined, code: ErrorCode, message: string): void {
    this.push(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
  }

  #abuse(why: string): void {
    if (this.#closed) return;
    this.#log.warn({ visitor: this.#visitor || undefined, why }, 'webchat: closing an abusive socket');
    this.#reject(undefined, 'too-many-errors', 'Too many bad frames; the connection is closed.');
    this.close(CLOSE_POLICY, 'too many bad frames');
  }
}

/** The frame's id when it has a plausible one, so the client can match the error to its message. */
function idOf(json: unknown): string | undefined {
  const id = json && typeof json === 'object' ? (json as { id?: unknown }).id : undefined;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}
