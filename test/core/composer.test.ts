import { describe, expect, it } from 'vitest';
import { Bot, BotError, Composer, FILTER_QUERIES, type FilterQuery, type Context } from '../../src/core/index.ts';
import { plainText } from '../../src/core/format.ts';
import type { HandleOutput } from '../../src/core/handling.ts';
import type { InboundEvent } from '../../src/core/model.ts';
import { makeInput, press, start, text } from './turns.ts';

const texts = (out: HandleOutput) => out.outbox.map((o) => plainText(o.message.text ?? ''));
const run = (bot: Bot, event: InboundEvent) => bot.handle(makeInput(event));

describe('composer routing', () => {
  it('runs middleware in registration order until one does not call next', async () => {
    const bot = new Bot();
    const seen: string[] = [];
    bot.use(async (_ctx, next) => {
      seen.push('a:before');
      await next();
      seen.push('a:after');
    });
    bot.on('message', (ctx) => {
      seen.push('b');
      ctx.reply('first');
    });
    bot.on('message', () => seen.push('never'));
    const out = await run(bot, text('hi'));
    expect(seen).toEqual(['a:before', 'b', 'a:after']);
    expect(texts(out)).toEqual(['first']);
  });

  it('an event nobody handles produces no reply and no state change', async () => {
    const bot = new Bot();
    bot.command('help', (ctx) => ctx.reply('help'));
    const out = await run(bot, { kind: 'system', event: 'broadcast.started' });
    expect(out).toEqual({ outbox: [] });
  });

  it('refuses a next() called twice', async () => {
    const bot = new Bot();
    bot.use(async (_ctx, next) => {
      await next();
      await next();
    });
    await expect(run(bot, text('x'))).rejects.toThrow(/next\(\) called multiple times/);
  });

  it('nests routes: a child composer only sees what its parent let through', async () => {
    const bot = new Bot();
    bot.on('message').hears(/^hi$/i, (ctx) => ctx.reply(`hello (${ctx.match[0]})`));
    expect(texts(await run(bot, text('Hi')))).toEqual(['hello (Hi)']);
    expect(texts(await run(bot, press('hi')))).toEqual([]);
  });

  it('accepts another composer as middleware', async () => {
    const feature = new Composer<Context>();
    feature.command('ping', (ctx) => ctx.reply('pong'));
    const bot = new Bot();
    bot.use(feature);
    expect(texts(await run(bot, text('/ping')))).toEqual(['pong']);
  });
});

describe('filter queries', () => {
  const events: Record<string, InboundEvent> = {
    text: text('hello'),
    image: { kind: 'message', images: [{ ref: 'f1', width: 10, height: 20 }] },
    contact: { kind: 'message', contact: { phone: '+100' } },
    location: { kind: 'message', location: { latitude: 1, longitude: 2 } },
    blocked: { kind: 'membership', status: 'blocked' },
  };

  it('narrow ctx.event to what the query guarantees', async () => {
    const bot = new Bot();
    bot.on('message:image', (ctx) => ctx.reply(`image ${ctx.event.images[0].width}`));
    bot.on('message:contact', (ctx) => ctx.reply(`phone ${ctx.event.contact.phone}`));
    bot.on('message:location', (ctx) => ctx.reply(`at ${ctx.event.location.latitude}`));
    bot.on('message:text', (ctx) => ctx.reply(`text ${ctx.event.text.length}`));
    bot.on('membership:blocked', (ctx) => ctx.reply(`status ${ctx.event.status}`));
    expect(texts(await run(bot, events.text))).toEqual(['text 5']);
    expect(texts(await run(bot, events.image))).toEqual(['image 10']);
    expect(texts(await run(bot, events.contact))).toEqual(['phone +100']);
    expect(texts(await run(bot, events.location))).toEqual(['at 1']);
    expect(texts(await run(bot, events.blocked))).toEqual(['status blocked']);
    expect(texts(await run(bot, { kind: 'message', images: [] }))).toEqual([]);
  });

  it('an array of queries matches any of them', async () => {
    const bot = new Bot();
    bot.on(['message:contact', 'message:location'], (ctx) => ctx.reply(ctx.event.contact ? 'contact' : 'location'));
    expect(texts(await run(bot, events.contact))).toEqual(['contact']);
    expect(texts(await run(bot, events.location))).toEqual(['location']);
    expect(texts(await run(bot, events.text))).toEqual([]);
  });

  it('a bad query is a compile error and, from untyped code, a run-time error listing the permitted values', () => {
    const bot = new Bot();
    // @ts-expect-error 'message:photo' is not a filter query
    expect(() => bot.on('message:photo', () => undefined)).toThrow(/Invalid filter query 'message:photo'/);
    const fromConfig = 'mesage' as FilterQuery;
    try {
      bot.on(fromConfig, () => undefined);
      expect.unreachable();
    } catch (err: unknown) {
      const message = (err as Error).message;
      for (const q of FILTER_QUERIES) expect(message).toContain(q);
      expect(message).toContain('message:image');
    }
  });

  it('filter narrows with a type guard; drop is its opposite; predicates may be async', async () => {
    const bot = new Bot();
    bot.filter(async (ctx) => ctx.person.language === 'ru', (ctx) => ctx.reply('ru'));
    bot.drop((ctx) => ctx.event.kind === 'action', (ctx) => ctx.reply('not an action'));
    expect(texts(await bot.handle(makeInput(text('x'), { person: { id: 1, name: null, language: 'ru', identities: [] } })))).toEqual(['ru']);
    expect(texts(await run(bot, text('x')))).toEqual(['not an action']);
    expect(texts(await run(bot, press('x')))).toEqual([]);
  });

  it('branch picks one side and both continue with next', async () => {
    const bot = new Bot();
    bot.branch(
      (ctx) => ctx.event.kind === 'start',
      (ctx, next) => (ctx.reply('welcome'), next()),
      (ctx, next) => (ctx.reply('hmm'), next()),
    );
    bot.use((ctx) => ctx.reply('after'));
    expect(texts(await run(bot, start()))).toEqual(['welcome', 'after']);
    expect(texts(await run(bot, text('x')))).toEqual(['hmm', 'after']);
  });
});

