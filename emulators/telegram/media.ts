/**
 * Files in the emulated Telegram: photos get several PhotoSize entries (smaller JPEG previews plus
 * the original, largest last, as Telegram sends them), documents keep their name and type, and a
 * media parameter may be an upload, a file_id this bot received before, or an HTTP URL the
 * emulator downloads as Telegram would.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { Document, PhotoSize } from '@grammyjs/types';
import { errors } from './limits.ts';
import type { BotState, StoredFile } from './state.ts';

/** An uploaded file as the multipart parser hands it over. */
export interface Upload {
  bytes: Buffer;
  name: string;
  mime: string;
}

/** Preview sizes Telegram generates (s, m, x); the original is always kept as the largest. */
const PREVIEW_BOUNDS = [90, 320, 800];
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
const DOCUMENT_MAX_BYTES = 50 * 1024 * 1024;
const URL_TIMEOUT_MS = 5000;

const photoSize = (f: StoredFile): PhotoSize => ({
  file_id: f.file_id,
  file_unique_id: f.file_unique_id,
  width: f.width ?? 0,
  height: f.height ?? 0,
  file_size: f.bytes.length,
});

/** Stores an image and its previews; returns the PhotoSize list, largest last. */
export async function storePhoto(bot: BotState, bytes: Buffer): Promise<PhotoSize[]> {
  if (bytes.length > PHOTO_MAX_BYTES) throw errors.badRequest('file is too big');
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions');
    [width, height] = [meta.width, meta.height];
  } catch {
    throw errors.badRequest('IMAGE_PROCESS_FAILED');
  }
  const sizes: PhotoSize[] = [];
  for (const bound of PREVIEW_BOUNDS) {
    if (Math.max(width, height) <= bound) break;
    const preview = await sharp(bytes).resize(bound, bound, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
    const file = bot.addFile({
      bytes: preview.data,
      kind: 'photo',
      mime: 'image/jpeg',
      file_path: bot.nextFilePath('photo', 'jpg'),
      width: preview.info.width,
      height: preview.info.height,
    });
    sizes.push(photoSize(file));
  }
  // The largest size keeps the original bytes, so that what a person sent (a QR code, say) is
  // what the bot downloads. Telegram re-encodes it; the emulator does not.
  const original = bot.addFile({ bytes, kind: 'photo', mime: 'image/jpeg', file_path: bot.nextFilePath('photo', 'jpg'), width, height });
  sizes.push(photoSize(original));
  return sizes;
}

const EXT_BY_MIME: Record<string, string> = { 'application/pdf': 'pdf', 'text/plain': 'txt', 'image/png': 'png', 'image/jpeg': 'jpg' };

export function storeDocument(bot: BotState, upload: Upload): Document {
  if (upload.bytes.length > DOCUMENT_MAX_BYTES) throw errors.badRequest('file is too big');
  const ext = path.extname(upload.name).slice(1) || EXT_BY_MIME[upload.mime] || 'bin';
  const file = bot.addFile({
    bytes: upload.bytes,
    kind: 'document',
    mime: upload.mime,
    name: upload.name,
    file_path: bot.nextFilePath('document', ext.replace(/[^A-Za-z0-9]/g, '') || 'bin'),
  });
  return documentOf(file);
}

export const documentOf = (f: StoredFile): Document => ({
  file_id: f.file_id,
  file_unique_id: f.file_unique_id,
  ...(f.name ? { file_name: f.name } : {}),
  ...(f.mime ? { mime_type: f.mime } : {}),
  file_size: f.bytes.length,
});

/** The PhotoSize list a stored photo file_id stands for (Telegram answers with one entry). */
export const photoOf = (f: StoredFile): PhotoSize[] => [photoSize(f)];

async function download(url: string): Promise<Upload> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(URL_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const name = decodeURIComponent(path.basename(new URL(url).pathname)) || 'file';
    return { bytes, name, mime: res.headers.get('content-type')?.split(';')[0] ?? 'application/octet-stream' };
  } catch {
    throw errors.badRequest('wrong file identifier/HTTP URL specified');
  }
}

/**
 * Resolves a media parameter: an Upload, an earlier file_id, or an http(s) URL. Returns either a
 * stored file (reused by id) or new bytes to store.
 */
export async function resolveMedia(
  bot: BotState,
  value: unknown,
  kind: 'photo' | 'document',
  field: string,
): Promise<{ reused: StoredFile } | { upload: Upload }> {
  if (value && typeof value === 'object' && 'bytes' in value) return { upload: value as Upload };
  if (typeof value !== 'string' || value === '') throw errors.badRequest(`there is no ${field} in the request`);
  if (/^https?:\/\//i.test(value)) return { upload: await download(value) };
  if (value.startsWith('attach://')) throw errors.badRequest(`file ${value} not found in the request`);
  const stored = bot.files.get(value);
  if (!stored) throw errors.badRequest('wrong file identifier/HTTP URL specified');
  if (stored.kind !== kind) {
    throw errors.badRequest(kind === 'photo' ? "can't use file of type Document as Photo" : "can't use file of type Photo as Document");
  }
  return { reused: stored };
}
