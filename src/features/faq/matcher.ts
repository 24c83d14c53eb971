/**
 * The FAQ matcher: finds the knowledge-base entry a question asks about, or says it does not
 * know.
 *
 * Every question variant of every entry (and its tags, as one more variant) is a document of an
 * inverted index over normalised terms (see normalize.ts). A term weighs its inverse document
 * frequency over entries, times its concept weight. For a question, each document scores
 *
 *   confidence = qcov^α · dcov^(1−α)
 *
 * where qcov is the share of the question's weight the document covers and dcov the share of
 * the document's weight the question covers. Words the index does not know are first corrected
 * against the known words (typos); those that stay unknown still count in the question's weight,
 * so "как зарегистрировать ИП" does not look like "как зарегистрироваться". An entry scores as
 * its best document. The gate answers only when the best entry reaches `minConfidence` and leads
 * the runner-up by `minMargin`: an unanswered question goes to an operator, a wrong answer
 * misleads a person.
 */
import { FuzzyVocabulary } from './fuzzy.ts';
import type { FaqEntry, FaqLang, KnowledgeBase } from './kb.ts';
import { Normalizer, detectLang, type NormalizerOptions } from './normalize.ts';

/** When to answer: both conditions must hold. */
export interface FaqGate {
  /** Lowest confidence of an answer, 0..1. */
  minConfidence: number;
  /** Lowest lead of the best entry over the runner-up, 0..1. */
  minMargin: number;
}

/**
 * The gate tuned on eval/faq/cases.dev.jsonl with `switchboard faq tune`; the other case files
 * in eval/faq check it (figures in docs/faq.md).
 */
export const DEFAULT_GATE: FaqGate = { minConfidence: 0.61, minMargin: 0.06 };

/** Scoring parameters; the defaults were chosen on the dev cases. */
export interface FaqScoring {
  /** α in qcov^α · dcov^(1−α): how much covering the question matters versus covering the variant. */
  queryExponent: number;
  /** Weight of a word the index does not know, as a share of the rarest known word's weight. */
  unknownWeight: number;
  /** How much a corrected typo costs: a word with d edits in n letters counts 1 − typoPenalty·d/n. */
  typoPenalty: number;
  /**
   * Least matched weight for full confidence, as a share of the rarest word's weight: a match on
   * common words alone ("куда ехать на конференцию" against "хочу попасть на конференцию") is
   * weak evidence however well it covers both sides, so its confidence is scaled down. Off by
   * default: on the dev cases it changed nothing once the knowledge base had specific wordings.
   */
  minEvidence: number;
}

export const DEFAULT_SCORING: FaqScoring = { queryExponent: 0.6, unknownWeight: 2, typoPenalty: 1.5, minEvidence: 0 };

/** Options of {@link createFaqMatcher}. */
export interface FaqMatcherOptions extends NormalizerOptions {
  gate?: Partial<FaqGate>;
  scoring?: Partial<FaqScoring>;
  /** Lowest confidence of a "did you mean" candidate (default 0.3). */
  candidateMinConfidence?: number;
  /** How many "did you mean" candidates to return at most (default 3). */
  maxCandidates?: number;
}

/** An entry with the confidence the matcher has in it. */
export interface FaqCandidate {
  entry: FaqEntry;
  confidence: number;
}

/** The result of {@link FaqMatcher.match}. */
export interface FaqMatch {
  /** The entry to answer with, or null when no entry passed the gate. */
  entry: FaqEntry | null;
  /** Confidence of the best entry (even when the gate refused it), 0..1. */
  confidence: number;
  /** "Did you mean": other entries above the candidate threshold, best first, never `entry`. */
  candidates: FaqCandidate[];
}

/** Options of one query. */
export interface FaqMatchOptions {
  /** The asker's language; guessed from the question's letters when absent. */
  lang?: FaqLang;
}

/** A built index; one instance serves any number of questions, synchronously. */
export interface FaqMatcher {
  /** Answers a question: the best entry if it passes the gate, and up to three candidates. */
  match(question: string, options?: FaqMatchOptions): FaqMatch;
  /** All entries by confidence, best first, before the gate (for evaluation and tuning). */
  rank(question: string, options?: FaqMatchOptions & { limit?: number }): FaqCandidate[];
  /** The same index with another gate. */
  withGate(gate: Partial<FaqGate>): FaqMatcher;
  readonly gate: FaqGate;
  /** Number of entries. */
  readonly size: number;
}

/** Marks a known word that is a stop word: a typo of it is dropped, not counted as unknown. */
const STOP = -1;

