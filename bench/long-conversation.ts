/**
 * A turn's storage cost in a long conversation: claim + release of a conversation's lease (each
 * looks for the oldest open message) when the conversation already has many handled messages,
 * on a SQLite file — with the open-messages index (migration 0002) and, for comparison, without
 * it (dropped on a copy of the same data).
 *
 * Run alone: `node --import tsx bench/long-conversation.ts` (LONG_CONVERSATION_MESSAGES=N, default 50000).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrate.ts';
import { claimConversationRow, releaseAndLook, upsertConversation } from '../src/storage/repositories/conversations.ts';
import { upsertIdentity } from '../src/storage/repositories/persons.ts';

const TURNS = 200;

async function fill(store: Store, handled: number): Promise<number> {
  const personId = await upsertIdentity(store.db, 'telegram', { platformUserId: '1' }, 1);
  const conversationId = await upsertConversation(store.db, { bot: 'main', platform: 'telegram', chatId: '1' }, personId, 1);
  for (let done = 0; done < handled; done += 1000) {
    await store.db.transaction().execute(async (trx) => {
      for (let i = done; i < Math.min(handled, done + 1000); i++) {
        await sql`insert into messages (conversation_id, direction, kind, status, dedup_key, content, available_at, attempts, created_at, updated_at)
          values (${conversationId}, 'in', 'message', 'handled', ${`m${i}`}, '{}', 0, 1, 0, 0)`.execute(trx);
      }
    });
  }
  return conversationId;
}

/** Mean ms of one claim + release. */
async function turns(store: Store, conversationId: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < TURNS; i++) {
    await claimConversationRow(store.relaxed, conversationId, 'handle', 'bench', Date.now(), 10_000);
    await releaseAndLook(store.relaxed, conversationId, 'handle', 'bench', Date.now());
  }
  return Math.round(((performance.now() - start) / TURNS) * 1000) / 1000;
}

export async function benchLongConversation(handled = Number(process.env.LONG_CONVERSATION_MESSAGES ?? 50_000)): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-long-'));
  try {
    const store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await migrate(store);
    const conversationId = await fill(store, handled);
    const indexed = await turns(store, conversationId);
    await sql`drop index messages_open`.execute(store.db);
    const unindexed = await turns(store, conversationId);
    await store.close();
    return {
      [`claim + release ms, SQLite, ${handled} handled messages, with messages_open`]: indexed,
      [`claim + release ms, SQLite, ${handled} handled messages, without it`]: unindexed,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchLongConversation();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${v}\n`);
}
