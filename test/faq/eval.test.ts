import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  checkCaseIds,
  createFaqMatcher,
  detectLang,
  evaluateCases,
  loadCases,
  loadKnowledgeBase,
  type FaqCase,
} from '../../src/features/faq/index.ts';

const dir = fileURLToPath(new URL('../../eval/faq/', import.meta.url));
/** Splits and their floors (in-scope accuracy, out-of-scope rejection); see docs/faq.md. */
const SPLITS = { dev: [0.9, 0.9], test: [0.9, 0.9], holdout: [0.9, 0.9], fresh: [0.8, 0.9] } as const;

describe('shipped FAQ evaluation set', async () => {
  const kb = await loadKnowledgeBase(`${dir}kb.json`);
  const matcher = createFaqMatcher(kb);
  const sets = new Map<string, FaqCase[]>();
  for (const split of Object.keys(SPLITS)) sets.set(split, await loadCases(`${dir}cases.${split}.jsonl`));

  it('is a bilingual knowledge base of an events organisation with labelled, partly out-of-scope questions', () => {
    expect(kb.entries.length).toBeGreaterThanOrEqual(40);
    expect(new Set(kb.entries.map((e) => e.lang))).toEqual(new Set(['ru', 'en']));
    const all = [...sets.values()].flat();
    expect(all.length).toBeGreaterThanOrEqual(300);
    for (const [split, cases] of sets) {
      checkCaseIds(cases, kb, split);
      expect(cases.filter((c) => c.expect === null).length / cases.length, split).toBeGreaterThanOrEqual(0.3);
      expect(new Set(cases.map((c) => detectLang(c.q))), split).toEqual(new Set(['ru', 'en']));
    }
  });

  for (const [split, [inScope, outOfScope]] of Object.entries(SPLITS)) {
    it(`${split}: answers at least ${inScope * 100}% of in-scope questions right and rejects at least ${outOfScope * 100}% of out-of-scope ones`, () => {
      const report = evaluateCases(matcher, sets.get(split)!);
      const failures = report.results.filter((r) => r.outcome !== 'correct' && r.outcome !== 'rejected');
      const summary = failures.map((f) => `${f.outcome}: ${f.case.q} -> ${f.answer}`).join('\n');
      expect(report.inScopeAccuracy, summary).toBeGreaterThanOrEqual(inScope);
      expect(report.outOfScopeRejection, summary).toBeGreaterThanOrEqual(outOfScope);
      // A wrong answer is worse than none: few of the answers given may be wrong.
      expect(report.wrongAnswerRate, summary).toBeLessThanOrEqual(0.06);
    });
  }
});
