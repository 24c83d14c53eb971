import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FaqError,
  knowledgeBaseToCsv,
  knowledgeBaseToJson,
  loadKnowledgeBase,
  parseKnowledgeBase,
  parseKnowledgeBaseCsv,
  validateKnowledgeBase,
  type KnowledgeBase,
} from '../../src/features/faq/index.ts';

function errorOf(fn: () => unknown): FaqError {
  try {
    fn();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(FaqError);
    return err as FaqError;
  }
  throw new Error('expected a FaqError');
}

const valid = {
  entries: [
    { id: 'wifi', questions: ['Какой пароль от wifi?', 'Есть ли вайфай?'], answer: 'Сеть Guest, пароль 1234.', lang: 'ru', tags: ['wifi'] },
    { id: 'parking', questions: ['Is there parking?'], answer: 'Yes, "free" parking, 40 places; entrance from the yard.', lang: 'en' },
  ],
};

describe('knowledge base validation', () => {
  it('accepts a valid knowledge base, trimming strings and leaving optional fields optional', () => {
    const kb = parseKnowledgeBase(JSON.stringify({ entries: [{ id: ' a ', questions: ['  Где?  '], answer: ' Здесь ' }] }));
    expect(kb.entries).toEqual([{ id: 'a', questions: ['Где?'], answer: 'Здесь' }]);
  });

  it('says an empty file is empty', () => {
    const err = errorOf(() => parseKnowledgeBase('  \n', 'faq.json'));
    expect(err.code).toBe('FAQ_EMPTY');
    expect(err.message).toBe('faq.json is empty');
  });

  it('says a knowledge base without entries has no entries', () => {
    const err = errorOf(() => parseKnowledgeBase('{"entries": []}', 'faq.json'));
    expect(err.code).toBe('FAQ_EMPTY');
    expect(err.message).toContain('no entries');
  });

  it('points at the line and column of malformed JSON', () => {
    const err = errorOf(() => parseKnowledgeBase('{\n  "entries": [\n    {"id": "a",}\n  ]\n}', 'faq.json'));
    expect(err.code).toBe('FAQ_JSON');
    expect(err.message).toMatch(/^faq\.json is not valid JSON: .*line 3, column \d+/);
  });

  it('names the entry and the missing field', () => {
    const data = { entries: [valid.entries[0], { id: 'refund', answer: 'Within 7 days.' }] };
    const err = errorOf(() => parseKnowledgeBase(JSON.stringify(data), 'faq.json'));
    expect(err.code).toBe('FAQ_INVALID');
    expect(err.message).toContain('entries[1] (id "refund").questions is missing');
  });

  it('explains wrong types, empty strings and unknown languages', () => {
    const data = { entries: [{ id: 'x', questions: 'one question', answer: '', lang: 'de' }] };
    const err = errorOf(() => parseKnowledgeBase(JSON.stringify(data)));
    expect(err.message).toContain('questions: questions must be a list of strings');
    expect(err.message).toContain('answer: answer must not be empty');
    expect(err.message).toContain('lang: lang must be one of ru, en');
  });

  it('rejects a top level that is not an object with entries', () => {
    expect(errorOf(() => parseKnowledgeBase('[1, 2]')).message).toContain('expected an object like {"entries": [...]}');
    expect(errorOf(() => parseKnowledgeBase('{"items": []}')).message).toContain('entries is missing');
  });

  it('rejects duplicate ids, naming both places', () => {
    const data = { entries: [valid.entries[0], valid.entries[1], { ...valid.entries[1], questions: ['Parking?'] }] };
    const err = errorOf(() => parseKnowledgeBase(JSON.stringify(data), 'faq.json'));
    expect(err.code).toBe('FAQ_DUPLICATE_ID');
    expect(err.message).toBe('faq.json: duplicate id "parking" at entries[2] (first used at entries[1])');
  });

  it('fails cleanly on binary garbage, pathological nesting and over-limit sizes', () => {
    expect(errorOf(() => parseKnowledgeBase('\u0000\u0001\u0002')).code).toBe('FAQ_JSON');
    const deep = `{"entries": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(errorOf(() => parseKnowledgeBase(deep)).message).toContain('entries[0]: an entry must be an object with id, questions and answer');
    const many = { entries: Array.from({ length: 100_001 }, (_, i) => ({ id: `e${i}`, questions: ['q'], answer: 'a' })) };
    expect(errorOf(() => validateKnowledgeBase(many)).message).toContain('entries: more than 100000 entries');
    const long = { entries: [{ id: 'a', questions: ['x'.repeat(1001)], answer: 'a' }] };
    expect(errorOf(() => validateKnowledgeBase(long)).message).toContain('question is longer than 1000 characters');
  });

  it('lists at most ten problems of a badly broken file', () => {
    const data = { entries: Array.from({ length: 30 }, (_, i) => ({ id: `e${i}` })) };
    const err = errorOf(() => parseKnowledgeBase(JSON.stringify(data)));
    expect(err.message.split('\n').length).toBeLessThanOrEqual(12);
    expect(err.message).toMatch(/and \d+ more/);
  });
});

describe('loading files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faq-kb-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads JSON and CSV by extension', async () => {
    await writeFile(join(dir, 'kb.json'), JSON.stringify(valid));
    await writeFile(join(dir, 'kb.csv'), knowledgeBaseToCsv(valid as KnowledgeBase));
    expect(await loadKnowledgeBase(join(dir, 'kb.json'))).toEqual(valid);
    expect(await loadKnowledgeBase(join(dir, 'kb.csv'))).toEqual(valid);
  });

  it('says when the file does not exist or is a directory', async () => {
    await expect(loadKnowledgeBase(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json: no such file/);
    await mkdir(join(dir, 'sub'));
    await expect(loadKnowledgeBase(join(dir, 'sub'))).rejects.toThrow(/is not a file/);
  });

  it('refuses a file over the size limit before parsing it', async () => {
    await writeFile(join(dir, 'big.json'), 'x'.repeat(2048));
    const err = await loadKnowledgeBase(join(dir, 'big.json'), { maxBytes: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaqError);
    expect((err as FaqError).code).toBe('FAQ_TOO_LARGE');
    expect((err as FaqError).message).toMatch(/big\.json is 0\.0 MB; the limit is 0\.0 MB/);
  });
});

describe('CSV import and export', () => {
  it('round-trips a knowledge base with quotes, commas, line breaks and Cyrillic', () => {
    const kb: KnowledgeBase = {
      entries: [
        ...(valid.entries as KnowledgeBase['entries']),
        { id: 'multi', questions: ['Вопрос, с запятой', 'Second "quoted"'], answer: 'Line one\nLine two; and, commas', tags: ['a b', 'c'] },
      ],
    };
    const csv = knowledgeBaseToCsv(kb);
    expect(csv.startsWith('\uFEFFid,questions,answer,lang,tags\r\n')).toBe(true);
    expect(parseKnowledgeBaseCsv(csv)).toEqual(kb);
    expect(parseKnowledgeBase(knowledgeBaseToJson(parseKnowledgeBaseCsv(csv)))).toEqual(kb);
  });

  it('reads semicolon-separated CSV as written by Excel in a Russian locale, columns in any order', () => {
    const csv = 'Answer;ID;Questions\r\n"Да; бесплатно";parking;"Есть парковка?\nГде оставить машину?"\r\n';
    expect(parseKnowledgeBaseCsv(csv).entries).toEqual([
      { id: 'parking', questions: ['Есть парковка?', 'Где оставить машину?'], answer: 'Да; бесплатно' },
    ]);
  });

  it('names the missing columns', () => {
    const err = errorOf(() => parseKnowledgeBaseCsv('id,question,answer\na,b,c\n', 'kb.csv'));
    expect(err.code).toBe('FAQ_CSV');
    expect(err.message).toContain('missing: questions');
  });

  it('reports an unterminated quote with its line', () => {
    const err = errorOf(() => parseKnowledgeBaseCsv('id,questions,answer\na,"never closed,x\n', 'kb.csv'));
    expect(err.code).toBe('FAQ_CSV');
    expect(err.message).toBe('kb.csv: line 2: a quoted cell is never closed');
  });

  it('validates imported rows like JSON entries', () => {
    const err = errorOf(() => parseKnowledgeBaseCsv('id,questions,answer\na,,Ответ\n', 'kb.csv'));
    expect(err.code).toBe('FAQ_INVALID');
    expect(err.message).toContain('entries[0] (id "a").questions: questions must have at least one question');
  });

  it('says an empty CSV is empty', () => {
    expect(errorOf(() => parseKnowledgeBaseCsv('\uFEFF', 'kb.csv')).code).toBe('FAQ_EMPTY');
  });
});
