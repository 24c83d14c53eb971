/**
 * Group commit for SQLite (a Kysely driver over one better-sqlite3 writer connection and, for a
 * file database, one reader connection).
 *
 * Writes go into one transaction that is committed once per turn of the event loop
 * (`setImmediate`); a write — a transaction's commit, or a statement outside any transaction —
 * resolves only after the COMMIT that made it durable. So a webhook is still answered only once
 * its own row is on disk, but one fsync covers every transaction of that turn instead of one
 * each: under load, per-transaction commits are most of the cost of a message.
 *
 * - Each Kysely transaction is a SAVEPOINT inside the group, so its rollback undoes only its own
 *   writes. It gives the connection up as soon as its savepoint is released, so the next one can
 *   join the group while it waits for the COMMIT.
 * - Reads outside a transaction go to the reader connection, which sees committed — durable —
 *   data only: nothing reaches the outside world (a web page, a platform) before it is on disk,
 *   and reads never queue behind writers. Reads inside a transaction see its own writes.
 * - The relaxed handle (`relaxed: true`) writes without waiting for the COMMIT: for leases and
 *   work marks, where losing the last few milliseconds to a crash only delays work. Its writes
 *   still commit in order with the group.
 *
 * Durability without blocking: the writer runs with `synchronous = NORMAL`, so COMMIT only
 * writes the WAL, and this module then flushes the WAL file with `fdatasync` on libuv's thread
 * pool; the group's writers resolve once that flush is done. That is what `synchronous = FULL`
 * guarantees (the commit is on disk, power loss included, before anyone hears of it), but the
 * event loop keeps serving requests during the flush, and one flush covers every group committed
 * while the previous one ran. The writer connection stays open for the store's life, so SQLite
 * never deletes the WAL file (it rewinds it in place after a checkpoint) and the descriptor kept
 * here always names it. Reads on the reader connection may see a group between its COMMIT and
 * its flush; nothing is notified or acknowledged before the flush.
 *
 * An in-memory database has no second connection and nothing to make durable; it runs the same
 * way with reads on the writer.
 */
import fs from 'node:fs';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** A FIFO lock: the writer connection belongs to one transaction at a time. */
class Lock {
  #held = false;
  readonly #queue: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#held = false;
  }
}

/** Prepared statements by SQL: Kysely would otherwise prepare every query anew. */
class Statements {
  readonly #map = new Map<string, SQLite.Statement>();
  constructor(readonly db: SQLite.Database) {}

