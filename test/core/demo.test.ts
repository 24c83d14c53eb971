import { describe, expect, it } from 'vitest';
import { DEFAULT_DOCS_URL, MAX_ANSWER, createDemoBot } from '../../src/bot/demo.ts';
import { plainText, toHtml } from '../../src/core/format.ts';
import { Chat, press, start } from './turns.ts';

/** What a person reads, per language. */
const LANGS = {
  en: {
    tag: 'en-GB',
    greeting: 'Hello!\nI am the Switchboard demo bot. I answer the same way on Telegram, VK, Messenger and the web chat.',
    greetingKnown:
      'Hello, Ann!\nI am the Switchboard demo bot. I answer the same way on Telegram, VK, Messenger and the web chat.\nI remember that you are from Lisbon.',
    buttons: ['Tell me about yourself', 'What can you do?', 'Documentation'],
    helpStart: 'Here is what I can do:',
    askName: 'What is your name?',
    tooLong: `That is too long: please keep it under ${MAX_ANSWER} characters.`,
    askCity: 'Nice to meet you, Ann! Which city are you from?',
    saved: 'Thank you, <b>Ann</b>! I will remember that you are from <b>Lisbon</b>.',
    cancelled: 'All right, let us stop here. Send /start to see the menu.',
    echo: 'You said: «<i>hello &lt;there&gt;</i>»',
    twoImages: 'Got 2 images.\nThe first one is <b>1280</b>×<b>720</b> pixels.',
    oneImage: 'Got your image.',
    fiveImages: 'Got 5 images.',
    contact: 'Thank you! Your phone number is <b>+351 21 000 0000</b>.',
    location: 'Your location: 38.72230, -9.13930.',
    expired: 'This button is no longer active. Send /start to see the menu.',
    welcomeBack: 'Welcome back! Send /start to see the menu.',
    invalid: 'I did not get that. Please answer the question.',
  },
  ru: {
    tag: 'ru-RU',
    greeting: 'Здравствуйте!\nЯ демонстрационный бот Switchboard. Я отвечаю одинаково в Telegram, ВКонтакте, Messenger и веб-чате.',
    greetingKnown:
      'Здравствуйте, Ann!\nЯ демонстрационный бот Switchboard. Я отвечаю одинаково в Telegram, ВКонтакте, Messenger и веб-чате.\nЯ помню, что вы из города Lisbon.',
    buttons: ['Расскажите о себе', 'Что вы умеете?', 'Документация'],
    helpStart: 'Вот что я умею:',
    askName: 'Как вас зовут?',
    tooLong: `Слишком длинно: пожалуйста, не больше ${MAX_ANSWER} символов.`,
    askCity: 'Приятно познакомиться, Ann! Из какого вы города?',
    saved: 'Спасибо, <b>Ann</b>! Я запомню, что вы из города <b>Lisbon</b>.',
    cancelled: 'Хорошо, остановимся. Отправьте /start, чтобы увидеть меню.',
    echo: 'Вы написали: «<i>hello &lt;there&gt;</i>»',
    twoImages: 'Получил 2 изображения.\nРазмер первого — <b>1280</b>×<b>720</b> пикселей.',
    oneImage: 'Получил ваше изображение.',
    fiveImages: 'Получил 5 изображений.',
    contact: 'Спасибо! Ваш номер телефона: <b>+351 21 000 0000</b>.',
    location: 'Ваше местоположение: 38.72230, -9.13930.',
    expired: 'Эта кнопка больше не действует. Отправьте /start, чтобы увидеть меню.',
    welcomeBack: 'С возвращением! Отправьте /start, чтобы увидеть меню.',
    invalid: 'Не понял ответ. Пожалуйста, ответьте на вопрос.',
  },
};

const html = (out: Awaited<ReturnType<Chat['send']>>) => out.outbox.map((o) => toHtml(o.message.text ?? ''));

