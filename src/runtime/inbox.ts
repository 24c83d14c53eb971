/**
 * The gateway's half of store-and-notify: every inbound update is stored (deduplicated by the
 * platform's id) in one transaction with its person and conversation, and only then is core
 * notified. The connector acknowledges the platform after this resolves.
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Inbox } from '../connectors/connector.ts';
import type { Store } from '../storage/database.ts';
import { touchInbound, upsertConversation } from '../storage/repositories/conversations.ts';
import { storeInbound } from '../storage/repositories/combined-writes.ts';
import { insertInbound, type InsertInbound } from '../storage/repositories/messages.ts';
import { upsertIdentity } from '../storage/repositories/persons.ts';
import type { InboundBacklog } from './inbound-backlog.ts';
import type { Metrics } from './metrics.ts';
import { INBOUND_TOPIC } from './topics.ts';

/** Entries kept per cache; a full cache starts over (the next update of each key reads it again). */
const CACHE_SIZE = 50_000;

/**
 * Ids of rows this process has already found or created. Identities and conversations are never
 * deleted, so a key seen once keeps its row: the first update of a chat finds or creates person,
 * identity and conversation; the next ones only insert the message. Should rows ever be deleted
 * or merged, this cache must be cleared with them.
 */
class Seen<V> {
  readonly #map = new Map<string, V>();

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (this.#map.size >= CACHE_SIZE) this.#map.clear();
    this.#map.set(key, value);
  }
}

export function createInbox(store: Store, bus: Bus, log: Logger, metrics: Metrics, backlog: InboundBacklog): Inbox {
  const identities = new Seen<true>();
  const conversations = new Seen<number>();
  return async (update) => {
    const now = Date.now();
    const identityKey = `${update.platform}\u0000${update.sender.platformUserId}`;
    const conversationKey = `${update.bot}\u0000${update.platform}\u0000${update.chatId}`;
    const message = (conversationId: number): InsertInbound => ({
      conversationId,
      kind: update.event.kind,
      dedupKey: `${update.platform}:${update.dedupKey}`,
      content: update.event,
      raw: update.raw,
      platformMessageId: update.platformMessageId,
      now,
    });
    const touch = update.event.kind !== 'system';
    const known = conversations.get(conversationKey);
    let stored: { id: number; duplicate: boolean; conversationId: number };
    if (known !== undefined && identities.get(identityKey)) {
      // The usual case: a chat seen before. One statement on PostgreSQL.
      stored = { ...(await storeInbound(store.db, message(known), touch)), conversationId: known };
    } else {
      // Every sender gets an identity, also a new member of a known group chat.
      stored = await store.db.transaction().execute(async (trx) => {
        const personId = await upsertIdentity(trx, update.platform, update.sender, now);
        const conversationId = await upsertConversation(trx, { bot: update.bot, platform: update.platform, chatId: update.chatId }, personId, now);
        const res = await insertInbound(trx, message(conversationId));
        if (!res.duplicate && touch) await touchInbound(trx, conversationId, now);
        return { ...res, conversationId };
      });
    }
    // Remembered once committed: a rolled-back transaction may have created nothing.
    identities.set(identityKey, true);
    conversations.set(conversationKey, stored.conversationId);
    metrics.inbound.inc({ platform: update.platform, result: stored.duplicate ? 'duplicate' : 'stored' });
    if (stored.duplicate) {
      log.info({ messageId: stored.id, conversationId: stored.conversationId, platform: update.platform }, 'duplicate update ignored');
      return { id: stored.id, duplicate: true };
    }
    log.debug({ messageId: stored.id, conversationId: stored.conversationId, kind: update.event.kind }, 'inbound stored');
    // A failed notify is not an error for the platform: the row is stored and the sweeper finds it.
    bus.publish(INBOUND_TOPIC, { id: stored.id, conversationId: stored.conversationId }).catch((err: unknown) => {
      log.warn({ err, messageId: stored.id }, 'notify failed; the sweeper will pick the message up');
    });
    // Stored and notified; under overload the acknowledgement waits (see InboundBacklog).
    if ((await backlog.admit(stored.id)) === 'held') metrics.acksHeld.inc({ backlog: backlog.hasCore ? 'local' : 'stored' });
    return { id: stored.id, duplicate: false };
  };
}
