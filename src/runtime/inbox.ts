/**
 * The gateway's half of store-and-notify: every inbound update is stored (deduplicated by the
 * platform's id) in one transaction with its person and conversation, and only then is core
 * notified. The connector acknowledges the platform after this resolves.
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Inbox } from '../connectors/connector.ts';
import type { Store } from '../storage/database.ts';
import { upsertConversation } from '../storage/repositories/conversations.ts';
import { insertInbound } from '../storage/repositories/messages.ts';
import { upsertIdentity } from '../storage/repositories/persons.ts';
import type { Metrics } from './metrics.ts';
import { INBOUND_TOPIC } from './topics.ts';



export function createInbox(store: Store, bus: Bus, log: Logger, metrics: Metrics): Inbox {
  return async (update) => {
    const now = Date.now();
    const stored = await store.db.transaction().execute(async (trx) => {
      const personId = await upsertIdentity(trx, update.platform, update.sender, now);
      const conversationId = await upsertConversation(trx, { bot: update.bot, platform: update.platform, chatId: update.chatId }, personId, now);
      const res = await insertInbound(trx, {
        conversationId,
        kind: update.event.kind,
        dedupKey: `${update.platform}:${update.dedupKey}`,
        content: update.event,
        raw: update.raw,
        platformMessageId: update.platformMessageId,
        now,
      });
      if (!res.duplicate && update.event.kind !== 'system') {
        await trx.updateTable('conversations').set({ last_inbound_at: now }).where('id', '=', conversationId).execute();
      }
      return { ...res, conversationId };
    });
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
    return { id: stored.id, duplicate: false };
  };
}
