/** English texts of the demo bot. `ru.ts` has the same keys (checked by the compiler and a test). */
export const en = {
  start: {
    hello: 'Hello, {name}!',
    hello_anonymous: 'Hello!',
    intro: 'I am the {bot} demo bot. I answer the same way on Telegram, VK, Messenger and the web chat.',
    remembered: 'I remember that you are from {city}.',
    button_profile: 'Tell me about yourself',
    button_help: 'What can you do?',
    button_docs: 'Documentation',
  },
  help: {
    text:
      'Here is what I can do:\n' +
      '• remember your name and city — /profile\n' +
      '• quote back whatever you write\n' +
      '• look at the images you send\n' +
      '• take your phone number or location\n\n' +
      '/start shows the menu, /cancel stops a question.',
  },
  profile: {
    ask_name: 'What is your name?',
    ask_city: 'Nice to meet you, {name}! Which city are you from?',
    too_long: 'That is too long: please keep it under {max} characters.',
    saved: 'Thank you, {name}! I will remember that you are from {city}.',
  },
  cancel: {
    done: 'All right, let us stop here. Send /start to see the menu.',
    nothing: 'There is nothing to cancel. Send /start to see the menu.',
  },
  echo: {
    you_said: 'You said: «{text}»',
  },
  image: {
    received: '{count, plural, =1 {Got your image.} other {Got # images.}}',
    size: 'The first one is {width}×{height} pixels.',
  },
  file: {
    received: '{count, plural, =1 {Got your file {name}.} other {Got # files.}}',
  },
  contact: {
    thanks: 'Thank you! Your phone number is {phone}.',
  },
  location: {
    received: 'Your location: {latitude}, {longitude}.',
  },
  action: {
    expired: 'This button is no longer active. Send /start to see the menu.',
  },
  membership: {
    welcome_back: 'Welcome back! Send /start to see the menu.',
  },
};
