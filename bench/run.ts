/**
 * `npm run bench`: every benchmark in one go. The pipeline benchmark (N Telegram webhook updates
 * into an echo bot, replies to the Telegram emulator) runs Switchboard embedded, Switchboard
 * distributed, grammY and the Chat SDK one after another on this machine; the engine benchmarks
 * (FAQ matcher, QR decoder, and the Telegram and VK connectors' own) run when their modules are
 * present. Prints a table and writes
 * bench/results/<timestamp>.json and bench/results/latest.json.
 *
 *   npm run bench -- --n 5000 --chats 2000 --concurrency 64 --rounds 3 --only embedded,grammy
 *
 * `--rounds R` runs the systems R times, round-robin, and reports the median of each figure (a
 * shared machine's load drifts; round-robin spreads the drift over every system). `--rate X`
 * offers the measured updates at X per second instead of as fast as the webhook answers, which
 * compares latency at one load (see docs/benchmarks.md).
 *
 * Services for `distributed`: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
 * and BENCH_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672); skipped when unreachable.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSystem, type SystemResult } from './pipeline/harness.ts';
import { ROOT } from './pipeline/processes.ts';
import { checkTargets, combineRounds, formatTable, ratiosToGrammy } from './pipeline/report.ts';
import { SYSTEMS, type SystemName } from './pipeline/systems.ts';
import { reachable } from '../test/helpers/services.ts';

/** Engine benchmarks written alongside, loaded only if present: module path → exported function. */
const ENGINES = {
  faq: { file: 'faq.ts', fn: 'benchFaq' },
  qr: { file: 'qr.ts', fn: 'benchQr' },
  telegram: { file: 'telegram.ts', fn: 'benchTelegram' },
  vk: { file: 'vk.ts', fn: 'benchVk' },
  'long-conversation': { file: 'long-conversation.ts', fn: 'benchLongConversation' },
  'pg-batching': { file: 'pg-batching.ts', fn: 'benchPgBatching' },
} as const;
type EngineName = keyof typeof ENGINES;
const ALL = [...SYSTEMS, ...(Object.keys(ENGINES) as EngineName[])];

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '5000' },
      chats: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '1' },
      rate: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--n 5000] [--chats 2000] [--concurrency 64] [--rounds 1] [--rate <msg/s>] [--only ${ALL.join(',')}]\n`);
    process.exit(0);
  }
  const int = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got "${v}"`);
    return x;
  };
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : ALL;
  const unknown = only.filter((s) => !(ALL as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`--only: unknown ${unknown.join(', ')}; expected some of ${ALL.join(',')}`);
  return {
    n: int('n', values.n!, 1),
    chats: int('chats', values.chats!, 1),
    concurrency: int('concurrency', values.concurrency!, 1),
    rounds: int('rounds', values.rounds!, 1),
    rate: values.rate === undefined ? undefined : int('rate', values.rate, 1),
    only: new Set(only),
  };
}

async function engine(name: EngineName): Promise<Record<string, number> | { skipped: string }> {
  const { file, fn } = ENGINES[name];
  const full = path.join(ROOT, 'bench', file);
  if (!fs.existsSync(full)) return { skipped: `bench/${file} is not there yet` };
  const mod = (await import(full)) as Record<string, unknown>;
  const run = mod[fn];
  if (typeof run !== 'function') return { skipped: `bench/${file} has no ${fn}()` };
  return (await (run as () => Promise<Record<string, number>>)());
}

function machine() {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    commit = null;
  }
  return { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', memoryGb: Math.round(os.totalmem() / 2 ** 30), commit };
}

