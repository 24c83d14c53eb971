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
