/**
 * Where the web chat keeps its files (visitors' uploads, media the bot sends as bytes or local
 * paths). The runtime passes one backed by the database (`storage/repositories/webchat-files.ts`),
 * so every web replica serves every file and a replica needs no disk of its own; a connector used
 * on its own may keep them in a directory instead (`directoryFiles`).
 *
 * Names are chosen by the connector (random or content-hashed, checked against one pattern), and a
 * name never changes what it points to: `put` of a name that exists keeps the first file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredFileInfo {
  name: string;
  size: number;
  /** Images: their dimensions, when known. */
  width?: number;
  height?: number;
}

export interface StoredFile extends StoredFileInfo {
  bytes: Buffer;
}

export interface WebchatFileStore {
  /** Stores a file under its name (its size is its bytes'), unless one by that name is there already. */
  put(file: Omit<StoredFile, 'size'>): Promise<void>;
  /** The file, or undefined when there is none by that name. */
  get(name: string): Promise<StoredFile | undefined>;
  /** What is known of the file without its bytes, or undefined when there is none. */
  info(name: string): Promise<StoredFileInfo | undefined>;
}

/** Files in a directory of this machine (image dimensions are not kept: `info` has none). */
export function directoryFiles(dir: string): WebchatFileStore {
  const root = path.resolve(dir);
  let ready: Promise<unknown> | undefined;
  const sizeOf = (name: string) => stat(path.join(root, name)).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
  return {
    async put(file) {
      if ((await sizeOf(file.name)) === file.bytes.length) return;
      ready ??= mkdir(root, { recursive: true });
      await ready;
      // Through a temporary name and a rename, so a reader never sees half a file.
      const tmp = path.join(root, `.${file.name}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, file.bytes);
      await rename(tmp, path.join(root, file.name));
    },
    async get(name) {
      const bytes = await readFile(path.join(root, name)).catch(() => undefined);
      return bytes && { name, size: bytes.length, bytes };
    },
    async info(name) {
      const size = await sizeOf(name);
      return size === undefined ? undefined : { name, size };
    },
  };
}

/**
 * New files go to `primary`; a file found there or else in `older` is served. For a deployment
 * whose files used to be in a directory: they stay reachable after the move to the database.
 */
export function withOlderFiles(primary: WebchatFileStore, older: WebchatFileStore): WebchatFileStore {
  return {
    put: (file) => primary.put(file),
    get: async (name) => (await primary.get(name)) ?? older.get(name),
    info: async (name) => (await primary.info(name)) ?? older.info(name),
  };
}
