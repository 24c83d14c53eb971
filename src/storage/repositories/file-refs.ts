/**
 * Platform references of uploaded media (Telegram's file_id), in `media_cache`: one platform and
 * bot's upload of a file serves every replica and survives restarts.
 */
import type { Kysely } from 'kysely';
import type { FileRefs } from '../../connectors/connector.ts';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

export function fileRefsIn(db: Db, platform: string, bot: string): FileRefs {
  return {
    async get(key) {
      const row = await db.selectFrom('media_cache').select('file_ref').where('platform', '=', platform).where('bot', '=', bot).where('key', '=', key).executeTakeFirst();
      return row?.file_ref;
    },
    async set(key, ref) {
      await db
        .insertInto('media_cache')
        .values({ platform, bot, key, file_ref: ref, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['platform', 'bot', 'key']).doUpdateSet({ file_ref: ref, created_at: Date.now() }))
        .execute();
    },
    async delete(key) {
      await db.deleteFrom('media_cache').where('platform', '=', platform).where('bot', '=', bot).where('key', '=', key).execute();
    },
  };
}
