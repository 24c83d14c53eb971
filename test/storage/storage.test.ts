import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimConversation, loadState, releaseConversation, saveState, upsertConversation } from '../../src/storage/repositories/conversations.ts';
import { findStale, finishWork, insertInbound, insertOutbound, nextOpen, startWork } from '../../src/storage/repositories/messages.ts';
import { loadPerson, setUnreachable, upsertIdentity } from '../../src/storage/repositories/persons.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { havePostgres } from '../helpers/services.ts';
import { DIALECTS, freshStore } from '../helpers/stores.ts';

const pgAvailable = await havePostgres();

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === 'postgres' && !pgAvailable)(`storage on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof freshStore>>;
    const now = 1_700_000_000_000;
    beforeAll(async () => {
      store = await freshStore(dialect);
    });
    afterAll(async () => store?.drop());

    it('migrations are idempotent: a second run applies nothing', async () => {
      const again = await migrate(store);
      expect(again.applied).toEqual([]);
      expect(again.current).toBe('0005_webchat_files');
    });

    it('creates one person per platform identity, and finds it again', async () => {
      const a = await upsertIdentity(store.db, 'telegram', { platformUserId: '42', name: 'Ann', language: 'ru' }, now);
      const b = await upsertIdentity(store.db, 'telegram', { platformUserId: '42', name: 'Ann' }, now);
      const c = await upsertIdentity(store.db, 'vk', { platformUserId: '42' }, now);
      expect(a).toBe(b);
      expect(c).not.toBe(a);
      const person = await loadPerson(store.db, a);
      expect(person).toMatchObject({ name: 'Ann', language: 'ru', identities: [{ platform: 'telegram', platformUserId: '42', unreachable: null }] });
      await setUnreachable(store.db, 'telegram', '42', 'blocked', now);
      expect((await loadPerson(store.db, a)).identities[0].unreachable).toBe('blocked');
    });

    it('stores an inbound update once per dedup key, with content and raw payload', async () => {
      const personId = await upsertIdentity(store.db, 'telegram', { platformUserId: '7' }, now);
      const conversationId = await upsertConversation(store.db, { bot: 'main', platform: 'telegram', chatId: '7' }, personId, now);
      const first = await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: 'u1', content: { kind: 'message', text: 'hi' }, raw: { update_id: 1 }, now });
      const again = await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: 'u1', content: { kind: 'message', text: 'hi' }, raw: { update_id: 1 }, now });
      expect(again).toEqual({ id: first.id, duplicate: true });
      const row = await store.db.selectFrom('messages').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
      expect(JSON.parse(row.content)).toEqual({ kind: 'message', text: 'hi' });
      expect(JSON.parse(row.raw!)).toEqual({ update_id: 1 });
      expect(row.status).toBe('received');
      const count = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', conversationId).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
    });

    it('gives a conversation lease to one owner at a time until it expires', async () => {
      const personId = await upsertIdentity(store.db, 'vk', { platformUserId: 'lease' }, now);
      const id = await upsertConversation(store.db, { bot: 'main', platform: 'vk', chatId: 'lease' }, personId, now);
      expect(await claimConversation(store.db, id, 'handle', 'a', now, 1000)).toBe(true);
      expect(await claimConversation(store.db, id, 'handle', 'b', now + 10, 1000)).toBe(false);
      expect(await claimConversation(store.db, id, 'send', 'b', now + 10, 1000)).toBe(true);
      expect(await claimConversation(store.db, id, 'handle', 'b', now + 2000, 1000)).toBe(true);
      await releaseConversation(store.db, id, 'handle', 'a');
      expect(await claimConversation(store.db, id, 'handle', 'c', now + 2100, 1000)).toBe(false);
      await releaseConversation(store.db, id, 'handle', 'b');
      expect(await claimConversation(store.db, id, 'handle', 'c', now + 2100, 1000)).toBe(true);
    });

    it('hands out open messages oldest first and fences a worker that lost its lease', async () => {
      const personId = await upsertIdentity(store.db, 'webchat', { platformUserId: 'order' }, now);
      const conversationId = await upsertConversation(store.db, { bot: 'main', platform: 'webchat', chatId: 'order' }, personId, now);
      const ids = [];
      for (const n of [1, 2, 3]) ids.push((await insertInbound(store.db, { conversationId, kind: 'message', dedupKey: `o${n}`, content: {}, raw: null, now })).id);
      expect((await nextOpen(store.db, conversationId, 'in'))!.id).toBe(ids[0]);
      expect(await startWork(store.db, ids[0], 'in', 'w1', now, 100)).toBe(true);
      // w2 takes over after the lease expired; w1's late commit must not land.
      expect(await startWork(store.db, ids[0], 'in', 'w2', now + 500, 100)).toBe(true);
      expect(await finishWork(store.db, ids[0], 'w1', { status: 'handled' }, now + 600)).toBe(false);
      expect(await finishWork(store.db, ids[0], 'w2', { status: 'handled' }, now + 600)).toBe(true);
      expect((await nextOpen(store.db, conversationId, 'in'))!.id).toBe(ids[1]);
    });

    it('finds stale work for the sweeper: expired leases and untouched rows', async () => {
      const personId = await upsertIdentity(store.db, 'webchat', { platformUserId: 'stale' }, now);
      const conversationId = await upsertConversation(store.db, { bot: 'main', platform: 'webchat', chatId: 'stale' }, personId, now);
      const out = await insertOutbound(store.db, { conversationId, content: { text: 'x' }, causeId: null, now });
      expect((await findStale(store.db, 'out', now + 100, 1000, 100)).map((r) => r.id)).not.toContain(out);
      expect((await findStale(store.db, 'out', now + 5000, 1000, 100)).map((r) => r.id)).toContain(out);
      await startWork(store.db, out, 'out', 'g1', now + 5000, 1000);
      expect((await findStale(store.db, 'out', now + 5500, 1000, 100)).map((r) => r.id)).not.toContain(out);
      expect((await findStale(store.db, 'out', now + 7000, 1000, 100)).map((r) => r.id)).toContain(out);
    });

    it('keeps dialog state as JSON per conversation', async () => {
      const personId = await upsertIdentity(store.db, 'webchat', { platformUserId: 'state' }, now);
      const id = await upsertConversation(store.db, { bot: 'main', platform: 'webchat', chatId: 'state' }, personId, now);
      expect(await loadState(store.db, id)).toEqual({});
      await saveState(store.db, id, { dialog: { name: 'profile', step: 1 }, answers: { name: 'Ann' } }, now);
      await saveState(store.db, id, { dialog: { name: 'profile', step: 2 }, answers: { name: 'Ann', city: 'Kazan' } }, now);
      expect(await loadState(store.db, id)).toEqual({ dialog: { name: 'profile', step: 2 }, answers: { name: 'Ann', city: 'Kazan' } });
    });
  });
}
