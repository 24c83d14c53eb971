/**
 * Renders an OutgoingMessage into parts a connector can send one by one, within its
 * capabilities: long text is split, buttons that do not fit become a numbered list (the person
 * answers with the number or the label), requests the platform lacks become a text prompt, and
 * images or files it cannot carry become links.
 */
import type { ButtonLimits, Capabilities } from './capabilities.ts';
import { plainText, splitRichText, toSpans, type Span } from './format.ts';
import type { Button, OutgoingMedia, OutgoingMessage } from './model.ts';

export interface RenderedPart {
  text?: Span[];
  buttons?: Button[][];
  keyboard?: 'inline' | 'reply';
  removeKeyboard?: boolean;
  image?: OutgoingMedia;
  file?: OutgoingMedia;
}

/** A button shown as a numbered line; the person may answer with `n` or the label. */
export interface NumberedOption {
  n: number;
  label: string;
  payload: string;
}

export interface RenderPlan {
  parts: RenderedPart[];
  options: NumberedOption[];
}

const utf8 = new TextEncoder();

/** Whether a button needs a reply keyboard (requests) rather than an inline one. */
function isRequest(b: Button): boolean {
  return b.type === 'contact' || b.type === 'location';
}

function fits(rows: Button[][], limits: ButtonLimits): boolean {
  const all = rows.flat();
  return (
    rows.length <= limits.rows &&
    rows.every((r) => r.length <= limits.perRow) &&
    all.length <= limits.total &&
    all.every(
      (b) =>
        b.label.length <= limits.labelLength &&
        (b.type !== 'action' || utf8.encode(b.payload).length <= limits.payloadBytes),
    )
  );
}

/** Re-flows buttons into rows of at most `perRow`, keeping their order. */
function reflow(rows: Button[][], perRow: number): Button[][] {
  const out: Button[][] = [];
  for (const row of rows) for (let i = 0; i < row.length; i += perRow) out.push(row.slice(i, i + perRow));
  return out;
}

export function renderMessage(message: OutgoingMessage, caps: Capabilities): RenderPlan {
  const extraLines: string[] = [];
  const options: NumberedOption[] = [];
  let rows = (message.buttons ?? []).map((r) => r.filter(Boolean)).filter((r) => r.length > 0);
  const wantsReply = message.keyboard === 'reply' || rows.some((r) => r.some(isRequest));

  // Requests and links the platform lacks become text the person can act on.
  rows = rows
    .map((row) =>
      row.filter((b) => {
        if (b.type === 'contact' && !caps.contactRequest) return extraLines.push(b.label), false;
        if (b.type === 'location' && !caps.locationRequest) return extraLines.push(b.label), false;
        if (b.type === 'url' && !caps.urlButtons) return extraLines.push(`${b.label}: ${b.url}`), false;
        return true;
      }),
    )
    .filter((r) => r.length > 0);

  let keyboard: 'inline' | 'reply' | undefined;
  if (rows.length > 0) {
    const preferred = wantsReply ? caps.replyKeyboard ?? caps.inline : caps.inline ?? caps.replyKeyboard;
    keyboard = preferred === caps.replyKeyboard && preferred ? 'reply' : 'inline';
    const limits = preferred;
    const flowed = limits ? reflow(rows, limits.perRow) : rows;
    if (limits && fits(flowed, limits) && (keyboard === 'reply' || !rows.flat().some(isRequest))) {
      rows = flowed;
    } else {
      // Numbered options: every action button becomes a line; requests and links stay text.
      const kept: Button[] = [];
      for (const b of rows.flat()) {
        if (b.type === 'action') {
          options.push({ n: options.length + 1, label: b.label, payload: b.payload });
        } else if (b.type === 'url') {
          extraLines.push(`${b.label}: ${b.url}`);
        } else {
          kept.push(b);
        }
      }
      rows = kept.length && caps.replyKeyboard ? [kept] : [];
      if (!rows.length) for (const b of kept) extraLines.push(b.label);
      keyboard = rows.length ? 'reply' : undefined;
    }
  }

  const spans: Span[] = message.text !== undefined ? [...toSpans(message.text)] : [];
  const tail = [...options.map((o) => `${o.n}. ${o.label}`), ...extraLines];
  if (tail.length) spans.push({ text: (spans.length ? '\n\n' : '') + tail.join('\n') });

  const parts: RenderedPart[] = [];
  for (const image of message.images ?? []) parts.push(mediaPart('image', image, caps));
  for (const file of message.files ?? []) parts.push(mediaPart('file', file, caps));
  if (spans.length) for (const chunk of splitRichText(spans, caps.textLimit)) parts.push({ text: chunk });
  if (parts.length === 0) parts.push({ text: [{ text: ' ' }] });

  // Buttons go with the last part that can carry them; removing a keyboard likewise.
  const last = parts[parts.length - 1];
  if (rows.length) {
    last.buttons = rows;
    last.keyboard = keyboard;
  }
  if (message.removeKeyboard) last.removeKeyboard = true;
  return { parts, options };
}

function mediaPart(kind: 'image' | 'file', media: OutgoingMedia, caps: Capabilities): RenderedPart {
  const supported = kind === 'image' ? caps.images : caps.files;
  if (!supported) {
    const where = media.url ?? media.name ?? kind;
    const caption = media.caption ? `${plainText(media.caption)}\n` : '';
    return { text: [{ text: `${caption}${where}` }] };
  }
  return kind === 'image' ? { image: media } : { file: media };
}

/**
 * Maps a person's typed answer to a numbered option: the number itself (`2`, `2.`) or the
 * label, case-insensitively. Returns the option's payload or undefined.
 */
export function matchOption(text: string, options: readonly NumberedOption[]): string | undefined {
  const t = text.trim().replace(/[.)]$/, '').toLowerCase();
  if (!t) return undefined;
  const byNumber = options.find((o) => String(o.n) === t);
  if (byNumber) return byNumber.payload;
  return options.find((o) => o.label.trim().toLowerCase() === t)?.payload;
}
