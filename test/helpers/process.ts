/** Runs `switchboard start` as a child process and waits for it to listen. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface RunningSwitchboard {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Ends the process with SIGTERM (or the given signal) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnSwitchboard(env: Record<string, string>, args: string[] = []): Promise<RunningSwitchboard> {
  const child = spawn(process.execPath, [path.resolve('bin/switchboard.js'), 'start', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchboard did not start in time:\n${out}`)), 60_000);
    const onData = () => {
      const m = /running(?::| \(roles: [^)]*\)) (?:web chat at|on) (http:\/\/\S+?)\/?\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`switchboard exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
