/**
 * Telegram Update → InboundUpdate. `/start [payload]` is a start; other commands stay text;
 * photos keep their largest size; a contact is the sender's own only when Telegram says so
 * (`contact.user_id == from.id`); a callback query is an action; my_chat_member in a private chat
 * is the person blocking (kicked) or allowing (member) the bot. Anything else is ignored with
 * a reason for the log.
 */
import type { CallbackQuery, ChatMemberUpdated, Message, Update, User } from '@grammyjs/types';
import type { Attachment, InboundEvent, InboundUpdate, MessageEvent, Sender } from '../../core/model.ts';

export type Normalised =
  | { update: InboundUpdate; callbackQueryId?: string }
  | { ignored: string; callbackQueryId?: string };

export interface NormaliseOptions {
  bot: string;
}

/** Update kinds the connector asks Telegram for (allowed_updates). */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

function sender(user: User): Sender {
  return {
    platformUserId: String(user.id),
    name: [user.first_name, user.last_name].filter((s) => typeof s === 'string' && s).join(' ') || undefined,
    ...(typeof user.username === 'string' && user.username ? { username: user.username } : {}),
    ...(typeof user.language_code === 'string' && user.language_code ? { language: user.language_code } : {}),
  };
}

const START_RE = /^\/start(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

function attachments(m: Message): Pick<MessageEvent, 'images' | 'files'> {
  const images: Attachment[] = [];
  const files: Attachment[] = [];
  if (m.photo?.length) {
    // Sizes come smallest first, but pick by area rather than trust the order.
    const largest = m.photo.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    images.push({ ref: largest.file_id, width: largest.width, height: largest.height, mime: 'image/jpeg', ...(largest.file_size ? { size: largest.file_size } : {}) });
  }
  if (m.document) {
    const d = m.document;
    const att: Attachment = { ref: d.file_id, ...(d.file_name ? { name: d.file_name } : {}), ...(d.mime_type ? { mime: d.mime_type } : {}), ...(d.file_size ? { size: d.file_size } : {}) };
    // An image sent "as a file" (uncompressed) is still an image to the bot (QR scanning).
    if (/^image\/(png|jpeg|webp|gif|bmp)$/.test(d.mime_type ?? '')) images.push(att);
    else files.push(att);
  }
  for (const media of [m.video, m.audio, m.voice, m.animation, m.video_note]) {
    if (!media) continue;
    const { file_id, file_size } = media;
    const mime = 'mime_type' in media ? media.mime_type : undefined;
    const name = 'file_name' in media && typeof media.file_name === 'string' ? media.file_name : undefined;
    files.push({ ref: file_id, ...(mime ? { mime } : {}), ...(name ? { name } : {}), ...(file_size ? { size: file_size } : {}) });
  }
  return { ...(images.length ? { images } : {}), ...(files.length ? { files } : {}) };
}

function messageEvent(m: Message): InboundEvent | null {
  if (m.text !== undefined) {
    const start = START_RE.exec(m.text);
    if (start) return { kind: 'start', ...(start[1]?.trim() ? { payload: start[1].trim() } : {}) };
  }
  const event: MessageEvent = { kind: 'message' };
  const text = m.text ?? m.caption;
  if (text) event.text = text;
  Object.assign(event, attachments(m));
  if (m.contact && m.from) {
    const c = m.contact;
    event.contact = {
      phone: c.phone_number,
      firstName: c.first_name,
      ...(c.last_name ? { lastName: c.last_name } : {}),
      own: c.user_id !== undefined && c.user_id === m.from.id,
    };
  }
  const location = m.location ?? m.venue?.location;
  if (location) event.location = { latitude: location.latitude, longitude: location.longitude };
  if (m.reply_to_message) event.replyTo = String(m.reply_to_message.message_id);
  const { kind: _kind, replyTo: _replyTo, ...content } = event;
  return Object.keys(content).length ? event : null;
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const optString = (v: unknown) => v === undefined || typeof v === 'string';
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Types of the fields this module reads; anything else is a malformed (fuzzed or future) payload. */
function wellFormedMessage(m: Message): boolean {
  const photosOk = m.photo === undefined || (Array.isArray(m.photo) && m.photo.every((p) => typeof p?.file_id === 'string' && isFinite(p.width) && isFinite(p.height)));
  const files = [m.document, m.video, m.audio, m.voice, m.animation, m.video_note].filter((f) => f !== undefined);
  return (
    isId(m.message_id) &&
    isId(m.chat?.id) &&
    (m.from === undefined || isId(m.from?.id)) &&
    optString(m.text) &&
    optString(m.caption) &&
    photosOk &&
    files.every((f) => typeof f?.file_id === 'string') &&
    (m.contact === undefined || typeof m.contact?.phone_number === 'string') &&
    (m.location === undefined || (isFinite(m.location?.latitude) && isFinite(m.location?.longitude))) &&
    (m.venue === undefined || (isFinite(m.venue?.location?.latitude) && isFinite(m.venue?.location?.longitude)))
  );
}

function fromMessage(update: Update, m: Message, opts: NormaliseOptions): Normalised {
  if (typeof m !== 'object' || !wellFormedMessage(m)) return { ignored: 'malformed message' };
  if (!m.from) return { ignored: 'message without a sender (channel post)' };
  if (m.from.is_bot) return { ignored: 'message from a bot' };
  const chatId = String(m.chat.id);
  const event = messageEvent(m);
  if (!event) return { ignored: 'message with nothing the bot handles (sticker, poll, service message...)' };
  return {
    update: {
      platform: 'telegram',
      bot: opts.bot,
      dedupKey: String(update.update_id),
      chatId,
      sender: sender(m.from),
      event,
      platformMessageId: String(m.message_id),
      raw: update,
    },
  };
}

function fromCallback(update: Update, q: CallbackQuery, opts: NormaliseOptions): Normalised {
  if (typeof q !== 'object' || typeof q.id !== 'string' || !isId(q.from?.id) || !optString(q.data)) return { ignored: 'malformed callback query' };
  if (q.message !== undefined && !isId(q.message?.chat?.id)) return { ignored: 'malformed callback query' };
  const callbackQueryId = q.id;
  if (q.data === undefined) return { ignored: 'callback query without data (game)', callbackQueryId };
  const chatId = String(q.message?.chat.id ?? q.from.id);
  return {
    callbackQueryId,
    update: {
      platform: 'telegram',
      bot: opts.bot,
      dedupKey: String(update.update_id),
      chatId,
      sender: sender(q.from),
      event: { kind: 'action', payload: q.data, ...(q.message ? { sourceMessageId: String(q.message.message_id) } : {}) },
      raw: update,
    },
  };
}

function fromMembership(update: Update, m: ChatMemberUpdated, opts: NormaliseOptions): Normalised {
  if (typeof m !== 'object' || !isId(m.chat?.id) || !isId(m.from?.id) || typeof m.new_chat_member?.status !== 'string') {
    return { ignored: 'malformed my_chat_member' };
  }
  if (m.chat.type !== 'private') return { ignored: `bot membership changed in a ${m.chat.type} chat` };
  const status = m.new_chat_member.status;
  const event = status === 'kicked' ? 'blocked' : status === 'member' ? 'allowed' : null;
  if (!event) return { ignored: `membership status ${status}` };
  return {
    update: {
      platform: 'telegram',
      bot: opts.bot,
      dedupKey: String(update.update_id),
      chatId: String(m.chat.id),
      sender: sender(m.from),
      event: { kind: 'membership', status: event },
      raw: update,
    },
  };
}

/** Checks the minimum shape of an Update (the rest is read defensively). */
export function isUpdate(body: unknown): body is Update {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/**
 * Normalises one Update. Never throws on odd input: a payload the connector cannot read is
 * `ignored` with the reason.
 */
export function normaliseUpdate(update: Update, opts: NormaliseOptions): Normalised {
  try {
    if (update.message) return fromMessage(update, update.message, opts);
    if (update.callback_query) return fromCallback(update, update.callback_query, opts);
    if (update.my_chat_member) return fromMembership(update, update.my_chat_member, opts);
    if (update.edited_message) return { ignored: 'edited message' };
    const kind = Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
    return { ignored: `update kind ${kind}` };
  } catch (err: unknown) {
    // A payload with the right keys but the wrong shapes (fuzzing, a future API change).
    return { ignored: `malformed update: ${(err as Error).message}` };
  }
}
