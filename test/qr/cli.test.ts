/**
 * `switchboard qr encode` / `qr decode`: output, --json and exit codes, exercised through the
 * command module on a fresh commander program.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/qr.ts';
import { closeQrDecoder } from '../../src/features/qr/index.ts';
import { renderScene } from './photos.ts';

const dir = mkdtempSync(join(tmpdir(), 'swb-qr-cli-'));

afterAll(() => closeQrDecoder());
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  const program = new Command().name('switchboard').exitOverride();
  register(program);
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { stdout, stderr, exitCode };
}

describe('switchboard qr encode', () => {
  it('writes a PNG or an SVG chosen by the file name', async () => {
    const png = join(dir, 'me.png');
    const enc = await cli('qr', 'encode', 'https://switchboard.example/c/me', '--out', png);
    expect(enc.exitCode).toBe(0);
    expect(enc.stdout).toContain(png);
    expect(readFileSync(png).subarray(1, 4).toString('ascii')).toBe('PNG');

    const svg = join(dir, 'me.svg');
    expect((await cli('qr', 'encode', 'hello svg', '--out', svg)).exitCode).toBe(0);
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
  });

  it('refuses a file name without a known image extension', async () => {
    const r = await cli('qr', 'encode', 'x', '--out', join(dir, 'code.txt'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\.png or \.svg/);
  });
});

describe('switchboard qr decode', () => {
  it('prints each code found and exits 0; --json prints {"codes": [...]}', async () => {
    for (const [file, text] of [
      [join(dir, 'a.png'), 'https://switchboard.example/c/a'],
      [join(dir, 'a.svg'), 'svg round trip'],
    ]) {
      expect((await cli('qr', 'encode', text, '--out', file)).exitCode).toBe(0);
      const plain = await cli('qr', 'decode', file);
      expect(plain).toMatchObject({ exitCode: 0, stdout: `${text}\n` });
      const json = await cli('qr', 'decode', file, '--json');
      expect(json.exitCode).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ codes: [text] });
    }
  });

  it('prints every code of a photo with several', async () => {
    const texts = ['first', 'second'];
    const photo = join(dir, 'two.jpg');
    writeFileSync(
      photo,
      await renderScene({
        width: 1200,
        height: 800,
        seed: 4,
        codes: [
          { text: texts[0], cx: 330, cy: 400, size: 300, angle: 10 },
          { text: texts[1], cx: 870, cy: 400, size: 300, angle: -15 },
        ],
      }),
    );
    const r = await cli('qr', 'decode', photo, '--json');
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { codes: string[] }).codes.sort()).toEqual(texts);
  });

  it('exits 1 with "no QR code found" when there is none', async () => {
    const photo = join(dir, 'none.jpg');
    writeFileSync(photo, await renderScene({ width: 800, height: 600, seed: 8, codes: [] }));
    const plain = await cli('qr', 'decode', photo);
    expect(plain.exitCode).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('no QR code found');
    const json = await cli('qr', 'decode', photo, '--json');
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ codes: [] });
  });

  it('exits 2 with the reason for a file that is not an image, empty or missing', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not an image at all');
    const r = await cli('qr', 'decode', text, '--json');
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ codes: [], error: { code: 'not_an_image' } });
    expect(r.stderr).toContain('not an image');

    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    const e = await cli('qr', 'decode', empty);
    expect(e.exitCode).toBe(2);
    expect(e.stderr).toMatch(/empty/);

    const missing = await cli('qr', 'decode', join(dir, 'nope.png'));
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });
});
