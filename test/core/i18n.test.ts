import { describe, expect, it } from 'vitest';
import { I18n, bold, flattenMessages, italic, pickLanguage, placeholders, type Messages } from '../../src/core/index.ts';
import { en } from '../../src/bot/i18n/en.ts';
import { ru } from '../../src/bot/i18n/ru.ts';

const i18n = new I18n({
  en: { greet: 'Hello, {name}!', only_en: 'English only', items: '{n, plural, =0 {No items} one {# item} other {# items}}' },
  ru: { greet: 'Привет, {name}!', items: '{n, plural, one {# предмет} few {# предмета} many {# предметов} other {# предмета}}' },
});

describe('i18n', () => {
  it('picks the catalogue from the language tag, and English for anything unknown', () => {
    expect(i18n.pick('ru-RU')).toBe('ru');
    expect(i18n.pick('ru')).toBe('ru');
    expect(i18n.pick('RU_ru')).toBe('ru');
    expect(i18n.pick('en-GB')).toBe('en');
    expect(i18n.pick('de-DE')).toBe('en');
    expect(i18n.pick(null)).toBe('en');
    expect(i18n.pick('')).toBe('en');
    expect(pickLanguage('pt-BR', ['pt-br', 'pt', 'en'], 'en')).toBe('pt-br');
  });

  it('interpolates parameters and leaves a missing one visible', () => {
    expect(i18n.t('ru', 'greet', { name: 'Аня' })).toBe('Привет, Аня!');
    expect(i18n.t('en', 'greet')).toBe('Hello, {name}!');
  });

  it('falls back to English for a key Russian lacks, then to the key itself', () => {
    expect(i18n.t('ru', 'only_en')).toBe('English only');
    expect(i18n.t('ru', 'no.such.key')).toBe('no.such.key');
  });

  it('chooses plural forms by the language rules', () => {
    expect([0, 1, 2, 5].map((n) => i18n.t('en', 'items', { n }))).toEqual(['No items', '1 item', '2 items', '5 items']);
    expect([1, 3, 5, 21, 1.5].map((n) => i18n.t('ru', 'items', { n }))).toEqual([
      '1 предмет',
      '3 предмета',
      '5 предметов',
      '21 предмет',
      '1.5 предмета',
    ]);
  });

  it('keeps the formatting of formatted parameters', () => {
    expect(i18n.t('en', 'greet', { name: bold('Ann') })).toEqual([{ text: 'Hello, ' }, { text: 'Ann', bold: true }, { text: '!' }]);
    expect(i18n.t('en', 'greet', { name: [italic('A'), { text: 'nn' }] })).toEqual([
      { text: 'Hello, ' },
      { text: 'A', italic: true },
      { text: 'nn!' },
    ]);
  });

  it('includes the framework messages, which a bot catalogue may override', () => {
    expect(new I18n({ en: {} }).t('ru', 'dialog.invalid')).toMatch(/^I did not get that/);
    expect(new I18n({ ru: {} }).t('ru', 'dialog.invalid')).toMatch(/^Не понял/);
    expect(new I18n({ en: { dialog: { invalid: 'Eh?' } } }).t('en', 'dialog.invalid')).toBe('Eh?');
  });

  it('refuses a malformed template at construction, naming it', () => {
    expect(() => new I18n({ en: { a: { b: 'Hello {name' } } })).toThrow(/en:a\.b is malformed/);
    expect(() => new I18n({ ru: { x: '{n, plural, one {#}}' } })).toThrow(/ru:x is malformed.*other/);
    expect(() => new I18n({ en: { x: '{n, select, a {1} other {2}}' } })).toThrow(/en:x is malformed/);
  });
});

describe('demo catalogues', () => {
  const keys = (m: Messages) => [...flattenMessages(m).keys()].sort();

  it('have the same keys in Russian and English', () => {
    expect(keys(ru)).toEqual(keys(en));
    expect(keys(en).length).toBeGreaterThan(10);
  });

  it('use the same parameters for each key in both languages', () => {
    const enTemplates = flattenMessages(en);
    for (const [key, template] of flattenMessages(ru)) {
      expect({ key, params: placeholders(template) }).toEqual({ key, params: placeholders(enTemplates.get(key) ?? '') });
    }
  });

  it('parse', () => {
    expect(() => new I18n({ en, ru })).not.toThrow();
  });
});
