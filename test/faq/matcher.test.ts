import { describe, expect, it } from 'vitest';
import { FaqError, Normalizer, createFaqMatcher, detectLang, type KnowledgeBase } from '../../src/features/faq/index.ts';
import { STOP_WORDS_EN, STOP_WORDS_RU } from '../../src/features/faq/lexicon.ts';

const kb: KnowledgeBase = {
  entries: [
    { id: 'register', lang: 'ru', questions: ['Как зарегистрироваться на мероприятие?', 'Где записаться на ивент?'], answer: 'В боте: «Мероприятия» → «Записаться».' },
    { id: 'wifi', lang: 'ru', questions: ['Какой пароль от wifi?', 'Есть ли интернет на площадке?'], answer: 'Сеть Guest, пароль 1234.', tags: ['wifi'] },
    { id: 'certificate', lang: 'ru', questions: ['Как получить сертификат участника?', 'Когда придет сертификат?'], answer: 'В течение 3 дней.' },
    { id: 'parking', lang: 'ru', questions: ['Есть ли парковка?', 'Где оставить машину?'], answer: 'Бесплатная парковка у входа.' },
    { id: 'refund', lang: 'ru', questions: ['Как вернуть деньги за билет?', 'Правила возврата билетов'], answer: 'Через «Мои билеты».' },
    { id: 'tickets', lang: 'ru', questions: ['Как купить билет?', 'Где оплатить билет?'], answer: 'В боте: «Купить билет».' },
    { id: 'schedule', lang: 'ru', questions: ['Где посмотреть программу мероприятия?', 'Какое расписание докладов?'], answer: 'На странице события.' },
    { id: 'wifi-en', lang: 'en', questions: ['What is the wifi password?', 'Is there internet at the venue?'], answer: 'Network Guest, password 1234.' },
    { id: 'parking-en', lang: 'en', questions: ['Is there parking?', 'Where can I park my car?'], answer: 'Free parking by the entrance.' },
    { id: 'certificate-en', lang: 'en', questions: ['How do I get a certificate of attendance?'], answer: 'Within 3 days.' },
  ],
};

const faq = createFaqMatcher(kb);
const answer = (q: string, lang?: 'ru' | 'en') => faq.match(q, lang ? { lang } : {}).entry?.id ?? null;

