/**
 * What a person does in a VK chat with the community, and what they see. Every action changes
 * the conversation and emits the community event VK would emit: `message_new` (text, photos,
 * documents, geo, a text button with its payload, the Start button), `message_event` (a callback
 * button), `message_allow` / `message_deny`.
 */
import { randomBytes } from 'node:crypto';
import { imageSize, mimeOf } from './media.ts';
import type { VkButton } from './limits.ts';
import type { StoredMessage, VkState } from './state.ts';

export interface PersonMessage {
  text?: string;
  /** Images (PNG, JPEG or GIF bytes). */
  photos?: Buffer[];
  doc?: { bytes: Buffer; name: string };
  geo?: { latitude: number; longitude: number };
  /** Set by buttons: the JSON string VK carries back. */
  payload?: string;
  /** Deep-link source (`vk.me/club1?ref=x`), carried with the Start button. */
  ref?: string;
}

export interface ActionResult {
  eventId?: string;
  messageId?: number;
  /** For a link button: the address the person's client opened (no event reaches the bot). */
  opened?: string;
}

/** The buttons a person sees, as the emulator reports them. */
export interface SeenButton {
  type: string;
  label: string;
  payload?: string;
  link?: string;
}

export interface SeenMessage {
  id: number;
  cmid: number;
  text: string;
  /** True for the bot's messages. */
  out: boolean;
  attachments: { type: 'photo' | 'doc'; url: string; title?: string }[];
  image: boolean;
  keyboard?: { inline: boolean; oneTime: boolean; buttons: SeenButton[][] };
  /** Labels of the buttons, row by row. */
  buttons: string[][];
  edited: boolean;
  date: number;
}

const CLIENT_INFO = {
  button_actions: ['text', 'vkpay', 'open_app', 'location', 'open_link', 'callback', 'intent_subscribe', 'intent_unsubscribe'],
  keyboard: true,
  inline_keyboard: true,
  carousel: true,
};

/** The person writes to the community; writing also allows the community to answer. */
export function personSends(state: VkState, userId: number, m: PersonMessage): ActionResult {
  const user = state.user(userId);
  user.allowed = true;
  const attachments: StoredMessage['attachments'] = [];
  for (const bytes of m.photos ?? []) {
    const size = imageSize(bytes);
    if (!size) throw new Error('a photo must be PNG, JPEG or GIF bytes');
    const fileId = state.files.put({ bytes, mime: mimeOf(bytes), name: 'photo.jpg' });
    attachments.push({ type: 'photo', photo: state.files.photo(fileId, state.nextObjectId(), userId, size) });
  }
  if (m.doc) {
    const fileId = state.files.put({ bytes: m.doc.bytes, mime: mimeOf(m.doc.bytes, m.doc.name), name: m.doc.name });
    attachments.push({ type: 'doc', doc: state.files.doc(fileId, state.nextObjectId(), userId, m.doc.name) });
  }
  const geo = m.geo ? { type: 'point' as const, coordinates: { latitude: m.geo.latitude, longitude: m.geo.longitude } } : undefined;
  const stored = state.addMessage({
    peerId: userId,
    fromId: userId,
    out: false,
    text: m.text ?? '',
    attachments,
    ...(m.payload !== undefined ? { payload: m.payload } : {}),
    ...(geo ? { geo } : {}),
    ...(m.ref ? { ref: m.ref } : {}),
  });
  const message: Record<string, unknown> = {
    date: stored.date,
    from_id: userId,
    id: stored.id,
    out: 0,
    version: stored.id * 10,
    attachments,
    conversation_message_id: stored.cmid,
    fwd_messages: [],
    important: false,
    is_hidden: false,
    peer_id: userId,
    random_id: 0,
    text: stored.text,
  };
  if (stored.payload !== undefined) message.payload = stored.payload;
  if (stored.geo) message.geo = stored.geo;
  if (stored.ref) Object.assign(message, { ref: stored.ref, ref_source: 'link' });
  const update = state.emit('message_new', { message, client_info: { ...CLIENT_INFO, lang_id: user.langId } });
  return { eventId: update.event_id, messageId: stored.id };
}

/** The Start button of an empty dialog: the text «Начать» with payload `{"command":"start"}`. */
export function personStarts(state: VkState, userId: number, ref?: string): ActionResult {
  return personSends(state, userId, { text: 'Начать', payload: JSON.stringify({ command: 'start' }), ref });
}

