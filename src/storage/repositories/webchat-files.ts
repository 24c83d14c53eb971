/**
 * The web chat's files in the database (`webchat_files`): any web replica serves a file another
 * one stored, and any process with the database reads a visitor's upload.
 */
import type { Kysely } from 'kysely';
import type { WebchatFileStore } from '../../connectors/webchat/file-store.ts';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

export function webchatFilesIn(db: Db): WebchatFileStore {
  return {
    async put(file) {
      await db
        .insertInto('webchat_files')
        .values({ name: file.name, size: file.bytes.length, width: file.width ?? null, height: file.height ?? null, bytes: file.bytes, created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },
    async get(name) {
      const row = await db.selectFrom('webchat_files').select(['name', 'size', 'width', 'height', 'bytes']).where('name', '=', name).executeTakeFirst();
      return row && { name: row.name, size: Number(row.size), bytes: Buffer.from(row.bytes), ...dimensions(row) };
    },
    async info(name) {
      const row = await db.selectFrom('webchat_files').select(['name', 'size', 'width', 'height']).where('name', '=', name).executeTakeFirst();
      return row && { name: row.name, size: Number(row.size), ...dimensions(row) };
    },
  };
}

function dimensions(row: { width: number | null; height: number | null }): { width?: number; height?: number } {
  return row.width !== null && row.height !== null ? { width: row.width, height: row.height } : {};
}
