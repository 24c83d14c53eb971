/**
 * The systems under test run as child processes, one role per process, so that each one's peak
 * memory is its own: VmHWM ("high water mark" of the resident set) from /proc/<pid>/status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (bench/pipeline/ is two levels down). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Child {
  /** What the process is, e.g. `gateway` or `core-1`. */
  readonly role: string;
  readonly process: ChildProcess;
  /** Everything it printed (stdout and stderr), for error messages. */
  output(): string;
  /** Peak resident set in MB so far (VmHWM), or NaN where /proc is missing (not Linux). */
  peakRssMb(): number;
  /** CPU time (user + system) used so far, in ms, or NaN where /proc is missing. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  role: string;
  args: string[];
  env: Record<string, string>;
  /** Resolves with the first match of this pattern in stdout: the process is ready. */
  ready: RegExp;
  timeoutMs?: number;
}

/** Reads VmHWM of a live process, in MB. */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time the whole machine spent busy (every process and the kernel: user, nice, system, irq,
 * softirq, steal) and in all, in ms summed over cores, from /proc/stat; NaN where it is missing.
 */
export function hostCpuMs(): { busy: number; total: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy * 10, total: (busy + idle + iowait) * 10 };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** The machine's services whose CPU the pipeline report shows, by command name. */
export const SERVICES: Readonly<Record<string, string>> = { postgres: 'PostgreSQL', 'beam.smp': 'RabbitMQ' };

/**
 * CPU time (user + system, ms) of every live process of each command in `SERVICES`, summed by
 * service name; a process that exits in between is not counted (PostgreSQL's backends live as
 * long as the pools' connections).
 */
export function serviceCpuMs(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of fs.readdirSync('/proc', { withFileTypes: true })) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = procStat(entry.name);
    const service = stat && SERVICES[stat.command];
    if (service) out[service] = (out[service] ?? 0) + stat.cpuMs;
  }
  return out;
}

/** Command name and CPU time (user + system, ms) of a live process; undefined once it is gone. */
function procStat(pid: number | string): { command: string; cpuMs: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** CPU time (user + system) of a live process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number | undefined): number {
  return (pid === undefined ? undefined : procStat(pid))?.cpuMs ?? Number.NaN;
}

/** Spawns `node <args>` with only the given environment (plus PATH and HOME) and waits for `ready`. */
export async function spawnChild(opts: SpawnOptions): Promise<{ child: Child; match: RegExpExecArray }> {
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every system's processes.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, ...opts.args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Keep the tail only: a chatty child must not grow the harness's own memory.
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on('data', append);
  proc.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child: Child = {
    role: opts.role,
    process: proc,
    output: () => out,
    peakRssMb: () => peakRssMb(proc.pid),
    cpuMs: () => cpuMs(proc.pid),
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${opts.role} did not start within ${opts.timeoutMs ?? 60_000} ms:\n${out.slice(-4000)}`)), opts.timeoutMs ?? 60_000);
    const onData = () => {
      const m = opts.ready.exec(out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`${opts.role} exited with ${code} before it was ready:\n${out.slice(-4000)}`));
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
    };
    const fail = (err: Error) => {
      cleanup();
      void child.stop(1000).then(() => reject(err));
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
  });
  return { child, match };
}
