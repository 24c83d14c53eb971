/**
 * Sending: sendMessage, editMessageText, sendPhoto, sendDocument, answerCallbackQuery, getFile and
 * sendChatAction, with Telegram's checks in Telegram's order: the chat (unknown, never started,
 * blocked), the content (HTML, lengths, reply markup), then the rate limits.
 */
import type { File, InlineKeyboardMarkup, Message, MessageEntity } from '@grammyjs/types';
import { HtmlParseError, parseTelegramHtml } from './html.ts';
import { CAPTION_LIMIT, TEXT_LIMIT, checkRate, errors, parseReplyMarkup, type ReplyMarkup } from './limits.ts';
import { documentOf, photoOf, resolveMedia, storeDocument, storePhoto } from './media.ts';
import { chatId, optionalInt, optionalJson, optionalString, requiredString, type Params } from './params.ts';
import type { MethodContext, MethodTable } from './bot-api.ts';
import type { ChatState, StoredMessage } from './state.ts';

const FILE_DOWNLOAD_LIMIT = 20 * 1024 * 1024;
const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);

function targetChat({ world, bot, params }: MethodContext): ChatState {
  const id = chatId(params);
  const chat = bot.chats.get(id);
  if (!chat) throw world.users.has(id) ? errors.cantInitiate() : errors.chatNotFound();
  if (!chat.started) throw errors.cantInitiate();
  if (chat.blocked) throw errors.blocked();
  return chat;
}

/** Applies parse_mode to text or a caption; MarkdownV2 and Markdown pass through unparsed. */
function format(source: string, params: Params, modeField: string, entitiesField: string): { text: string; entities: MessageEntity[] } {
  const mode = optionalString(params, modeField);
  if (!mode) {
    const entities = optionalJson(params, entitiesField);
    return { text: source, entities: Array.isArray(entities) ? (entities as MessageEntity[]) : [] };
  }
  if (mode.toLowerCase() === 'html') {
    try {
      return parseTelegramHtml(source);
    } catch (err: unknown) {
      if (err instanceof HtmlParseError) throw errors.badRequest(err.message);
      throw err;
    }
  }
  if (mode === 'MarkdownV2' || mode === 'Markdown') return { text: source, entities: [] };
  throw errors.badRequest('unsupported parse_mode');
}

function messageText(params: Params): { text: string; entities: MessageEntity[]; source: string } {
  const source = requiredString(params, 'text', 'message text is empty');
  const { text, entities } = format(source, params, 'parse_mode', 'entities');
  if (text.trim() === '') throw errors.badRequest('message text is empty');
  if (text.length > TEXT_LIMIT) throw errors.badRequest('message is too long');
  return { text, entities, source };
}

function caption(params: Params): { caption?: string; caption_entities?: MessageEntity[]; source?: string } {
  const source = optionalString(params, 'caption');
  if (source === undefined || source === '') return {};
  const { text, entities } = format(source, params, 'parse_mode', 'caption_entities');
  if (text.length > CAPTION_LIMIT) throw errors.badRequest('message caption is too long');
  return { caption: text, ...(entities.length ? { caption_entities: entities } : {}), source };
}

/** Only inline keyboards travel with the message object; reply keyboards change the chat. */
const inlineOf = (markup?: ReplyMarkup) => (markup && 'inline_keyboard' in markup ? { reply_markup: markup } : {});

function store(ctx: MethodContext, chat: ChatState, content: Partial<Message>, extra: Omit<StoredMessage, 'message' | 'sentBy' | 'edits'>): Message {
  const message = {
    message_id: chat.nextMessageId++,
    from: ctx.bot.asUser,
    chat: chat.chat,
    date: Math.floor(Date.now() / 1000),
    ...content,
    ...inlineOf(extra.markup),
  } as Message;
  chat.messages.push({ message, sentBy: 'bot', edits: 0, ...extra });
  if (extra.markup && 'keyboard' in extra.markup) chat.keyboard = extra.markup;
  if (extra.markup && 'remove_keyboard' in extra.markup) chat.keyboard = null;
  return message;
}

function sendMessage(ctx: MethodContext): Message {
  const chat = targetChat(ctx);
  const { text, entities, source } = messageText(ctx.params);
  const markup = parseReplyMarkup(ctx.params.reply_markup);
  checkRate(ctx.bot.overall, chat.bucket);
  return store(ctx, chat, { text, ...(entities.length ? { entities } : {}) }, { source, parseMode: optionalString(ctx.params, 'parse_mode'), markup });
}