for (const [lang, say] of Object.entries(LANGS)) {
  describe(`demo bot in ${lang}`, () => {
    it('greets with buttons to the dialog, the help and the docs', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      const out = await chat.send(start());
      expect(out.outbox).toHaveLength(1);
      const { text, buttons } = out.outbox[0].message;
      expect(plainText(text ?? '')).toBe(say.greeting);
      expect(buttons?.flat().map((b) => b.label)).toEqual(say.buttons);
      expect(buttons?.flat().map((b) => (b.type === 'action' ? b.payload : b.type === 'url' ? b.url : b.type))).toEqual([
        'profile',
        'help',
        DEFAULT_DOCS_URL,
      ]);
      expect(out.state).toBeUndefined();

      const help = await chat.send(press('help'));
      expect(plainText(help.outbox[0].message.text ?? '')).toMatch(new RegExp(`^${say.helpStart}`));
    });

    it('learns name and city in a dialog that survives restarts, then remembers them', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      expect(await chat.say(press('profile'))).toEqual([say.askName]);
      expect(await chat.say('x'.repeat(MAX_ANSWER + 1))).toEqual([say.tooLong, say.askName]);
      expect(await chat.say({ kind: 'message', images: [{ ref: 'p' }] })).toEqual([say.invalid, say.askName]);

      // Every turn runs on a fresh bot with the state read back from JSON, as after a restart.
      const second = chat.restart(createDemoBot());
      expect(await second.say('Ann')).toEqual([say.askCity]);
      const third = second.restart(createDemoBot());
      const done = await third.send({ kind: 'message', text: 'Lisbon' });
      expect(html(done)).toEqual([say.saved]);
      expect(done.state).toEqual({ profile: { name: 'Ann', city: 'Lisbon' } });
      expect(done.person).toEqual({ name: 'Ann' });

      expect(await third.restart(createDemoBot()).say(start())).toEqual([say.greetingKnown]);
    });

    it('lets /cancel and /start interrupt the dialog', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      await chat.say('/profile');
      expect(await chat.say('/cancel')).toEqual([say.cancelled]);
      expect(chat.state).toEqual({});
      await chat.say('/profile');
      expect(await chat.say(start())).toEqual([say.greeting]);
      expect(chat.state).toEqual({});
    });

    it('quotes free text back in italics, with the text escaped', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      expect(html(await chat.send({ kind: 'message', text: 'hello <there>' }))).toEqual([say.echo]);
    });

    it('acknowledges images with their count and the first one’s size', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      const two = await chat.send({ kind: 'message', images: [{ ref: 'a', width: 1280, height: 720 }, { ref: 'b' }], text: 'caption' });
      expect(html(two)).toEqual([say.twoImages]);
      expect(await chat.say({ kind: 'message', images: [{ ref: 'a' }] })).toEqual([say.oneImage]);
      const five = Array.from({ length: 5 }, (_, i) => ({ ref: String(i) }));
      expect(await chat.say({ kind: 'message', images: five })).toEqual([say.fiveImages]);
    });

    it('thanks for a contact and shows a location', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      expect(html(await chat.send({ kind: 'message', contact: { phone: '+351 21 000 0000', own: true } }))).toEqual([say.contact]);
      expect(await chat.say({ kind: 'message', location: { latitude: 38.7223, longitude: -9.1393 } })).toEqual([say.location]);
    });

    it('answers a stale button in an orderly way', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      expect(await chat.say(press('event:42'))).toEqual([say.expired]);
    });

    it('stays silent for a person who blocked the bot, and welcomes them back', async () => {
      const chat = new Chat(createDemoBot(), say.tag);
      expect((await chat.send({ kind: 'membership', status: 'blocked' })).outbox).toEqual([]);
      expect(await chat.say({ kind: 'membership', status: 'allowed' })).toEqual([say.welcomeBack]);
    });
  });
}

describe('demo bot language', () => {
  it('falls back to English for an unknown or missing language', async () => {
    for (const tag of ['de-DE', null]) {
      const chat = new Chat(createDemoBot(), tag);
      expect(await chat.say('/cancel')).toEqual(['There is nothing to cancel. Send /start to see the menu.']);
    }
  });

  it('ignores system events it does not know', async () => {
    const chat = new Chat(createDemoBot());
    expect((await chat.send({ kind: 'system', event: 'broadcast.started' })).outbox).toEqual([]);
  });
});
