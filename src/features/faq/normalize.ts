/**
 * Text normalisation shared by the knowledge-base index and the questions asked of it: the same
 * pipeline on both sides is what makes "Зарегистрироваться на ивент" meet "регистрация на
 * мероприятие".
 *
 * Pipeline: lower-case, ё → е, split into letter/digit tokens; stem each token with the Snowball
 * stemmer of its script (Cyrillic → Russian, Latin → English); replace synonym phrases, longest
 * first, with their concept; drop greeting phrases and stop words. The result is a list of terms:
 * a stem, or `§concept` for a synonym.
 *
 * OpenCorpora lemmas (npm `az`) were measured as an alternative: 240 ms to load and ~50 MB of
 * memory, and they still do not relate "регистрация" to "зарегистрироваться", which the synonym
 * list has to do anyway. Snowball stems are synchronous, tiny and enough once synonyms exist.
 */
import { createRequire } from 'node:module';
import { FaqError } from './errors.ts';
import { DEFAULT_SYNONYMS, DROP_PHRASES, STOP_WORDS_EN, STOP_WORDS_RU, type SynonymGroup } from './lexicon.ts';

interface Stemmer {
  stem(word: string): string;
}
// snowball-stemmers is CommonJS without type declarations.
const snowball = createRequire(import.meta.url)('snowball-stemmers') as { newStemmer(lang: string): Stemmer };
const STEMMERS = { ru: snowball.newStemmer('russian'), en: snowball.newStemmer('english') };

/** Longest synonym phrase, in tokens. */
const MAX_PHRASE = 4;
/** Questions are cut to this many characters before normalising, to bound the work per query. */
export const MAX_QUESTION_CHARS = 2_000;
/** Marks a phrase that is dropped (a greeting) rather than replaced by a concept. */
const DROP = '';

const CYRILLIC = /[\u0400-\u04ff]/;
const LATIN = /[a-z]/;

/**
 * Snowball's Russian stem, with the verb suffixes -ова-/-ева-/-ыва-/-ива- cut as well: Snowball
 * keeps them in the infinitive and past tense but not in the present and imperative, so
 * "зарегистрироваться" and "зарегистрируйте" would otherwise never meet.
 */
function russianStem(word: string): string {
  const stem = STEMMERS.ru.stem(word);
  return stem.length >= 7 && /[оеыи]ва$/.test(stem) ? stem.slice(0, -3) : stem;
}

