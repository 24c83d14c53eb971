import { describe, expect, it } from 'vitest';
import { Bot, DIALOG_STATE_KEY, contactButton } from '../../src/core/index.ts';
import { Chat, makeInput, press, start } from './turns.ts';

/** A bot with a two-step dialog and an echo registered BEFORE the dialog is declared. */
function profileBot(): Bot {
  const bot = new Bot();
  bot.start((ctx) => ctx.reply('menu'));
  bot.command('cancel', (ctx) => ctx.reply(ctx.dialog.leave() ? 'cancelled' : 'nothing to cancel'));
  bot.command('profile', (ctx) => ctx.dialog.enter('profile'));
  bot.action('help', (ctx) => ctx.reply('help'));
  bot.on('message:text', (ctx) => ctx.reply(`echo ${ctx.event.text}`));
  bot
    .dialog('profile')
    .ask('name', () => 'Your name?', { validate: (v) => (v.length < 2 ? 'Too short.' : undefined) })
    .ask('city', (_ctx, answers) => `Where do you live, ${answers.name}?`)
    .done((ctx, answers) => {
      ctx.state.profile = answers;
      ctx.person.name = answers.name;
      ctx.reply(`Saved ${answers.name} from ${answers.city}`);
    });
  return bot;
}

describe('dialogs', () => {
  it('keep their position and answers across separate handle() calls with the state passed through JSON', async () => {
    const bot = profileBot();
    const chat = new Chat(bot);
    expect(await chat.say('/profile')).toEqual(['Your name?']);
    expect(chat.state[DIALOG_STATE_KEY]).toEqual({ name: 'profile', step: 'name', answers: {} });

    // A new Bot instance, as after a restart: only the stored JSON carries the dialog on.
    const restarted = chat.restart(profileBot());
    expect(await restarted.say('Ann')).toEqual(['Where do you live, Ann?']);
    expect(restarted.state[DIALOG_STATE_KEY]).toEqual({ name: 'profile', step: 'city', answers: { name: 'Ann' } });

    const last = await restarted.send({ kind: 'message', text: ' Lisbon ' });
    expect(last.outbox.map((o) => o.message.text)).toEqual(['Saved Ann from Lisbon']);
    expect(last.state).toEqual({ profile: { name: 'Ann', city: 'Lisbon' } });
    expect(last.person).toEqual({ name: 'Ann' });
    // The dialog is over: text goes to the ordinary handlers again.
    expect(await restarted.say('hello')).toEqual(['echo hello']);
  });

  it('take the next message before other text handlers, and re-ask an invalid answer with a message', async () => {
    const chat = new Chat(profileBot());
    await chat.say('/profile');
    expect(await chat.say('A')).toEqual(['Too short.', 'Your name?']);
    expect(await chat.say({ kind: 'message', images: [{ ref: 'img' }] })).toEqual([
      'I did not get that. Please answer the question.',
      'Your name?',
    ]);
    expect(chat.state[DIALOG_STATE_KEY]).toMatchObject({ step: 'name', answers: {} });
  });

  it('let commands, start and unrelated buttons through while active', async () => {
    const chat = new Chat(profileBot());
    await chat.say('/profile');
    expect(await chat.say(start())).toEqual(['menu']);
    expect(await chat.say(press('help'))).toEqual(['help']);
    expect(chat.state[DIALOG_STATE_KEY]).toMatchObject({ name: 'profile', step: 'name' });
    expect(await chat.say('/cancel')).toEqual(['cancelled']);
    expect(chat.state).toEqual({});
    expect(await chat.say('/cancel')).toEqual(['nothing to cancel']);
    expect(await chat.say('Ann')).toEqual(['echo Ann']);
  });

  it('take buttons and contacts when a step parses them', async () => {
    const bot = new Bot();
    bot.action(/.*/, (ctx) => ctx.reply('stray button'));
    bot
      .dialog('signup')
      .ask('size', () => ({ text: 'Size?', buttons: [[{ type: 'action', label: 'S', payload: 'size:s' }]] }), {
        parse: (ctx) => (ctx.event.kind === 'action' && ctx.event.payload.startsWith('size:') ? ctx.event.payload.slice(5) : undefined),
      })
      .ask('phone', () => ({ text: 'Phone?', buttons: [[contactButton('Share my number')]] }), {
        parse: (ctx) => (ctx.event.kind === 'message' ? (ctx.event.contact?.phone ?? ctx.event.text) : undefined),
        invalid: () => 'Please share your number.',
      })
      .done((ctx, answers) => ctx.reply(`size ${answers.size}, phone ${answers.phone}`));
    bot.command('signup', (ctx) => ctx.dialog.enter('signup'));

    const chat = new Chat(bot);
    await chat.say('/signup');
    expect(await chat.say(press('other'))).toEqual(['stray button']);
    expect(await chat.say('M')).toEqual(['I did not get that. Please answer the question.', 'Size?']);
    expect(await chat.say(press('size:s'))).toEqual(['Phone?']);
    expect(await chat.say({ kind: 'message', location: { latitude: 1, longitude: 2 } })).toEqual(['Please share your number.', 'Phone?']);
    expect(await chat.say({ kind: 'message', contact: { phone: '+35100' } })).toEqual(['size s, phone +35100']);
  });

  it('drop a position whose dialog or step no longer exists (after a deploy) and route the event normally', async () => {
    const bot = profileBot();
    for (const stale of [{ name: 'gone', step: 'x', answers: {} }, { name: 'profile', step: 'age', answers: {} }, 'garbage']) {
      const out = await bot.handle(makeInput({ kind: 'message', text: 'hi' }, { state: { [DIALOG_STATE_KEY]: stale, kept: 1 } }));
      expect(out.outbox.map((o) => o.message.text)).toEqual(['echo hi']);
      expect(out.state).toEqual({ kept: 1 });
    }
  });

  it('can chain: done may enter another dialog', async () => {
    const bot = new Bot();
    bot.dialog('a').ask('x', () => 'x?').done((ctx) => ctx.dialog.enter('b'));
    bot.dialog('b').ask('y', () => 'y?').done((ctx, { y }) => ctx.reply(`got ${y}`));
    bot.command('go', (ctx) => ctx.dialog.enter('a'));
    const chat = new Chat(bot);
    expect(await chat.say('/go')).toEqual(['x?']);
    expect(await chat.say('1')).toEqual(['y?']);
    expect(await chat.say('2')).toEqual(['got 2']);
  });

  it('refuse unknown names and duplicate declarations', async () => {
    const bot = new Bot();
    bot.dialog('one').ask('q', () => 'q?');
    expect(() => bot.dialog('one')).toThrow(/declared twice/);
    expect(() => bot.dialog('two').ask('k', () => '1').ask('k', () => '2')).toThrow(/already asks 'k'/);
    bot.command('go', (ctx) => ctx.dialog.enter('missing'));
    await expect(bot.handle(makeInput({ kind: 'message', text: '/go' }))).rejects.toThrow(/Unknown dialog 'missing'. Declared: one, two/);
  });
});