interface Index {
  normalizer: Normalizer;
  entries: FaqEntry[];
  termIds: Map<string, number>;
  /** Weight of each term: idf over entries times its concept weight. */
  weights: Float64Array;
  /** Terms with weight below 1 (question words) only add to documents that matched content. */
  lowWeight: Uint8Array;
  postings: Int32Array[];
  docEntry: Int32Array;
  /** docMass^(1−α): confidence = matched / (queryMass^α · docNorm), no powers per document. */
  docNorm: Float64Array;
  docLang: (FaqLang | null)[];
  langs: Set<FaqLang>;
  /** Known surface word → term id (or STOP), for typo correction. */
  surfaceTerm: Map<string, number>;
  fuzzy: FuzzyVocabulary;
  /** Weight of a word the index does not know. */
  unknownWeight: number;
  /** Matched weight below which confidence is scaled down. */
  minEvidence: number;
}

function buildIndex(kb: KnowledgeBase, options: FaqMatcherOptions, scoring: FaqScoring): Index {
  const normalizer = new Normalizer(options);
  const termIds = new Map<string, number>();
  const termDocs: number[][] = [];
  const entryDf: number[] = [];
  const lastEntry: number[] = [];
  const docEntry: number[] = [];
  const docTerms: number[][] = [];
  const docLang: (FaqLang | null)[] = [];
  const surfaceTerm = new Map<string, number>();
  const fuzzy = new FuzzyVocabulary();
  const langs = new Set<FaqLang>();

  const addDoc = (entryIndex: number, text: string, lang: FaqLang | null) => {
    const tokens = normalizer.normalize(text);
    if (tokens.length === 0) return;
    const doc = docEntry.length;
    const ids = new Set<number>();
    for (const token of tokens) {
      let id = termIds.get(token.term);
      if (id === undefined) {
        id = termDocs.length;
        termIds.set(token.term, id);
        termDocs.push([]);
        entryDf.push(0);
        lastEntry.push(-1);
      }
      ids.add(id);
      if (!token.concept && !surfaceTerm.has(token.surface)) {
        surfaceTerm.set(token.surface, id);
        fuzzy.add(token.surface);
      }
    }
    for (const id of ids) {
      termDocs[id].push(doc);
      if (lastEntry[id] !== entryIndex) {
        lastEntry[id] = entryIndex;
        entryDf[id]++;
      }
    }
    docEntry.push(entryIndex);
    docTerms.push([...ids]);
    docLang.push(lang);
    if (lang) langs.add(lang);
  };

  kb.entries.forEach((entry, i) => {
    for (const q of entry.questions) addDoc(i, q, entry.lang ?? detectLang(q));
    if (entry.tags && entry.tags.length > 0) addDoc(i, entry.tags.join(' '), entry.lang ?? null);
  });

  // Synonyms and stop words are known words too: a typo in "вайфай" or "пожалуйста" is corrected
  // to them rather than counted as an unknown word.
  const addKnown = (word: string) => {
    if (surfaceTerm.has(word) || word.length < 4) return;
    if (normalizer.isStopWord(word)) {
      // Short stop words are too close to real words ("home" is one edit from "some").
      if (word.length < 6) return;
      surfaceTerm.set(word, STOP);
    }
    else {
      const terms = normalizer.terms(word);
      const id = terms.length === 1 ? termIds.get(terms[0]) : undefined;
      if (id === undefined) return;
      surfaceTerm.set(word, id);
    }
    fuzzy.add(word);
  };
  for (const word of normalizer.knownWords()) addKnown(word);

  const n = kb.entries.length;
  const idf = (df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
  const weights = new Float64Array(termDocs.length);
  const lowWeight = new Uint8Array(termDocs.length);
  for (const [term, id] of termIds) {
    const conceptWeight = normalizer.weightOf(term);
    weights[id] = idf(entryDf[id]) * conceptWeight;
    lowWeight[id] = conceptWeight < 1 ? 1 : 0;
  }
  const docNorm = new Float64Array(docTerms.length);
  docTerms.forEach((ids, d) => {
    let mass = 0;
    for (const id of ids) mass += weights[id];
    docNorm[d] = Math.pow(mass, 1 - scoring.queryExponent);
  });
  return {
    normalizer,
    entries: kb.entries,
    termIds,
    weights,
    lowWeight,
    postings: termDocs.map((docs) => Int32Array.from(docs)),
    docEntry: Int32Array.from(docEntry),
    docNorm,
    docLang,
    langs,
    surfaceTerm,
    fuzzy,
    unknownWeight: scoring.unknownWeight * idf(1),
    minEvidence: scoring.minEvidence * idf(1),
  };
}

/** Builds the index and returns a matcher. Cost is linear in the knowledge base. */
export function createFaqMatcher(kb: KnowledgeBase, options: FaqMatcherOptions = {}): FaqMatcher {
  const scoring: FaqScoring = { ...DEFAULT_SCORING, ...options.scoring };
  const index = buildIndex(kb, options, scoring);
  return makeMatcher(index, scoring, { ...DEFAULT_GATE, ...options.gate }, options);
}

function makeMatcher(index: Index, scoring: FaqScoring, gate: FaqGate, options: FaqMatcherOptions): FaqMatcher {
  const candidateMin = options.candidateMinConfidence ?? 0.3;
  const maxCandidates = options.maxCandidates ?? 3;
  const matched = new Float64Array(index.docEntry.length);
  const entryBest = new Float64Array(index.entries.length);

  function rank(question: string, opts: FaqMatchOptions & { limit?: number } = {}): FaqCandidate[] {
    const limit = opts.limit ?? maxCandidates + 1;
    const queryTerms = new Map<number, number>();
    let queryMass = 0;
    for (const token of index.normalizer.normalize(question)) {
      let id = index.termIds.get(token.term);
      let similarity = 1;
      if (id === undefined && !token.concept) {
        const correction = index.fuzzy.correct(token.surface, scoring.typoPenalty);
        if (correction) {
          id = index.surfaceTerm.get(correction.word);
          similarity = correction.similarity;
        }
      }
      if (id === STOP) continue;
      if (id === undefined) {
        queryMass += index.unknownWeight * index.normalizer.weightOf(token.term);
        continue;
      }
      const previous = queryTerms.get(id);
      if (previous === undefined) queryMass += index.weights[id];
      if (previous === undefined || similarity > previous) queryTerms.set(id, similarity);
    }
    if (queryTerms.size === 0) return [];

    const lang = opts.lang ?? detectLang(question);
    const filterLang = lang !== null && index.langs.has(lang) ? lang : null;
    const touched: number[] = [];
    // Content terms first: only documents that share a topic word become candidates; question
    // words then add to those and never make a candidate on their own.
    const ordered = [...queryTerms].sort((a, b) => index.lowWeight[a[0]] - index.lowWeight[b[0]]);
    for (const [id, similarity] of ordered) {
      const add = index.weights[id] * similarity;
      const low = index.lowWeight[id] === 1;
      for (const doc of index.postings[id]) {
        if (matched[doc] === 0) {
          if (low) continue;
          touched.push(doc);
        }
        matched[doc] += add;
      }
    }

    // qcov^α · dcov^(1−α) = m / (queryMass^α · docMass^(1−α)).
    const queryNorm = Math.pow(queryMass, scoring.queryExponent);
    const entries: number[] = [];
    for (const doc of touched) {
      const m = matched[doc];
      matched[doc] = 0;
      const docLang = index.docLang[doc];
      if (filterLang && docLang && docLang !== filterLang) continue;
      const evidence = m >= index.minEvidence ? 1 : m / index.minEvidence;
      const confidence = (m / (queryNorm * index.docNorm[doc])) * evidence;
      const e = index.docEntry[doc];
      if (entryBest[e] === 0) entries.push(e);
      if (confidence > entryBest[e]) entryBest[e] = confidence;
    }
    const top = topEntries(entries, entryBest, limit);
    for (const e of entries) entryBest[e] = 0;
    return top.map((e) => ({ entry: index.entries[e.index], confidence: round(e.confidence) }));
  }

  return {
    gate,
    size: index.entries.length,
    rank,
    match(question, opts = {}) {
      const ranked = rank(question, { ...opts, limit: maxCandidates + 1 });
      return applyGate(ranked, gate, candidateMin, maxCandidates);
    },
    withGate(next) {
      return makeMatcher(index, scoring, { ...gate, ...next }, options);
    },
  };
}

/** The `limit` best entries, best first (ties by knowledge-base order), without sorting them all. */
function topEntries(entries: number[], score: Float64Array, limit: number): { index: number; confidence: number }[] {
  const better = (a: number, b: number) => score[a] > score[b] || (score[a] === score[b] && a < b);
  if (limit >= entries.length / 4) {
    return entries
      .sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0))
      .slice(0, limit)
      .map((index) => ({ index, confidence: score[index] }));
  }
  const top: number[] = [];
  for (const e of entries) {
    if (top.length === limit && !better(e, top[limit - 1])) continue;
    let i = Math.min(top.length, limit - 1);
    top[i] = e;
    while (i > 0 && better(top[i], top[i - 1])) {
      [top[i], top[i - 1]] = [top[i - 1], top[i]];
      i--;
    }
  }
  return top.map((index) => ({ index, confidence: score[index] }));
}

function round(x: number): number {
  return Math.round(Math.min(1, x) * 10_000) / 10_000;
}

/**
 * Decides on ranked entries: answer with the best if it is confident enough and leads the
 * runner-up by the margin; the rest above `candidateMin` become "did you mean" candidates.
 */
export function applyGate(ranked: FaqCandidate[], gate: FaqGate, candidateMin = 0.3, maxCandidates = 3): FaqMatch {
  const best = ranked[0];
  if (!best) return { entry: null, confidence: 0, candidates: [] };
  const runnerUp = ranked[1]?.confidence ?? 0;
  const answered = best.confidence >= gate.minConfidence && best.confidence - runnerUp >= gate.minMargin;
  const rest = answered ? ranked.slice(1) : ranked;
  return {
    entry: answered ? best.entry : null,
    confidence: best.confidence,
    candidates: rest.filter((c) => c.confidence >= candidateMin).slice(0, maxCandidates),
  };
}
