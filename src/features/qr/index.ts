/**
 * QR codes: make them ({@link encodeQr}) and read them from photos ({@link decodeQr}).
 *
 * Decoding runs in a worker thread (see pool.ts) with a hard time limit, refuses bad input with a
 * {@link QrError} carrying a stable code, and tries several clean-ups of the photo before giving up
 * (see strategy.ts). The ZXing wasm binary is loaded from the installed package: no network.
 *
 * ```ts
 * const png = await encodeQr('https://example.org/c/abc', { format: 'png' });
 * const texts = await decodeQr(photoBytes); // [] when no code is found
 * ```
 */
import { DEFAULT_BUDGET_MS, type ScanOptions, type ScanResult } from './decode.ts';
import { QrError } from './errors.ts';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image.ts';
import { DecodePool, type PoolOptions } from './pool.ts';

export { encodeQr, formatFromFileName, type EncodeOptions, type QrImageFormat } from './encode.ts';
export { QrError, QR_ERROR_CODES, isQrError, type QrErrorCode } from './errors.ts';
export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image.ts';
export type { ScanResult } from './decode.ts';
export type { PoolOptions } from './pool.ts';

/** Options for one {@link decodeQr} call. */
export interface DecodeOptions {
  /** Hard limit in milliseconds; past it the worker is stopped and QrError `timeout` thrown. Default 20 000. */
  timeoutMs?: number;
  /** Stop trying further clean-ups after this many milliseconds and report what was found. Default 8 000. */
  budgetMs?: number;
  /** Input limits (bytes, pixels); defaults in {@link DEFAULT_IMAGE_LIMITS}. */
  limits?: Partial<ImageLimits>;
  /** Report at most this many codes (default 16). */
  maxCodes?: number;
}

let pool: DecodePool | undefined;
let poolOptions: PoolOptions = {};

function sharedPool(): DecodePool {
  pool ??= new DecodePool(poolOptions);
  return pool;
}

/**
 * Sets up the shared decoder (worker count, default timeout, queue length). Takes effect for the
 * next decode; a running pool is shut down first.
 */
export async function configureQrDecoder(options: PoolOptions): Promise<void> {
  poolOptions = { ...options };
  const old = pool;
  pool = undefined;
  await old?.close();
}

/** Stops the decoder's worker threads (e.g. on shutdown). A later decode starts them again. */
export async function closeQrDecoder(): Promise<void> {
  const old = pool;
  pool = undefined;
  await old?.close();
}

/** Starts a decode worker ahead of the first photo, so that one is not slowed by the start-up. */
export function warmQrDecoder(): Promise<void> {
  return sharedPool().warm();
}

/**
 * Finds every QR code in an image (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG...) and returns their
 * texts, in the order found; an empty array when there is none.
 *
 * @throws QrError `empty`, `not_an_image`, `too_large` (file size, pixel count or memory),
 *   `timeout`, `busy` (queue full) or `internal`.
 */
export async function decodeQr(input: Uint8Array, options: DecodeOptions = {}): Promise<string[]> {
  return (await decodeQrDetailed(input, options)).texts;
}

/** {@link decodeQr} with what the benchmark wants to know: which clean-up worked and how long it took. */
export async function decodeQrDetailed(
  input: Uint8Array,
  options: DecodeOptions & { variants?: string[] } = {},
): Promise<ScanResult> {
  // Cheap refusals here, so that an empty or oversized upload is never copied to a worker.
  if (input.byteLength === 0) throw new QrError('empty', 'The file is empty.');
  const maxBytes = options.limits?.maxInputBytes ?? DEFAULT_IMAGE_LIMITS.maxInputBytes;
  if (input.byteLength > maxBytes) {
    throw new QrError('too_large', `The file is ${(input.byteLength / 1048576).toFixed(1)} MB; the limit is ${(maxBytes / 1048576).toFixed(1)} MB.`);
  }
  // The soft budget must end well before the hard limit, or a slow photo is killed instead of answered.
  const budgetMs = options.budgetMs ?? (options.timeoutMs ? Math.min(DEFAULT_BUDGET_MS, options.timeoutMs / 2) : undefined);
  const scan: ScanOptions = {
    budgetMs,
    limits: options.limits,
    maxCodes: options.maxCodes,
    variants: options.variants,
  };
  return sharedPool().run(input, scan, options.timeoutMs);
}
