/**
 * Visitor identity. The browser keeps a random secret token; the chat id (and the platform user
 * id) is derived from it by a one-way hash. The public id therefore appears in logs, the admin
 * panel and the database without letting anyone who sees it open the visitor's conversation:
 * reading the history takes the token, and the token never leaves the browser and this module.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A new secret token: 32 random bytes, base64url (43 characters). */
export function newVisitorToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The public visitor id for a token: the first 128 bits of SHA-256, hex, prefixed `v`. The
 * domain prefix keeps the hash from being reusable for anything else the token might feed.
 */
export function visitorId(token: string): string {
  return 'v' + createHash('sha256').update(`switchboard/webchat/visitor:${token}`).digest('hex').slice(0, 32);
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