const opts = options();
const services = {
  postgres: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  rabbitmq: process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const rounds = new Map<SystemName, SystemResult[]>();
const failures: Record<string, string> = {};
const systems = SYSTEMS.filter((s) => opts.only.has(s));
if (systems.includes('distributed') && !((await reachable(services.postgres, 5432)) && (await reachable(services.rabbitmq, 5672)))) {
  failures.distributed = 'skipped: PostgreSQL or RabbitMQ not reachable';
  say(`distributed ${failures.distributed}`);
}

for (let round = 1; round <= opts.rounds; round++) {
  if (opts.rounds > 1) say(`round ${round} of ${opts.rounds}`);
  for (const system of systems) {
    if (failures[system]) continue;
    try {
      const r = await runSystem(system, { n: opts.n, chats: opts.chats, concurrency: opts.concurrency, rate: opts.rate, services, say });
      rounds.set(system, [...(rounds.get(system) ?? []), r]);
      say(`${system}: ${r.throughput} msg/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, peak RSS ${r.peakRssMb} MB, CPU ${r.cpuMsPerMessage} ms/msg, missing ${r.missing}, duplicates ${r.duplicates}`);
    } catch (err: unknown) {
      failures[system] = err instanceof Error ? err.message : String(err);
      say(`${system} failed: ${failures[system]}`);
    }
  }
}
const results = systems.flatMap((s) => (rounds.has(s) ? [combineRounds(rounds.get(s)!)] : []));

const engines: Partial<Record<EngineName, unknown>> = {};
for (const name of Object.keys(ENGINES) as EngineName[]) {
  if (!opts.only.has(name)) continue;
  say(`${name}: running`);
  try {
    engines[name] = await engine(name);
  } catch (err: unknown) {
    engines[name] = { failed: err instanceof Error ? err.message : String(err) };
  }
}

const ratios = ratiosToGrammy(results);
const targets = checkTargets(results, ratios);
const out: string[] = [];
if (results.length) {
  const how = [`N=${opts.n} updates`, `${opts.chats} chats`, `concurrency ${opts.concurrency}`, opts.rate ? `offered at ${opts.rate}/s` : 'unpaced', opts.rounds > 1 ? `median of ${opts.rounds} rounds` : ''];
  out.push(`Pipeline: ${how.filter(Boolean).join(', ')}; ×gY = ratio to grammY in this run`);
  out.push(formatTable(results, ratios));
  for (const r of results) {
    const byProcess = Object.entries(r.rssByProcessMb).map(([k, v]) => `${k} ${v}`).join(', ');
    const problems = [
      r.refused ? `${r.refused} sends refused by the emulator` : '',
      r.webhookRetries ? `${r.webhookRetries} webhook retries` : '',
      r.webhookFailed ? `${r.webhookFailed} updates never accepted` : '',
      r.missingSample.length ? `missing e.g. ${r.missingSample.slice(0, 3).join(', ')}` : '',
      r.duplicateSample.length ? `duplicated e.g. ${r.duplicateSample.slice(0, 3).join(', ')}` : '',
    ].filter(Boolean);
    out.push(`  ${r.system}: RSS per process (MB): ${byProcess}${r.notes.length ? `; ${r.notes.join('; ')}` : ''}${problems.length ? `; ${problems.join('; ')}` : ''}`);
    const cpu = [
      ...Object.entries(r.cpuByProcessMs).map(([k, v]) => `${k} ${(v / r.n).toFixed(2)}`),
      `harness ${r.harnessCpuMsPerMessage.toFixed(2)}`,
      ...Object.entries(r.serviceCpuMsPerMessage).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${v.toFixed(2)}`),
    ];
    out.push(`  ${r.system}: CPU ms per message: ${cpu.join(', ')}`);
  }
}
for (const [system, why] of Object.entries(failures)) out.push(`  ${system}: ${why}`);
if (targets.length) {
  out.push('Targets:');
  for (const t of targets) out.push(`  ${t.met ? 'met    ' : 'MISSED '} ${t.target}: ${t.detail}`);
}
for (const [name, figures] of Object.entries(engines)) {
  out.push(`${name}:`);
  for (const [k, v] of Object.entries(figures as Record<string, unknown>)) out.push(`  ${k}: ${String(v)}`);
}
process.stdout.write(`${out.join('\n')}\n`);

const dir = path.join(ROOT, 'bench', 'results');
fs.mkdirSync(dir, { recursive: true });
const at = new Date();
const doc = {
  at: at.toISOString(),
  command,
  machine: machine(),
  options: { n: opts.n, chats: opts.chats, concurrency: opts.concurrency, rounds: opts.rounds, rate: opts.rate ?? null },
  results,
  ratiosToGrammy: ratios,
  targets,
  failures,
  rounds: Object.fromEntries(rounds),
  engines,
};
const file = path.join(dir, `${at.toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
say(`results written to ${path.relative(ROOT, file)} and bench/results/latest.json`);
process.exit(Object.keys(failures).some((k) => !failures[k].startsWith('skipped')) ? 1 : 0);
