/**
 * Role processes for the distributed tests: `switchboard start --roles …` as a child process.
 * Unlike test/helpers/process.ts this also accepts a process without a web server (`--roles
 * core` prints no URL), keeps only the tail of the output, and remembers every child so that a
 * failed test never leaves one running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface RoleProcess {
  /** What the test calls it in messages, e.g. `core#2`. */
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Base URL of its web server, or null for a process without one (core). */
  readonly url: string | null;
  /** The last ~200 KB of its stdout and stderr. */
  output(): string;
  alive(): boolean;
  /** Sends the signal (SIGTERM by default) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const OUTPUT_TAIL = 200_000;
const live = new Set<ChildProcess>();

// A worker that dies (or a test that forgets) must not leave role processes behind.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** The line `switchboard start` prints once every role is up; the URL is absent for core alone. */
const RUNNING = /Switchboard is running(?:: web chat at (http:\/\/[^\s/]+)\/?| \(roles: [^)]*\)(?: on (http:\/\/[^\s/]+))?)\s*\n/;

export async function spawnRole(name: string, env: Record<string, string>, args: string[], startTimeoutMs = 90_000): Promise<RoleProcess> {
  const child = spawn(process.execPath, [path.resolve('bin/switchboard.js'), 'start', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // For debugging a role process (e.g. `--cpu-prof`, or `--import` a patch to try a fix).
      ...(process.env.SWB_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SWB_CHILD_NODE_OPTIONS } : {}),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > OUTPUT_TAIL * 2) out = out.slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${startTimeoutMs} ms:\n${out.slice(-4000)}`));
    }, startTimeoutMs);
    const onData = () => {
      const m = RUNNING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      const found = m[1] ?? m[2];
      resolve(found ? found.replace('localhost', '127.0.0.1') : null);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was running:\n${out.slice(-4000)}`));
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid: child.pid!,
    url,
    output: () => out,
    alive,
    async stop(signal = 'SIGTERM') {
      if (alive()) child.kill(signal);
      await exited;
    },
  };
}
