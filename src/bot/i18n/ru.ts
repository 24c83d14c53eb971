/** Russian texts of the demo bot: the same keys as `en.ts`. */
import type { Translation } from '../../core/i18n.ts';
import type { en } from './en.ts';

export const ru: Translation<typeof en> = {
  start: {
    hello: 'Здравствуйте, {name}!',
    hello_anonymous: 'Здравствуйте!',
    intro: 'Я демонстрационный бот {bot}. Я отвечаю одинаково в Telegram, ВКонтакте, Messenger и веб-чате.',
    remembered: 'Я помню, что вы из города {city}.',
    button_profile: 'Расскажите о себе',
    button_help: 'Что вы умеете?',
    button_docs: 'Документация',
  },
  help: {
    text:
      'Вот что я умею:\n' +
      '• запомнить ваше имя и город — /profile\n' +
      '• процитировать всё, что вы напишете\n' +
      '• посмотреть на присланные изображения\n' +
      '• принять ваш номер телефона или местоположение\n\n' +
      '/start покажет меню, /cancel прервёт вопрос.',
  },
  profile: {
    ask_name: 'Как вас зовут?',
    ask_city: 'Приятно познакомиться, {name}! Из какого вы города?',
    too_long: 'Слишком длинно: пожалуйста, не больше {max} символов.',
    saved: 'Спасибо, {name}! Я запомню, что вы из города {city}.',
  },
  cancel: {
    done: 'Хорошо, остановимся. Отправьте /start, чтобы увидеть меню.',
    nothing: 'Отменять нечего. Отправьте /start, чтобы увидеть меню.',
  },
  echo: {
    you_said: 'Вы написали: «{text}»',
  },
  image: {
    received:
      '{count, plural, =1 {Получил ваше изображение.} one {Получил # изображение.} few {Получил # изображения.} many {Получил # изображений.} other {Получил # изображения.}}',
    size: 'Размер первого — {width}×{height} пикселей.',
  },
  file: {
    received:
      '{count, plural, =1 {Получил ваш файл {name}.} one {Получил # файл.} few {Получил # файла.} many {Получил # файлов.} other {Получил # файла.}}',
  },
  contact: {
    thanks: 'Спасибо! Ваш номер телефона: {phone}.',
  },
  location: {
    received: 'Ваше местоположение: {latitude}, {longitude}.',
  },
  action: {
    expired: 'Эта кнопка больше не действует. Отправьте /start, чтобы увидеть меню.',
  },
  membership: {
    welcome_back: 'С возвращением! Отправьте /start, чтобы увидеть меню.',
  },
};
