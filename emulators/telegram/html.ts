/**
 * Telegram's `parse_mode: HTML` as the Bot API applies it: a small set of tags, four named
 * entities plus numeric ones, and strict nesting. Invalid markup is an error ("can't parse
 * entities: ..."), never silently shown, so a connector that forgets to escape `<` fails here as it
 * would against the real service. Offsets of the resulting entities are in UTF-16 code units;
 * offsets in error messages are in UTF-8 bytes, as Telegram reports them.
 */
import type { MessageEntity } from '@grammyjs/types';

export class HtmlParseError extends Error {
  constructor(reason: string) {
    super(`can't parse entities: ${reason}`);
    this.name = 'HtmlParseError';
  }
}

export interface ParsedText {
  text: string;
  entities: MessageEntity[];
}

type EntityType = MessageEntity['type'];

/** Tags Telegram accepts, and the entity each one produces (null: decided by attributes). */
const TAGS: Record<string, EntityType | null> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  a: null,
  'tg-emoji': 'custom_emoji',
};

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface Open {
  name: string;
  type: EntityType | null;
  attrs: Map<string, string>;
  start: number;
}

const byteOffset = (source: string, index: number) => Buffer.byteLength(source.slice(0, index), 'utf8');

/** Decodes `&...;` at `i`; returns the text and the index after it, or null when it is not one. */
function entityAt(source: string, i: number): [string, number] | null {
  const end = source.indexOf(';', i);
  if (end < 0 || end - i > 10) return null;
  const body = source.slice(i + 1, end);
  if (body in NAMED) return [NAMED[body], end + 1];
  const m = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(body);
  if (!m) return null;
  const code = m[1].startsWith('x') ? parseInt(m[1].slice(1), 16) : parseInt(m[1], 10);
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null;
  return [String.fromCodePoint(code), end + 1];
}

function decodeAttr(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; ) {
    const ent = value[i] === '&' ? entityAt(value, i) : null;
    if (ent) [out, i] = [out + ent[0], ent[1]];
    else out += value[i++];
  }
  return out;
}

/** Reads attributes from `i` up to `>`; returns them and the index after `>`. */
function readAttributes(source: string, i: number, tagStart: number): [Map<string, string>, number] {
  const attrs = new Map<string, string>();
  for (;;) {
    while (i < source.length && /\s/.test(source[i])) i++;
    if (i >= source.length) throw new HtmlParseError(`Unclosed start tag at byte offset ${byteOffset(source, tagStart)}`);
    if (source[i] === '>') return [attrs, i + 1];
    if (source[i] === '/' && source[i + 1] === '>') return [attrs, i + 2];
    const nameMatch = /^[A-Za-z0-9_-]+/.exec(source.slice(i));
    if (!nameMatch) throw new HtmlParseError(`Expected equal sign in declaration of an attribute of the tag at byte offset ${byteOffset(source, tagStart)}`);
    const name = nameMatch[0].toLowerCase();
    i += nameMatch[0].length;
    while (i < source.length && /\s/.test(source[i])) i++;
    if (source[i] !== '=') {
      attrs.set(name, '');
      continue;
    }
    i++;
    while (i < source.length && /\s/.test(source[i])) i++;
    const quote = source[i];
    let value: string;
    if (quote === '"' || quote === "'") {
      const close = source.indexOf(quote, i + 1);
      if (close < 0) throw new HtmlParseError(`Unclosed start tag at byte offset ${byteOffset(source, tagStart)}`);
      value = source.slice(i + 1, close);
      i = close + 1;
    } else {
      const m = /^[^\s>]*/.exec(source.slice(i));
      value = m ? m[0] : '';
      i += value.length;
    }
    attrs.set(name, decodeAttr(value));
  }
}

function toEntity(open: Open, end: number): MessageEntity | null {
  const length = end - open.start;
  if (length <= 0) return null;
  const offset = open.start;
  if (open.name === 'a') {
    const href = open.attrs.get('href');
    if (!href) return null;
    const mention = /^tg:\/\/user\?id=(\d+)$/.exec(href);
    if (mention) return { type: 'text_mention', offset, length, user: { id: Number(mention[1]), is_bot: false, first_name: '' } };
    return { type: 'text_link', offset, length, url: href };
  }
  if (open.name === 'pre') return { type: 'pre', offset, length };
  if (open.name === 'tg-emoji') return { type: 'custom_emoji', offset, length, custom_emoji_id: open.attrs.get('emoji-id') ?? '' };
  return { type: open.type as Exclude<EntityType, 'text_link' | 'text_mention' | 'pre' | 'custom_emoji'>, offset, length } as MessageEntity;
}

/** Parses Telegram HTML into plain text and entities, or throws HtmlParseError. */
export function parseTelegramHtml(source: string): ParsedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: Open[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '&') {
      const ent = entityAt(source, i);
      if (ent) [text, i] = [text + ent[0], ent[1]];
      else [text, i] = [text + '&', i + 1];
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i++;
      continue;
    }
    const tagStart = i;
    if (source[i + 1] === '/') {
      const close = source.indexOf('>', i);
      if (close < 0) throw new HtmlParseError(`Unclosed end tag at byte offset ${byteOffset(source, tagStart)}`);
      const name = source.slice(i + 2, close).trim().toLowerCase();
      const open = stack.pop();
      if (!open) throw new HtmlParseError(`Unexpected end tag at byte offset ${byteOffset(source, tagStart)}`);
      if (open.name !== name) {
        throw new HtmlParseError(
          `Unmatched end tag at byte offset ${byteOffset(source, tagStart)}, expected "</${open.name}>", found "</${name}>"`,
        );
      }
      const entity = toEntity(open, text.length);
      if (entity) entities.push(entity);
      i = close + 1;
      continue;
    }
    const nameMatch = /^[A-Za-z0-9-]*/.exec(source.slice(i + 1));
    const name = (nameMatch ? nameMatch[0] : '').toLowerCase();
    if (!(name in TAGS)) throw new HtmlParseError(`Unsupported start tag "${name}" at byte offset ${byteOffset(source, tagStart)}`);
    const [attrs, next] = readAttributes(source, i + 1 + name.length, tagStart);
    if (name === 'span' && attrs.get('class') !== 'tg-spoiler') {
      throw new HtmlParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(source, tagStart)}`);
    }
    stack.push({ name, type: TAGS[name], attrs, start: text.length });
    i = next;
  }
  const unclosed = stack.pop();
  if (unclosed) throw new HtmlParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}
