/**
 * The visitors connected to this process: their open sockets (one per tab), their send-rate
 * bucket, and the action payloads the bot offered them (to refuse forged button presses without
 * a database read on every click). A visitor's entry lives while at least one tab is open.
 */
import type { ServerFrame } from './protocol.ts';

/** What the registry needs of one open socket. */
export interface VisitorSocket {
  readonly visitor: string;
  /** Sends a frame (buffered until the socket's welcome went out). */
  push(frame: ServerFrame): void;
  /**
   * Shows outbound message `messageId` (its `message` or `edit` frame), unless this socket has
   * already shown it live or in its history: a socket never shows one message twice.
   */
  deliver(messageId: number, frame: ServerFrame): void;
  close(code: number, reason: string): void;
}

export interface RateLimit {
  /** Frames (and uploads) a visitor may send per second, sustained. Default 2. */
  perSecond: number;
  /** How many may come at once before the rate applies. Default 20. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 2, burst: 20 };

/** Upper bound of remembered payloads per visitor; beyond it, a check falls back to the history. */
const MAX_PAYLOADS = 2000;

interface VisitorState {
  sockets: Set<VisitorSocket>;
  bucket: Bucket;
  payloads: Set<string>;
  /** Button labels by payload, for the person's own bubble in other tabs. */
  labels: Map<string, string>;
}

export class Visitors {
  readonly #byId = new Map<string, VisitorState>();
  readonly #rate: RateLimit;

  constructor(rate: RateLimit) {
    this.#rate = rate;
  }

  add(socket: VisitorSocket): void {
    let state = this.#byId.get(socket.visitor);
    if (!state) {
      state = {
        sockets: new Set(),
        bucket: new Bucket(this.#rate.perSecond, this.#rate.burst),
        payloads: new Set(),
        labels: new Map(),
      };
      this.#byId.set(socket.visitor, state);
    }
    state.sockets.add(socket);
  }

  remove(socket: VisitorSocket): void {
    const state = this.#byId.get(socket.visitor);
    if (!state) return;
    state.sockets.delete(socket);
    if (state.sockets.size === 0) this.#byId.delete(socket.visitor);
  }

  connected(visitor: string): boolean {
    return this.#byId.has(visitor);
  }

  /** Number of open sockets across all visitors. */
  get socketCount(): number {
    let n = 0;
    for (const s of this.#byId.values()) n += s.sockets.size;
    return n;
  }

  /**
   * Takes one send token of the visitor. Returns 0 when the frame may go, else the milliseconds
   * to wait before the next one will be accepted.
   */
  take(visitor: string): number {
    const state = this.#byId.get(visitor);
    if (!state) return 0;
    return state.bucket.take() ? 0 : Math.max(1, state.bucket.waitMs());
  }

  /** Remembers the action buttons a message offered this visitor. */
  offer(visitor: string, buttons: Iterable<{ payload: string; label: string }>): void {
    const state = this.#byId.get(visitor);
    if (!state) return;
    for (const b of buttons) {
      if (state.payloads.size >= MAX_PAYLOADS) {
        state.payloads.clear();
        state.labels.clear();
      }
      state.payloads.add(b.payload);
      state.labels.set(b.payload, b.label);
    }
  }

  offered(visitor: string, payload: string): boolean {
    return this.#byId.get(visitor)?.payloads.has(payload) ?? false;
  }

  labelOf(visitor: string, payload: string): string | undefined {
    return this.#byId.get(visitor)?.labels.get(payload);
  }

  /** Sends a frame to every open tab of the visitor (but `except`). Returns how many got it. */
  broadcast(visitor: string, frame: ServerFrame, except?: VisitorSocket): number {
    const state = this.#byId.get(visitor);
    if (!state) return 0;
    let n = 0;
    for (const s of state.sockets) {
      if (s === except) continue;
      s.push(frame);
      n++;
    }
    return n;
  }

  /** Shows outbound message `messageId` in every open tab of the visitor that does not have it yet. */
  deliver(visitor: string, messageId: number, frame: ServerFrame): number {
    const state = this.#byId.get(visitor);
    if (!state) return 0;
    for (const s of state.sockets) s.deliver(messageId, frame);
    return state.sockets.size;
  }

  /** Closes every tab of one visitor. */
  closeVisitor(visitor: string, code: number, reason: string): void {
    for (const s of [...(this.#byId.get(visitor)?.sockets ?? [])]) s.close(code, reason);
  }

  /** Closes every socket (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const state of [...this.#byId.values()]) for (const s of [...state.sockets]) s.close(code, reason);
    this.#byId.clear();
  }
}

/** A token bucket: `take()` is false when the visitor sent more than the burst allows. */
export class Bucket {
  #tokens: number;
  #last: number;
  readonly #rate: number;
  readonly #capacity: number;

  constructor(perSecond: number, burst: number, now = Date.now()) {
    this.#rate = perSecond;
    this.#capacity = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token if there is one. */
  take(now = Date.now()): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is available again. */
  waitMs(now = Date.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }
}
