/**
 * The knowledge base: its format, validation and loading.
 *
 * ```json
 * {"entries": [{"id": "wifi", "questions": ["Какой пароль от wifi?"], "answer": "...",
 *               "lang": "ru", "tags": ["wifi"]}]}
 * ```
 *
 * Loading is bounded: files over {@link MAX_FILE_BYTES} are refused before they are read, and the
 * schema caps every string and list, so a hostile or broken file costs at most a few hundred
 * milliseconds and a bounded amount of memory, and always ends in a {@link FaqError} that names
 * the entry and field at fault.
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { FaqError, MAX_FILE_BYTES, describeJsonError } from './errors.ts';
import { csvToKnowledgeBaseData } from './csv.ts';

/** Languages the matcher understands. */
export const FAQ_LANGS = ['ru', 'en'] as const;
export type FaqLang = (typeof FAQ_LANGS)[number];

/** Limits that keep one knowledge base within bounded time and memory. */
export const KB_LIMITS = {
  entries: 100_000,
  questionsPerEntry: 200,
  questionChars: 1_000,
  answerChars: 20_000,
  idChars: 200,
  tags: 50,
  tagChars: 100,
} as const;

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} is longer than ${max} characters` });

const entrySchema = z.object({
  id: text('id', KB_LIMITS.idChars),
  questions: z
    // A question is one line (whitespace collapsed), so a CSV cell can hold one question per line.
    .array(text('question', KB_LIMITS.questionChars).transform((q) => q.replace(/\s+/g, ' ')), { error: 'questions must be a list of strings' })
    .min(1, { error: 'questions must have at least one question' })
    .max(KB_LIMITS.questionsPerEntry, { error: `questions has more than ${KB_LIMITS.questionsPerEntry} items` }),
  answer: text('answer', KB_LIMITS.answerChars),
  lang: z.enum(FAQ_LANGS, { error: `lang must be one of ${FAQ_LANGS.join(', ')}` }).optional(),
  tags: z
    .array(
      text('tag', KB_LIMITS.tagChars).refine((t) => !/[,\n]/.test(t), { error: 'a tag must not contain a comma or a line break' }),
      { error: 'tags must be a list of strings' },
    )
    .max(KB_LIMITS.tags, { error: `tags has more than ${KB_LIMITS.tags} items` })
    .optional(),
}, { error: 'an entry must be an object with id, questions and answer' });

const kbSchema = z.object(
  {
    entries: z
      .array(entrySchema, { error: 'expected "entries" to be a list of entries' })
      .max(KB_LIMITS.entries, { error: `more than ${KB_LIMITS.entries} entries` }),
  },
  { error: 'expected an object like {"entries": [...]}' },
);

/** One question-and-answer entry. */
export type FaqEntry = z.infer<typeof entrySchema>;
/** A validated knowledge base: at least one entry, unique ids, trimmed strings. */
export interface KnowledgeBase {
  entries: FaqEntry[];
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const path = issue.path;
  let where = '';
  let value: unknown = data;
  path.forEach((part, i) => {
    where += typeof part === 'number' ? `[${part}]` : `${where ? '.' : ''}${String(part)}`;
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
    // Name the entry by its id too: "entries[12]" alone is hard to find in a 500-entry file.
    if (i === 1 && path[0] === 'entries' && path[2] !== undefined && path[2] !== 'id' && value && typeof value === 'object') {
      const id = (value as { id?: unknown }).id;
      if (typeof id === 'string' && id.trim()) where += ` (id "${id.trim()}")`;
    }
  });
  if (path.length === 0) where = 'knowledge base';
  if (issue.code === 'invalid_type' && value === undefined && path.length > 0) return `${where} is missing`;
  return `${where}: ${issue.message}`;
}

/**
 * Validates parsed data as a knowledge base.
 * @param source names the file in error messages.
 * @throws FaqError FAQ_EMPTY, FAQ_INVALID or FAQ_DUPLICATE_ID.
 */
export function validateKnowledgeBase(data: unknown, source = 'the knowledge base'): KnowledgeBase {
  const parsed = kbSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const shown = issues.slice(0, 10).map((i) => `  - ${describeIssue(i, data)}`);
    if (issues.length > shown.length) shown.push(`  - ... and ${issues.length - shown.length} more`);
    throw new FaqError('FAQ_INVALID', `${source} is invalid:\n${shown.join('\n')}`);
  }
  const { entries } = parsed.data;
  if (entries.length === 0) throw new FaqError('FAQ_EMPTY', `${source} has no entries`);
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const first = seen.get(entry.id);
    if (first !== undefined) {
      throw new FaqError('FAQ_DUPLICATE_ID', `${source}: duplicate id "${entry.id}" at entries[${i}] (first used at entries[${first}])`);
    }
    seen.set(entry.id, i);
  });
  return { entries };
}

/**
 * Parses the JSON text of a knowledge base.
 * @throws FaqError FAQ_EMPTY, FAQ_JSON, FAQ_INVALID or FAQ_DUPLICATE_ID.
 */
export function parseKnowledgeBase(json: string, source = 'the knowledge base'): KnowledgeBase {
  if (json.trim() === '') throw new FaqError('FAQ_EMPTY', `${source} is empty`);
  let data: unknown;
  try {
    data = JSON.parse(json.replace(/^\uFEFF/, ''));
  } catch (err: unknown) {
    throw new FaqError('FAQ_JSON', `${source} is not valid JSON: ${describeJsonError(json, err)}`, { cause: err });
  }
  return validateKnowledgeBase(data, source);
}

/**
 * Parses a knowledge base exported as CSV (columns id, questions, answer, lang, tags; one
 * question per line inside the questions cell; tags separated by commas).
 * @throws FaqError FAQ_EMPTY, FAQ_CSV, FAQ_INVALID or FAQ_DUPLICATE_ID.
 */
export function parseKnowledgeBaseCsv(csv: string, source = 'the knowledge base'): KnowledgeBase {
  return validateKnowledgeBase(csvToKnowledgeBaseData(csv, source), source);
}

/**
 * Reads a whole text file, refusing files over `maxBytes` before reading them.
 * @throws FaqError FAQ_READ or FAQ_TOO_LARGE.
 */
export async function readBoundedFile(path: string, maxBytes = MAX_FILE_BYTES): Promise<string> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new FaqError('FAQ_READ', `${path} is not a file`);
    size = info.size;
  } catch (err: unknown) {
    if (err instanceof FaqError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new FaqError('FAQ_READ', `cannot read ${path}: ${why}`, { cause: err });
  }
  if (size > maxBytes) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new FaqError('FAQ_TOO_LARGE', `${path} is ${mb(size)}; the limit is ${mb(maxBytes)}`);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new FaqError('FAQ_READ', `cannot read ${path}: ${String(err)}`, { cause: err });
  }
}

/**
 * Loads a knowledge base from a `.json` file, or from a `.csv` file (see docs/faq.md for columns).
 * @throws FaqError with a message naming the file and, for invalid content, the entry and field.
 */
export async function loadKnowledgeBase(path: string, options: { maxBytes?: number } = {}): Promise<KnowledgeBase> {
  const content = await readBoundedFile(path, options.maxBytes);
  return /\.csv$/i.test(path) ? parseKnowledgeBaseCsv(content, path) : parseKnowledgeBase(content, path);
}

/** Serialises a knowledge base as the JSON format, optional fields left out when empty. */
export function knowledgeBaseToJson(kb: KnowledgeBase): string {
  const entries = kb.entries.map((e) => ({
    id: e.id,
    questions: e.questions,
    answer: e.answer,
    ...(e.lang ? { lang: e.lang } : {}),
    ...(e.tags && e.tags.length > 0 ? { tags: e.tags } : {}),
  }));
  return `${JSON.stringify({ entries }, null, 2)}\n`;
}
