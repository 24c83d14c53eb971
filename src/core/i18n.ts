/**
 * Translations. A catalogue is a plain TS object per language (nested objects are namespaces,
 * so `{ profile: { ask_name: '…' } }` is the key `profile.ask_name`). Templates interpolate
 * `{name}` and choose plural forms with the ICU subset `{count, plural, one {# image} other {# images}}`
 * (`#` is the number; `=0 {…}` matches exactly). The language comes from the person's language
 * tag (`ru-RU` → `ru`); a missing key falls back to the fallback language, then to the key itself.
 */
import type { Span } from './format.ts';

/** A catalogue: templates, possibly nested in namespaces. */
export type Messages = { [key: string]: string | Messages };

/**
 * The shape of a catalogue with the same keys as `T`: declare the second language as
 * `export const ru: Translation<typeof en> = { … }` and a missing key is a compile error.
 */
export type Translation<T> = { [K in keyof T]: T[K] extends string ? string : Translation<T[K]> };

/** A value to interpolate. Spans keep their formatting, and then `t` returns spans. */
export type Param = string | number;
export type RichParam = Param | Span | Span[];

/** Messages the framework itself says (dialogs); a bot's catalogue may override any of them. */
export const CORE_MESSAGES: Record<'en' | 'ru', Messages> = {
  en: { dialog: { invalid: 'I did not get that. Please answer the question.' } },
  ru: { dialog: { invalid: 'Не понял ответ. Пожалуйста, ответьте на вопрос.' } },
};

type Node = string | { arg: string } | { hash: true } | { arg: string; plural: Map<string, Node[]> };

/** Flattens a catalogue into `dotted.key → template`. */
export function flattenMessages(messages: Messages, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(messages)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(full, value);
    else flattenMessages(value, full, out);
  }
  return out;
}

/** The parameter names a template uses, sorted; catalogues of one key should agree on them. */
export function placeholders(template: string): string[] {
  const names = new Set<string>();
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      if (typeof n === 'string' || 'hash' in n) continue;
      names.add(n.arg);
      if ('plural' in n) for (const branch of n.plural.values()) walk(branch);
    }
  };
  walk(parseTemplate(template));
  return [...names].sort();
}

/**
 * Picks the catalogue for an IETF language tag: the exact tag (`pt-br`), else its primary
 * subtag (`ru-RU` → `ru`), else the fallback.
 */
export function pickLanguage(tag: string | null | undefined, available: readonly string[], fallback: string): string {
  if (!tag) return fallback;
  const normal = tag.trim().toLowerCase().replace(/_/g, '-');
  if (available.includes(normal)) return normal;
  const primary = normal.split('-')[0];
  return available.includes(primary) ? primary : fallback;
}

/** Catalogues of several languages with lookup, fallback and interpolation. */
export class I18n {
  readonly fallback: string;
  #templates = new Map<string, Map<string, Node[]>>();
  #plurals = new Map<string, Intl.PluralRules>();

  /**
   * @param catalogues one catalogue per language code, e.g. `{ en, ru }`
   * @param options.fallback the language used for unknown tags and missing keys (default `en`)
   * @throws Error naming the language and key of a template that does not parse, so a broken
   *   catalogue stops the process at start rather than in the middle of a conversation.
   */
  constructor(catalogues: Record<string, Messages> = {}, options: { fallback?: string } = {}) {
    this.fallback = options.fallback ?? 'en';
    const languages = new Set([...Object.keys(catalogues), this.fallback]);
    for (const lang of languages) {
      const merged = new Map<string, Node[]>();
      const core = (CORE_MESSAGES as Record<string, Messages | undefined>)[lang];
      for (const source of [core, catalogues[lang]]) {
        if (!source) continue;
        for (const [key, template] of flattenMessages(source)) {
          try {
            merged.set(key, parseTemplate(template));
          } catch (err: unknown) {
            throw new Error(`i18n: template ${lang}:${key} is malformed: ${(err as Error).message}`, { cause: err });
          }
        }
      }
      this.#templates.set(lang.toLowerCase(), merged);
    }
  }

