/**
 * The one error class of the FAQ feature. Every failure a person can cause (a missing, empty,
 * oversized or malformed knowledge base or cases file, an invalid entry) is a `FaqError` with a
 * stable code and a message that says what is wrong and where, so the CLI and the admin panel
 * can show it as is.
 */

/** Stable codes of {@link FaqError}; documented in docs/faq.md. */
export type FaqErrorCode =
  | 'FAQ_READ' // the file cannot be read (missing, a directory, no permission)
  | 'FAQ_TOO_LARGE' // the file is over the size limit
  | 'FAQ_EMPTY' // the file is empty, or the knowledge base has no entries
  | 'FAQ_JSON' // the file is not valid JSON
  | 'FAQ_CSV' // the CSV is malformed (unterminated quote, missing column)
  | 'FAQ_INVALID' // the content does not follow the format (missing field, wrong type)
  | 'FAQ_DUPLICATE_ID' // two entries share an id
  | 'FAQ_CASES' // an evaluation cases file is malformed
  | 'FAQ_SYNONYMS'; // a synonyms list is inconsistent (one word in two groups)

/** An error a person can fix: bad knowledge base, bad cases file, bad synonyms. */
export class FaqError extends Error {
  override readonly name = 'FaqError';
  readonly code: FaqErrorCode;

  constructor(code: FaqErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Maximum size of a knowledge base or cases file; larger files are rejected before parsing. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

/**
 * Turns a JSON.parse failure into "line L, column C" so a person can find the mistake; V8 reports
 * only a character position, and only in its message.
 */
export function describeJsonError(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/s, '')} at line ${line}, column ${column}`;
}
