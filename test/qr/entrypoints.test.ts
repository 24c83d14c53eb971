/**
 * The decode worker is TypeScript; it must start however the process itself was started. vitest
 * covers the test runner; these start real processes the two ways the CLI is run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeQr } from '../../src/features/qr/index.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'swb-qr-entry-'));
const image = join(dir, 'code.png');
const text = 'https://switchboard.example/c/entry';

beforeAll(async () => {
  writeFileSync(image, await encodeQr(text, { format: 'png' }));
});

async function decodeWith(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [...args, 'qr', 'decode', image, '--json'], { timeout: 60_000 });
    return { code: 0, stdout };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    throw new Error(`exit ${e.code}: ${e.stderr}`, { cause: err });
  }
}

const wired = readFileSync(resolve('src/cli/commands/index.ts'), 'utf8').includes('qr.ts');

describe('qr decode started as a process', () => {
  it('works under node --import tsx', async () => {
    const r = await decodeWith(['--import', 'tsx', resolve('test/qr/fixtures/cli.ts')]);
    expect(JSON.parse(r.stdout)).toEqual({ codes: [text] });
  });

  it("works when tsx is registered at run time (as bin/switchboard.js does)", async () => {
    const r = await decodeWith([resolve('test/qr/fixtures/bin.js')]);
    expect(JSON.parse(r.stdout)).toEqual({ codes: [text] });
  });

  it.skipIf(!wired)('works through bin/switchboard.js', async () => {
    const r = await decodeWith([resolve('bin/switchboard.js')]);
    expect(JSON.parse(r.stdout)).toEqual({ codes: [text] });
  });
});