  get(sql: string): SQLite.Statement {
    let stmt = this.#map.get(sql);
    if (!stmt) {
      if (this.#map.size >= 2000) this.#map.clear();
      stmt = this.db.prepare(sql);
      this.#map.set(sql, stmt);
    }
    return stmt;
  }
}

/** One use of the connection by Kysely (a query, a transaction, `db.connection()`). */
class Session implements DatabaseConnection {
  /** Holds the writer lock; taken on the first write or transaction, not for reads. */
  locked = false;
  inTransaction = false;
  constructor(
    readonly core: GroupCommit,
    readonly relaxed: boolean,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.core.execute<R>(this, query);
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    await this.core.lock(this);
    for (const row of this.core.writer.get(query.sql).iterate(query.parameters as unknown[])) yield { rows: [row as R] };
  }
}

const SAVEPOINT = 'switchboard_tx';

function run<R>(stmt: SQLite.Statement, params: readonly unknown[]): QueryResult<R> {
  if (stmt.reader) return { rows: stmt.all(...params) as R[] };
  const { changes, lastInsertRowid } = stmt.run(...params);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

type Waiter = { resolve: () => void; reject: (err: unknown) => void };

/**
 * Flushes the WAL file off the event loop; waiters resolve after a flush that began after their
 * COMMIT. At most one flush runs; those that commit meanwhile share the next.
 */
class WalFlusher {
  readonly #path: string;
  #fd: number | null = null;
  #running = false;
  #closed = false;
  #next: Waiter[] = [];

  constructor(walPath: string) {
    this.#path = walPath;
  }

  /** Resolves `waiters` once what is committed now is on disk. */
  flush(waiters: Waiter[]): void {
    if (waiters.length === 0) return;
    for (const w of waiters) this.#next.push(w);
    if (!this.#running) this.#start();
  }

  /** Flushes at once, on this thread (closing). */
  flushSync(): void {
    if (this.#fd !== null) fs.fdatasyncSync(this.#fd);
  }

  /**
   * After `flushSync`: everything committed is on disk, so every waiter resolves — those queued
   * now, and the batch of a flush still running, when it ends (its descriptor is closed then).
   */
  close(): void {
    this.#closed = true;
    for (const w of this.#next.splice(0)) w.resolve();
    if (!this.#running) this.#closeFd();
  }

  #closeFd(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  #start(): void {
    const batch = this.#next;
    this.#next = [];
    this.#running = true;
    const done = (err: Error | null) => {
      this.#running = false;
      if (this.#closed) {
        for (const w of batch) w.resolve();
        this.#closeFd();
        return;
      }
      if (err) for (const w of batch) w.reject(new Error('the database could not flush its log to disk', { cause: err }));
      else for (const w of batch) w.resolve();
      if (this.#next.length > 0) this.#start();
    };
    try {
      // Opened on the first flush: a COMMIT has happened, so the WAL file exists.
      this.#fd ??= fs.openSync(this.#path, 'r');
    } catch (err: unknown) {
      done(err as Error);
      return;
    }
    fs.fdatasync(this.#fd, done);
  }
}

/** The state both handles (durable and relaxed) share: connections, lock, the open group. */
export class GroupCommit {
  readonly writer: Statements;
  readonly #reader: Statements | null;
  readonly #db: SQLite.Database;
  readonly #lock = new Lock();
  /** A transaction's savepoint is open: the group cannot commit now. */
  #inSavepoint = false;
  #flushScheduled = false;
  /** Writers of the open group, waiting for its COMMIT. */
  #waiting: Waiter[] = [];
  #closed = false;
  /** Null for an in-memory database (nothing to flush). */
  readonly #flusher: WalFlusher | null;

  /** `walPath`: the WAL file of a file database, flushed after each COMMIT (see above). */
  constructor(writer: SQLite.Database, reader: SQLite.Database | null, walPath: string | null = null) {
    this.#db = writer;
    this.#flusher = walPath ? new WalFlusher(walPath) : null;
    this.writer = new Statements(writer);
    this.#reader = reader ? new Statements(reader) : null;
  }

  /** A Kysely driver over this group: durable writes, or relaxed ones. */
  driver(relaxed: boolean): Driver {
    return new GroupCommitDriver(this, relaxed);
  }

  session(relaxed: boolean): Session {
    return new Session(this, relaxed);
  }

  async lock(session: Session): Promise<void> {
    if (session.locked) return;
    await this.#lock.acquire();
    session.locked = true;
  }

  unlock(session: Session): void {
    if (!session.locked) return;
    session.locked = false;
    this.#lock.release();
  }

  async execute<R>(session: Session, query: CompiledQuery): Promise<QueryResult<R>> {
    const params = query.parameters;
    if (!session.inTransaction && this.#reader) {
      const stmt = this.#readerStatement(query.sql);
      if (stmt?.readonly) return run<R>(stmt, params);
    }
    await this.lock(session);
    const stmt = this.writer.get(query.sql);
    // Reads, and every statement inside a transaction, run as they are.
    if (stmt.readonly || session.inTransaction) return this.#guard(() => run<R>(stmt, params));
    // A write on its own joins the group.
    this.#begin();
    const result = this.#guard(() => run<R>(stmt, params));
    await this.#committed(session);
    return result;
  }

  /** The statement on the reader; null when the reader cannot see its tables yet (uncommitted DDL). */
  #readerStatement(sql: string): SQLite.Statement | null {
    try {
      return this.#reader!.get(sql);
    } catch {
      return null;
    }
  }

  async begin(session: Session): Promise<void> {
    await this.lock(session);
    this.#begin();
    this.#guard(() => this.writer.get(`savepoint ${SAVEPOINT}`).run());
    this.#inSavepoint = true;
    session.inTransaction = true;
  }

  async commit(session: Session): Promise<void> {
    this.#guard(() => this.writer.get(`release ${SAVEPOINT}`).run());
    this.#inSavepoint = false;
    session.inTransaction = false;
    await this.#committed(session);
  }

  async rollback(session: Session): Promise<void> {
    // After a failed group COMMIT the savepoint went with the group.
    if (!session.inTransaction) return;
    session.inTransaction = false;
    this.#inSavepoint = false;
    if (this.#db.inTransaction) {
      this.writer.get(`rollback to ${SAVEPOINT}`).run();
      this.writer.get(`release ${SAVEPOINT}`).run();
    }
    this.#scheduleFlush();
  }

  /** Commits what is pending; the database stays open (the handles are destroyed separately). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#commit();
    this.#flusher?.flushSync();
    this.#flusher?.close();
  }

  /** Opens the group's transaction unless it is open; it commits at the end of this turn. */
  #begin(): void {
    if (this.#db.inTransaction) return;
    this.writer.get('begin').run();
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#commit();
    });
  }

  /** Gives the connection up and, unless relaxed, resolves once the group is committed. */
  #committed(session: Session): Promise<void> {
    this.unlock(session);
    this.#scheduleFlush();
    if (session.relaxed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Commits the group unless a transaction is inside it (its end schedules the commit again). */
  #commit(): void {
    if (this.#inSavepoint) return;
    const waiting = this.#waiting.splice(0);
    if (this.#db.inTransaction) {
      try {
        this.writer.get('commit').run();
      } catch (err: unknown) {
        if (this.#db.inTransaction) this.writer.get('rollback').run();
        for (const w of waiting) w.reject(new Error('the database could not commit', { cause: err }));
        return;
      }
    }
    if (this.#flusher && !this.#closed) this.#flusher.flush(waiting);
    else for (const w of waiting) w.resolve();
  }

  /** Runs a statement; when SQLite rolled the whole group back on its error, fails the group's writers. */
  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err: unknown) {
      if (!this.#db.inTransaction) {
        this.#inSavepoint = false;
        for (const w of this.#waiting.splice(0)) w.reject(new Error('the database rolled the group back', { cause: err }));
      }
      throw err;
    }
  }
}

class GroupCommitDriver implements Driver {
  constructor(
    readonly core: GroupCommit,
    readonly relaxed: boolean,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.core.session(this.relaxed);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.core.unlock(connection as Session);
  }

  beginTransaction(connection: DatabaseConnection): Promise<void> {
    return this.core.begin(connection as Session);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.core.commit(connection as Session);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.core.rollback(connection as Session);
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.core.execute(connection as Session, CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.core.execute(connection as Session, CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.core.execute(connection as Session, CompiledQuery.raw(`release "${name}"`));
  }

  async destroy(): Promise<void> {
    if (!this.relaxed) this.core.close();
  }
}
