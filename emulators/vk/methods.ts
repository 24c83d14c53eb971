/**
 * The VK API methods a community bot uses, as the emulator runs them. Each takes the call's
 * string parameters and returns the `response` value or throws VkError.
 */
import { createHash, randomBytes } from 'node:crypto';
import { imageSize } from './media.ts';
import { checkText, invalidParam, parseKeyboard, VkError, type VkKeyboard } from './limits.ts';
import type { StoredMessage, VkState } from './state.ts';

type Params = Record<string, string>;
export type Method = (state: VkState, p: Params, ctx: { baseUrl: string }) => unknown;

const CHAT_PEER_START = 2_000_000_000;

function intParam(p: Params, name: string, required = true): number | undefined {
  const raw = p[name];
  if (raw === undefined || raw === '') {
    if (required) throw invalidParam(`${name} is undefined`);
    return undefined;
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw invalidParam(`${name} not integer`);
  return n;
}

/** `photo{owner}_{id}[_{key}]` / `doc{owner}_{id}` → attachment objects; unknown ones are invalid. */
function resolveAttachments(state: VkState, raw: string | undefined): StoredMessage['attachments'] {
  if (!raw) return [];
  return raw.split(',').map((s) => {
    const m = /^(photo|doc)(-?\d+_\d+)(?:_([0-9a-f]+))?$/.exec(s.trim());
    if (m?.[1] === 'photo') {
      const photo = state.photos.get(m[2]);
      if (photo && (!m[3] || m[3] === photo.access_key)) return { type: 'photo' as const, photo };
    } else if (m?.[1] === 'doc') {
      const doc = state.docs.get(m[2]);
      if (doc) return { type: 'doc' as const, doc };
    }
    throw invalidParam(`attachment ${JSON.stringify(s)} is invalid`);
  });
}

function content(state: VkState, p: Params): { text: string; attachments: StoredMessage['attachments']; keyboard?: VkKeyboard } {
  const text = p.message ?? '';
  checkText(text);
  const keyboard = p.keyboard ? parseKeyboard(p.keyboard) : undefined;
  const attachments = resolveAttachments(state, p.attachment);
  return { text, attachments, keyboard };
}

function sendMessage(state: VkState, p: Params): number {
  const peerId = intParam(p, 'peer_id', false) ?? intParam(p, 'user_id', false);
  if (peerId === undefined) throw invalidParam('you should specify peer_id, user_id, domain, chat_id or user_ids param');
  const randomId = intParam(p, 'random_id');
  if (randomId === undefined || randomId < -2_147_483_648 || randomId > 2_147_483_647) throw invalidParam('random_id is invalid');
  const peer = state.peer(peerId);
  // The idempotency key: the same random_id answers with the first message and delivers nothing.
  if (randomId !== 0 && peer.randomIds.has(randomId)) return peer.randomIds.get(randomId) as number;
  const c = content(state, p);
  if (!c.text.trim() && c.attachments.length === 0) throw invalidParam('message is empty or invalid');
  if (peerId > 0 && peerId < CHAT_PEER_START && !state.user(peerId).allowed) throw new VkError(901);
  const stored = state.addMessage({ peerId, fromId: -state.groupId, out: true, ...c, randomId });
  if (randomId !== 0) peer.randomIds.set(randomId, stored.id);
  return stored.id;
}

function editMessage(state: VkState, p: Params): number {
  const peerId = intParam(p, 'peer_id') as number;
  const messageId = intParam(p, 'message_id', false);
  const cmid = intParam(p, 'conversation_message_id', false);
  const peer = state.peers.get(peerId);
  const msg = peer?.messages.find((m) => m.out && (messageId !== undefined ? m.id === messageId : m.cmid === cmid));
  if (!msg) throw invalidParam('message_id is invalid');
  const c = content(state, p);
  if (c.keyboard && !c.keyboard.inline) throw new VkError(911, 'Keyboard format is invalid: only an inline keyboard can be edited');
  if (!c.text.trim() && c.attachments.length === 0 && msg.attachments.length === 0) throw invalidParam('message is empty or invalid');
  msg.text = c.text;
  if (p.attachment !== undefined) msg.attachments = c.attachments;
  if (p.keyboard !== undefined) msg.keyboard = c.keyboard;
  msg.edited = Math.floor(Date.now() / 1000);
  return 1;
}

function answerEvent(state: VkState, p: Params): number {
  const eventId = p.event_id;
  if (!eventId) throw invalidParam('event_id is undefined');
  const userId = intParam(p, 'user_id') as number;
  const peerId = intParam(p, 'peer_id') as number;
  const ev = state.messageEvents.get(eventId);
  if (!ev || ev.userId !== userId || ev.peerId !== peerId) throw invalidParam('event_id is invalid');
  let eventData: unknown;
  if (p.event_data) {
    try {
      eventData = JSON.parse(p.event_data);
    } catch {
      throw invalidParam('event_data is invalid');
    }
    const d = eventData as { type?: string; text?: string } | null;
    if (!d || !['show_snackbar', 'open_link', 'open_app'].includes(String(d.type))) throw invalidParam('event_data.type is invalid');
    if (d.type === 'show_snackbar' && (typeof d.text !== 'string' || d.text.length > 90)) throw invalidParam('event_data.text is invalid');
  }
  ev.answers.push({ eventData, at: Date.now() });
  return 1;
}

function longPollServer(state: VkState, p: Params, ctx: { baseUrl: string }) {
  if (intParam(p, 'group_id') !== state.groupId) throw invalidParam('group_id is invalid');
  return { key: state.newKey(), server: `${ctx.baseUrl}/whp/${state.groupId}`, ts: String(state.nextTs) };
}

function uploadServer(kind: 'photo' | 'doc') {
  return (state: VkState, _p: Params, ctx: { baseUrl: string }) => {
    const ticket = randomBytes(12).toString('hex');
    state.tickets.set(ticket, kind);
    const upload_url = `${ctx.baseUrl}/upload/${kind}/${ticket}`;
    return kind === 'photo' ? { upload_url, album_id: -3, group_id: state.groupId } : { upload_url };
  };
}

/** The `hash` an upload server signs its answer with; save methods check it. */
export function uploadHash(token: string): string {
  return createHash('md5').update(`vk-emulator:${token}`).digest('hex');
}

function savePhoto(state: VkState, p: Params) {
  const pending = p.photo ? state.pendingUploads.get(p.photo) : undefined;
  if (!p.photo || p.photo === '[]') throw invalidParam('photo is undefined');
  if (!pending || pending.kind !== 'photo') throw invalidParam('photo is invalid');
  if (p.hash !== pending.hash) throw new VkError(121);
  state.pendingUploads.delete(p.photo);
  const file = state.files.get(pending.fileId);
  const size = (file && imageSize(file.bytes)) || { width: 1, height: 1 };
  const photo = state.files.photo(pending.fileId, state.nextObjectId(), -state.groupId, size);
  state.photos.set(`${photo.owner_id}_${photo.id}`, photo);
  return [photo];
}

function saveDoc(state: VkState, p: Params) {
  const pending = p.file ? state.pendingUploads.get(p.file) : undefined;
  if (!pending || pending.kind !== 'doc') throw invalidParam('file is invalid');
  state.pendingUploads.delete(p.file);
  const file = state.files.get(pending.fileId);
  const doc = state.files.doc(pending.fileId, state.nextObjectId(), -state.groupId, p.title || file?.name || 'file');
  state.docs.set(`${doc.owner_id}_${doc.id}`, doc);
  return { type: 'doc', doc };
}

function byConversationMessageId(state: VkState, p: Params) {
  const peerId = intParam(p, 'peer_id') as number;
  const wanted = new Set((p.conversation_message_ids ?? '').split(',').map(Number));
  const items = (state.peers.get(peerId)?.messages ?? [])
    .filter((m) => wanted.has(m.cmid))
    .map((m) => ({
      id: m.id,
      conversation_message_id: m.cmid,
      peer_id: m.peerId,
      from_id: m.fromId,
      out: m.out ? 1 : 0,
      date: m.date,
      text: m.text,
      attachments: m.attachments,
      ...(m.keyboard ? { keyboard: m.keyboard } : {}),
    }));
  return { count: items.length, items };
}

function usersGet(state: VkState, p: Params) {
  const ids = (p.user_ids ?? '').split(',').filter(Boolean).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
  return ids.map((id) => {
    const u = state.user(id);
    return { id, first_name: u.firstName, last_name: u.lastName, can_access_closed: true, is_closed: false };
  });
}

export const METHODS: Record<string, Method> = {
  'messages.send': sendMessage,
  'messages.edit': editMessage,
  'messages.sendMessageEventAnswer': answerEvent,
  'messages.getByConversationMessageId': byConversationMessageId,
  'groups.getLongPollServer': longPollServer,
  'photos.getMessagesUploadServer': uploadServer('photo'),
  'photos.saveMessagesPhoto': savePhoto,
  'docs.getMessagesUploadServer': uploadServer('doc'),
  'docs.save': saveDoc,
  'users.get': usersGet,
};
