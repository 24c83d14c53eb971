import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/faq.ts';

const kb = {
  entries: [
    { id: 'wifi', lang: 'ru', questions: ['Какой пароль от wifi?', 'Есть ли вайфай?'], answer: 'Сеть Guest, пароль 1234.' },
    { id: 'parking', lang: 'ru', questions: ['Есть ли парковка?', 'Где оставить машину?'], answer: 'Бесплатная парковка у входа.' },
    { id: 'refund', lang: 'ru', questions: ['Как вернуть деньги за билет?'], answer: 'Через «Мои билеты».' },
    { id: 'tickets', lang: 'ru', questions: ['Как купить билет?'], answer: 'В боте.' },
  ],
};

/** Runs `switchboard <args>` through a fresh commander program, capturing output and exit code. */
async function run(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const program = new Command().name('switchboard').exitOverride();
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  register(program);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = 0;
  let exitCode = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = Number(process.exitCode ?? 0);
  } catch (err: unknown) {
    exitCode = (err as { exitCode?: number }).exitCode ?? 1;
  } finally {
    vi.restoreAllMocks();
    process.exitCode = before;
  }
  return { stdout, stderr, exitCode };
}

describe('switchboard faq', () => {
  let dir: string;
  let kbPath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faq-cli-'));
    kbPath = join(dir, 'kb.json');
    await writeFile(kbPath, JSON.stringify(kb));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('ask --json prints the id, confidence and candidates', async () => {
    const { stdout, exitCode } = await run('faq', 'ask', '--kb', kbPath, '--json', 'пароль от вайфая?');
    expect(exitCode).toBe(0);
    const out = JSON.parse(stdout);
    expect(Object.keys(out).sort()).toEqual(['candidates', 'confidence', 'id']);
    expect(out.id).toBe('wifi');
    expect(out.confidence).toBeGreaterThan(0.6);
    expect(out.confidence).toBeLessThanOrEqual(1);
    expect(Array.isArray(out.candidates)).toBe(true);
  });

  it('ask --json prints a null id and "did you mean" candidates when unsure', async () => {
    const { stdout } = await run('faq', 'ask', '--kb', kbPath, '--json', 'билет');
    const out = JSON.parse(stdout);
    expect(out.id).toBe(null);
    expect(typeof out.confidence).toBe('number');
    expect(out.candidates.length).toBeGreaterThan(0);
    expect(out.candidates.length).toBeLessThanOrEqual(3);
    for (const c of out.candidates) {
      expect(Object.keys(c).sort()).toEqual(['confidence', 'id']);
      expect(typeof c.id).toBe('string');
      expect(typeof c.confidence).toBe('number');
    }
    expect(out.candidates.map((c: { id: string }) => c.id).sort()).toEqual(['refund', 'tickets']);
  });

  it('ask prints the answer for a person, words joined into one question', async () => {
    const { stdout } = await run('faq', 'ask', '--kb', kbPath, 'где', 'оставить', 'машину');
    expect(stdout).toContain('parking (confidence');
    expect(stdout).toContain('Бесплатная парковка у входа.');
  });

  it('ask says when it has no answer', async () => {
    const { stdout } = await run('faq', 'ask', '--kb', kbPath, 'какая погода завтра');
    expect(stdout).toContain('no confident answer');
  });

  it('test prints accuracy, false answers and rejections', async () => {
    const cases = join(dir, 'cases.jsonl');
    await writeFile(
      cases,
      [
        { q: 'вайфай пароль', expect: 'wifi' },
        { q: 'есть парковка?', expect: 'parking' },
        { q: 'как вернуть билет', expect: 'refund' },
        { q: 'какая погода завтра', expect: null },
        { q: 'как приготовить борщ', expect: null },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    const { stdout, exitCode } = await run('faq', 'test', '--kb', kbPath, '--cases', cases);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('cases: 5 (3 in scope, 2 out of scope)');
    expect(stdout).toContain('accuracy: 100.0% (5/5)');
    expect(stdout).toContain('false answers: 0');
    expect(stdout).toContain('rejections: 2 (0 in scope, 2 out of scope)');

    const json = JSON.parse((await run('faq', 'test', '--kb', kbPath, '--cases', cases, '--json')).stdout);
    expect(json).toMatchObject({ total: 5, correct: 3, rejected: 2, falseAnswers: 0, wrong: 0, missed: 0, accuracy: 1, failures: [] });
  });

  it('test --fail-under fails when a rate is below the floor', async () => {
    const cases = join(dir, 'hard.jsonl');
    await writeFile(cases, `${JSON.stringify({ q: 'машина', expect: 'wifi' })}\n`);
    const { stdout, stderr, exitCode } = await run('faq', 'test', '--kb', kbPath, '--cases', cases, '--fail-under', '90', '-v');
    expect(exitCode).toBe(1);
    expect(stdout).toContain('failures:');
    expect(stderr).toContain('below 90%');
  });

  it('test names a cases file line that is not valid, and unknown expected ids', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"q": "a", "expect": null}\n{"q": "b"}\n');
    let r = await run('faq', 'test', '--kb', kbPath, '--cases', bad);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('line 2: "expect" is missing');
    await writeFile(bad, '{"q": "a", "expect": "nope"}\n');
    r = await run('faq', 'test', '--kb', kbPath, '--cases', bad);
    expect(r.stderr).toContain('expects ids the knowledge base does not have: nope');
  });

  it('reports an empty or malformed knowledge base on stderr with exit code 1', async () => {
    const empty = join(dir, 'empty.json');
    await writeFile(empty, '');
    let r = await run('faq', 'ask', '--kb', empty, 'вопрос');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${empty} is empty\n`);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"entries": [');
    r = await run('faq', 'ask', '--kb', broken, '--json', 'вопрос');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('is not valid JSON');
  });

  it('export and import convert between JSON and CSV without loss', async () => {
    const csv = join(dir, 'kb.csv');
    const json = join(dir, 'back.json');
    expect((await run('faq', 'export', '--kb', kbPath, '--out', csv)).exitCode).toBe(0);
    expect(await readFile(csv, 'utf8')).toContain('id,questions,answer,lang,tags');
    expect((await run('faq', 'import', csv, '--out', json)).exitCode).toBe(0);
    expect(JSON.parse(await readFile(json, 'utf8'))).toEqual(kb);
    const { stdout } = await run('faq', 'import', csv);
    expect(JSON.parse(stdout)).toEqual(kb);
  });
});
