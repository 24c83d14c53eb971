/**
 * SQLite group commit (src/storage/sqlite-group-commit.ts): writes of one event-loop turn share
 * one COMMIT and one WAL flush, a durable write resolves only after that flush, a transaction's
 * rollback undoes only its own writes, and the reader sees committed data only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../src/storage/database.ts';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-group-'));
  store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
  await sql`create table t (id integer primary key, v text not null)`.execute(store.db);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const insert = (db: Store['db'], v: string) => sql`insert into t (v) values (${v})`.execute(db);
const values = async (db: Store['db'] = store.db) => (await sql<{ v: string }>`select v from t order by id`.execute(db)).rows.map((r) => r.v);
const turn = () => new Promise((r) => setImmediate(r));

/** Holds every WAL flush until `release()`; counts them. */
function holdFlushes() {
  const held: Array<() => void> = [];
  const real = fs.fdatasync;
  const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    held.push(() => real(fd, cb));
  }) as typeof fs.fdatasync);
  return {
    count: () => spy.mock.calls.length,
    release: () => held.splice(0).forEach((f) => f()),
  };
}

/** Write `a`, whose flush is held running, then `b` and `c`, committed while it runs. */
async function twoBehindARunningFlush() {
  const flushes = holdFlushes();
  const running = insert(store.db, 'a');
  while (flushes.count() === 0) await turn();
  const queued = [insert(store.db, 'b'), insert(store.db, 'c')];
  await turn();
  await turn();
  return { flushes, running, queued };
}

describe('SQLite group commit', () => {
  it('resolves a durable write only after its WAL flush, and lets one flush serve every write of a turn', async () => {
    const flushes = holdFlushes();
    let done = 0;
    const writes = ['a', 'b', 'c'].map((v) => insert(store.db, v).then(() => done++));
    await turn();
    await turn();
    // Committed (the reader sees it) but not yet flushed: nobody has been told.
    expect(await values()).toEqual(['a', 'b', 'c']);
    expect(done).toBe(0);
    expect(flushes.count()).toBe(1);
    flushes.release();
    await Promise.all(writes);
    expect(done).toBe(3);
  });

  it('commits groups while a flush runs and flushes them together afterwards', async () => {
    const { flushes, running, queued } = await twoBehindARunningFlush();
    expect(flushes.count()).toBe(1);
    flushes.release();
    await running;
    await turn();
    expect(flushes.count()).toBe(2);
    flushes.release();
    await Promise.all(queued);
  });

  it('resolves a relaxed write without waiting for the flush', async () => {
    const flushes = holdFlushes();
    await insert(store.relaxed, 'r');
    // Not even committed yet: a relaxed write is read back inside a transaction of `db`.
    expect(flushes.count()).toBe(0);
    vi.restoreAllMocks();
    expect(await store.db.transaction().execute((trx) => values(trx))).toEqual(['r']);
  });

  it('rolls back only the failed transaction of a group', async () => {
    const ok = store.db.transaction().execute(async (trx) => insert(trx, 'kept'));
    const failed = store.db.transaction().execute(async (trx) => {
      await insert(trx, 'undone');
      expect(await values(trx)).toContain('undone');
      throw new Error('handler failed');
    });
    const alone = insert(store.db, 'alone');
    await expect(failed).rejects.toThrow('handler failed');
    await Promise.all([ok, alone]);
    expect(await values()).toEqual(['kept', 'alone']);
  });

  it('fails the writers of a group whose flush fails, with a clear error', async () => {
    vi.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    }) as typeof fs.fdatasync);
    await expect(insert(store.db, 'x')).rejects.toThrow('the database could not flush its log to disk');
  });

  it('resolves, on close, the writes waiting for a flush, also behind one still running', async () => {
    const { flushes, running, queued } = await twoBehindARunningFlush();
    await store.close();
    await Promise.all(queued);
    flushes.release(); // the flush that was running ends after the close
    await running;
    expect(flushes.count()).toBe(1);
    store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
    expect(await values()).toEqual(['a', 'b', 'c']);
  });

  it('keeps every acknowledged write across close and reopen', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => insert(store.db, `v${i}`)));
    await store.close();
    store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
    expect(await values()).toHaveLength(50);
  });
});