function editMessageText(ctx: MethodContext): Message {
  const { params } = ctx;
  if (params.inline_message_id !== undefined) throw errors.badRequest('inline messages are not emulated');
  const chat = targetChat(ctx);
  const id = optionalInt(params, 'message_id');
  if (id === undefined) throw errors.badRequest('message identifier is not specified');
  const stored = chat.find(id);
  if (!stored) throw errors.badRequest('message to edit not found');
  if (stored.sentBy !== 'bot') throw errors.badRequest("message can't be edited");
  if (stored.message.text === undefined) throw errors.badRequest('there is no text in the message to edit');
  const { text, entities, source } = messageText(params);
  const markup = parseReplyMarkup(params.reply_markup);
  if (markup && !('inline_keyboard' in markup)) throw errors.badRequest('inline keyboard expected');
  const before = stored.message as Message & { reply_markup?: InlineKeyboardMarkup };
  const same =
    before.text === text &&
    JSON.stringify(before.entities ?? []) === JSON.stringify(entities) &&
    JSON.stringify(before.reply_markup ?? null) === JSON.stringify(markup ?? null);
  if (same) {
    throw errors.badRequest(
      'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    );
  }
  checkRate(ctx.bot.overall, chat.bucket);
  // Without reply_markup an edit removes the inline keyboard, as on Telegram.
  const { reply_markup: _old, entities: _e, ...rest } = before;
  stored.message = { ...rest, text, ...(entities.length ? { entities } : {}), ...(markup ? { reply_markup: markup } : {}), edit_date: Math.floor(Date.now() / 1000) } as Message;
  stored.source = source;
  stored.parseMode = optionalString(params, 'parse_mode');
  stored.markup = markup;
  stored.edits++;
  return stored.message;
}

async function sendPhoto(ctx: MethodContext): Promise<Message> {
  const chat = targetChat(ctx);
  const media = await resolveMedia(ctx.bot, ctx.params.photo, 'photo', 'photo');
  const cap = caption(ctx.params);
  const markup = parseReplyMarkup(ctx.params.reply_markup);
  checkRate(ctx.bot.overall, chat.bucket);
  const photo = 'reused' in media ? photoOf(media.reused) : await storePhoto(ctx.bot, media.upload.bytes);
  const { source, ...captionFields } = cap;
  return store(ctx, chat, { photo, ...captionFields }, { source, parseMode: optionalString(ctx.params, 'parse_mode'), markup });
}

async function sendDocument(ctx: MethodContext): Promise<Message> {
  const chat = targetChat(ctx);
  const media = await resolveMedia(ctx.bot, ctx.params.document, 'document', 'document');
  const cap = caption(ctx.params);
  const markup = parseReplyMarkup(ctx.params.reply_markup);
  checkRate(ctx.bot.overall, chat.bucket);
  const document = 'reused' in media ? documentOf(media.reused) : storeDocument(ctx.bot, media.upload);
  const { source, ...captionFields } = cap;
  return store(ctx, chat, { document, ...captionFields }, { source, parseMode: optionalString(ctx.params, 'parse_mode'), markup });
}

function answerCallbackQuery({ bot, params }: MethodContext): true {
  const id = requiredString(params, 'callback_query_id', 'query is too old and response timeout expired or query ID is invalid');
  const record = bot.callbacks.get(id);
  if (!record || record.answered) throw errors.badRequest('query is too old and response timeout expired or query ID is invalid');
  const text = optionalString(params, 'text');
  if (text && text.length > 200) throw errors.badRequest('MESSAGE_TOO_LONG');
  record.answered = true;
  record.answer = { text, show_alert: params.show_alert === true || params.show_alert === 'true', url: optionalString(params, 'url') };
  return true;
}

function getFile({ bot, params }: MethodContext): File {
  const id = requiredString(params, 'file_id', 'invalid file_id');
  const stored = bot.files.get(id);
  if (!stored) throw errors.badRequest('invalid file_id');
  if (stored.bytes.length > FILE_DOWNLOAD_LIMIT) throw errors.badRequest('file is too big');
  return { file_id: stored.file_id, file_unique_id: stored.file_unique_id, file_size: stored.bytes.length, file_path: stored.file_path };
}

function sendChatAction(ctx: MethodContext): true {
  targetChat(ctx);
  const action = optionalString(ctx.params, 'action');
  if (!action || !CHAT_ACTIONS.has(action)) throw errors.badRequest('wrong parameter action in request');
  return true;
}

export const sendMethods: MethodTable = {
  sendmessage: sendMessage,
  editmessagetext: editMessageText,
  sendphoto: sendPhoto,
  senddocument: sendDocument,
  answercallbackquery: answerCallbackQuery,
  getfile: getFile,
  sendchataction: sendChatAction,
};
