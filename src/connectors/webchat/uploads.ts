/**
 * Files of the web chat, kept in a file store (the database, or a directory: file-store.ts) and
 * served at `/webchat/files/:name`: images a visitor uploads (random names) and media the bot
 * sends as bytes or a local path (content-hashed names, so rendering the same message twice
 * reuses one file). Names are checked against one pattern before the store is asked, so no
 * request can name anything else.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Attachment, OutgoingMedia } from '../../core/model.ts';
import type { StoredFile, WebchatFileStore } from './file-store.ts';

/** Image types a visitor may upload, with the extension they are stored under. */
export const UPLOAD_TYPES: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Default upload limit: 5 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

const NAME_PATTERN = /^[a-f0-9]{32}\.[a-z0-9]{1,8}$/;
const FILES_PATH = '/webchat/files/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  zip: 'application/zip',
  ics: 'text/calendar; charset=utf-8',
};
const EXT_BY_MIME: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CONTENT_TYPES).map(([ext, mime]) => [mime.split(';')[0], ext]),
);

/** True when the bytes start the way files of `mime` do (a .png that is really HTML is refused). */
export function looksLike(bytes: Buffer, mime: string): boolean {
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString('latin1');
  switch (mime) {
    case 'image/png':
      return bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    case 'image/jpeg':
      return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
    case 'image/gif':
      return ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a';
    case 'image/webp':
      return ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP';
    default:
      return false;
  }
}

/** Content type to serve a stored file with, by its extension. */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

export function isFileName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

function extensionFor(media: OutgoingMedia, fallback: string): string {
  const fromMime = media.mime ? EXT_BY_MIME[media.mime.split(';')[0].trim().toLowerCase()] : undefined;
  if (fromMime) return fromMime;
  const source = media.name ?? media.path ?? '';
  const ext = path.extname(source).slice(1).toLowerCase();
  return /^[a-z0-9]{1,8}$/.test(ext) ? ext : fallback;
}

/** The files of one web chat connector. */
export class WebchatFiles {
  readonly #store: WebchatFileStore;
  readonly #publicUrl: string | undefined;
  /** `path` media already copied: path + mtime → stored name. Bounded; a miss only re-reads. */
  readonly #copied = new Map<string, string>();
  /** Content-hashed names known to be stored. Bounded; a miss only asks the store again. */
  readonly #stored = new Set<string>();

  constructor(store: WebchatFileStore, publicUrl?: string) {
    this.#store = store;
    this.#publicUrl = publicUrl?.replace(/\/+$/, '');
  }

  /** The URL the browser (and, with `publicUrl`, anyone else) fetches a stored file at. */
  urlOf(name: string): string {
    return `${this.#publicUrl ?? ''}${FILES_PATH}${name}`;
  }

  /** Stores an uploaded image under a new random name. The caller checked type, size and content. */
  async saveUpload(bytes: Buffer, mime: string, dims?: { width: number; height: number }): Promise<string> {
    const ext = UPLOAD_TYPES[mime];
    if (!ext) throw new Error(`not an accepted image type: ${mime}`);
    const name = `${randomBytes(16).toString('hex')}.${ext}`;
    await this.#store.put({ name, bytes, ...dims });
    return name;
  }

  /**
   * The URL an outgoing image or file is shown from, or undefined when it cannot be shown
   * (a `javascript:` URL, a missing local file). Bytes and local paths are copied into the
   * store under a name derived from their content.
   */
  async materialise(media: OutgoingMedia, kind: 'image' | 'file'): Promise<string | undefined> {
    if (media.url !== undefined) return safeUrl(media.url);
    const fallback = kind === 'image' ? 'png' : 'bin';
    if (media.base64 !== undefined) {
      const bytes = Buffer.from(media.base64, 'base64');
      return this.urlOf(await this.#storeByContent(bytes, extensionFor(media, fallback)));
    }
    if (media.path !== undefined) {
      const info = await stat(media.path);
      const key = `${media.path}\0${info.mtimeMs}\0${info.size}`;
      let name = this.#copied.get(key);
      if (!name) {
        name = await this.#storeByContent(await readFile(media.path), extensionFor(media, fallback));
        if (this.#copied.size >= 1000) this.#copied.clear();
        this.#copied.set(key, name);
      }
      return this.urlOf(name);
    }
    return undefined;
  }

  /**
   * The attachment for an image URL a visitor's frame names, when it is one of our stored
   * uploads; undefined for anything else (a foreign URL is never fetched on a visitor's word).
   */
  async attachmentFor(url: string): Promise<Attachment | undefined> {
    const at = url.lastIndexOf(FILES_PATH);
    if (at < 0) return undefined;
    const name = url.slice(at + FILES_PATH.length);
    const mime = contentTypeOf(name);
    if (!isFileName(name) || !Object.hasOwn(UPLOAD_TYPES, mime)) return undefined;
    const info = await this.#store.info(name);
    if (!info) return undefined;
    const attachment: Attachment = { ref: name, url: this.urlOf(name), name, mime, size: info.size };
    if (info.width !== undefined && info.height !== undefined) return { ...attachment, width: info.width, height: info.height };
    const file = await this.#store.get(name);
    const dims = file && (await imageSize(file.bytes));
    return dims ? { ...attachment, ...dims } : attachment;
  }

  /** Bytes of a stored file, by the name in `attachment.ref`. */
  async read(attachment: Attachment): Promise<Buffer> {
    const file = await this.get(attachment.ref);
    if (!file) throw new Error(`not a web chat file: ${attachment.ref}`);
    return file.bytes;
  }

  /** A stored file by name; undefined when the name is not one of ours or nothing is stored under it. */
  async get(name: string): Promise<StoredFile | undefined> {
    return isFileName(name) ? this.#store.get(name) : undefined;
  }

  async #storeByContent(bytes: Buffer, ext: string): Promise<string> {
    const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.${ext}`;
    if (this.#stored.has(name)) return name;
    // The same media sent to many people is stored once: its bytes go to the store only when
    // the store does not have them yet.
    if (!(await this.#store.info(name))) await this.#store.put({ name, bytes });
    if (this.#stored.size >= 1000) this.#stored.clear();
    this.#stored.add(name);
    return name;
  }
}

/** Width and height of an image (from its header), or undefined when it cannot be read. */
export async function imageSize(input: string | Buffer): Promise<{ width: number; height: number } | undefined> {
  try {
    const { default: sharp } = await import('sharp');
    const meta = await sharp(input).metadata();
    return meta.width && meta.height ? { width: meta.width, height: meta.height } : undefined;
  } catch {
    return undefined;
  }
}

/** http(s) URLs and same-origin paths pass; `javascript:`, `data:` and the like do not. */
export function safeUrl(url: string): string | undefined {
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Link targets allowed in message text: http(s), mailto and tel. */
export function safeHref(href: string): string | undefined {
  if (/^(mailto|tel):/i.test(href)) return href;
  return safeUrl(href);
}