describe('FAQ matcher', () => {
  it('answers the question it was written for', () => {
    const m = faq.match('Какой пароль от wifi?');
    expect(m.entry?.id).toBe('wifi');
    expect(m.entry?.answer).toBe('Сеть Guest, пароль 1234.');
    expect(m.confidence).toBe(1);
  });

  it('understands other word forms (morphology)', () => {
    expect(answer('регистрация на мероприятия')).toBe('register');
    expect(answer('зарегистрируйте меня на мероприятие')).toBe('register');
    expect(answer('сертификаты участникам')).toBe('certificate');
    expect(answer('где парковаться')).toBe('parking');
  });

  it('tolerates typos', () => {
    expect(answer('сертефикат участника')).toBe('certificate');
    expect(answer('парковкаа есть?')).toBe('parking');
    expect(answer('wifi pasword')).toBe('wifi-en');
    expect(answer('certficate of attendance')).toBe('certificate-en');
  });

  it('knows domain synonyms and colloquial words', () => {
    expect(answer('пароль от вайфая')).toBe('wifi');
    expect(answer('как записаться на митап')).toBe('register');
    expect(answer('хочу зарегаться на конфу')).toBe('register');
    expect(answer('можно где-то поставить тачку?')).toBe('parking');
    expect(answer('how do I get my money back for a ticket', 'ru')).toBe('refund');
  });

  it('does not care about word order or politeness', () => {
    expect(answer('wifi пароль какой')).toBe('wifi');
    expect(answer('Добрый день! Подскажите пожалуйста, а где программа мероприятия?')).toBe('schedule');
  });

  it('answers very short questions', () => {
    expect(answer('вайфай')).toBe('wifi');
    expect(answer('парковка?')).toBe('parking');
    expect(answer('сертификат')).toBe('certificate');
  });

  it('rejects out-of-scope questions, even ones that share a word with an entry', () => {
    for (const q of ['какая погода завтра', 'как приготовить борщ', 'где купить билет на поезд до казани', 'как зарегистрировать ИП',
      'как сделать ssl сертификат', 'how to cook pasta', 'forgot my email password', '', '?!', 'пожалуйста']) {
      expect(answer(q), q).toBe(null);
    }
  });

  it('keeps the best confidence and offers "did you mean" candidates when it does not answer', () => {
    const m = faq.match('билет');
    expect(m.entry).toBe(null);
    expect(m.confidence).toBeGreaterThan(0);
    expect(m.candidates.map((c) => c.entry.id)).toEqual(expect.arrayContaining(['refund', 'tickets']));
    expect(m.candidates.length).toBeLessThanOrEqual(3);
    for (const c of m.candidates) expect(c.confidence).toBeLessThanOrEqual(m.confidence);
  });

  it('never lists the answered entry among the candidates', () => {
    const m = faq.match('где посмотреть программу докладов');
    expect(m.entry?.id).toBe('schedule');
    expect(m.candidates.map((c) => c.entry.id)).not.toContain('schedule');
  });

  it('answers in the language of the question, or the one it is told', () => {
    expect(answer('Is there parking?')).toBe('parking-en');
    expect(answer('Есть ли парковка?')).toBe('parking');
    expect(answer('wifi', 'ru')).toBe('wifi');
    expect(answer('wifi', 'en')).toBe('wifi-en');
    expect(detectLang('где wifi?')).toBe('ru');
    expect(detectLang('wifi?')).toBe('en');
    expect(detectLang('123')).toBe(null);
  });

  it('falls back to every entry when none is in the asker\'s language', () => {
    const ruOnly = createFaqMatcher({ entries: kb.entries.filter((e) => e.lang === 'ru') });
    expect(ruOnly.match('wifi password').entry?.id).toBe('wifi');
  });

  it('lets the gate be changed without rebuilding the index', () => {
    const question = 'где можно оставить машину на парковке';
    expect(faq.match(question).entry?.id).toBe('parking');
    const strict = faq.withGate({ minConfidence: 0.99 });
    expect(strict.match(question).entry).toBe(null);
    expect(strict.match('Есть ли парковка?').entry?.id).toBe('parking');
  });

  it('handles a huge question in bounded work', () => {
    const m = faq.match('парковка '.repeat(100_000));
    expect(m.entry?.id).toBe('parking');
  });

  it('treats every listed stop word as a stop word, however long the lists grow', () => {
    const n = new Normalizer();
    const listed = `${STOP_WORDS_RU} ${STOP_WORDS_EN}`.split(/\s+/).filter((w) => /^[\p{L}]+$/u.test(w));
    expect(listed.length).toBeGreaterThan(300);
    expect(listed.filter((w) => !n.isStopWord(w.replace(/ё/g, 'е')))).toEqual([]);
  });

  it('refuses a synonyms list that puts one word in two groups', () => {
    expect(() => new Normalizer({ extraSynonyms: [{ concept: 'mine', words: ['вайфай'] }] })).toThrow(FaqError);
    expect(() => new Normalizer({ extraSynonyms: [{ concept: 'mine', words: ['вайфай'] }] })).toThrow(/already belongs to "wifi"/);
  });

  it('accepts an organisation\'s own synonyms', () => {
    const own: KnowledgeBase = { entries: [...kb.entries, { id: 'about', questions: ['Что такое «Точка»?'], answer: 'Сообщество.' }] };
    expect(createFaqMatcher(own).match('что за tochka community').entry).toBe(null);
    const custom = createFaqMatcher(own, { extraSynonyms: [{ concept: 'brand', words: ['точка', 'tochka', 'tochka community'] }] });
    expect(custom.match('что за tochka community', { lang: 'ru' }).entry?.id).toBe('about');
  });
});
