/**
 * claimNext: the lease and the oldest open message's working mark in one step (one statement on
 * PostgreSQL). It must behave exactly like the claim followed by the mark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimNext } from '../../src/storage/repositories/combined-writes.ts';
import { releaseAndLook, upsertConversation } from '../../src/storage/repositories/conversations.ts';
import { insertInbound, insertOutbound, retryLater } from '../../src/storage/repositories/messages.ts';
import { upsertIdentity } from '../../src/storage/repositories/persons.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshStore } from '../helpers/stores.ts';

const pgAvailable = await havePostgres();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`claimNext on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof freshStore>>;
    const now = 1_700_000_000_000;
    let chat = 0;
    beforeAll(async () => {
      store = await freshStore(dialect);
    });
    afterAll(async () => store?.drop());

    async function conversation() {
      const personId = await upsertIdentity(store.db, 'telegram', { platformUserId: `u${++chat}` }, now);
      return upsertConversation(store.db, { bot: 'main', platform: 'telegram', chatId: `c${chat}` }, personId, now);
    }
    const inbound = (conversationId: number, key: string) =>
      insertInbound(store.db, { conversationId, kind: 'message', dedupKey: key, content: { kind: 'message', text: key }, raw: null, now });

    it('takes the lease and marks the oldest open message, counting the attempt; the recipient comes along', async () => {
      const id = await conversation();
      const first = await inbound(id, 'a');
      await inbound(id, 'b');
      const got = await claimNext(store.db, id, 'handle', 'w1', now, 10_000);
      expect(got?.conversation).toMatchObject({ id, lease_owner: 'w1', lease_until: now + 10_000, recipient: `u${chat}`, next_id: first.id });
      expect(got?.msg).toMatchObject({ id: first.id, status: 'processing', lease_owner: 'w1', attempts: 1, content: JSON.stringify({ kind: 'message', text: 'a' }) });
      // Held: another owner gets nothing and changes nothing.
      expect(await claimNext(store.db, id, 'handle', 'w2', now + 1, 10_000)).toBeUndefined();
      const row = await store.db.selectFrom('messages').select(['status', 'lease_owner', 'attempts']).where('id', '=', first.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'processing', lease_owner: 'w1', attempts: 1 });
    });

    it('claims without a message when none is open, and without marking one that is not due yet', async () => {
      const id = await conversation();
      expect(await claimNext(store.db, id, 'send', 'g1', now, 10_000)).toMatchObject({ conversation: { id, send_owner: 'g1', next_id: null }, msg: undefined });
      await releaseAndLook(store.db, id, 'send', 'g1', now);
      const out = await insertOutbound(store.db, { conversationId: id, content: { text: 'x' }, causeId: null, now });
      const sending = await claimNext(store.db, id, 'send', 'g1', now, 10_000);
      expect(sending?.msg).toMatchObject({ id: out, status: 'sending', attempts: 1 });
      await retryLater(store.db, out, 'g1', 'out', now + 60_000, 'transient', now);
      const later = await claimNext(store.db, id, 'send', 'g1', now + 1000, 10_000);
      expect(later).toMatchObject({ conversation: { next_id: out }, msg: undefined });
      const due = await claimNext(store.db, id, 'send', 'g1', now + 61_000, 10_000);
      expect(due?.msg).toMatchObject({ id: out, status: 'sending', attempts: 2 });
    });
  });
}
