/**
 * What a batched pipeline would save on PostgreSQL: the server's own CPU time per message row for
 * the pipeline's two commonest writes — storing an inbound message and marking it `processing` —
 * one row per statement (as the pipeline does now) against 32 rows per statement (`unnest` of
 * arrays), on the real `messages` table with all its indexes, every statement committed durably.
 * The CPU is the backend process's own (`/proc/<pid>/stat`), so the figures hold however busy the
 * rest of the machine is.
 *
 * Run alone: `node --import tsx bench/pg-batching.ts` (BENCH_POSTGRES_URL, default the tests' database).
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openStore } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrate.ts';
import { cpuMs } from './pipeline/processes.ts';
import { reachable } from '../test/helpers/services.ts';
import { freshSchema } from '../test/helpers/stores.ts';

const ROWS = 4096;
const BATCH = 32;
const CONVERSATIONS = 2000;
const RAW = JSON.stringify({ update_id: 1, message: { message_id: 5, from: { id: 1234567, first_name: 'Alice' }, chat: { id: 1234567, type: 'private' }, date: 1700000000, text: 'hello there' } });

const INSERT_COLUMNS = `conversation_id, direction, kind, status, dedup_key, content, raw, platform_message_id, available_at, attempts, created_at, updated_at`;
const INSERT_ONE = `insert into messages (${INSERT_COLUMNS}) values ($1, 'in', 'message', 'received', $2, '{"kind":"message"}', $3, '5', 0, 0, 0, 0)`;
const INSERT_MANY = `insert into messages (${INSERT_COLUMNS})
  select c, 'in', 'message', 'received', d, '{"kind":"message"}', r, '5', 0, 0, 0, 0 from unnest($1::integer[], $2::text[], $3::text[]) as u(c, d, r)`;
const MARK = `set status = 'processing', lease_owner = $1, lease_until = 1, attempts = attempts + 1, updated_at = 1`;
const MARK_ONE = `update messages ${MARK} where id = $2 and status in ('received', 'processing')`;
const MARK_MANY = `update messages ${MARK} from unnest($2::integer[]) as u(id) where messages.id = u.id and messages.status in ('received', 'processing')`;

export async function benchPgBatching(baseUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'): Promise<Record<string, number | string>> {
  if (!(await reachable(baseUrl, 5432))) return { skipped: 'PostgreSQL not reachable (BENCH_POSTGRES_URL)' };
  const schema = await freshSchema(baseUrl, 'bench');
  const client = new pg.Client({ connectionString: schema.url });
  try {
    const store = openStore(schema.url);
    await migrate(store);
    await store.close();
    await client.connect();
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    await client.query(`insert into persons (name, language, created_at, updated_at) values ('bench', null, 0, 0)`);
    await client.query(`insert into conversations (bot, platform, chat_id, person_id, created_at)
      select 'main', 'telegram', g::text, (select min(id) from persons), 0 from generate_series(1, ${CONVERSATIONS}) g`);
    const first = (await client.query<{ id: number }>('select min(id) as id from conversations')).rows[0].id;

    /** Server CPU µs per row of `run`, which writes ROWS rows. */
    const measure = async (run: () => Promise<void>) => {
      const before = cpuMs(pid);
      await run();
      return Math.round(((cpuMs(pid) - before) * 1000) / ROWS);
    };
    let key = 0;
    const nextKeys = (n: number) => Array.from({ length: n }, () => key++);
    const insertOne = await measure(async () => {
      for (const k of nextKeys(ROWS)) await client.query({ name: 'bench_ins1', text: INSERT_ONE, values: [first + (k % CONVERSATIONS), `k${k}`, RAW] });
    });
    const insertMany = await measure(async () => {
      for (let i = 0; i < ROWS; i += BATCH) {
        const ks = nextKeys(BATCH);
        await client.query({ name: 'bench_insN', text: INSERT_MANY, values: [ks.map((k) => first + (k % CONVERSATIONS)), ks.map((k) => `k${k}`), ks.map(() => RAW)] });
      }
    });
    const ids = (await client.query<{ id: number }>('select id from messages order by id')).rows.map((r) => r.id);
    const markOne = await measure(async () => {
      for (const id of ids.slice(0, ROWS)) await client.query({ name: 'bench_mark1', text: MARK_ONE, values: ['bench', id] });
    });
    const markMany = await measure(async () => {
      const rest = ids.slice(ROWS, 2 * ROWS);
      for (let i = 0; i < rest.length; i += BATCH) await client.query({ name: 'bench_markN', text: MARK_MANY, values: ['bench', rest.slice(i, i + BATCH)] });
    });
    return {
      'PostgreSQL CPU µs per row, insert inbound, 1 row per statement': insertOne,
      [`PostgreSQL CPU µs per row, insert inbound, ${BATCH} rows per statement`]: insertMany,
      'PostgreSQL CPU µs per row, mark processing, 1 row per statement': markOne,
      [`PostgreSQL CPU µs per row, mark processing, ${BATCH} rows per statement`]: markMany,
    };
  } finally {
    await client.end().catch(() => {});
    await schema.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchPgBatching();
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${v}\n`);
}
