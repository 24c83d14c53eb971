/**
 * FAQ auto-answers: knowledge base loading (JSON, CSV), the matcher and its evaluation.
 *
 * ```ts
 * const kb = await loadKnowledgeBase('faq.json');
 * const faq = createFaqMatcher(kb);
 * const { entry, confidence, candidates } = faq.match('где парковка?');
 * ```
 */
export { FaqError, MAX_FILE_BYTES, type FaqErrorCode } from './errors.ts';
export {
  FAQ_LANGS,
  KB_LIMITS,
  knowledgeBaseToJson,
  loadKnowledgeBase,
  parseKnowledgeBase,
  parseKnowledgeBaseCsv,
  validateKnowledgeBase,
  type FaqEntry,
  type FaqLang,
  type KnowledgeBase,
} from './kb.ts';
export { knowledgeBaseToCsv } from './csv.ts';
export {
  DEFAULT_GATE,
  DEFAULT_SCORING,
  applyGate,
  createFaqMatcher,
  type FaqCandidate,
  type FaqGate,
  type FaqMatch,
  type FaqMatchOptions,
  type FaqMatcher,
  type FaqMatcherOptions,
  type FaqScoring,
} from './matcher.ts';
export { Normalizer, detectLang, type NormalizerOptions } from './normalize.ts';
export { DEFAULT_SYNONYMS, type SynonymGroup } from './lexicon.ts';
export {
  checkCaseIds,
  evaluateCases,
  loadCases,
  parseCases,
  tuneGate,
  type FaqCase,
  type FaqCaseResult,
  type FaqOutcome,
  type FaqReport,
  type FaqTuning,
} from './evaluate.ts';