describe('commands, hears, actions, start, system', () => {
  it('command matches /name and /name@bot, case-insensitively, with the arguments in match', async () => {
    const bot = new Bot();
    bot.command(['help', 'info'], (ctx) => ctx.reply(`help [${ctx.match}]`));
    expect(texts(await run(bot, text('/help')))).toEqual(['help []']);
    expect(texts(await run(bot, text('/HELP@switchboard_bot  topics please ')))).toEqual(['help [topics please]']);
    expect(texts(await run(bot, text('/info x')))).toEqual(['help [x]']);
    expect(texts(await run(bot, text('/helpme')))).toEqual([]);
    expect(texts(await run(bot, text('help')))).toEqual([]);
    expect(() => bot.command('bad name', () => undefined)).toThrow(/Invalid command name/);
  });

  it('hears matches a whole string ignoring case, or a RegExp with its groups', async () => {
    const bot = new Bot();
    bot.hears('good morning', (ctx) => ctx.reply(`string ${ctx.match}`));
    bot.hears(/^order (\d+)$/g, (ctx) => ctx.reply(`order ${ctx.match[1]}`));
    expect(texts(await run(bot, text('  Good Morning ')))).toEqual(['string Good Morning']);
    // A /g RegExp keeps lastIndex between calls; matching twice proves it is reset.
    expect(texts(await run(bot, text('order 12')))).toEqual(['order 12']);
    expect(texts(await run(bot, text('order 34')))).toEqual(['order 34']);
    expect(texts(await run(bot, text('good morning to you')))).toEqual([]);
  });

  it('action by id matches the id and id:data with the data in match; an exact payload only itself', async () => {
    const bot = new Bot();
    bot.action('event:42', (ctx) => ctx.reply(`the 42nd [${ctx.match}]`));
    bot.action('event', (ctx) => ctx.reply(`event [${ctx.match}]`));
    bot.action(/^ticket:(\d+):(close|open)$/, (ctx) => ctx.reply(`ticket ${ctx.match[1]} ${ctx.match[2]}`));
    bot.on('action', (ctx) => ctx.reply(`unknown ${ctx.event.payload}`));
    expect(texts(await run(bot, press('event:42')))).toEqual(['the 42nd []']);
    expect(texts(await run(bot, press('event:7')))).toEqual(['event [7]']);
    expect(texts(await run(bot, press('event')))).toEqual(['event []']);
    expect(texts(await run(bot, press('events')))).toEqual(['unknown events']);
    expect(texts(await run(bot, press('ticket:5:close')))).toEqual(['ticket 5 close']);
    expect(texts(await run(bot, press('ticket:5:delete')))).toEqual(['unknown ticket:5:delete']);
  });

  it('start runs for a start event and for a typed /start, with the deep-link payload in match', async () => {
    const bot = new Bot();
    bot.start((ctx) => ctx.reply(`start [${ctx.match}]`));
    expect(texts(await run(bot, start()))).toEqual(['start []']);
    expect(texts(await run(bot, start('ref-5')))).toEqual(['start [ref-5]']);
    expect(texts(await run(bot, text('/start ref-6')))).toEqual(['start [ref-6]']);
  });

  it('system routes system events by name', async () => {
    const bot = new Bot();
    bot.system('auth.code_requested', (ctx) => ctx.reply(`code for ${JSON.stringify(ctx.event.data)}`));
    bot.system(/^broadcast\./, (ctx) => ctx.reply(`broadcast ${ctx.match[0]}`));
    expect(texts(await run(bot, { kind: 'system', event: 'auth.code_requested', data: { code: '1234' } }))).toEqual([
      'code for {"code":"1234"}',
    ]);
    expect(texts(await run(bot, { kind: 'system', event: 'broadcast.done' }))).toEqual(['broadcast broadcast.']);
  });
});

