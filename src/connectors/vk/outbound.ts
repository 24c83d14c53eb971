/**
 * RenderPlan → VK API calls. Each part is one `messages.send` whose `random_id` is derived from
 * the outbound message id and the part index, so a retried part is never delivered twice (VK
 * answers a repeated random_id with the original message id). Images and files go through VK's
 * upload flow first; buttons become a VK keyboard JSON; text is plain (VK has no markup).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, basename } from 'node:path';
import type { Logger } from 'pino';
import { plainText, type Span } from '../../core/format.ts';
import type { Button, OutgoingMedia } from '../../core/model.ts';
import type { RenderedPart } from '../../core/render.ts';
import { DeliveryError, type Delivery, type SendResult } from '../connector.ts';
import { toDeliveryError, type VkApi } from './api.ts';
import { ACTION_KEY } from './inbound.ts';

/** Longest message text VK accepts; a longer one fails with error 914. */
export const VK_TEXT_LIMIT = 9000;
/** Longest button payload VK accepts, in bytes of its JSON. */
export const VK_PAYLOAD_LIMIT = 255;
/** Room a keyboard row has: text and callback buttons take 1, links 2, location the whole row. */
const ROW_UNITS = 5;
/** Largest media file the connector fetches to upload. */
const MAX_MEDIA_BYTES = 50 * 1024 * 1024;

/** Hangul Filler: shows as nothing, but is not whitespace, so VK accepts it as text. */
const BLANK = '\u3164';

const MERSENNE_31 = 2_147_483_647n;
const PARTS_PER_MESSAGE = 32n;

/**
 * The `random_id` of part `part` of outbound message `messageId`: a positive int32, stable across
 * retries. For the first 32 parts of messages below 67 million it is a bijection (an affine map
 * modulo the prime 2^31−1), so two different sends never share a random_id — a shared one would
 * make VK silently drop the second message. Beyond that it falls back to a hash.
 */
export function randomId(messageId: number, part: number): number {
  const key = BigInt(messageId) * PARTS_PER_MESSAGE + BigInt(part);
  if (part < 32 && key < MERSENNE_31) return Number(((48_271n * key + 12_345n) % MERSENNE_31) + 1n);
  const h = createHash('sha256').update(`${messageId}:${part}`).digest();
  return (h.readUInt32BE(0) % 2_147_483_646) + 1;
}

interface VkAction {
  type: 'text' | 'callback' | 'open_link' | 'location';
  label?: string;
  payload?: string;
  link?: string;
}

/** The `payload` of a VK button carrying an action's payload; null when it exceeds VK's limit. */
export function encodePayload(payload: string): string | null {
  const json = JSON.stringify({ [ACTION_KEY]: payload });
  return Buffer.byteLength(json) <= VK_PAYLOAD_LIMIT ? json : null;
}

/**
 * Keyboard JSON for a part: inline keyboards use `callback` buttons (pressed without sending
 * text), a chat keyboard uses `text` buttons (the label is sent with the payload) and `location`.
 * An empty chat keyboard removes the one shown earlier.
 */
export function buildKeyboard(part: Pick<RenderedPart, 'buttons' | 'keyboard' | 'removeKeyboard'>): string | undefined {
  const rows = part.buttons?.filter((r) => r.length) ?? [];
  if (!rows.length) return part.removeKeyboard ? JSON.stringify({ one_time: true, buttons: [] }) : undefined;
  const inline = part.keyboard !== 'reply';
  const out: { action: VkAction }[][] = [];
  for (const source of rows) {
    // Re-flow a row whose buttons need more room than VK gives one row.
    let row: { action: VkAction }[] = [];
    let used = 0;
    for (const b of source) {
      const action = vkAction(b, inline);
      if (!action) continue;
      const units = action.type === 'location' ? ROW_UNITS : action.type === 'open_link' ? 2 : 1;
      if (used + units > ROW_UNITS && row.length) {
        out.push(row);
        row = [];
        used = 0;
      }
      row.push({ action });
      used += units;
    }
    if (row.length) out.push(row);
  }
  if (!out.length) return part.removeKeyboard ? JSON.stringify({ one_time: true, buttons: [] }) : undefined;
  return JSON.stringify(inline ? { inline: true, buttons: out } : { one_time: false, buttons: out });
}

