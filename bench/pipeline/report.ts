/**
 * The pipeline benchmark's report: a table with each figure's ratio to grammY from the same run,
 * the targets checked, and the JSON document written to bench/results/.
 */
import type { SystemResult } from './harness.ts';
import type { SystemName } from './systems.ts';

export interface Ratios {
  throughput: number;
  p50: number;
  p99: number;
  peakRss: number;
  cpuPerMessage: number;
}

export interface TargetCheck {
  target: string;
  met: boolean;
  detail: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * One result from several rounds of a system: the median of each figure, and every update that
 * went missing or was answered twice in any round.
 */
export function combineRounds(rounds: SystemResult[]): SystemResult {
  if (rounds.length === 1) return rounds[0];
  const m = (f: (r: SystemResult) => number) => Math.round(median(rounds.map(f)) * 100) / 100;
  const sum = (f: (r: SystemResult) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const first = rounds[0];
  return {
    ...first,
    throughput: m((r) => r.throughput),
    latencyMs: { p50: m((r) => r.latencyMs.p50), p90: m((r) => r.latencyMs.p90), p99: m((r) => r.latencyMs.p99), max: m((r) => r.latencyMs.max), mean: m((r) => r.latencyMs.mean) },
    peakRssMb: m((r) => r.peakRssMb),
    rssByProcessMb: Object.fromEntries(Object.keys(first.rssByProcessMb).map((k) => [k, m((r) => r.rssByProcessMb[k] ?? Number.NaN)])),
    cpuMsPerMessage: m((r) => r.cpuMsPerMessage),
    cpuByProcessMs: Object.fromEntries(Object.keys(first.cpuByProcessMs).map((k) => [k, m((r) => r.cpuByProcessMs[k] ?? Number.NaN)])),
    harnessCpuMsPerMessage: m((r) => r.harnessCpuMsPerMessage),
    hostCpuMsPerMessage: m((r) => r.hostCpuMsPerMessage),
    hostBusyPercent: m((r) => r.hostBusyPercent),
    serviceCpuMsPerMessage: Object.fromEntries(Object.keys(first.serviceCpuMsPerMessage).map((k) => [k, m((r) => r.serviceCpuMsPerMessage[k] ?? Number.NaN)])),
    durationMs: m((r) => r.durationMs),
    missing: sum((r) => r.missing),
    duplicates: sum((r) => r.duplicates),
    missingSample: rounds.flatMap((r) => r.missingSample).slice(0, 10),
    duplicateSample: rounds.flatMap((r) => r.duplicateSample).slice(0, 10),
    refused: sum((r) => r.refused),
    webhookRetries: sum((r) => r.webhookRetries),
    webhookFailed: sum((r) => r.webhookFailed),
    webhookErrors: rounds.flatMap((r) => r.webhookErrors).slice(0, 5),
    warmupMissing: sum((r) => r.warmupMissing),
  };
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** Each figure divided by grammY's (throughput: higher is better; latency and RSS: lower is better). */
export function ratiosToGrammy(results: SystemResult[]): Partial<Record<SystemName, Ratios>> {
  const ref = results.find((r) => r.system === 'grammy');
  if (!ref) return {};
  return Object.fromEntries(
    results.map((r) => [
      r.system,
      {
        throughput: round2(r.throughput / ref.throughput),
        p50: round2(r.latencyMs.p50 / ref.latencyMs.p50),
        p99: round2(r.latencyMs.p99 / ref.latencyMs.p99),
        peakRss: round2(r.peakRssMb / ref.peakRssMb),
        cpuPerMessage: round2(r.cpuMsPerMessage / ref.cpuMsPerMessage),
      },
    ]),
  );
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The targets: embedded ≥ 1.0× grammY's throughput with p99 ≤ 100 ms; distributed ≥ 0.5×. */
export function checkTargets(results: SystemResult[], ratios: Partial<Record<SystemName, Ratios>>): TargetCheck[] {
  const out: TargetCheck[] = [];
  const complete = (r: SystemResult) => r.missing === 0 && r.duplicates === 0;
  const embedded = results.find((r) => r.system === 'embedded');
  const distributed = results.find((r) => r.system === 'distributed');
  if (embedded && ratios.embedded) {
    const t = ratios.embedded.throughput;
    out.push({ target: 'embedded throughput ≥ 1.0× grammY', met: t >= 1 && complete(embedded), detail: `${fixed(t, 2)}×` });
    out.push({ target: 'embedded p99 ≤ 100 ms', met: embedded.latencyMs.p99 <= 100, detail: `${fixed(embedded.latencyMs.p99, 1)} ms` });
  }
  if (distributed && ratios.distributed) {
    const t = ratios.distributed.throughput;
    out.push({ target: 'distributed throughput ≥ 0.5× grammY', met: t >= 0.5 && complete(distributed), detail: `${fixed(t, 2)}×` });
  }
  return out;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/** The table printed on stdout. */
export function formatTable(results: SystemResult[], ratios: Partial<Record<SystemName, Ratios>>): string {
  const header = ['system', 'msg/s', '×gY', 'p50 ms', '×gY', 'p99 ms', '×gY', 'RSS MB', '×gY', 'CPU ms/msg', '×gY', 'host CPU ms/msg', 'host busy %', 'missing', 'dup'];
  const rows = results.map((r) => {
    const q = ratios[r.system];
    return [
      r.system,
      fixed(r.throughput, 0),
      q ? fixed(q.throughput, 2) : '—',
      fixed(r.latencyMs.p50, 1),
      q ? fixed(q.p50, 2) : '—',
      fixed(r.latencyMs.p99, 1),
      q ? fixed(q.p99, 2) : '—',
      fixed(r.peakRssMb, 0),
      q ? fixed(q.peakRss, 2) : '—',
      fixed(r.cpuMsPerMessage, 2),
      q ? fixed(q.cpuPerMessage, 2) : '—',
      fixed(r.hostCpuMsPerMessage, 2),
      fixed(r.hostBusyPercent, 0),
      String(r.missing),
      String(r.duplicates),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = widths.map((w) => '-'.repeat(w)).join('  ');
  return [pad(header, widths), line, ...rows.map((row) => pad(row, widths))].join('\n');
}
