/**
 * Image clean-ups tried when a photo does not decode as it is. Each takes and returns a
 * {@link GreyImage}; none mutates its input. Cheap per-pixel work is plain JavaScript (this runs in
 * the decode worker, never on the main event loop); filters with a kernel go through sharp/libvips.
 */
import sharp, { type Sharp } from 'sharp';
import type { GreyImage } from './image.ts';

function fromRaw(data: Buffer, width: number, height: number): GreyImage {
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

function pipeline(img: GreyImage): Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 1 },
  });
}

async function run(img: GreyImage, build: (s: Sharp) => Sharp): Promise<GreyImage> {
  const { data, info } = await build(pipeline(img)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return fromRaw(data, info.width, info.height);
}

/** Scales so that the longest side is `side` pixels (up or down); returns the input if already so. */
export function scaleTo(img: GreyImage, side: number): Promise<GreyImage> {
  const longest = Math.max(img.width, img.height);
  if (longest === side) return Promise.resolve(img);
  // Area averaging when shrinking keeps thin modules from aliasing; cubic when enlarging.
  const kernel = side < longest ? sharp.kernel.lanczos3 : sharp.kernel.cubic;
  return run(img, (s) => s.resize({ width: side, height: side, fit: 'inside', kernel }));
}

/**
 * Strong unsharp mask, `img + amount × (img − blur(img, sigma))`: undoes much of the softening of
 * an out-of-focus or shaken photo. Far stronger than a cosmetic sharpen; the benchmark found
 * amount ≈ 4 with sigma ≈ one module rescues codes blurred by more than half a module.
 */
export async function unsharp(img: GreyImage, sigma: number, amount: number): Promise<GreyImage> {
  const soft = await blur(img, sigma);
  const out = new Uint8Array(img.data.length);
  const src = img.data;
  const low = soft.data;
  for (let i = 0; i < out.length; i++) {
    const v = src[i] + amount * (src[i] - low[i]);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return { data: out, width: img.width, height: img.height };
}

/** Gaussian blur: smooths JPEG blocks and grain so the binarizer sees solid modules. */
export function blur(img: GreyImage, sigma = 1): Promise<GreyImage> {
  return run(img, (s) => s.blur(sigma));
}

/**
 * Contrast stretch: maps the `low`–`high` percentiles of the histogram onto 0–255. Rescues washed
 * out, dark or low-contrast photos whose modules differ by only a few grey levels.
 */
export function stretchContrast(img: GreyImage, low = 0.01, high = 0.99): GreyImage {
  const hist = new Uint32Array(256);
  const { data } = img;
  for (let i = 0; i < data.length; i++) hist[data[i]]++;
  const lo = percentile(hist, data.length * low);
  const hi = percentile(hist, data.length * high);
  const out = new Uint8Array(data.length);
  if (hi <= lo) {
    out.set(data);
    return { data: out, width: img.width, height: img.height };
  }
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (hi - lo))));
  for (let i = 0; i < data.length; i++) out[i] = lut[data[i]];
  return { data: out, width: img.width, height: img.height };
}

function percentile(hist: Uint32Array, rank: number): number {
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v];
    if (seen > rank) return v;
  }
  return 255;
}

/**
 * Adaptive (local mean) threshold with an integral image: each pixel is compared with the mean of
 * the `window`-wide square around it. Copes with uneven lighting, shadows and gradients across the
 * code that defeat one global threshold.
 */
export function adaptiveThreshold(img: GreyImage, window?: number, offset = 4): GreyImage {
  const { width, height, data } = img;
  const win = window ?? Math.max(15, (Math.round(Math.min(width, height) / 16) | 1));
  const half = win >> 1;
  const stride = width + 1;
  // Float64 keeps sums exact for any image we accept (255 × 64 Mpx < 2^53).
  const integral = new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      rowSum += data[y * width + x];
      integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + rowSum;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - half);
    const y1 = Math.min(height, y + half + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - half);
      const x1 = Math.min(width, x + half + 1);
      const sum = integral[y1 * stride + x1] - integral[y0 * stride + x1] - integral[y1 * stride + x0] + integral[y0 * stride + x0];
      const mean = sum / ((x1 - x0) * (y1 - y0));
      out[y * width + x] = data[y * width + x] < mean - offset ? 0 : 255;
    }
  }
  return { data: out, width, height };
}

/** A rectangle in pixel coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Copies a rectangle out of the image (clamped to its bounds). */
export function crop(img: GreyImage, rect: Rect): GreyImage {
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(img.width, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(img.height, Math.ceil(rect.y + rect.height));
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) out.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x1), y * width);
  return { data: out, width, height };
}

/**
 * Overlapping tiles covering the image, each `size` pixels square (or smaller at the edges), with
 * half a tile of overlap so a code cut by one tile's border lies whole inside a neighbour.
 */
export function tiles(width: number, height: number, size: number): Rect[] {
  const step = Math.max(1, Math.floor(size / 2));
  const rects: Rect[] = [];
  const xs = starts(width, size, step);
  const ys = starts(height, size, step);
  for (const y of ys) for (const x of xs) rects.push({ x, y, width: Math.min(size, width - x), height: Math.min(size, height - y) });
  return rects;
}

function starts(total: number, size: number, step: number): number[] {
  if (total <= size) return [0];
  const out: number[] = [];
  for (let s = 0; s + size < total; s += step) out.push(s);
  out.push(total - size);
  return out;
}
