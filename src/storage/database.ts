/**
 * One Kysely query layer over SQLite (better-sqlite3, WAL) and PostgreSQL (pg). The dialect is
 * chosen by DATABASE_URL: `sqlite:<path>` (`sqlite::memory:` for tests) or `postgres://...`.
 * Dialect differences are capability flags here, never scattered `if (sqlite)` checks.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, type CompiledQuery, type Compilable, type Driver, type PostgresPool, type PostgresPoolClient, type QueryResult } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { GroupCommit } from './sqlite-group-commit.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  /**
   * The same database, for writes whose loss in a crash only delays work (leases, "sending"
   * marks): on SQLite they resolve before their group is committed to disk (see
   * sqlite-group-commit.ts); on PostgreSQL it is `db`. Read back what you wrote here only in a
   * transaction of `db`.
   */
  relaxed: Kysely<Database>;
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

/** SqliteDialect with a group-committing driver. */
class GroupCommitDialect extends SqliteDialect {
  readonly #driver: Driver;

  constructor(driver: Driver) {
    super({ database: undefined as never });
    this.#driver = driver;
  }

  override createDriver(): Driver {
    return this.#driver;
  }
}

function openSqlite(target: string): Store {
  if (target !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const writer = new SQLite(target);
  writer.pragma('journal_mode = WAL');
  // A commit is on disk (WAL flushed) before anyone is told it happened, so an update acknowledged
  // to the platform survives a power loss, not only a crash of this process. The group commit
  // flushes the WAL itself, off the event loop and once per group (sqlite-group-commit.ts), so
  // SQLite's own per-commit fsync (FULL) is off; an in-memory database has nothing to flush.
  writer.pragma(target === ':memory:' ? 'synchronous = OFF' : 'synchronous = NORMAL');
  writer.pragma('busy_timeout = 5000');
  writer.pragma('foreign_keys = ON');
  // 16 MB of page cache per connection (the default is 2 MB): the hot rows and indexes stay in memory.
  writer.pragma('cache_size = -16384');
  writer.pragma('temp_store = MEMORY');
  // A file database gets a second connection for reads, which sees committed data only.
  const reader = target === ':memory:' ? null : new SQLite(target, { readonly: true });
  reader?.pragma('busy_timeout = 5000');
  reader?.pragma('cache_size = -16384');
  const group = new GroupCommit(writer, reader, target === ':memory:' ? null : `${path.resolve(target)}-wal`);
  const db = new Kysely<Database>({ dialect: new GroupCommitDialect(group.driver(false)) });
  const relaxed = new Kysely<Database>({ dialect: new GroupCommitDialect(group.driver(true)) });
  return {
    db,
    relaxed,
    dialect: 'sqlite',
    supportsRowLocks: false,
    async close() {
      await db.destroy();
      reader?.close();
      writer.close();
    },
  };
}

export function openStore(url: string, opts: OpenOptions = {}): Store {
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === 'sqlite') return openSqlite(target);
  const size = opts.poolSize ?? 10;
  const pool = new pg.Pool({ connectionString: target, max: size });
  // Relaxed writes commit without waiting for the WAL flush (asynchronous commit): a server crash
  // may lose the last few of them, never a later durable commit's, whose flush covers them too.
  const relaxedPool = new pg.Pool({ connectionString: target, max: Math.max(2, Math.ceil(size / 2)) });
  relaxedPool.on('connect', (client) => {
    client.query('set synchronous_commit to off').catch(() => {});
  });
  // A dropped connection must not crash the process; the next query reconnects.
  // A connection the server ends while it sits in the pool, or while it is borrowed between two
  // queries, emits `error`: the query in flight fails and is retried; the process must not crash.
  for (const p of [pool, relaxedPool]) {
    p.on('error', () => {});
    p.on('connect', (client) => client.on('error', () => {}));
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatements(pool) }) });
  const relaxed = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatements(relaxedPool) }) });
  return {
    db,
    relaxed,
    dialect,
    supportsRowLocks: true,
    async close() {
      await relaxed.destroy();
      await db.destroy();
    },
  };
}

/** SQL of `prepared` queries → the name of their server-side prepared statement. */
const statementNames = new Map<string, string>();

/**
 * The queries built by `prepared` run as named prepared statements: PostgreSQL parses and plans
 * each once per connection instead of on every call (its CPU is this machine's CPU too).
 */
function namedStatements(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = {
          query: ((sql: string, parameters: readonly unknown[]) => {
            const name = statementNames.get(sql);
            return name ? client.query({ name, text: sql, values: [...parameters] }) : client.query(sql, [...parameters]);
          }) as unknown as PostgresPoolClient['query'],
          release: () => client.release(),
        };
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}

const PARAM = '\u0000switchboard-param:';

/** A query built and compiled once, run with new parameter values. */
export interface Prepared<P, R> {
  execute(db: Kysely<Database>, params: P): Promise<QueryResult<R>>;
}

/**
 * Builds a hot query once per database handle instead of on every call: building and compiling
 * a Kysely query costs more than SQLite takes to run it. `param(name)` stands for a value given
 * to `execute`; everything else in the query is fixed.
 *
 * ```ts
 * const byId = prepared<{ id: number }, MessageRow>((db, p) => db.selectFrom('messages').selectAll().where('id', '=', p('id')));
 * const { rows } = await byId.execute(db, { id: 42 });
 * ```
 */
export function prepared<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): Prepared<P, R> {
  // Per handle (its dialect's adapter): SQLite and PostgreSQL compile to different SQL.
  const compiled = new WeakMap<object, { query: CompiledQuery<R>; slots: Array<string | null> }>();
  return {
    execute(db, params) {
      const adapter = db.getExecutor().adapter;
      let c = compiled.get(adapter);
      if (!c) {
        const query = build(db, (name) => `${PARAM}${name}` as never).compile();
        const slots = query.parameters.map((v) => (typeof v === 'string' && v.startsWith(PARAM) ? v.slice(PARAM.length) : null));
        c = { query, slots };
        if (!statementNames.has(query.sql)) statementNames.set(query.sql, `sb_${createHash('sha1').update(query.sql).digest('hex').slice(0, 16)}`);
        compiled.set(adapter, c);
      }
      const { query, slots } = c;
      const parameters = slots.map((name, i) => (name === null ? query.parameters[i] : params[name]));
      return db.executeQuery<R>({ ...query, parameters });
    },
  };
}

/**
 * True for a PostgreSQL handle. The hot path uses it where the dialects really differ: PostgreSQL
 * runs a multi-table write as one statement (data-modifying WITH), one round trip instead of a
 * transaction's four or five; SQLite has no such statement but no round trips either.
 */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