describe('errors', () => {
  it('an unhandled handler error rejects handle with a BotError carrying the context and the cause', async () => {
    const bot = new Bot();
    const cause = new Error('database is down');
    bot.on('message', () => {
      throw cause;
    });
    const err = await run(bot, text('x')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BotError);
    const botError = err as BotError;
    expect(botError.cause).toBe(cause);
    expect(botError.error).toBe(cause);
    expect(botError.info).toEqual({ messageId: 1, bot: 'demo', platform: 'webchat', conversationId: 3, personId: 7, eventKind: 'message' });
    expect(botError.message).toContain('database is down');
    expect(botError.ctx.event).toEqual(text('x'));
    // The context stays out of what a logger copies from the error.
    expect(Object.keys(botError)).not.toContain('ctx');
  });

  it('an error boundary handles errors inside it, but not errors after it', async () => {
    const bot = new Bot();
    const caught: string[] = [];
    const safe = bot.errorBoundary(
      (err, next) => {
        caught.push((err.error as Error).message);
        err.ctx.reply('sorry');
        return err.ctx.event.kind === 'action' ? next() : undefined;
      },
      (ctx, next) => (ctx.event.kind === 'message' ? Promise.reject(new Error('inside')) : next()),
    );
    safe.on('action', () => {
      throw new Error('inside, added later');
    });
    bot.on('action', () => {
      throw new Error('outside');
    });

    expect(texts(await run(bot, text('x')))).toEqual(['sorry']);
    await expect(run(bot, press('p'))).rejects.toThrow(/outside/);
    expect(caught).toEqual(['inside', 'inside, added later']);
  });

  it('bot.catch handles any failure; the turn keeps what was queued', async () => {
    const bot = new Bot();
    bot.catch((err) => err.ctx.reply(`sorry: ${(err.error as Error).message}`));
    bot.on('message', (ctx) => {
      ctx.reply('working on it');
      ctx.state.step = 'half';
      throw new Error('boom');
    });
    const out = await run(bot, text('x'));
    expect(texts(out)).toEqual(['working on it', 'sorry: boom']);
    expect(out.state).toEqual({ step: 'half' });
  });

  it('a failing bot.catch rejects with a BotError', async () => {
    const bot = new Bot();
    bot.catch(() => {
      throw new Error('handler broke');
    });
    bot.use(() => {
      throw new Error('first');
    });
    await expect(run(bot, text('x'))).rejects.toSatisfy((e: unknown) => e instanceof BotError && /handler broke/.test(e.message));
  });

  it('a state that JSON cannot hold is a BotError, not a silent loss', async () => {
    const bot = new Bot();
    bot.use((ctx) => {
      ctx.state.big = 10n as never;
    });
    await expect(run(bot, text('x'))).rejects.toThrow(/not JSON-serialisable/);
  });

  it('refuses an empty reply', async () => {
    const bot = new Bot();
    bot.use((ctx) => ctx.reply(''));
    await expect(run(bot, text('x'))).rejects.toThrow(/empty message/);
  });
});

describe('handle output', () => {
  it('returns the new state, the person changes and every kind of outbox item', async () => {
    const bot = new Bot();
    bot.on('action', async (ctx) => {
      ctx.state.visits = 1;
      ctx.person.name = 'Ann';
      ctx.reply('hi', { buttons: [[{ type: 'action', label: 'A', payload: 'a' }]] });
      ctx.send(99, { text: 'to the operators' });
      ctx.edit(5, 'edited');
      await ctx.editOrReply('menu page 2');
    });
    const input = makeInput({ kind: 'action', payload: 'p', sourceMessageId: 'tg-10' }, {
      state: { kept: true },
      resolveOutbound: async (id) => (id === 'tg-10' ? 41 : undefined),
    });
    const out = await bot.handle(input);
    expect(out.state).toEqual({ kept: true, visits: 1 });
    expect(out.person).toEqual({ name: 'Ann' });
    expect(out.outbox).toEqual([
      { message: { text: 'hi', buttons: [[{ type: 'action', label: 'A', payload: 'a' }]] } },
      { message: { text: 'to the operators' }, conversationId: 99 },
      { message: { text: 'edited' }, editOf: 5 },
      { message: { text: 'menu page 2' }, editOf: 41 },
    ]);
    // The runtime's input is left as it was.
    expect(input.state).toEqual({ kept: true });
    expect(input.person.name).toBeNull();
  });

  it('editOrReply replies when the pressed message is unknown', async () => {
    const bot = new Bot();
    bot.on('action', (ctx) => ctx.editOrReply('fresh'));
    const out = await run(bot, press('p'));
    expect(out.outbox).toEqual([{ message: { text: 'fresh' } }]);
  });
});
