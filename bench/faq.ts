/**
 * FAQ matcher benchmark: builds an index of 10,000 synthetic but realistic entries (Russian and
 * English questions about tickets, certificates, venues… of thousands of differently named
 * events in many cities) and measures how long one question takes to answer.
 *
 * Questions are drawn like real traffic: variants of knowledge-base questions with words dropped,
 * reordered or misspelt, and out-of-scope questions. The target is a median under 5 ms.
 *
 * Run alone: `node --import tsx bench/faq.ts`.
 */
import { pathToFileURL } from 'node:url';
import { createFaqMatcher, type FaqEntry, type KnowledgeBase } from '../src/features/faq/index.ts';

/** Deterministic generator, so every run measures the same work. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RU = {
  ask: ['Как', 'Где', 'Когда', 'Можно ли', 'Сколько стоит', 'Подскажите, как', 'Где можно'],
  verbs: ['получить', 'купить', 'найти', 'оформить', 'вернуть', 'изменить', 'скачать', 'посмотреть', 'забронировать', 'оплатить', 'передать', 'отменить'],
  objects: ['билет', 'сертификат', 'парковку', 'презентацию', 'запись доклада', 'расписание', 'пропуск', 'скидку', 'счет', 'место в гардеробе',
    'трансляцию', 'бейдж', 'материалы', 'пароль от wifi', 'фотографии', 'обед', 'трансфер', 'гостиницу'],
  kinds: ['конференцию', 'митап', 'семинар', 'хакатон', 'лекцию', 'воркшоп', 'форум', 'фестиваль'],
  cities: ['Москве', 'Казани', 'Новосибирске', 'Екатеринбурге', 'Самаре', 'Перми', 'Томске', 'Сочи', 'Владивостоке', 'Калининграде'],
};
const EN = {
  ask: ['How do I', 'Where can I', 'When can I', 'Can I', 'How much does it cost to', 'Is it possible to'],
  verbs: ['get', 'buy', 'find', 'book', 'return', 'change', 'download', 'watch', 'pay for', 'transfer', 'cancel', 'renew'],
  objects: ['a ticket', 'the certificate', 'parking', 'the slides', 'the recording', 'the schedule', 'a badge', 'a discount', 'an invoice',
    'the livestream', 'the materials', 'the wifi password', 'the photos', 'lunch', 'a shuttle', 'a hotel room'],
  kinds: ['conference', 'meetup', 'seminar', 'hackathon', 'lecture', 'workshop', 'forum', 'festival'],
  cities: ['London', 'Berlin', 'Lisbon', 'Warsaw', 'Prague', 'Vienna', 'Madrid', 'Dublin', 'Riga', 'Tallinn'],
};
const SYLLABLES_RU = ['ко', 'да', 'ри', 'тех', 'нет', 'вер', 'сто', 'лан', 'мир', 'зор', 'кит', 'бел', 'гра', 'фон', 'дев', 'опс'];
const SYLLABLES_EN = ['dev', 'ops', 'con', 'fest', 'ria', 'tech', 'lab', 'nova', 'byte', 'core', 'flux', 'sky', 'ora', 'zen', 'mint', 'hub'];
const OOS_RU = ['какая погода завтра', 'курс доллара на сегодня', 'как приготовить борщ', 'где ближайшая аптека', 'посоветуйте ноутбук',
  'как оформить ипотеку', 'кто выиграл матч', 'расписание электричек до тулы', 'как выучить английский быстро', 'где купить цветы'];
const OOS_EN = ['weather tomorrow', 'how to cook pasta', 'nearest pharmacy', 'recommend a laptop', 'exchange rate of euro',
  'who won the match', 'train timetable to oxford', 'how to learn guitar', 'where to buy flowers', 'capital of australia'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function name(r: () => number, syllables: string[]): string {
  const n = 2 + Math.floor(r() * 2);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, syllables);
  return s[0].toUpperCase() + s.slice(1);
}

/** A knowledge base of `count` entries, half Russian, half English. */
export function syntheticKnowledgeBase(count: number, seed = 1): KnowledgeBase {
  const r = rng(seed);
  const entries: FaqEntry[] = [];
  for (let i = 0; i < count; i++) {
    const lang = i % 2 === 0 ? 'ru' : 'en';
    const L = lang === 'ru' ? RU : EN;
    const event = `${pick(r, L.kinds)} ${name(r, lang === 'ru' ? SYLLABLES_RU : SYLLABLES_EN)} ${2024 + Math.floor(r() * 3)}`;
    const city = pick(r, L.cities);
    const verb = pick(r, L.verbs);
    const object = pick(r, L.objects);
    const questions =
      lang === 'ru'
        ? [`${pick(r, L.ask)} ${verb} ${object} на ${event}?`, `${object} ${event} в ${city}`, `Можно ли ${verb} ${object}, если я иду на ${event}?`]
        : [`${pick(r, L.ask)} ${verb} ${object} for the ${event}?`, `${object} ${event} in ${city}`, `Can I ${verb} ${object} at the ${event}?`];
    entries.push({
      id: `e${i}`,
      lang,
      questions,
      answer: `${lang === 'ru' ? 'Ответ' : 'Answer'} ${i}: ${event}, ${city}.`,
      tags: [object.replace(/^(a|an|the) /, ''), city],
    });
  }
  return { entries };
}

function typo(r: () => number, word: string): string {
  if (word.length < 5) return word;
  const i = 1 + Math.floor(r() * (word.length - 2));
  return r() < 0.5 ? word.slice(0, i) + word.slice(i + 1) : word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

/** Questions like real traffic: perturbed knowledge-base questions and out-of-scope ones. */
export function syntheticQuestions(kb: KnowledgeBase, count: number, seed = 2): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (r() < 0.3) {
      out.push(pick(r, r() < 0.5 ? OOS_RU : OOS_EN));
      continue;
    }
    const words = pick(r, pick(r, kb.entries).questions).split(' ');
    const kind = r();
    if (kind < 0.3 && words.length > 3) words.splice(Math.floor(r() * words.length), 1);
    else if (kind < 0.6) words.reverse();
    else {
      const j = Math.floor(r() * words.length);
      words[j] = typo(r, words[j]);
    }
    out.push(words.join(' '));
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Builds a 10,000-entry index and measures ask latency (ms) and memory (MB). */
export async function benchFaq(): Promise<Record<string, number>> {
  const kb = syntheticKnowledgeBase(10_000);
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const matcher = createFaqMatcher(kb);
  const buildMs = performance.now() - t0;
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  const questions = syntheticQuestions(kb, 3_000);
  for (const q of questions.slice(0, 300)) matcher.match(q); // warm-up: JIT and stem cache
  const times: number[] = [];
  let answered = 0;
  for (const q of questions) {
    const start = performance.now();
    const m = matcher.match(q);
    times.push(performance.now() - start);
    if (m.entry) answered++;
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    faq_entries: kb.entries.length,
    faq_build_ms: Math.round(buildMs),
    faq_index_heap_mb: Math.round(heapMb),
    faq_ask_median_ms: round(quantile(times, 0.5)),
    faq_ask_p99_ms: round(quantile(times, 0.99)),
    faq_ask_max_ms: round(times[times.length - 1]),
    faq_answered_share: round(answered / questions.length),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchFaq();
  for (const [key, value] of Object.entries(result)) process.stdout.write(`${key}: ${value}\n`);
}
