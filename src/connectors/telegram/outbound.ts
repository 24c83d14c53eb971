/**
 * RenderPlan → Bot API calls. Each rendered part becomes one message (sendMessage with HTML,
 * sendPhoto or sendDocument with an HTML caption), buttons become an inline keyboard or a reply
 * keyboard with contact / location requests, and every call waits for the rate limiter first.
 * Platform errors become DeliveryErrors the gateway acts on.
 */
import type { InlineKeyboardButton, KeyboardButton, Message } from '@grammyjs/types';
import type { Logger } from 'pino';
import { DeliveryError, type Delivery, type SendResult } from '../connector.ts';
import { toHtml, visibleLength, splitRichText, type Span } from '../../core/format.ts';
import type { Button, OutgoingMedia } from '../../core/model.ts';
import type { RenderedPart } from '../../core/render.ts';
import { TelegramApiError, TelegramNetworkError, type TelegramApi, type Params } from './api.ts';
import type { MediaCache } from './media-cache.ts';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
/** Telegram refuses empty text; a message of buttons only carries this blank (not whitespace) character. */
const BLANK = '\u2800';

type ReplyMarkup = Params<'sendMessage'>['reply_markup'];

export interface OutboundDeps {
  api: TelegramApi;
  /** Waits for the rate limiter before one API call into `chatId`. */
  acquire(chatId: string): Promise<void>;
  media: MediaCache;
  log: Logger;
}

function inlineButton(b: Button): InlineKeyboardButton | null {
  if (b.type === 'action') return { text: b.label, callback_data: b.payload };
  if (b.type === 'url') return { text: b.label, url: b.url };
  return null; // requests exist only on reply keyboards; render never puts them inline
}

function keyboardButton(b: Button): KeyboardButton | null {
  if (b.type === 'contact') return { text: b.label, request_contact: true };
  if (b.type === 'location') return { text: b.label, request_location: true };
  if (b.type === 'action') return { text: b.label };
  return null; // a reply keyboard cannot open a URL
}

/**
 * The reply_markup of a part. A pressed reply-keyboard button comes back as its label in plain
 * text; the runtime records the keyboard and maps the label back (src/runtime/reply-keyboard.ts).
 */
export function markupOf(part: RenderedPart, chatId: string, log: Logger): ReplyMarkup {
  if (part.buttons?.length) {
    if (part.keyboard === 'reply') {
      const keyboard = part.buttons.map((r) => r.map(keyboardButton).filter((b): b is KeyboardButton => b !== null)).filter((r) => r.length);
      if (keyboard.length < part.buttons.length || part.buttons.some((r) => r.some((b) => b.type === 'url'))) {
        log.warn({ chatId }, 'telegram: URL buttons cannot sit on a reply keyboard; dropped');
      }
      const oneTime = part.buttons.some((r) => r.some((b) => b.type === 'contact' || b.type === 'location'));
      return { keyboard, resize_keyboard: true, ...(oneTime ? { one_time_keyboard: true } : {}) };
    }
    const inline = part.buttons.map((r) => r.map(inlineButton).filter((b): b is InlineKeyboardButton => b !== null)).filter((r) => r.length);
    return { inline_keyboard: inline };
  }
  if (part.removeKeyboard) return { remove_keyboard: true };
  return undefined;
}

const htmlOf = (spans: Span[]) => {
  const html = toHtml(spans);
  return visibleLength(spans) === 0 || spans.every((s) => s.text.trim() === '') ? BLANK : html;
};

const isWrongFile = (err: unknown) =>
  err instanceof TelegramApiError && err.errorCode === 400 && /wrong file identifier|wrong remote file|file reference/i.test(err.description);

const isUneditable = (err: unknown) =>
  err instanceof TelegramApiError && err.errorCode === 400 && /message to edit not found|can't be edited|no text in the message/i.test(err.description);

const isNotModified = (err: unknown) => err instanceof TelegramApiError && err.errorCode === 400 && /message is not modified/i.test(err.description);

/** Maps a failure to what the gateway does next (wait, back off, or give up and maybe mark unreachable). */
export function toDeliveryError(err: unknown, deliveredIds: string[]): DeliveryError {
  const base = { platform: 'telegram', deliveredIds, cause: err } as const;
  if (err instanceof DeliveryError) return new DeliveryError(err.message, { ...base, kind: err.kind, code: err.code, retryAfterMs: err.retryAfterMs, unreachable: err.unreachable });
  if (err instanceof TelegramApiError) {
    const { errorCode: code, description } = err;
    if (code === 429) return new DeliveryError(description, { ...base, kind: 'rate-limited', code, retryAfterMs: Math.max(1, err.retryAfter ?? 1) * 1000 });
    // 403: blocked, deactivated, kicked from the group, never started the bot — nobody to talk to.
    if (code === 403) return new DeliveryError(description, { ...base, kind: 'permanent', code, unreachable: true });
    if (code === 400 && /chat not found|user not found|PEER_ID_INVALID|user is deactivated|CHAT_WRITE_FORBIDDEN/i.test(description)) {
      return new DeliveryError(description, { ...base, kind: 'permanent', code, unreachable: true });
    }
    if (code >= 500) return new DeliveryError(description, { ...base, kind: 'transient', code });
    return new DeliveryError(description, { ...base, kind: 'permanent', code });
  }
  if (err instanceof TelegramNetworkError) return new DeliveryError(err.message, { ...base, kind: 'transient', code: err.code });
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ENOENT' || e?.code === 'EACCES') return new DeliveryError(`media file unreadable: ${e.code}`, { ...base, kind: 'permanent', code: e.code });
  return new DeliveryError(String(e?.message ?? err), { ...base, kind: 'transient', code: 'internal' });
}

