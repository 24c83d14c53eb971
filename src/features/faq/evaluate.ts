/**
 * Evaluation of a matcher on labelled questions, and tuning of its confidence gate.
 *
 * A cases file is JSONL: one `{"q": "question", "expect": "entry id" | null}` per line, where
 * null means the knowledge base does not cover the question and the matcher must not answer.
 * An optional `"lang": "ru" | "en"` tells the asker's language, as the bot would.
 */
import { z } from 'zod';
import { FaqError } from './errors.ts';
import { readBoundedFile, FAQ_LANGS, type KnowledgeBase } from './kb.ts';
import { applyGate, type FaqCandidate, type FaqGate, type FaqMatcher } from './matcher.ts';

const caseSchema = z.object(
  {
  q: z.string({ error: '"q" must be a string' }).min(1, { error: '"q" must not be empty' }),
  expect: z.string({ error: '"expect" must be an entry id or null' }).nullable(),
  lang: z.enum(FAQ_LANGS).optional(),
  },
  { error: 'a case must be an object' },
);

/** One labelled question. */
export type FaqCase = z.infer<typeof caseSchema>;

/**
 * Parses a JSONL cases file; blank lines and lines starting with `#` or `//` are skipped.
 * @throws FaqError FAQ_EMPTY or FAQ_CASES naming the line.
 */
export function parseCases(jsonl: string, source = 'cases'): FaqCase[] {
  const cases: FaqCase[] = [];
  jsonl.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('//')) return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (err: unknown) {
      throw new FaqError('FAQ_CASES', `${source}: line ${i + 1} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = caseSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = issue.path[0];
      const present = data !== null && typeof data === 'object' && key !== undefined && key in data;
      const message = key !== undefined && !present ? `"${String(key)}" is missing` : issue.message;
      throw new FaqError('FAQ_CASES', `${source}: line ${i + 1}: ${message} (expected {"q": "...", "expect": "id" | null})`);
    }
    cases.push(parsed.data);
  });
  if (cases.length === 0) throw new FaqError('FAQ_EMPTY', `${source} has no cases`);
  return cases;
}

/** Loads a JSONL cases file (bounded like a knowledge base). */
export async function loadCases(path: string): Promise<FaqCase[]> {
  return parseCases(await readBoundedFile(path), path);
}

/** Checks that every expected id exists, so a typo in a cases file is not scored as a miss. */
export function checkCaseIds(cases: FaqCase[], kb: KnowledgeBase, source = 'cases'): void {
  const ids = new Set(kb.entries.map((e) => e.id));
  const unknown = [...new Set(cases.map((c) => c.expect).filter((id): id is string => id !== null && !ids.has(id)))];
  if (unknown.length > 0) {
    throw new FaqError('FAQ_CASES', `${source} expects ids the knowledge base does not have: ${unknown.slice(0, 10).join(', ')}`);
  }
}

/** What happened to one case. */
export type FaqOutcome = 'correct' | 'wrong' | 'missed' | 'rejected' | 'false-answer';

export interface FaqCaseResult {
  case: FaqCase;
  outcome: FaqOutcome;
  answer: string | null;
  confidence: number;
}

/** Figures of an evaluation. Rates are 0..1; a rate of an empty group is 1. */
export interface FaqReport {
  total: number;
  inScope: number;
  outOfScope: number;
  /** In-scope questions answered with the expected entry. */
  correct: number;
  /** In-scope questions answered with another entry. */
  wrong: number;
  /** In-scope questions left unanswered. */
  missed: number;
  /** Out-of-scope questions left unanswered (right). */
  rejected: number;
  /** Out-of-scope questions answered (wrong). */
  falseAnswers: number;
  /** (correct + rejected) / total. */
  accuracy: number;
  inScopeAccuracy: number;
  outOfScopeRejection: number;
  /** Answers that were wrong, of all answers given: (wrong + falseAnswers) / answers. */
  wrongAnswerRate: number;
  results: FaqCaseResult[];
}

function outcomeOf(expect: string | null, answer: string | null): FaqOutcome {
  if (expect === null) return answer === null ? 'rejected' : 'false-answer';
  if (answer === null) return 'missed';
  return answer === expect ? 'correct' : 'wrong';
}

function summarise(results: FaqCaseResult[]): FaqReport {
  const count = (o: FaqOutcome) => results.filter((r) => r.outcome === o).length;
  const correct = count('correct');
  const wrong = count('wrong');
  const missed = count('missed');
  const rejected = count('rejected');
  const falseAnswers = count('false-answer');
  const inScope = correct + wrong + missed;
  const outOfScope = rejected + falseAnswers;
  const answers = correct + wrong + falseAnswers;
  const rate = (n: number, d: number) => (d === 0 ? 1 : n / d);
  return {
    total: results.length,
    inScope,
    outOfScope,
    correct,
    wrong,
    missed,
    rejected,
    falseAnswers,
    accuracy: rate(correct + rejected, results.length),
    inScopeAccuracy: rate(correct, inScope),
    outOfScopeRejection: rate(rejected, outOfScope),
    wrongAnswerRate: answers === 0 ? 0 : (wrong + falseAnswers) / answers,
    results,
  };
}

/** Runs every case through the matcher (with its own gate) and counts the outcomes. */
export function evaluateCases(matcher: FaqMatcher, cases: FaqCase[]): FaqReport {
  return summarise(
    cases.map((c) => {
      const m = matcher.match(c.q, c.lang ? { lang: c.lang } : {});
      const answer = m.entry?.id ?? null;
      return { case: c, outcome: outcomeOf(c.expect, answer), answer, confidence: m.confidence };
    }),
  );
}

/** Result of {@link tuneGate}. */
export interface FaqTuning {
  gate: FaqGate;
  report: FaqReport;
}

/**
 * Finds the gate that does best on the cases: the most right outcomes (answers plus
 * rejections) minus `wrongCost` for each wrong or false answer — by default a wrong answer costs
 * three missed ones. Many gates usually tie; the centre of the tied region is taken (when it
 * ties too), as it is the choice least sensitive to the exact cases, else the strictest.
 */
export function tuneGate(matcher: FaqMatcher, cases: FaqCase[], options: { wrongCost?: number } = {}): FaqTuning {
  const wrongCost = options.wrongCost ?? 3;
  const ranked: FaqCandidate[][] = cases.map((c) => matcher.rank(c.q, { ...(c.lang ? { lang: c.lang } : {}), limit: 2 }));
  const scoreOf = (gate: FaqGate) => {
    let score = 0;
    cases.forEach((k, i) => {
      const o = outcomeOf(k.expect, applyGate(ranked[i], gate).entry?.id ?? null);
      if (o === 'correct' || o === 'rejected') score += 1;
      else if (o === 'wrong' || o === 'false-answer') score -= wrongCost;
    });
    return score;
  };
  let bestScore = -Infinity;
  let tied: FaqGate[] = [];
  for (let c = 20; c <= 95; c++) {
    for (let m = 0; m <= 40; m++) {
      const gate = { minConfidence: c / 100, minMargin: m / 100 };
      const score = scoreOf(gate);
      if (score > bestScore) {
        bestScore = score;
        tied = [gate];
      } else if (score === bestScore) tied.push(gate);
    }
  }
  const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  const centre = { minConfidence: mean(tied.map((g) => g.minConfidence)), minMargin: mean(tied.map((g) => g.minMargin)) };
  const gate = scoreOf(centre) === bestScore ? centre : tied[tied.length - 1];
  return { gate, report: evaluateCases(matcher.withGate(gate), cases) };
}
