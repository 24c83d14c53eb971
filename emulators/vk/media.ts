/**
 * Files the emulator hosts (what people send, what the bot uploads) and the VK attachment objects
 * that point at them: `photo` with its `sizes`, `doc` with its `url`.
 */
import { randomBytes } from 'node:crypto';

export interface StoredFile {
  bytes: Buffer;
  mime: string;
  name: string;
}

export interface PhotoObject {
  id: number;
  owner_id: number;
  album_id: number;
  date: number;
  access_key: string;
  text: string;
  has_tags: boolean;
  sizes: { type: string; url: string; width: number; height: number }[];
}

export interface DocObject {
  id: number;
  owner_id: number;
  title: string;
  size: number;
  ext: string;
  date: number;
  type: number;
  url: string;
}

/** Width and height of a PNG, JPEG or GIF; null when the bytes are not one of those. */
export function imageSize(b: Buffer): { width: number; height: number } | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('latin1', 0, 4) === 'GIF8') return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      const len = b.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
      }
      i += 2 + len;
    }
  }
  return null;
}

export function mimeOf(b: Buffer, name = ''): string {
  if (b.length >= 4 && b.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === '%PDF') return 'application/pdf';
  if (/\.txt$/i.test(name)) return 'text/plain';
  return 'application/octet-stream';
}

/** VK's document type numbers: 1 text, 3 gif, 4 image, 8 unknown. */
function docType(mime: string): number {
  if (mime === 'image/gif') return 3;
  if (mime.startsWith('image/')) return 4;
  if (mime.startsWith('text/') || mime === 'application/pdf') return 1;
  return 8;
}

export class FileStore {
  readonly #files = new Map<string, StoredFile>();
  readonly #base: () => string;
  #seq = 0;

  constructor(baseUrl: () => string) {
    this.#base = baseUrl;
  }

  /** Stores bytes and returns the id under which `/_files/<id>` serves them. */
  put(file: StoredFile): string {
    const id = `${++this.#seq}${randomBytes(6).toString('hex')}`;
    this.#files.set(id, file);
    return id;
  }

  get(id: string): StoredFile | undefined {
    return this.#files.get(id);
  }

  url(id: string, suffix = ''): string {
    return `${this.#base()}/_files/${id}${suffix}`;
  }

  /** A VK photo object for an image: three sizes (s, m, x), the largest being the original. */
  photo(fileId: string, id: number, ownerId: number, size: { width: number; height: number }): PhotoObject {
    const scaled = (max: number) => {
      const k = Math.min(1, max / Math.max(size.width, size.height, 1));
      return { width: Math.max(1, Math.round(size.width * k)), height: Math.max(1, Math.round(size.height * k)) };
    };
    return {
      id,
      owner_id: ownerId,
      album_id: -3,
      date: Math.floor(Date.now() / 1000),
      access_key: randomBytes(9).toString('hex'),
      text: '',
      has_tags: false,
      sizes: [
        { type: 's', url: this.url(fileId, '?size=s'), ...scaled(75) },
        { type: 'm', url: this.url(fileId, '?size=m'), ...scaled(130) },
        { type: 'x', url: this.url(fileId), ...size },
      ],
    };
  }

  doc(fileId: string, id: number, ownerId: number, title: string): DocObject {
    const f = this.#files.get(fileId) as StoredFile;
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(title)?.[1]?.toLowerCase() ?? '';
    return {
      id,
      owner_id: ownerId,
      title,
      size: f.bytes.length,
      ext,
      date: Math.floor(Date.now() / 1000),
      type: docType(f.mime),
      url: this.url(fileId, `?dl=${encodeURIComponent(title)}`),
    };
  }
}
