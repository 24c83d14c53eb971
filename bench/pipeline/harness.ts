/**
 * Runs one system through the pipeline benchmark: a fresh emulator, the system's processes, a
 * warm-up round (one message per chat, so every person and conversation exists and the code is
 * JIT-compiled, as in a bot that has been up for a while), then N measured updates. Measures
 * end-to-end throughput, latency from the update sent to its reply accepted by the emulator,
 * peak RSS per process, and checks that every update got exactly one reply.
 */
import { startBenchEmulator } from './emulator.ts';
import { sendLoad, type LoadPlan } from './load.ts';
import { hostCpuMs, serviceCpuMs } from './processes.ts';
import { LABELS, startSystem, type ServiceUrls, type SystemName } from './systems.ts';

export interface PipelineOptions {
  n: number;
  chats: number;
  concurrency: number;
  /** Offered updates per second for the measured phase; unset: as fast as the webhook answers. */
  rate?: number;
  services: ServiceUrls;
  /** Progress lines (stderr). */
  say(line: string): void;
}

export interface SystemResult {
  system: SystemName;
  label: string;
  n: number;
  chats: number;
  concurrency: number;
  rate: number | null;
  /** Replies per second: N / (last reply − first update sent). */
  throughput: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Sum over the system's processes, MB. */
  peakRssMb: number;
  /** Per process (`switchboard`, `gateway`, `core-1` ...), MB. */
  rssByProcessMb: Record<string, number>;
  /**
   * CPU time (user + system) the system's processes spent per measured message, ms: less
   * sensitive than wall-clock figures to other work on a shared machine.
   */
  cpuMsPerMessage: number;
  cpuByProcessMs: Record<string, number>;
  /** The same for the harness's own process (load generator + emulator). */
  harnessCpuMsPerMessage: number;
  /**
   * CPU time the whole machine spent per measured message, ms: the system's processes, the
   * harness, PostgreSQL, RabbitMQ and the kernel. Throughput cannot exceed cores / this.
   */
  hostCpuMsPerMessage: number;
  /** Share of the machine's CPU time that was busy while the measured load ran, %. */
  hostBusyPercent: number;
  /** CPU time of the machine's services (PostgreSQL, RabbitMQ) per measured message, ms, whoever used them. */
  serviceCpuMsPerMessage: Record<string, number>;
  /** From the first update sent to the last reply, ms. */
  durationMs: number;
  /** Updates whose reply never came, and replies that came more than once. */
  missing: number;
  duplicates: number;
  /** A few of each, for a reader to look up. */
  missingSample: string[];
  duplicateSample: string[];
  /** sendMessage calls the emulator refused (429 etc.): should be 0 with the limits raised. */
  refused: number;
  webhookRetries: number;
  webhookFailed: number;
  webhookErrors: string[];
  warmupMissing: number;
  /** Bot API calls other than sendMessage the system made during the whole run, by method. */
  otherApiCalls: Record<string, number>;
  notes: string[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runSystem(system: SystemName, opts: PipelineOptions): Promise<SystemResult> {
  const bench = await startBenchEmulator(opts.chats);
  try {
    opts.say(`${system}: starting`);
    const running = await startSystem(system, bench, opts.services);
    try {
      const plan = (prefix: string, count: number, firstUpdateId: number): LoadPlan => ({ prefix, count, chats: opts.chats, concurrency: opts.concurrency, firstUpdateId });

      opts.say(`${system}: warm-up, ${opts.chats} updates (one per chat)`);
      const warm = await sendLoad(running.webhook, plan('w', opts.chats, 1));
      await bench.waitForReplies(new Set(warm.sentAt.keys()), 20_000);
      const warmupMissing = [...warm.sentAt.keys()].filter((k) => !bench.replies.has(k)).length;

      opts.say(`${system}: ${opts.n} updates at concurrency ${opts.concurrency}${opts.rate ? `, offered at ${opts.rate}/s` : ''}`);
      const cpuBefore = running.children.map((c) => c.cpuMs());
      const harnessBefore = process.cpuUsage();
      const hostBefore = hostCpuMs();
      const servicesBefore = serviceCpuMs();
      const load = await sendLoad(running.webhook, { ...plan('m', opts.n, 1_000_000), rate: opts.rate });
      const keys = new Set(load.sentAt.keys());
      await bench.waitForReplies(keys, 20_000);
      const cpuByProcessMs = Object.fromEntries(running.children.map((c, i) => [c.role, Math.round(c.cpuMs() - cpuBefore[i])]));
      const harnessCpu = process.cpuUsage(harnessBefore);
      const hostAfter = hostCpuMs();
      const servicesAfter = serviceCpuMs();
      // Late duplicates (a resend after a lost lease, a retried webhook) get a moment to show.
      await new Promise((r) => setTimeout(r, 1000));
      const rssByProcessMb = Object.fromEntries(running.children.map((c) => [c.role, round(c.peakRssMb())]));

      const latencies: number[] = [];
      const missingKeys: string[] = [];
      const duplicateKeys: string[] = [];
      let lastReply = load.firstSent;
      for (const [key, sent] of load.sentAt) {
        const reply = bench.replies.get(key);
        if (!reply) {
          missingKeys.push(key);
          continue;
        }
        if (reply.count > 1) duplicateKeys.push(`${key} ×${reply.count}`);
        latencies.push(reply.at - sent);
        lastReply = Math.max(lastReply, reply.at);
      }
      const duplicates = [...bench.replies.entries()].reduce((sum, [k, r]) => sum + (keys.has(k) ? r.count - 1 : 0), 0);
      latencies.sort((a, b) => a - b);
      const durationMs = lastReply - load.firstSent;
      const result: SystemResult = {
        system,
        label: LABELS[system],
        n: opts.n,
        chats: opts.chats,
        concurrency: opts.concurrency,
        rate: opts.rate ?? null,
        throughput: round((latencies.length / durationMs) * 1000),
        latencyMs: {
          p50: round(percentile(latencies, 50)),
          p90: round(percentile(latencies, 90)),
          p99: round(percentile(latencies, 99)),
          max: round(latencies[latencies.length - 1] ?? Number.NaN),
          mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
        },
        peakRssMb: round(Object.values(rssByProcessMb).reduce((a, b) => a + b, 0)),
        cpuMsPerMessage: round(Object.values(cpuByProcessMs).reduce((a, b) => a + b, 0) / opts.n, 2),
        cpuByProcessMs,
        harnessCpuMsPerMessage: round((harnessCpu.user + harnessCpu.system) / 1000 / opts.n, 2),
        hostCpuMsPerMessage: round((hostAfter.busy - hostBefore.busy) / opts.n, 2),
        hostBusyPercent: round((100 * (hostAfter.busy - hostBefore.busy)) / (hostAfter.total - hostBefore.total)),
        serviceCpuMsPerMessage: Object.fromEntries(
          Object.entries(servicesAfter).map(([k, v]) => [k, round(Math.max(0, v - (servicesBefore[k] ?? v)) / opts.n, 2)]),
        ),
        rssByProcessMb,
        durationMs: round(durationMs),
        missing: missingKeys.length,
        duplicates,
        missingSample: missingKeys.slice(0, 10),
        duplicateSample: duplicateKeys.slice(0, 10),
        refused: bench.refused.length,
        webhookRetries: load.retries + warm.retries,
        webhookFailed: load.failed + warm.failed,
        webhookErrors: [...warm.errors, ...load.errors].slice(0, 5),
        warmupMissing,
        otherApiCalls: Object.fromEntries(bench.otherCalls),
        notes: running.notes,
      };
      if (result.missing || result.duplicates || result.refused || result.webhookFailed) {
        for (const c of running.children) {
          const tail = c.output().trim().split('\n').slice(-15).join('\n');
          if (tail) opts.say(`${system}/${c.role} output (last lines):\n${tail}`);
        }
      }
      return result;
    } finally {
      await running.stop();
    }
  } finally {
    await bench.close();
  }
}
