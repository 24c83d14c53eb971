/**
 * One Kysely query layer over SQLite (better-sqlite3, WAL) and PostgreSQL (pg). The dialect is
 * chosen by DATABASE_URL: `sqlite:<path>` (`sqlite::memory:` for tests) or `postgres://...`.
 * Dialect differences are capability flags here, never scattered `if (sqlite)` checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /** SQLite serialises writers in one process; PostgreSQL can take row locks (`FOR UPDATE SKIP LOCKED`). */
  supportsRowLocks: boolean;
  close(): Promise<void>;
}

// int8 (bigint) columns hold millisecond timestamps and counts that fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

export function parseDatabaseUrl(url: string): { dialect: DialectName; target: string } {
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!target) throw new Error(`DATABASE_URL: expected sqlite:<path> or sqlite::memory:, got "${url}"`);
    return { dialect: 'sqlite', target };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', target: url };
  throw new Error('DATABASE_URL: expected sqlite:<path> or postgres://user@host/db');
}

export interface OpenOptions {
  /** PostgreSQL pool size. */
  poolSize?: number;
}

export function openStore(url: string, opts: OpenOptions = {}): Store {
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === 'sqlite') {
    if (target !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    const sqlite = new SQLite(target);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect, supportsRowLocks: false, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: target, max: opts.poolSize ?? 10 });
  // A dropped connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect, supportsRowLocks: true, close: () => db.destroy() };
}