function vkAction(b: Button, inline: boolean): VkAction | null {
  const label = b.label.slice(0, 40);
  switch (b.type) {
    case 'action': {
      const payload = encodePayload(b.payload);
      if (payload === null) {
        throw new DeliveryError(`button "${label}" carries a payload longer than ${VK_PAYLOAD_LIMIT} bytes`, {
          kind: 'permanent',
          platform: 'vk',
          code: 911,
        });
      }
      return { type: inline ? 'callback' : 'text', label, payload };
    }
    case 'url':
      return { type: 'open_link', label, link: b.url };
    case 'location':
      // VK shows a location request only in a chat keyboard; the renderer puts requests there.
      return inline ? null : { type: 'location' };
    default:
      // No contact request on VK: the capabilities say so and the renderer turned it into text.
      return null;
  }
}

export interface OutboundDeps {
  api: VkApi;
  log?: Logger;
  /**
   * Attachments uploaded for parts not yet confirmed sent (`messageId:part` → attachment), so a
   * retry does not upload again. One map per connector: attachments belong to one community.
   */
  uploads: Map<string, string>;
}

const UPLOAD_CACHE = 500;

/** Delivers a plan part by part; throws DeliveryError with the ids of the parts already sent. */
export async function sendDelivery(deps: OutboundDeps, delivery: Delivery): Promise<SendResult> {
  const skip = (delivery as { skip?: number }).skip ?? 0;
  const ids: string[] = [];
  const parts = delivery.plan.parts;
  for (let i = skip; i < parts.length; i++) {
    try {
      ids.push(await sendPart(deps, delivery, parts[i], i));
    } catch (err: unknown) {
      throw toDeliveryError(err, ids);
    }
  }
  return { platformMessageIds: ids };
}

async function sendPart(deps: OutboundDeps, d: Delivery, part: RenderedPart, index: number): Promise<string> {
  const peer = d.conversation.chatId;
  const cacheKey = `${d.messageId}:${index}`;
  let attachment: string | undefined;
  let text: string | undefined;
  if (part.image || part.file) {
    const media = (part.image ?? part.file) as OutgoingMedia;
    attachment = deps.uploads.get(cacheKey) ?? (await upload(deps.api, peer, media, part.image ? 'photo' : 'doc'));
    remember(deps.uploads, cacheKey, attachment);
    if (media.caption) text = plainText(media.caption).slice(0, VK_TEXT_LIMIT);
  }
  if (part.text) text = joinText(text, part.text);
  const keyboard = buildKeyboard(part);
  // VK refuses a message with neither text nor attachment, and counts blank text as none; a
  // message that only carries buttons gets the invisible filler VK bots customarily use.
  const message = text?.trim() ? text : attachment ? undefined : BLANK;

  if (index === 0 && d.edit) {
    const target = d.edit.platformMessageId;
    const cmid = target.startsWith('cmid:') ? target.slice(5) : undefined;
    // An edit can only carry an inline keyboard; an explicit empty one clears the old buttons.
    if (part.keyboard === 'reply') deps.log?.warn({ platform: 'vk' }, 'VK cannot show a chat keyboard through an edit; buttons dropped');
    const inlineKeyboard = part.keyboard !== 'reply' && part.buttons?.length ? keyboard : undefined;
    await deps.api.call('messages.edit', {
      peer_id: peer,
      ...(cmid ? { conversation_message_id: cmid } : { message_id: target }),
      message,
      attachment,
      keyboard: inlineKeyboard ?? JSON.stringify({ inline: true, buttons: [] }),
      keep_forward_messages: 1,
    });
    deps.uploads.delete(cacheKey);
    return target;
  }
  const id = await deps.api.call<number>('messages.send', {
    peer_id: peer,
    random_id: randomId(d.messageId, index),
    message,
    attachment,
    keyboard,
  });
  deps.uploads.delete(cacheKey);
  return String(id);
}