  /** Language codes that have a catalogue. */
  get languages(): string[] {
    return [...this.#templates.keys()];
  }

  /** The catalogue language for a person's language tag. */
  pick(tag: string | null | undefined): string {
    return pickLanguage(tag, this.languages, this.fallback);
  }

  /** Whether `lang` itself (without fallback) has `key`. */
  has(lang: string, key: string): boolean {
    return this.#templates.get(lang)?.has(key) ?? false;
  }

  /** Translates `key`; returns spans when a parameter is formatted, plain text otherwise. */
  t(lang: string, key: string, params?: Record<string, Param>): string;
  t(lang: string, key: string, params: Record<string, RichParam>): string | Span[];
  t(lang: string, key: string, params: Record<string, RichParam> = {}): string | Span[] {
    const nodes = this.#templates.get(lang)?.get(key) ?? this.#templates.get(this.fallback)?.get(key);
    if (!nodes) return key;
    const spans = this.#render(nodes, params, lang, undefined);
    const rich = Object.values(params).some((p) => typeof p === 'object');
    return rich ? mergePlain(spans) : spans.map((s) => s.text).join('');
  }

  #render(nodes: Node[], params: Record<string, RichParam>, lang: string, count: number | undefined): Span[] {
    const out: Span[] = [];
    for (const node of nodes) {
      if (typeof node === 'string') out.push({ text: node });
      else if ('hash' in node) out.push({ text: count === undefined ? '#' : String(count) });
      else if ('plural' in node) {
        const n = Number(params[node.arg]);
        const branch = node.plural.get(`=${n}`) ?? node.plural.get(this.#pluralRules(lang).select(n)) ?? node.plural.get('other') ?? [];
        out.push(...this.#render(branch, params, lang, n));
      } else {
        const value = params[node.arg];
        if (value === undefined) out.push({ text: `{${node.arg}}` });
        else if (typeof value === 'object') out.push(...(Array.isArray(value) ? value : [value]));
        else out.push({ text: String(value) });
      }
    }
    return out;
  }

  #pluralRules(lang: string): Intl.PluralRules {
    let rules = this.#plurals.get(lang);
    if (!rules) {
      try {
        rules = new Intl.PluralRules(lang);
      } catch (_err: unknown) {
        // A catalogue named with a code Intl does not know still gets English plural rules.
        rules = new Intl.PluralRules('en');
      }
      this.#plurals.set(lang, rules);
    }
    return rules;
  }
}

/** Joins adjacent unformatted spans so the output stays compact. */
function mergePlain(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    const plain = (x: Span) => !x.bold && !x.italic && !x.href;
    if (last && plain(last) && plain(s)) out[out.length - 1] = { text: last.text + s.text };
    else if (s.text) out.push(s);
  }
  return out;
}

/** Parses a template into text, `{arg}`, `#` and plural nodes. Throws on unbalanced braces. */
function parseTemplate(template: string): Node[] {
  let i = 0;
  const parse = (inPlural: boolean, closing: boolean): Node[] => {
    const nodes: Node[] = [];
    let text = '';
    const flush = () => {
      if (text) nodes.push(text);
      text = '';
    };
    while (i < template.length) {
      const c = template[i];
      if (c === '}') {
        if (!closing) throw new Error(`unexpected "}" at ${i}`);
        flush();
        i++;
        return nodes;
      }
      if (c === '#' && inPlural) {
        flush();
        nodes.push({ hash: true });
        i++;
        continue;
      }
      if (c !== '{') {
        text += c;
        i++;
        continue;
      }
      flush();
      const end = template.slice(i).search(/[},]/);
      if (end < 0) throw new Error(`unclosed "{" at ${i}`);
      const arg = template.slice(i + 1, i + end).trim();
      if (!/^[\w.]+$/.test(arg)) throw new Error(`bad parameter name "${arg}" at ${i}`);
      i += end;
      if (template[i] === '}') {
        nodes.push({ arg });
        i++;
        continue;
      }
      const kind = /^,\s*plural\s*,/.exec(template.slice(i));
      if (!kind) throw new Error(`only "{${arg}}" and "{${arg}, plural, …}" are supported (at ${i})`);
      i += kind[0].length;
      const plural = new Map<string, Node[]>();
      while (true) {
        const sel = /^\s*(=\d+|zero|one|two|few|many|other)\s*\{/.exec(template.slice(i));
        if (!sel) break;
        i += sel[0].length;
        plural.set(sel[1], parse(true, true));
      }
      const close = /^\s*\}/.exec(template.slice(i));
      if (!close || !plural.has('other')) throw new Error(`plural "${arg}" needs an "other" form and a closing "}"`);
      i += close[0].length;
      nodes.push({ arg, plural });
    }
    if (closing) throw new Error('unclosed "{"');
    flush();
    return nodes;
  };
  return parse(false, false);
}
