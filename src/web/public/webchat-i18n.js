// The page's own words (the bot's words come from the bot). English and Russian.
const STRINGS = {
  en: {
    title: 'Chat',
    placeholder: 'Type a message…',
    send: 'Send',
    attach: 'Send an image',
    connecting: 'Connecting…',
    reconnecting: 'Connection lost. Reconnecting…',
    online: '',
    conversation: 'Conversation',
    quickReplies: 'Quick replies',
    phoneLabel: 'Your phone number',
    share: 'Share',
    cancel: 'Cancel',
    notSent: 'Not sent',
    tooLong: (n, max) => `The message is ${n} characters long; the limit is ${max}.`,
    tooBig: (max) => `Images may be at most ${max} MiB.`,
    notImage: 'Only PNG, JPEG, GIF and WebP images can be sent.',
    uploadFailed: 'The image could not be uploaded.',
    noLocation: 'Your browser did not share your location.',
    image: 'Image',
    location: (lat, lon) => `📍 ${lat.toFixed(5)}, ${lon.toFixed(5)}`,
    close: 'Close chat',
    open: 'Open chat',
    leave: 'End chat',
    leaveConfirm: 'End the chat? This device will forget the conversation.',
    ended: 'You ended the chat. This device no longer remembers it.',
    restart: 'Start a new chat',
  },
  ru: {
    title: 'Чат',
    placeholder: 'Напишите сообщение…',
    send: 'Отправить',
    attach: 'Отправить изображение',
    connecting: 'Подключение…',
    reconnecting: 'Связь потеряна. Подключаемся снова…',
    online: '',
    conversation: 'Переписка',
    quickReplies: 'Быстрые ответы',
    phoneLabel: 'Ваш номер телефона',
    share: 'Отправить',
    cancel: 'Отмена',
    notSent: 'Не отправлено',
    tooLong: (n, max) => `В сообщении ${n} символов; можно не больше ${max}.`,
    tooBig: (max) => `Изображение должно быть не больше ${max} МиБ.`,
    notImage: 'Можно отправить только PNG, JPEG, GIF или WebP.',
    uploadFailed: 'Не удалось загрузить изображение.',
    noLocation: 'Браузер не передал ваше местоположение.',
    image: 'Изображение',
    location: (lat, lon) => `📍 ${lat.toFixed(5)}, ${lon.toFixed(5)}`,
    close: 'Закрыть чат',
    open: 'Открыть чат',
    leave: 'Завершить чат',
    leaveConfirm: 'Завершить чат? Это устройство забудет переписку.',
    ended: 'Вы завершили чат. Это устройство больше не помнит переписку.',
    restart: 'Начать новый чат',
  },
};

/** The browser's preferred language tag, e.g. `ru-RU`. */
export function browserLanguage() {
  return (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
}

/** Strings for a language tag; English when the language is not translated. */
export function strings(language = browserLanguage()) {
  const base = String(language).toLowerCase().split('-')[0];
  return STRINGS[base] || STRINGS.en;
}
