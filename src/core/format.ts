/**
 * Light formatting that every platform can render or drop cleanly: bold, italic and links.
 * A `RichText` is either a plain string or a list of spans. Build spans with `fmt` and friends:
 *
 * ```ts
 * ctx.reply(fmt`Hello, ${bold(name)}! See ${link('the programme', url)}.`);
 * ```
 */
export interface Span {
  text: string;
  bold?: boolean;
  italic?: boolean;
  href?: string;
}

export type RichText = string | Span[];

export const bold = (text: string): Span => ({ text, bold: true });
export const italic = (text: string): Span => ({ text, italic: true });
export const link = (text: string, href: string): Span => ({ text, href });

/** Tagged template: interpolated spans keep their style, anything else becomes plain text. */
export function fmt(strings: TemplateStringsArray, ...values: unknown[]): Span[] {
  const out: Span[] = [];
  strings.forEach((s, i) => {
    if (s) out.push({ text: s });
    if (i < values.length) {
      const v = values[i];
      if (Array.isArray(v)) out.push(...(v as Span[]));
      else if (v && typeof v === 'object' && 'text' in v) out.push(v as Span);
      else out.push({ text: String(v) });
    }
  });
  return out;
}

export function toSpans(text: RichText): Span[] {
  return typeof text === 'string' ? [{ text }] : text;
}

/** The text without formatting; links keep their address in brackets when it differs. */
export function plainText(text: RichText): string {
  return toSpans(text)
    .map((s) => (s.href && s.href !== s.text ? `${s.text} (${s.href})` : s.text))
    .join('');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Telegram-style HTML (`<b>`, `<i>`, `<a href>`), with everything else escaped. */
export function toHtml(text: RichText): string {
  return toSpans(text)
    .map((s) => {
      let h = escapeHtml(s.text);
      if (s.bold) h = `<b>${h}</b>`;
      if (s.italic) h = `<i>${h}</i>`;
      if (s.href) h = `<a href="${escapeHtml(s.href)}">${h}</a>`;
      return h;
    })
    .join('');
}

/** Length of the text a person sees (spans' text, links counted as their label). */
export function visibleLength(text: RichText): number {
  return toSpans(text).reduce((n, s) => n + s.text.length, 0);
}

/**
 * Splits rich text into chunks whose visible length is at most `limit`, preferring paragraph,
 * then line, then word boundaries, so that formatting spans never break mid-tag.
 */
export function splitRichText(text: RichText, limit: number): Span[][] {
  const spans = toSpans(text);
  if (visibleLength(spans) <= limit) return [spans];
  const chunks: Span[][] = [];
  let current: Span[] = [];
  let used = 0;
  const flush = () => {
    if (current.length) chunks.push(current);
    current = [];
    used = 0;
  };
  for (const span of spans) {
    let rest = span.text;
    while (rest.length > 0) {
      const room = limit - used;
      if (rest.length <= room) {
        current.push({ ...span, text: rest });
        used += rest.length;
        break;
      }
      const cut = breakPoint(rest, room);
      if (cut === 0) {
        flush();
        continue;
      }
      current.push({ ...span, text: rest.slice(0, cut).replace(/\s+$/, '') });
      rest = rest.slice(cut).replace(/^\s+/, '');
      flush();
    }
  }
  flush();
  return chunks;
}

function breakPoint(text: string, room: number): number {
  if (room <= 0) return 0;
  const window = text.slice(0, room + 1);
  for (const sep of ['\n\n', '\n', '. ', ' ']) {
    const at = window.lastIndexOf(sep);
    if (at > room * 0.5) return Math.min(at + sep.length, room);
  }
  // No natural break: cut hard, but never between the halves of a surrogate pair.
  const code = text.charCodeAt(room - 1);
  return code >= 0xd800 && code <= 0xdbff ? room - 1 : room;
}
