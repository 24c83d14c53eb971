/**
 * The storage dialects every storage test runs against: SQLite always, PostgreSQL when reachable
 * (required in CI). Each PostgreSQL store gets its own schema so parallel test files never meet.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/storage/database.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { POSTGRES_URL } from './services.ts';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/**
 * A new, empty PostgreSQL schema in the database at `baseUrl`, and a URL whose connections work in
 * it (`search_path`); `drop` removes it with everything in it.
 */
export async function freshSchema(baseUrl: string, prefix = 't'): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** A database URL for a fresh, empty database of the dialect (a new PostgreSQL schema). */
export async function freshDatabaseUrl(dialect: Dialect): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') return { url: 'sqlite::memory:', drop: async () => {} };
  return freshSchema(POSTGRES_URL);
}

export async function freshStore(dialect: Dialect): Promise<Store & { url: string; drop(): Promise<void> }> {
  const { url, drop } = await freshDatabaseUrl(dialect);
  const store = openStore(url);
  await migrate(store);
  return Object.assign(store, {
    url,
    drop: async () => {
      await store.close();
      await drop();
    },
  });
}