/** Sends one rendered part as one message; returns its message_id. */
async function sendPart(deps: OutboundDeps, chatId: string, part: RenderedPart): Promise<string> {
  const reply_markup = markupOf(part, chatId, deps.log);
  const media = part.image ?? part.file;
  if (media) return sendMedia(deps, chatId, part.image ? 'image' : 'file', media, reply_markup);
  await deps.acquire(chatId);
  const msg = await deps.api.call('sendMessage', { chat_id: chatId, text: htmlOf(part.text ?? []), parse_mode: 'HTML', reply_markup });
  return String(msg.message_id);
}

async function sendMedia(deps: OutboundDeps, chatId: string, kind: 'image' | 'file', media: OutgoingMedia, markup: ReplyMarkup): Promise<string> {
  const caption = media.caption ? (typeof media.caption === 'string' ? [{ text: media.caption }] : media.caption) : [];
  const captionFits = visibleLength(caption) <= CAPTION_LIMIT;
  const send = async (fresh: boolean): Promise<Message> => {
    const source = await deps.media.source(media, kind, fresh);
    const common = {
      chat_id: chatId,
      ...(caption.length && captionFits ? { caption: toHtml(caption), parse_mode: 'HTML' as const } : {}),
      ...(captionFits ? { reply_markup: markup } : {}),
    };
    await deps.acquire(chatId);
    try {
      const msg: Message =
        kind === 'image'
          ? await deps.api.call('sendPhoto', { ...common, photo: source.value })
          : await deps.api.call('sendDocument', { ...common, document: source.value });
      const fileId = kind === 'image' ? msg.photo?.[msg.photo.length - 1]?.file_id : msg.document?.file_id;
      if (!source.cached) await deps.media.remember(source.key, fileId);
      return msg;
    } catch (err: unknown) {
      // A remembered file_id Telegram no longer accepts: forget it and send the media itself.
      if (source.cached && isWrongFile(err)) {
        await deps.media.forget(source.key);
        return send(true);
      }
      throw err;
    }
  };
  const msg = await send(false);
  if (!captionFits) {
    // A caption too long for Telegram follows the media as text, carrying the buttons.
    const chunks = splitRichText(caption, TEXT_LIMIT);
    for (const [i, chunk] of chunks.entries()) {
      await deps.acquire(chatId);
      await deps.api.call('sendMessage', { chat_id: chatId, text: htmlOf(chunk), parse_mode: 'HTML', ...(i === chunks.length - 1 ? { reply_markup: markup } : {}) });
    }
  }
  return String(msg.message_id);
}

/** Edits the bot's earlier message with a text-only first part; false when it cannot be edited. */
async function editPart(deps: OutboundDeps, chatId: string, messageId: string, part: RenderedPart): Promise<boolean> {
  if (!part.text || part.image || part.file || (part.buttons?.length && part.keyboard === 'reply')) return false;
  const reply_markup = markupOf(part, chatId, deps.log);
  await deps.acquire(chatId);
  try {
    await deps.api.call('editMessageText', {
      chat_id: chatId,
      message_id: Number(messageId),
      text: htmlOf(part.text),
      parse_mode: 'HTML',
      ...(reply_markup && 'inline_keyboard' in reply_markup ? { reply_markup } : {}),
    });
    return true;
  } catch (err: unknown) {
    if (isNotModified(err)) return true;
    if (isUneditable(err)) return false;
    throw err;
  }
}

/**
 * Delivers one outbound message: the plan's parts in order, skipping the first
 * `delivery.skip` parts a previous attempt already delivered. Returns one message id per part
 * sent; throws DeliveryError (with the ids delivered so far) on failure.
 */
export async function sendDelivery(deps: OutboundDeps, delivery: Delivery): Promise<SendResult> {
  const chatId = delivery.conversation.chatId;
  const parts = delivery.plan.parts;
  const skip = Math.max(0, (delivery as { skip?: number }).skip ?? 0);
  const ids: string[] = [];
  try {
    for (let i = skip; i < parts.length; i++) {
      if (i === 0 && delivery.edit && (await editPart(deps, chatId, delivery.edit.platformMessageId, parts[0]))) {
        ids.push(delivery.edit.platformMessageId);
        continue;
      }
      ids.push(await sendPart(deps, chatId, parts[i]));
    }
  } catch (err: unknown) {
    throw toDeliveryError(err, ids);
  }
  return { platformMessageIds: ids };
}