export interface Press {
  /** The label of the button; omit with `type: 'location'` (location buttons have none). */
  label?: string;
  type?: 'location';
  /** Press on this message only. */
  messageId?: number;
  latitude?: number;
  longitude?: number;
}

/** Presses a button on the latest bot message that shows it (inline, or the current chat keyboard). */
export function personPresses(state: VkState, userId: number, press: Press): ActionResult {
  const peer = state.peer(userId);
  const matches = (b: VkButton) =>
    press.type === 'location' ? b.action.type === 'location' : b.action.label === press.label;
  for (let i = peer.messages.length - 1; i >= 0; i--) {
    const msg = peer.messages[i];
    if (!msg.out || !msg.keyboard || (press.messageId !== undefined && msg.id !== press.messageId)) continue;
    const visible = msg.keyboard.inline || peer.chatKeyboard?.messageId === msg.id;
    if (!visible) continue;
    const button = msg.keyboard.buttons.flat().find(matches);
    if (!button) continue;
    if (!msg.keyboard.inline && msg.keyboard.one_time) peer.chatKeyboard = undefined;
    const a = button.action;
    switch (a.type) {
      case 'text':
        return personSends(state, userId, { text: a.label, ...(a.payload !== undefined ? { payload: a.payload } : {}) });
      case 'callback': {
        const eventId = randomBytes(6).toString('hex');
        state.messageEvents.set(eventId, { eventId, userId, peerId: userId, answers: [] });
        let payload: unknown = undefined;
        try {
          payload = a.payload !== undefined ? JSON.parse(a.payload) : undefined;
        } catch {
          payload = a.payload;
        }
        const update = state.emit('message_event', {
          user_id: userId,
          peer_id: userId,
          event_id: eventId,
          payload,
          conversation_message_id: msg.cmid,
        });
        return { eventId: update.event_id };
      }
      case 'open_link':
        return { opened: a.link };
      case 'location':
        return personSends(state, userId, {
          geo: { latitude: press.latitude ?? 55.7539, longitude: press.longitude ?? 37.6208 },
          ...(a.payload !== undefined ? { payload: a.payload } : {}),
        });
      default:
        throw new Error(`the emulator cannot press a ${a.type} button`);
    }
  }
  const what = press.type === 'location' ? 'requesting location' : JSON.stringify(press.label);
  throw Object.assign(new Error(`no visible button ${what}`), { statusCode: 404 });
}

/** «Запретить сообщения»: the community may no longer write (messages.send → 901). */
export function personDenies(state: VkState, userId: number): ActionResult {
  state.user(userId).allowed = false;
  return { eventId: state.emit('message_deny', { user_id: userId }).event_id };
}

/** «Разрешить сообщения». */
export function personAllows(state: VkState, userId: number): ActionResult {
  state.user(userId).allowed = true;
  return { eventId: state.emit('message_allow', { user_id: userId, key: '' }).event_id };
}

/** The conversation as the person sees it; only the bot's messages unless `all`. */
export function seenMessages(state: VkState, userId: number, all = false): SeenMessage[] {
  const peer = state.peers.get(userId);
  return (peer?.messages ?? [])
    .filter((m) => all || m.out)
    .map((m) => {
      const buttons: SeenButton[][] = (m.keyboard?.buttons ?? []).map((row) =>
        row.map((b) => ({
          type: b.action.type,
          label: b.action.label ?? (b.action.type === 'location' ? 'Отправить своё местоположение' : ''),
          ...(b.action.payload !== undefined ? { payload: b.action.payload } : {}),
          ...(b.action.link !== undefined ? { link: b.action.link } : {}),
        })),
      );
      return {
        id: m.id,
        cmid: m.cmid,
        text: m.text,
        out: m.out,
        attachments: m.attachments.map((a) =>
          a.type === 'photo'
            ? { type: 'photo' as const, url: a.photo.sizes[a.photo.sizes.length - 1].url }
            : { type: 'doc' as const, url: a.doc.url, title: a.doc.title },
        ),
        image: m.attachments.some((a) => a.type === 'photo'),
        ...(m.keyboard ? { keyboard: { inline: !!m.keyboard.inline, oneTime: !!m.keyboard.one_time, buttons } } : {}),
        buttons: buttons.map((r) => r.map((b) => b.label)),
        edited: m.edited !== undefined,
        date: m.date,
      };
    });
}
