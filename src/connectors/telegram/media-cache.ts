/**
 * Remembers the file_id Telegram returned for media the bot uploaded, so the next send of the
 * same image or file goes by file_id instead of uploading the bytes again (Telegram lets a bot
 * reuse its file_ids indefinitely). Keys: the URL, the file path with its size and mtime, or the
 * SHA-256 of inline base64 bytes. In memory and bounded (least recently used goes first), in
 * front of the runtime's shared store (`FileRefs`, the database) when one is given: another
 * replica's or an earlier process's upload is reused too. The shared store is a cache: when it
 * fails, the media is uploaded again, and a send never fails because of it.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { OutgoingMedia } from '../../core/model.ts';
import type { FileRefs } from '../connector.ts';
import { InputFile } from './api.ts';

/** A Map that forgets its least recently used entry beyond `max`. Could be shared by connectors. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly max: number;

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}

/** What to put into sendPhoto's `photo` / sendDocument's `document`. */
export interface MediaSource {
  /** Cache key of this media (null when it cannot be identified). */
  key: string | null;
  value: string | InputFile;
  /** True when `value` is a remembered file_id. */
  cached: boolean;
}

export class MediaCache {
  readonly #ids: LruMap<string, string>;
  readonly #shared: FileRefs | undefined;
  readonly #log: () => Logger | undefined;

  constructor(max = 1000, shared?: FileRefs, log: () => Logger | undefined = () => undefined) {
    this.#ids = new LruMap(max);
    this.#shared = shared;
    this.#log = log;
  }

  /** Runs a shared-store call; a failure is logged and counts as "not known". */
  async #tryShared<T>(what: string, fn: (shared: FileRefs) => Promise<T>): Promise<T | undefined> {
    if (!this.#shared) return undefined;
    try {
      return await fn(this.#shared);
    } catch (err: unknown) {
      this.#log()?.warn({ err }, `telegram: media file_id store failed to ${what}; going on without it`);
      return undefined;
    }
  }

  /** The key of a media item: by URL, by path (+ size and mtime, so an edited file re-uploads), or by content hash. */
  async keyOf(media: OutgoingMedia): Promise<string | null> {
    if (media.url) return `url:${media.url}`;
    if (media.path) {
      const abs = path.resolve(media.path);
      const s = await stat(abs);
      return `path:${abs}:${s.size}:${Math.trunc(s.mtimeMs)}`;
    }
    if (media.base64) return `sha256:${createHash('sha256').update(media.base64).digest('hex')}`;
    return null;
  }

  /** Resolves media to a remembered file_id, its URL, or bytes to upload. */
  async source(media: OutgoingMedia, kind: 'image' | 'file', fresh = false): Promise<MediaSource> {
    const key = await this.keyOf(media);
    let known = key && !fresh ? this.#ids.get(key) : undefined;
    if (key && !fresh && !known) {
      known = await this.#tryShared('read', (s) => s.get(key));
      if (known) this.#ids.set(key, known);
    }
    if (key && known) return { key, value: known, cached: true };
    if (media.url) return { key, value: media.url, cached: false };
    if (media.path) {
      const data = await readFile(media.path);
      return { key, value: new InputFile(data, media.name ?? path.basename(media.path), media.mime), cached: false };
    }
    if (media.base64) {
      const data = Buffer.from(media.base64, 'base64');
      const name = media.name ?? (kind === 'image' ? 'image.png' : 'file.bin');
      return { key, value: new InputFile(data, name, media.mime ?? (kind === 'image' ? 'image/png' : undefined)), cached: false };
    }
    throw new Error('outgoing media has no url, path or base64');
  }

  async remember(key: string | null, fileId: string | undefined): Promise<void> {
    if (!key || !fileId) return;
    this.#ids.set(key, fileId);
    await this.#tryShared('save', (s) => s.set(key, fileId));
  }

  async forget(key: string | null): Promise<void> {
    if (!key) return;
    this.#ids.delete(key);
    await this.#tryShared('forget', (s) => s.delete(key));
  }
}
