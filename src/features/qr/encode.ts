/** Making QR code images (PNG or SVG) from text, e.g. a person's contact code. */
import QRCode from 'qrcode';
import { QrError } from './errors.ts';

/** Image format of an encoded code. */
export type QrImageFormat = 'png' | 'svg';

/** Options for {@link encodeQr}. */
export interface EncodeOptions {
  format: QrImageFormat;
  /** Width (= height) in pixels of a PNG, quiet zone included; default 512. SVG scales freely. */
  size?: number;
  /** Quiet zone in modules; default 4 (what the standard asks for). */
  margin?: number;
  /** Error correction: L 7%, M 15% (default), Q 25%, H 30% of the code may be damaged. */
  errorCorrection?: 'L' | 'M' | 'Q' | 'H';
}

const MAX_PNG_SIZE = 4096;

/**
 * Encodes `text` as a QR code image: a PNG `Buffer` or an SVG `string`.
 *
 * @throws QrError `empty` when the text is empty, `text_too_long` when it does not fit in a QR
 *   code at the chosen error correction.
 */
export async function encodeQr(text: string, options: EncodeOptions & { format: 'png' }): Promise<Buffer>;
export async function encodeQr(text: string, options: EncodeOptions & { format: 'svg' }): Promise<string>;
export async function encodeQr(text: string, options: EncodeOptions): Promise<Buffer | string>;
export async function encodeQr(text: string, options: EncodeOptions): Promise<Buffer | string> {
  if (text.length === 0) throw new QrError('empty', 'There is no text to encode.');
  const size = Math.round(options.size ?? 512);
  if (!(size >= 21 && size <= MAX_PNG_SIZE)) {
    throw new RangeError(`QR image size must be between 21 and ${MAX_PNG_SIZE} pixels, got ${options.size}`);
  }
  const common = {
    errorCorrectionLevel: options.errorCorrection ?? 'M',
    margin: options.margin ?? 4,
    color: { dark: '#000000ff', light: '#ffffffff' },
  } as const;
  try {
    if (options.format === 'svg') return await QRCode.toString(text, { ...common, type: 'svg' });
    return await QRCode.toBuffer(text, { ...common, type: 'png', width: size });
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (/too big|too long|amount of data/i.test(message)) {
      throw new QrError('text_too_long', `The text (${text.length} characters) is too long for a QR code.`, {
        cause: error,
      });
    }
    throw new QrError('internal', `Could not encode the QR code: ${message}`, { cause: error });
  }
}

/** The format implied by a file name's extension (`.svg` → svg, `.png` → png), or null. */
export function formatFromFileName(fileName: string): QrImageFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  return ext === 'svg' ? 'svg' : ext === 'png' ? 'png' : null;
}