function joinText(caption: string | undefined, spans: Span[]): string {
  const body = plainText(spans);
  return caption ? `${caption}\n\n${body}` : body;
}

function remember(uploads: Map<string, string>, key: string, attachment: string): void {
  uploads.set(key, attachment);
  if (uploads.size > UPLOAD_CACHE) uploads.delete(uploads.keys().next().value as string);
}

async function upload(api: VkApi, peer: string, media: OutgoingMedia, kind: 'photo' | 'doc'): Promise<string> {
  const { bytes, name, mime } = await loadMedia(api, media, kind);
  if (kind === 'photo') {
    const server = await api.call<{ upload_url: string }>('photos.getMessagesUploadServer', { peer_id: peer });
    const up = await api.upload(server.upload_url, 'photo', bytes, name, mime);
    if (typeof up.photo !== 'string' || up.photo === '[]' || up.photo === '') throw rejected('image', up);
    const saved = await api.call<{ id: number; owner_id: number; access_key?: string }[]>('photos.saveMessagesPhoto', {
      server: up.server as string | number,
      photo: up.photo,
      hash: up.hash as string,
    });
    const p = saved[0];
    if (!p) throw rejected('image', up);
    return `photo${p.owner_id}_${p.id}${p.access_key ? `_${p.access_key}` : ''}`;
  }
  const server = await api.call<{ upload_url: string }>('docs.getMessagesUploadServer', { peer_id: peer, type: 'doc' });
  const up = await api.upload(server.upload_url, 'file', bytes, name, mime);
  if (typeof up.file !== 'string' || !up.file) throw rejected('file', up);
  const saved = await api.call<{ type: string; doc?: { id: number; owner_id: number } }>('docs.save', { file: up.file, title: name });
  if (!saved.doc) throw rejected('file', up);
  return `doc${saved.doc.owner_id}_${saved.doc.id}`;
}

function rejected(what: string, answer: Record<string, unknown>): DeliveryError {
  const why = typeof answer.error === 'string' ? `: ${answer.error}` : '';
  return new DeliveryError(`VK did not accept the ${what}${why}`, { kind: 'permanent', platform: 'vk', code: 'upload' });
}

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.pdf': 'application/pdf', '.txt': 'text/plain' };

async function loadMedia(api: VkApi, media: OutgoingMedia, kind: 'photo' | 'doc'): Promise<{ bytes: Buffer; name: string; mime: string }> {
  let bytes: Buffer;
  let from = media.name;
  if (media.base64 !== undefined) bytes = Buffer.from(media.base64, 'base64');
  else if (media.path) {
    bytes = await readFile(media.path).catch((err: unknown) => {
      throw new DeliveryError(`cannot read ${media.path}`, { kind: 'permanent', platform: 'vk', code: 'file', cause: err });
    });
    from ??= basename(media.path);
  } else if (media.url) {
    bytes = await api.download(media.url, MAX_MEDIA_BYTES);
    from ??= basename(new URL(media.url).pathname) || undefined;
  } else {
    throw new DeliveryError('media has no url, path or bytes', { kind: 'permanent', platform: 'vk', code: 'file' });
  }
  const mime = media.mime ?? sniff(bytes) ?? MIME[extname(from ?? '').toLowerCase()] ?? 'application/octet-stream';
  const ext = mime === 'image/png' ? '.png' : mime === 'image/gif' ? '.gif' : mime === 'image/jpeg' ? '.jpg' : '';
  const name = from || (kind === 'photo' ? `image${ext || '.jpg'}` : `file${ext}`);
  return { bytes, name, mime };
}

function sniff(b: Buffer): string | undefined {
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === '%PDF') return 'application/pdf';
  return undefined;
}
