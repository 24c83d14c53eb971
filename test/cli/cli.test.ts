import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/switchboard.js');

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('configuration', () => {
  it('gives the embedded defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ DATABASE_URL: 'sqlite:./data/switchboard.db', BROKER_URL: 'memory:', PORT: 3000, LOG_LEVEL: 'info' });
  });

  it('names every bad variable and what it expected, without echoing secret values', () => {
    const secret = 'postgres://admin:hunter2@db/x';
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: secret.replace('postgres', 'mysql'), PORT: 'eighty', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as Error).message;
    expect(msg).toContain('DATABASE_URL: expected sqlite:<path> or postgres://');
    expect(msg).toMatch(/PORT: .*number/);
    expect(msg).toContain('LOG_LEVEL');
    expect(msg).not.toContain('hunter2');
  });
});

describe('the switchboard command', () => {
  it('prints help for itself and for each command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['start', 'migrate']) expect(top.stdout).toContain(cmd);
    const start = await cli(['start', '--help']);
    expect(start.stdout).toContain('--roles <list>');
    const migrate = await cli(['migrate', '--help']);
    expect(migrate.stdout).toContain('Apply pending database migrations');
  });

  it('migrates a fresh database, then finds it up to date', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-cli-'));
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
    const first = await cli(['migrate'], env);
    expect(first.stdout).toContain('applied: 0001_initial');
    const second = await cli(['migrate'], env);
    expect(second.stdout).toContain('database is up to date');
  });

  it('refuses to start with a bad value, naming the variable, exit code 2', async () => {
    const res = await cli(['start'], { BROKER_URL: 'kafka://secret-pass@x', PORT: '70000' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('BROKER_URL: expected memory: or amqp://');
    expect(res.stderr).toContain('PORT: expected a port number');
    expect(res.stderr).not.toContain('secret-pass');
  });

  it('rejects an unknown role', async () => {
    const res = await cli(['start', '--roles', 'core,chef']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--roles: expected a comma-separated list of core, gateway, web');
  });

  for (const platform of ['telegram', 'vk', 'messenger']) {
    it(`runs the ${platform} emulator and says how to point Switchboard at it`, async () => {
      const child = spawn(process.execPath, [BIN, 'emulate', platform, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const deadline = Date.now() + 30_000;
        while (!/API_ROOT=/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
        expect(url).toBeTruthy();
        expect(out).toContain(`${platform.toUpperCase()}_API_ROOT=`);
        // It answers as the platform does: an unknown token or method is an error in the platform's shape.
        const res = await fetch(`${url}/_emulator/does-not-exist`);
        expect(res.status).toBeGreaterThanOrEqual(400);
      } finally {
        child.kill('SIGTERM');
      }
    });
  }

  it('refuses an unknown platform', async () => {
    const res = await cli(['emulate', 'icq']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('unknown platform "icq": expected one of telegram, vk, messenger');
  });
});
