/**
 * CSV import and export of a knowledge base, for people who edit it in a spreadsheet.
 *
 * One row per entry, with a header row naming the columns `id, questions, answer, lang, tags`
 * (any order, case-insensitive; unknown columns are ignored). The questions cell holds one
 * question per line; tags are separated by commas. Import accepts `,` or `;` as the delimiter
 * (a Russian-locale Excel writes `;`) and a UTF-8 byte order mark; export writes `,`, CRLF row
 * ends and a byte order mark so Excel shows Cyrillic correctly.
 */
import { FaqError } from './errors.ts';
import type { KnowledgeBase } from './kb.ts';

const COLUMNS = ['id', 'questions', 'answer', 'lang', 'tags'] as const;
const REQUIRED = ['id', 'questions', 'answer'] as const;

/**
 * Parses RFC 4180 CSV into rows of cells: quoted cells may hold delimiters, quotes (doubled) and
 * line breaks. Linear in the input, so a malformed file fails fast.
 * @throws FaqError FAQ_CSV on an unterminated quote or text after a closing quote.
 */
export function parseCsv(text: string, delimiter = ',', source = 'CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let line = 1;
  const n = text.length;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  const endRow = () => {
    endCell();
    // A blank line is a row with one empty cell: skip it rather than report a missing id.
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  while (i < n) {
    const ch = text[i];
    if (ch === '"' && cell === '') {
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) throw new FaqError('FAQ_CSV', `${source}: line ${startLine}: a quoted cell is never closed`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        cell += c;
        i++;
      }
      const next = text[i];
      if (i < n && next !== delimiter && next !== '\n' && next !== '\r') {
        throw new FaqError('FAQ_CSV', `${source}: line ${line}: unexpected text after a closing quote`);
      }
      if (cell === '') cell = '\u0000'; // remember that an empty quoted cell was a cell
      continue;
    }
    if (ch === delimiter) {
      endCell();
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else {
      cell += ch;
      i++;
    }
  }
  if (cell !== '' || row.length > 0) endRow();
  return rows.map((r) => r.map((c) => (c === '\u0000' ? '' : c)));
}

/** Chooses `;` when the header has semicolons and no commas (Excel in a Russian locale). */
function detectDelimiter(text: string): string {
  const header = text.slice(0, text.search(/\r?\n|$/));
  return header.includes(';') && !header.includes(',') ? ';' : ',';
}

/**
 * Turns CSV text into plain knowledge-base data, to be validated by `validateKnowledgeBase`.
 * @throws FaqError FAQ_EMPTY or FAQ_CSV.
 */
export function csvToKnowledgeBaseData(csv: string, source = 'CSV'): unknown {
  const text = csv.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new FaqError('FAQ_EMPTY', `${source} is empty`);
  const rows = parseCsv(text, detectDelimiter(text), source);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new FaqError(
      'FAQ_CSV',
      `${source}: the header row must name the columns ${COLUMNS.join(', ')} (lang and tags optional); missing: ${missing.join(', ')}`,
    );
  }
  const col = (name: string) => header.indexOf(name);
  const entries = rows.slice(1).map((cells) => {
    const get = (name: string) => (col(name) >= 0 ? (cells[col(name)] ?? '') : '');
    const lang = get('lang').trim();
    const tags = get('tags')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    return {
      id: get('id'),
      questions: get('questions')
        .split(/\r?\n/)
        .map((q) => q.trim())
        .filter(Boolean),
      answer: get('answer'),
      ...(lang ? { lang } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    };
  });
  return { entries };
}

function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Serialises a knowledge base as CSV (see the module comment for the layout). */
export function knowledgeBaseToCsv(kb: KnowledgeBase): string {
  const lines = [COLUMNS.join(',')];
  for (const e of kb.entries) {
    const cells = [e.id, e.questions.join('\n'), e.answer, e.lang ?? '', (e.tags ?? []).join(', ')];
    lines.push(cells.map(csvCell).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
