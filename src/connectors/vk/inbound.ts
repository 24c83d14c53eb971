/**
 * VK community events (Callback API bodies and Bots Long Poll updates share one shape) →
 * InboundUpdate. Pure functions: no I/O, so the fixtures beside the tests pin the mapping.
 *
 * - `message_new`: text, photos (largest size), documents, geo; the Start button's payload
 *   `{"command":"start"}` becomes a StartEvent; a text button's payload an ActionEvent.
 * - `message_event` (callback button): an ActionEvent; the connector answers it afterwards.
 * - `message_allow` / `message_deny`: a MembershipEvent.
 */
import type { Attachment, InboundEvent, InboundUpdate, MessageEvent, Sender } from '../../core/model.ts';

/** One community event as VK sends it. */
export interface VkEvent {
  type: string;
  event_id?: string;
  v?: string;
  group_id?: number;
  secret?: string;
  object?: unknown;
}

/** Why an event produced no update: logged, acknowledged, nothing stored. */
export interface Skipped {
  skip: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

/** VK's `client_info.lang_id` → IETF tag. */
const LANGUAGES: Record<number, string> = { 0: 'ru', 1: 'uk', 2: 'be', 3: 'en', 4: 'es', 5: 'fi', 6: 'de', 7: 'it' };

/** Key under which the connector puts an action's payload into a VK button payload. */
export const ACTION_KEY = 'a';

/**
 * What a button payload means. VK payloads are JSON: ours are `{"a":"<action payload>"}`, the
 * Start button sends `{"command":"start"}`; other bots' habit `{"command":"x"}` and a bare JSON
 * string are read as actions too.
 */
export function decodePayload(payload: unknown): { start: true } | { action: string } | null {
  let value = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch {
      return null;
    }
  }
  if (typeof value === 'string') return value ? { action: value } : null;
  if (!isObj(value)) return null;
  if (typeof value[ACTION_KEY] === 'string') return { action: value[ACTION_KEY] };
  if (value.command === 'start') return { start: true };
  if (typeof value.command === 'string' && value.command) return { action: value.command };
  return null;
}

/**
 * Maps one VK event to an update for the inbox, or says why it is skipped. `groupId` strips the
 * community's own mention (`[club1|@bot] hi` in group chats).
 */
export function normaliseVkEvent(event: VkEvent, opts: { bot: string; groupId: number }): InboundUpdate | Skipped {
  const o = event.object;
  if (!isObj(o)) return { skip: `${event.type} without an object` };
  const base = { platform: 'vk' as const, bot: opts.bot, raw: event };
  switch (event.type) {
    case 'message_new': {
      const m = o.message;
      if (!isObj(m)) return { skip: 'message_new without a message' };
      const peer = int(m.peer_id);
      const from = int(m.from_id);
      if (peer === undefined || from === undefined) return { skip: 'message_new without peer_id/from_id' };
      // Messages the community itself sent (from another admin or API) are not a person writing.
      if (from < 0) return { skip: 'message_new from a community' };
      const event_ = messageNewEvent(m, opts.groupId);
      if (!event_) return { skip: 'message_new with nothing the bot can read (sticker, audio, ...)' };
      const clientInfo = isObj(o.client_info) ? o.client_info : {};
      const language = LANGUAGES[int(clientInfo.lang_id) ?? -1];
      const sender: Sender = { platformUserId: String(from), ...(language ? { language } : {}) };
      return {
        ...base,
        dedupKey: dedupKey(event, `msg:${peer}:${m.conversation_message_id ?? m.id}`),
        chatId: String(peer),
        sender,
        event: event_,
        platformMessageId: messageId(m.id, m.conversation_message_id),
      };
    }
    case 'message_event': {
      const user = int(o.user_id);
      const peer = int(o.peer_id);
      if (user === undefined || peer === undefined) return { skip: 'message_event without user_id/peer_id' };
      const decoded = decodePayload(o.payload);
      if (!decoded) return { skip: 'message_event with a payload this bot did not set' };
      const cmid = int(o.conversation_message_id);
      const ev: InboundEvent =
        'start' in decoded
          ? { kind: 'start' }
          : { kind: 'action', payload: decoded.action, ...(cmid !== undefined ? { sourceMessageId: `cmid:${cmid}` } : {}) };
      return {
        ...base,
        dedupKey: dedupKey(event, `evt:${str(o.event_id) ?? ''}`),
        chatId: String(peer),
        sender: { platformUserId: String(user) },
        event: ev,
      };
    }
    case 'message_allow':
    case 'message_deny': {
      const user = int(o.user_id);
      if (user === undefined) return { skip: `${event.type} without user_id` };
      const status = event.type === 'message_allow' ? 'allowed' : 'blocked';
      return {
        ...base,
        dedupKey: dedupKey(event, `${event.type}:${user}:${Date.now()}`),
        chatId: String(user),
        sender: { platformUserId: String(user) },
        event: { kind: 'membership', status },
      };
    }
    default:
      return { skip: `event type ${JSON.stringify(event.type)} is not handled` };
  }
}

