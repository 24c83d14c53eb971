/**
 * Typo tolerance: finds the known word closest to a misspelt one.
 *
 * Known words are indexed by their character trigrams (with word boundaries, so short words
 * have trigrams too). A misspelt word collects the known words that share enough trigrams with
 * it, and the best of those within a small edit distance (insertions, deletions, substitutions
 * and swaps of neighbours — the typos people make on phones) wins. Only words the index does not
 * know are corrected, so the cost is paid for rare words only.
 */

/** Edit distance allowed for a word of this length: none below 4 letters, then 1, 2, 3. */
export function maxEditsFor(length: number): number {
  if (length < 4) return 0;
  if (length < 7) return 1;
  if (length < 12) return 2;
  return 3;
}

/**
 * Optimal string alignment distance (Levenshtein plus transposition of neighbours), or
 * `max + 1` as soon as it must exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

function trigrams(word: string): string[] {
  const padded = `^${word}$`;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return [...out];
}

/** A correction: the known word and how similar it is (1 = identical). */
export interface Correction {
  word: string;
  similarity: number;
}

/** A trigram index of known words, answering "which known word did they mean?". */
export class FuzzyVocabulary {
  readonly #words: string[] = [];
  readonly #ids = new Map<string, number>();
  readonly #grams = new Map<string, number[]>();

  /** Adds a known word (lower-case); adding it twice is harmless. */
  add(word: string): void {
    if (word.length < 4 || this.#ids.has(word)) return;
    const id = this.#words.length;
    this.#words.push(word);
    this.#ids.set(word, id);
    for (const g of trigrams(word)) {
      const list = this.#grams.get(g);
      if (list) list.push(id);
      else this.#grams.set(g, [id]);
    }
  }

  get size(): number {
    return this.#words.length;
  }

  /**
   * The closest known word within {@link maxEditsFor} edits, or null. Ties go to the word that
   * shares more trigrams (usually the one whose start and end agree with the typo). Similarity
   * is `1 − penalty · edits / length`.
   */
  correct(word: string, penalty = 1): Correction | null {
    const maxEdits = maxEditsFor(word.length);
    if (maxEdits === 0) return null;
    const grams = trigrams(word);
    const counts = new Map<number, number>();
    for (const g of grams) {
      const list = this.#grams.get(g);
      if (!list) continue;
      for (const id of list) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // An edit destroys at most three trigrams, a swap of neighbours four; a candidate keeps the rest.
    const minShared = Math.max(1, grams.length - 4 * maxEdits);
    let best: Correction | null = null;
    let bestDistance = maxEdits + 1;
    let bestShared = 0;
    for (const [id, shared] of counts) {
      if (shared < minShared) continue;
      const candidate = this.#words[id];
      const allowed = Math.min(maxEdits, maxEditsFor(candidate.length));
      const d = editDistance(word, candidate, allowed);
      if (d > allowed) continue;
      // People rarely miss the first letter; when they seem to, allow only one edit in a longer word
      // ("rice" is not a typo of "price").
      if (candidate[0] !== word[0] && (d > 1 || word.length < 6)) continue;
      if (d < bestDistance || (d === bestDistance && shared > bestShared)) {
        bestDistance = d;
        bestShared = shared;
        best = { word: candidate, similarity: Math.max(0, 1 - (penalty * d) / Math.max(word.length, candidate.length)) };
      }
    }
    return best;
  }
}
