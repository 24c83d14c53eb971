/**
 * Versioned migrations, run at start and by `switchboard migrate`. Each migration is a module in
 * ./migrations named `NNNN_description.ts`; they are listed here so the set is explicit and typed.
 */
import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import type { DialectName, Store } from './database.ts';
import * as m0001 from './migrations/0001_initial.ts';
import * as m0002 from './migrations/0002_open_messages_index.ts';
import * as m0003 from './migrations/0003_reply_keyboard.ts';
import * as m0004 from './migrations/0004_open_work_index.ts';
import * as m0005 from './migrations/0005_webchat_files.ts';

type MigrationModule = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

const MIGRATIONS: Record<string, MigrationModule> = {
  '0001_initial': m0001,
  '0002_open_messages_index': m0002,
  '0003_reply_keyboard': m0003,
  '0004_open_work_index': m0004,
  '0005_webchat_files': m0005,
};

export interface MigrateReport {
  applied: string[];
  current: string | null;
}

/**
 * Applies the migrations not applied yet, in order; with `to`, only up to that one (an upgrade
 * test builds the database an older version had).
 */
export async function migrate(store: Store, opts: { to?: string } = {}): Promise<MigrateReport> {
  if (opts.to !== undefined && !Object.hasOwn(MIGRATIONS, opts.to)) throw new Error(`no migration named ${opts.to}`);
  // On PostgreSQL, Kysely's bookkeeping tables live in the schema the connection works in, so
  // several schemas of one database (tests, tenants) each migrate on their own.
  const schema =
    store.dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(store.db)).rows[0]?.s : undefined;
  const migrator = new Migrator({
    db: store.db,
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: {
      async getMigrations() {
        return Object.fromEntries(
          Object.entries(MIGRATIONS).map(([name, mod]) => [name, { up: (db: Kysely<unknown>) => mod.up(db, store.dialect) }]),
        );
      },
    },
  });
  const result: MigrationResultSet = opts.to !== undefined ? await migrator.migrateTo(opts.to) : await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed`, { cause: result.error });
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const names = Object.keys(MIGRATIONS);
  return { applied, current: opts.to ?? names[names.length - 1] ?? null };
}