/** The event's own id is the dedup key; VK has sent one on every event since 5.103. */
function dedupKey(event: VkEvent, fallback: string): string {
  return typeof event.event_id === 'string' && event.event_id ? event.event_id : fallback;
}

/**
 * A platform id for a message. In group chats a community bot sees `id: 0`; then the
 * conversation-local id is the only one that `messages.edit` accepts.
 */
export function messageId(id: unknown, cmid: unknown): string | undefined {
  if (typeof id === 'number' && id > 0) return String(id);
  if (typeof cmid === 'number' && cmid > 0) return `cmid:${cmid}`;
  return undefined;
}

function messageNewEvent(m: Obj, groupId: number): InboundEvent | null {
  const decoded = m.payload !== undefined ? decodePayload(m.payload) : null;
  if (decoded && 'start' in decoded) {
    const ref = str(m.ref);
    return ref ? { kind: 'start', payload: ref } : { kind: 'start' };
  }
  if (decoded) return { kind: 'action', payload: decoded.action };

  const ev: MessageEvent = { kind: 'message' };
  const text = stripMention(str(m.text) ?? '', groupId);
  if (text) ev.text = text;
  const images: Attachment[] = [];
  const files: Attachment[] = [];
  for (const a of Array.isArray(m.attachments) ? m.attachments : []) {
    if (!isObj(a)) continue;
    if (a.type === 'photo' && isObj(a.photo)) {
      const img = largestPhoto(a.photo);
      if (img) images.push(img);
    } else if (a.type === 'doc' && isObj(a.doc)) {
      const d = a.doc;
      const url = str(d.url);
      if (!url) continue;
      const name = str(d.title);
      const size = int(d.size);
      files.push({ ref: url, url, ...(name ? { name } : {}), ...(size !== undefined ? { size } : {}) });
    }
  }
  if (images.length) ev.images = images;
  if (files.length) ev.files = files;
  const geo = isObj(m.geo) && isObj(m.geo.coordinates) ? m.geo.coordinates : undefined;
  if (geo && typeof geo.latitude === 'number' && typeof geo.longitude === 'number') {
    ev.location = { latitude: geo.latitude, longitude: geo.longitude };
  }
  const reply = isObj(m.reply_message) ? messageId(m.reply_message.id, m.reply_message.conversation_message_id) : undefined;
  if (reply) ev.replyTo = reply;
  return ev.text || ev.images || ev.files || ev.location ? ev : null;
}

/** The largest of a photo's sizes (by area; VK lists them smallest first). */
function largestPhoto(photo: Obj): Attachment | null {
  let best: { url: string; width: number; height: number } | null = null;
  for (const s of Array.isArray(photo.sizes) ? photo.sizes : []) {
    if (!isObj(s) || typeof s.url !== 'string') continue;
    const width = int(s.width) ?? 0;
    const height = int(s.height) ?? 0;
    if (!best || width * height >= best.width * best.height) best = { url: s.url, width, height };
  }
  if (!best) return null;
  return { ref: best.url, url: best.url, mime: 'image/jpeg', ...(best.width ? { width: best.width, height: best.height } : {}) };
}

/** In group chats a message addressed to the bot starts with `[club<id>|name]`. */
function stripMention(text: string, groupId: number): string {
  const prefix = new RegExp(`^\\s*\\[(?:club|public)${groupId}\\|[^\\]]*\\][,:]?\\s*`);
  return text.replace(prefix, '');
}