/** Lower-cases, folds ё into е and splits into letter/digit tokens. */
function words(text: string): string[] {
  return text.toLowerCase().replace(/ё/g, 'е').match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Splits a question into lower-case letter/digit tokens (ё folded into е), reading at most
 * {@link MAX_QUESTION_CHARS} characters.
 */
export function tokenize(text: string): string[] {
  // Cut long text at a word boundary: half a word would count as an unknown word.
  return words(text.length > MAX_QUESTION_CHARS ? text.slice(0, MAX_QUESTION_CHARS).replace(/[\p{L}\p{N}]+$/u, '') : text);
}

/**
 * Guesses the language of a question from its letters: Russian when Cyrillic letters are at
 * least a third of them (people write "где wifi"), English when only Latin ones; null otherwise.
 */
export function detectLang(text: string): 'ru' | 'en' | null {
  const sample = text.slice(0, MAX_QUESTION_CHARS);
  const cyr = (sample.match(/[\u0400-\u04ff]/g) ?? []).length;
  const lat = (sample.match(/[a-z]/gi) ?? []).length;
  if (cyr > 0 && cyr * 2 >= lat) return 'ru';
  if (lat > 0) return 'en';
  return cyr > 0 ? 'ru' : null;
}

/** One normalised token: its term, and the word it came from (for typo correction). */
export interface NormalizedToken {
  term: string;
  surface: string;
  /** True when the term came from a synonym phrase or word (a known concept). */
  concept: boolean;
}

/** Options of {@link Normalizer}. */
export interface NormalizerOptions {
  /** Synonym groups; defaults to the built-in events-and-community list. */
  synonyms?: readonly SynonymGroup[];
  /** Extra groups added to `synonyms` (e.g. an organisation's own names). */
  extraSynonyms?: readonly SynonymGroup[];
  /** Extra stop words. */
  extraStopWords?: readonly string[];
}

/**
 * Turns text into matcher terms. Build one and reuse it: stems are cached per word, so after
 * warm-up normalising a question costs a few microseconds.
 */
export class Normalizer {
  readonly #stop = new Set<string>();
  /** Stem sequence (joined by spaces) → concept term, or DROP. */
  readonly #phrases = new Map<string, string>();
  readonly #weights = new Map<string, number>();
  readonly #stemCache = new Map<string, string>();
  /** Single words of the synonym lists and stop words, for typo correction. */
  readonly #known = new Set<string>();

  constructor(options: NormalizerOptions = {}) {
    const stops = `${STOP_WORDS_RU} ${STOP_WORDS_EN} ${(options.extraStopWords ?? []).join(' ')}`;
    for (const w of words(stops)) {
      this.#stop.add(w);
      this.#known.add(w);
    }
    const groups = [...(options.synonyms ?? DEFAULT_SYNONYMS), ...(options.extraSynonyms ?? [])];
    const owner = new Map<string, string>();
    for (const group of groups) {
      const term = `§${group.concept}`;
      this.#weights.set(term, group.weight ?? 1);
      for (const word of group.words) {
        const key = this.#key(word);
        if (!key) continue;
        const previous = owner.get(key);
        if (previous !== undefined && previous !== group.concept) {
          throw new FaqError(
            'FAQ_SYNONYMS',
            `synonym "${word}" of "${group.concept}" normalises to "${key}", which already belongs to "${previous}"`,
          );
        }
        owner.set(key, group.concept);
        for (const w of words(word)) this.#known.add(w);
        this.#phrases.set(key, term);
      }
    }
    for (const phrase of DROP_PHRASES) {
      const key = this.#key(phrase);
      if (key && !this.#phrases.has(key)) this.#phrases.set(key, DROP);
    }
  }

  /** Stem of one lower-case token, by its script. */
  stem(word: string): string {
    let stem = this.#stemCache.get(word);
    if (stem === undefined) {
      if (CYRILLIC.test(word) && !LATIN.test(word)) stem = russianStem(word);
      else if (LATIN.test(word) && !CYRILLIC.test(word)) stem = STEMMERS.en.stem(word);
      else stem = word;
      if (stem.length === 0) stem = word;
      // The cache is bounded: a stream of random words must not grow memory without limit.
      if (this.#stemCache.size > 200_000) this.#stemCache.clear();
      this.#stemCache.set(word, stem);
    }
    return stem;
  }

  #key(phrase: string): string {
    return words(phrase)
      .map((t) => this.stem(t))
      .join(' ');
  }

  /** Words of the synonym lists and stop words (lower-case). */
  knownWords(): Iterable<string> {
    return this.#known;
  }

  /** True for a lower-case token that carries no topic. */
  isStopWord(word: string): boolean {
    return this.#stop.has(word);
  }

  /** Relative weight of a term: below 1 for question words, 1 otherwise. */
  weightOf(term: string): number {
    return this.#weights.get(term) ?? 1;
  }

  /** Normalises text into terms, in order, keeping the word each came from. */
  normalize(text: string): NormalizedToken[] {
    const tokens = tokenize(text);
    const stems = tokens.map((t) => this.stem(t));
    const out: NormalizedToken[] = [];
    let i = 0;
    while (i < tokens.length) {
      let matched = 0;
      for (let len = Math.min(MAX_PHRASE, tokens.length - i); len >= 1; len--) {
        const key = len === 1 ? stems[i] : stems.slice(i, i + len).join(' ');
        const concept = this.#phrases.get(key);
        if (concept === undefined) continue;
        // A single stop word that is also a synonym stem (rare) stays a stop word.
        if (len === 1 && this.#stop.has(tokens[i])) break;
        if (concept !== DROP) out.push({ term: concept, surface: tokens.slice(i, i + len).join(' '), concept: true });
        matched = len;
        break;
      }
      if (matched > 0) {
        i += matched;
        continue;
      }
      if (!this.#stop.has(tokens[i])) out.push({ term: stems[i], surface: tokens[i], concept: false });
      i++;
    }
    return out;
  }

  /** The distinct terms of a text. */
  terms(text: string): string[] {
    return [...new Set(this.normalize(text).map((t) => t.term))];
  }
}
