/**
 * Remembers the file_id Telegram returned for media the bot uploaded, so the next send of the
 * same image or file goes by file_id instead of uploading the bytes again (Telegram lets a bot
 * reuse its file_ids indefinitely). Keys: the URL, the file path with its size and mtime, or the
 * SHA-256 of inline base64 bytes. In memory and bounded (least recently used goes first); the
 * runtime may later persist it.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OutgoingMedia } from '../../core/model.ts';
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

  constructor(max = 1000) {
    this.#ids = new LruMap(max);
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
    const known = key && !fresh ? this.#ids.get(key) : undefined;
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

  remember(key: string | null, fileId: string | undefined): void {
    if (key && fileId) this.#ids.set(key, fileId);
  }

  forget(key: string | null): void {
    if (key) this.#ids.delete(key);
  }
}
