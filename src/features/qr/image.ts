/**
 * Turning untrusted bytes into a greyscale bitmap the detectors can scan, within limits.
 *
 * Every photo a person sends passes through here, so this is where bad input is refused: empty
 * files, bytes that are not an image, files too big to hold and images whose header claims more
 * pixels than we are willing to decode (decompression bombs). The header is read first and the
 * pixel count checked before any pixel is decoded.
 */
import sharp, { type Metadata } from 'sharp';
import { QrError } from './errors.ts';

/** A single-channel 8-bit image, row-major, `data.length === width * height`. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Limits applied to untrusted input before and while it is decoded. */
export interface ImageLimits {
  /** Refuse files larger than this many bytes. */
  maxInputBytes: number;
  /** Refuse images whose header claims more pixels than this (width × height). */
  maxPixels: number;
  /** Refuse images with a side longer than this, whatever the pixel count. */
  maxSide: number;
  /** The loaded bitmap is downscaled so that its longest side is at most this. */
  workSide: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxInputBytes: 40 * 1024 * 1024,
  // 64 Mpx covers every phone camera (a 50 Mpx sensor gives 8160×6120) with room to spare.
  maxPixels: 64 * 1024 * 1024,
  maxSide: 32_768,
  workSide: 3000,
};

/** SVG (and other vector input) is rasterised so that its longest side is about this many pixels. */
const VECTOR_TARGET_SIDE = 1200;

/** What {@link loadGrey} learnt about the input besides its pixels. */
export interface LoadedImage {
  image: GreyImage;
  format: string;
  /** Size of the image as stored (before downscaling and EXIF rotation). */
  originalWidth: number;
  originalHeight: number;
}

/**
 * Reads an image (any format sharp understands), applies its EXIF orientation, flattens
 * transparency onto white and returns it as greyscale, downscaled to `limits.workSide`.
 *
 * @throws QrError `empty`, `not_an_image` or `too_large`.
 */
export async function loadGrey(input: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<LoadedImage> {
  if (input.byteLength === 0) throw new QrError('empty', 'The file is empty.');
  if (input.byteLength > limits.maxInputBytes) {
    throw new QrError(
      'too_large',
      `The file is ${formatBytes(input.byteLength)}; the limit is ${formatBytes(limits.maxInputBytes)}.`,
    );
  }
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);

  let meta: Metadata;
  try {
    // metadata() reads the header only, so it is safe without a pixel limit, and it lets us say
    // how big the image claims to be. The decode below has sharp's own limit as a second guard.
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (error: unknown) {
    throw new QrError('not_an_image', 'The file is not an image (or its format is not supported).', { cause: error });
  }
  const { width, height, format } = meta;
  if (!width || !height || !format) throw new QrError('not_an_image', 'The file is not an image (no dimensions).');
  if (width * height > limits.maxPixels || width > limits.maxSide || height > limits.maxSide) {
    throw new QrError(
      'too_large',
      `The image is ${width}×${height} pixels; the limit is ${(limits.maxPixels / 1e6).toFixed(0)} megapixels ` +
        `and ${limits.maxSide} pixels a side.`,
    );
  }

  // Vector images have no natural pixel size: rasterise them big enough for the modules to be seen.
  const isVector = format === 'svg' || format === 'pdf';
  const longest = Math.max(width, height);
  const density = isVector && longest < VECTOR_TARGET_SIDE ? Math.min(2400, (72 * VECTOR_TARGET_SIDE) / longest) : undefined;

  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: limits.maxPixels,
      failOn: 'error',
      ...(density ? { density } : {}),
    })
      .rotate()
      .flatten({ background: '#ffffff' })
      .resize({ width: limits.workSide, height: limits.workSide, fit: 'inside', withoutEnlargement: true })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = toSingleChannel(data, info.width, info.height, info.channels);
    return { image, format, originalWidth: width, originalHeight: height };
  } catch (error: unknown) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new QrError('too_large', 'The image has more pixels than allowed.', { cause: error });
    }
    throw new QrError('not_an_image', 'The image could not be decoded (it may be corrupt or truncated).', {
      cause: error,
    });
  }
}

function toSingleChannel(data: Buffer, width: number, height: number, channels: number): GreyImage {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 1) return { data: view, width, height };
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += channels) out[i] = view[j];
  return { data: out, width, height };
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}
