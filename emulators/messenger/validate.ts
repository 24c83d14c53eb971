/**
 * Checks a Send API request against Messenger's rules and turns it into what the person sees.
 * Every violation is the `(#100)` parameter error Graph gives; the window check gives
 * `(#10)` subcode 2018278.
 */
import {
  graphErrors,
  HUMAN_AGENT_WINDOW_MS,
  MESSAGE_TAGS,
  MESSAGING_TYPES,
  PAYLOAD_LIMIT,
  QUICK_REPLIES,
  TEMPLATE_BUTTONS,
  TEMPLATE_TEXT_LIMIT,
  TEXT_LIMIT,
  TITLE_LIMIT,
  WINDOW_MS,
} from './limits.ts';
import type { EmulatedUser, EmulatorState, PageMessage, SentAttachment, ShownButton } from './state.ts';

export interface Upload {
  bytes: Buffer;
  name: string;
  mime: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isHttpUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\/\S+$/.test(v);

export type ParsedSend = Omit<PageMessage, 'mid' | 'at'>;

/** Validates `{recipient, messaging_type, tag?, message}`; the recipient's state is checked later. */
export function parseMessage(state: EmulatorState, fields: Obj, upload?: Upload): ParsedSend {
  const recipient = isObj(fields.recipient) ? fields.recipient.id : undefined;
  if (!nonEmpty(recipient) && typeof recipient !== 'number') throw graphErrors.param('param recipient[id] must be non-empty.');
  const messagingType = fields.messaging_type;
  if (messagingType === undefined) throw graphErrors.param('param messaging_type is required.');
  if (typeof messagingType !== 'string' || !MESSAGING_TYPES.includes(messagingType)) {
    throw graphErrors.param(`param messaging_type must be one of {${MESSAGING_TYPES.join(', ')}}`);
  }
  let tag: string | undefined;
  if (messagingType === 'MESSAGE_TAG') {
    if (typeof fields.tag !== 'string' || !MESSAGE_TAGS.includes(fields.tag)) {
      throw graphErrors.param(`param tag must be one of {${MESSAGE_TAGS.join(', ')}}`);
    }
    tag = fields.tag;
  }
  const message = fields.message;
  if (!isObj(message)) throw graphErrors.param('param message must be non-empty.');

  const out: ParsedSend = { recipient: String(recipient), messagingType, ...(tag ? { tag } : {}) };
  const hasText = message.text !== undefined;
  const hasAttachment = message.attachment !== undefined;
  if (hasText && hasAttachment) throw graphErrors.param('Only one of message[text] and message[attachment] can be specified');
  if (!hasText && !hasAttachment) throw graphErrors.param('param message must contain message[text] or message[attachment]');

  if (hasText) {
    if (!nonEmpty(message.text)) throw graphErrors.param('param message[text] must be a non-empty UTF-8 encoded string');
    if (message.text.length > TEXT_LIMIT) {
      throw graphErrors.param(`Length of param message[text] must be less than or equal to ${TEXT_LIMIT}`);
    }
    out.text = message.text;
  } else {
    const attachment = message.attachment;
    if (!isObj(attachment)) throw graphErrors.param('param message[attachment] must be an object');
    if (attachment.type === 'template') {
      const t = parseButtonTemplate(attachment.payload);
      out.text = t.text;
      out.buttons = t.buttons;
    } else {
      out.attachment = attachmentOf(state, attachment, upload);
    }
  }

  if (message.quick_replies !== undefined) out.quickReplies = parseQuickReplies(message.quick_replies);
  return out;
}

function parseButtonTemplate(payload: unknown): { text: string; buttons: ShownButton[] } {
  if (!isObj(payload)) throw graphErrors.param('param message[attachment][payload] must be an object');
  if (payload.template_type !== 'button') {
    throw graphErrors.param(`template_type ${JSON.stringify(payload.template_type)} is not supported by this emulator (only "button")`);
  }
  if (!nonEmpty(payload.text)) throw graphErrors.param('param message[attachment][payload][text] must be non-empty.');
  if (payload.text.length > TEMPLATE_TEXT_LIMIT) {
    throw graphErrors.param(`Length of param message[attachment][payload][text] must be less than or equal to ${TEMPLATE_TEXT_LIMIT}`);
  }
  const raw = payload.buttons;
  if (!Array.isArray(raw) || raw.length === 0) throw graphErrors.param('param message[attachment][payload][buttons] must be non-empty.');
  if (raw.length > TEMPLATE_BUTTONS) {
    throw graphErrors.param(`param message[attachment][payload][buttons] must have at most ${TEMPLATE_BUTTONS} elements`);
  }
  const buttons = raw.map((b, i): ShownButton => {
    const where = `message[attachment][payload][buttons][${i}]`;
    if (!isObj(b)) throw graphErrors.param(`param ${where} must be an object`);
    if (!nonEmpty(b.title) || b.title.length > TITLE_LIMIT) {
      throw graphErrors.param(`param ${where}[title] must be 1 to ${TITLE_LIMIT} characters`);
    }
    if (b.type === 'postback') {
      if (!nonEmpty(b.payload) || b.payload.length > PAYLOAD_LIMIT) {
        throw graphErrors.param(`param ${where}[payload] must be 1 to ${PAYLOAD_LIMIT} characters`);
      }
      return { kind: 'postback', title: b.title, payload: b.payload };
    }
    if (b.type === 'web_url') {
      if (!isHttpUrl(b.url)) throw graphErrors.param(`param ${where}[url] must be a valid URL`);
      return { kind: 'web_url', title: b.title, url: b.url };
    }
    throw graphErrors.param(`param ${where}[type] must be one of {postback, web_url}`);
  });
  return { text: payload.text, buttons };
}

function parseQuickReplies(raw: unknown): ShownButton[] {
  if (!Array.isArray(raw) || raw.length === 0) throw graphErrors.param('param message[quick_replies] must be a non-empty array');
  if (raw.length > QUICK_REPLIES) throw graphErrors.param(`param message[quick_replies] must have at most ${QUICK_REPLIES} elements`);
  return raw.map((q, i): ShownButton => {
    const where = `message[quick_replies][${i}]`;
    if (!isObj(q)) throw graphErrors.param(`param ${where} must be an object`);
    if (q.content_type === 'user_phone_number') return { kind: 'user_phone_number', title: '' };
    if (q.content_type === 'user_email') return { kind: 'user_email', title: '' };
    if (q.content_type !== 'text') throw graphErrors.param(`param ${where}[content_type] must be one of {text, user_phone_number, user_email}`);
    if (!nonEmpty(q.title) || q.title.length > TITLE_LIMIT) throw graphErrors.param(`param ${where}[title] must be 1 to ${TITLE_LIMIT} characters`);
    const payload = typeof q.payload === 'number' ? String(q.payload) : q.payload;
    if (!nonEmpty(payload) || payload.length > PAYLOAD_LIMIT) {
      throw graphErrors.param(`param ${where}[payload] must be 1 to ${PAYLOAD_LIMIT} characters`);
    }
    return { kind: 'quick_reply', title: q.title, payload };
  });
}

/** An image/file/audio/video attachment by URL, by attachment_id, or uploaded as `filedata`. */
export function attachmentOf(state: EmulatorState, attachment: Obj, upload?: Upload): SentAttachment {
  const type = attachment.type;
  if (type !== 'image' && type !== 'file' && type !== 'audio' && type !== 'video') {
    throw graphErrors.param('param message[attachment][type] must be one of {image, audio, video, file, template}');
  }
  const payload = isObj(attachment.payload) ? attachment.payload : {};
  if (upload) {
    const url = state.storeFile(upload.bytes, upload.mime, upload.name);
    return { type, url, name: upload.name, mime: upload.mime, size: upload.bytes.length };
  }
  if (payload.attachment_id !== undefined) {
    const saved = state.attachments.get(String(payload.attachment_id));
    if (!saved) throw graphErrors.param('Attachment ID is invalid');
    return { ...saved, type };
  }
  if (!isHttpUrl(payload.url)) throw graphErrors.param('param message[attachment][payload][url] must be a valid URL');
  return { type, url: payload.url };
}

/** Outside 24 h only a tag lets a message through; HUMAN_AGENT for at most 7 days. */
export function checkWindow(user: EmulatedUser, messagingType: string, tag: string | undefined, now: number): void {
  const age = user.lastUserMessageAt === null ? Infinity : now - user.lastUserMessageAt;
  if (messagingType !== 'MESSAGE_TAG') {
    if (age >= WINDOW_MS) throw graphErrors.outsideWindow();
    return;
  }
  if (tag === 'HUMAN_AGENT' && age > HUMAN_AGENT_WINDOW_MS) throw graphErrors.outsideWindow();
}
