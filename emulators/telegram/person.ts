/**
 * What a person does on the emulated Telegram, turned into the updates Telegram would produce:
 * messages (text, commands, photos, documents, contacts, locations), button presses (inline →
 * callback_query; reply keyboard → its text, or a contact / location for request buttons), and
 * blocking or unblocking the bot (my_chat_member). Also the person's view of the chat.
 */
import type { CallbackQuery, ChatMemberUpdated, InlineKeyboardButton, KeyboardButton, Message, MessageEntity, User } from '@grammyjs/types';
import { storeDocument, storePhoto } from './media.ts';
import { randomId, type BotState, type ChatState, type StoredMessage } from './state.ts';

const now = () => Math.floor(Date.now() / 1000);

function publicUser(chat: ChatState): User {
  const { phone: _phone, ...user } = chat.user;
  return user;
}

function member(chat: ChatState, bot: BotState, status: 'member' | 'kicked'): ChatMemberUpdated {
  const botMember = status === 'member' ? { status, user: bot.asUser } : { status, user: bot.asUser, until_date: 0 };
  const previous = status === 'member' ? { status: 'kicked' as const, user: bot.asUser, until_date: 0 } : { status: 'member' as const, user: bot.asUser };
  return { chat: chat.chat, from: publicUser(chat), date: now(), old_chat_member: previous, new_chat_member: botMember } as ChatMemberUpdated;
}

/** Blocks (or unblocks) the bot; returns false when nothing changed. */
export function setBlocked(bot: BotState, chat: ChatState, blocked: boolean): boolean {
  if (chat.blocked === blocked) return false;
  chat.blocked = blocked;
  bot.enqueue('my_chat_member', member(chat, bot, blocked ? 'kicked' : 'member'));
  return true;
}

/** Stores a person's message and queues the update. Writing to a blocked bot unblocks it first. */
export function personSends(bot: BotState, chat: ChatState, content: Partial<Message>): Message {
  if (chat.blocked) setBlocked(bot, chat, false);
  chat.started = true;
  const message = { message_id: chat.nextMessageId++, from: publicUser(chat), chat: chat.chat, date: now(), ...content } as Message;
  chat.messages.push({ message, sentBy: 'user', edits: 0 });
  bot.enqueue('message', message as Message & { from: User; chat: typeof chat.chat });
  return message;
}

export function textContent(text: string): Partial<Message> {
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  const entities: MessageEntity[] = command ? [{ type: 'bot_command', offset: 0, length: command[0].length }] : [];
  return { text, ...(entities.length ? { entities } : {}) };
}

export async function photoContent(bot: BotState, bytes: Buffer, caption?: string): Promise<Partial<Message>> {
  return { photo: await storePhoto(bot, bytes), ...(caption ? { caption } : {}) };
}

export function documentContent(bot: BotState, bytes: Buffer, name: string, mime: string, caption?: string): Partial<Message> {
  return { document: storeDocument(bot, { bytes, name, mime }), ...(caption ? { caption } : {}) };
}

/** The person's own contact, as a contact-request button shares it (user_id set). */
export function ownContact(chat: ChatState): Partial<Message> {
  const { phone, first_name, last_name, id } = chat.user;
  return { contact: { phone_number: phone, first_name, ...(last_name ? { last_name } : {}), user_id: id } };
}

/** The person looked for a button that is not on the screen (answered 404 by the user API). */
export class NotShown extends Error {
  readonly statusCode = 404;
}

type Pressed =
  | { kind: 'callback'; update_id: number | null; callback_query_id: string }
  | { kind: 'url'; url: string }
  | { kind: 'reply'; message: Message };

function inlineButtons(stored: StoredMessage): InlineKeyboardButton[] {
  const markup = (stored.message as { reply_markup?: { inline_keyboard?: InlineKeyboardButton[][] } }).reply_markup;
  return markup?.inline_keyboard?.flat() ?? [];
}

/** Labels shown in the chat (for error messages that help a test author). */
function shownLabels(chat: ChatState): string[] {
  const inline = chat.messages.filter((m) => m.sentBy === 'bot').flatMap((m) => inlineButtons(m).map((b) => b.text));
  return [...new Set([...inline, ...(chat.keyboard?.keyboard.flat().map(labelOf) ?? [])])];
}

const labelOf = (b: KeyboardButton) => (typeof b === 'string' ? b : b.text);

/**
 * Presses the button with this label (or this callback data) on the latest bot message showing
 * it: an inline button queues a callback_query; a reply-keyboard button sends its text, the
 * person's contact, or a location.
 */
export function press(
  bot: BotState,
  chat: ChatState,
  target: { label?: string; data?: string; messageId?: number; location?: { latitude: number; longitude: number } },
): Pressed {
  const matches = (b: { text: string; callback_data?: string }) =>
    (target.label !== undefined && b.text === target.label) || (target.data !== undefined && b.callback_data === target.data);
  for (let i = chat.messages.length - 1; i >= 0; i--) {
    const stored = chat.messages[i];
    if (stored.sentBy !== 'bot' || (target.messageId !== undefined && stored.message.message_id !== target.messageId)) continue;
    const button = inlineButtons(stored).find((b) => matches(b as { text: string; callback_data?: string }));
    if (button && 'url' in button && button.url) return { kind: 'url', url: button.url };
    if (button && 'callback_data' in button) {
      if (chat.blocked) setBlocked(bot, chat, false);
      const query: CallbackQuery = {
        id: BigInt.asUintN(63, BigInt(`0x${Buffer.from(randomId(8), 'base64url').toString('hex')}`)).toString(),
        from: publicUser(chat),
        message: stored.message,
        chat_instance: String(-(bot.user.id % 1_000_000) * 1_000_000 - chat.user.id),
        data: button.callback_data,
      };
      bot.callbacks.set(query.id, { query, at: Date.now(), answered: false });
      const update = bot.enqueue('callback_query', query);
      return { kind: 'callback', update_id: update?.update_id ?? null, callback_query_id: query.id };
    }
    // A reply keyboard can be pressed while it is the one shown.
    if (stored.markup && 'keyboard' in stored.markup && chat.keyboard === stored.markup && target.label !== undefined) {
      const key = stored.markup.keyboard.flat().find((b) => labelOf(b) === target.label);
      if (key) return { kind: 'reply', message: pressKey(bot, chat, key, target.location) };
    }
  }
  throw new NotShown(`no button ${JSON.stringify(target.label ?? target.data)} is shown; shown: ${JSON.stringify(shownLabels(chat))}`);
}

function pressKey(bot: BotState, chat: ChatState, key: KeyboardButton, location?: { latitude: number; longitude: number }): Message {
  if (typeof key !== 'string' && 'request_contact' in key && key.request_contact) return personSends(bot, chat, ownContact(chat));
  if (typeof key !== 'string' && 'request_location' in key && key.request_location) {
    return personSends(bot, chat, { location: location ?? { latitude: 55.7558, longitude: 37.6173 } });
  }
  return personSends(bot, chat, textContent(labelOf(key)));
}
