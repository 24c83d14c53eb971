/**
 * The demo bot: the default logic until the product's features arrive. It greets with a menu,
 * learns the person's name and city in a short dialog, quotes text back, and acknowledges
 * images, files, contacts and locations — in English or Russian, the same on every connector.
 */
import { Bot } from '../core/bot.ts';
import { action, urlButton } from '../core/buttons.ts';
import type { Context } from '../core/context.ts';
import { bold, italic, type Span } from '../core/format.ts';
import { I18n } from '../core/i18n.ts';
import type { OutgoingMessage } from '../core/model.ts';
import { en } from './i18n/en.ts';
import { ru } from './i18n/ru.ts';

/** What the demo bot keeps per conversation. */
export interface DemoState {
  profile?: { name: string; city: string };
}

export interface DemoOptions {
  /** Where the "Documentation" button leads. */
  docsUrl?: string;
}

export const DEFAULT_DOCS_URL = 'https://github.com/switchboard-bots/switchboard#readme';
/** Longest name or city the dialog accepts. */
export const MAX_ANSWER = 64;

type DemoContext = Context<DemoState>;

export function createDemoBot(options: DemoOptions = {}): Bot<DemoState> {
  const docsUrl = options.docsUrl ?? DEFAULT_DOCS_URL;
  const bot = new Bot<DemoState>({ i18n: new I18n({ en, ru }) });

  const menu = (ctx: DemoContext): OutgoingMessage => {
    const name = ctx.state.profile?.name ?? ctx.person.name;
    const lines = [
      name ? ctx.t('start.hello', { name }) : ctx.t('start.hello_anonymous'),
      ctx.t('start.intro', { bot: bold('Switchboard') }),
    ];
    if (ctx.state.profile) lines.push(ctx.t('start.remembered', { city: ctx.state.profile.city }));
    return {
      text: joinLines(lines),
      buttons: [
        [action(ctx.t('start.button_profile'), 'profile')],
        [action(ctx.t('start.button_help'), 'help')],
        [urlButton(ctx.t('start.button_docs'), docsUrl)],
      ],
    };
  };
  const help = (ctx: DemoContext) => ctx.reply(ctx.t('help.text'), { buttons: [[action(ctx.t('start.button_profile'), 'profile')]] });
  const profile = (ctx: DemoContext) => ctx.dialog.enter('profile');
  const notTooLong = (value: string, ctx: DemoContext) =>
    value.length > MAX_ANSWER ? ctx.t('profile.too_long', { max: MAX_ANSWER }) : undefined;

  // Opening the bot starts afresh: a half-answered question is dropped.
  bot.start((ctx) => {
    ctx.dialog.leave();
    ctx.reply(menu(ctx));
  });
  bot.command('help', help);
  bot.action('help', help);
  bot.command('profile', profile);
  bot.action('profile', profile);
  bot.command('cancel', (ctx) => ctx.reply(ctx.t(ctx.dialog.leave() ? 'cancel.done' : 'cancel.nothing')));

  bot
    .dialog('profile')
    .ask('name', (ctx) => ctx.t('profile.ask_name'), { validate: notTooLong })
    .ask('city', (ctx, answers) => ctx.t('profile.ask_city', { name: answers.name }), { validate: notTooLong })
    .done((ctx, { name, city }) => {
      ctx.state.profile = { name, city };
      ctx.person.name = name;
      ctx.reply(ctx.t('profile.saved', { name: bold(name), city: bold(city) }));
    });

  // A person who blocked the bot cannot be reached: saying anything would only fail.
  bot.on('membership:blocked', () => undefined);
  bot.on('membership:allowed', (ctx) => ctx.reply(ctx.t('membership.welcome_back')));

  bot.on('message:image', (ctx) => {
    const images = ctx.event.images;
    const lines: Array<string | Span[]> = [ctx.t('image.received', { count: images.length })];
    const { width, height } = images[0];
    if (width && height) lines.push(ctx.t('image.size', { width: bold(String(width)), height: bold(String(height)) }));
    ctx.reply(joinLines(lines));
  });
  bot.on('message:file', (ctx) => {
    const files = ctx.event.files;
    ctx.reply(ctx.t('file.received', { count: files.length, name: italic(files[0].name ?? '') }));
  });
  bot.on('message:contact', (ctx) => ctx.reply(ctx.t('contact.thanks', { phone: bold(ctx.event.contact.phone) })));
  bot.on('message:location', (ctx) => {
    const { latitude, longitude } = ctx.event.location;
    ctx.reply(ctx.t('location.received', { latitude: latitude.toFixed(5), longitude: longitude.toFixed(5) }));
  });
  bot.on('message:text', (ctx) => ctx.reply(ctx.t('echo.you_said', { text: italic(ctx.event.text) })));

  // Buttons of an older version of the bot, or of a message long gone.
  bot.on('action', (ctx) => ctx.reply(ctx.t('action.expired')));
  return bot;
}

/** Joins translated lines (plain or formatted) with line breaks into one rich text. */
function joinLines(lines: Array<string | Span[]>): Span[] {
  const out: Span[] = [];
  lines.forEach((line, i) => {
    for (const span of [...(i > 0 ? [{ text: '\n' }] : []), ...(typeof line === 'string' ? [{ text: line }] : line)]) {
      const last = out[out.length - 1];
      const plain = (s: Span) => !s.bold && !s.italic && !s.href;
      if (last && plain(last) && plain(span)) out[out.length - 1] = { text: last.text + span.text };
      else out.push(span);
    }
  });
  return out;
}
