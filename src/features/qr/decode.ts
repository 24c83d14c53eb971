/**
 * Reads every QR code in an image: loads it within limits, then tries the variants of
 * strategy.ts in order until one yields a code. This is CPU-bound and synchronous in parts (wasm,
 * pixel loops): call it through {@link decodeQr} (index.ts), which runs it in a worker thread.
 */
import { scanJsqr, scanZxing, type Found } from './detectors.ts';
import { forEachPixelInside, type Point } from './geometry.ts';
import { DEFAULT_IMAGE_LIMITS, loadGrey, type GreyImage, type ImageLimits } from './image.ts';
import { crop, scaleTo, tiles } from './preprocess.ts';
import { EXTRA_PASSES, VARIANTS, type Variant } from './strategy.ts';

/** Options for one decode, as they travel to the worker (plain data only). */
export interface ScanOptions {
  /** Stop starting new variants after this many milliseconds (the hard limit is the pool's timeout). */
  budgetMs?: number;
  /** Input limits; defaults in {@link DEFAULT_IMAGE_LIMITS}. */
  limits?: Partial<ImageLimits>;
  /** Report at most this many codes. */
  maxCodes?: number;
  /** Try only these variants (by name), in this order; for the benchmark and tests. */
  variants?: string[];
}

/** The outcome of a scan: the texts and, for the benchmark, which variant found the first code. */
export interface ScanResult {
  texts: string[];
  variant: string | null;
  tried: number;
  ms: number;
}

export const DEFAULT_BUDGET_MS = 8000;
const DEFAULT_MAX_CODES = 16;

/**
 * Decodes in the calling thread. Throws {@link QrError} for bad input; returns no texts when no
 * code was found within the budget.
 */
export async function scanImage(bytes: Uint8Array, options: ScanOptions = {}): Promise<ScanResult> {
  const started = performance.now();
  const budget = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const maxCodes = options.maxCodes ?? DEFAULT_MAX_CODES;
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const { image: work } = await loadGrey(bytes, limits);

  const variants = options.variants
    ? options.variants.map((name) => {
        const v = VARIANTS.find((x) => x.name === name);
        if (!v) throw new Error(`unknown QR variant "${name}"`);
        return v;
      })
    : VARIANTS.filter((v) => !v.when || v.when(work));

  const texts: string[] = [];
  const masks: Point[][] = [];
  const scaled = new Map<number, Promise<GreyImage>>();
  let first: string | null = null;
  let extra = 0;
  let tried = 0;
  for (const variant of variants) {
    if (performance.now() - started > budget) break;
    if (first !== null && extra++ >= EXTRA_PASSES) break;
    if (texts.length >= maxCodes) break;
    tried++;
    const found = await runVariant(work, variant, masks, scaled, started + budget);
    for (const f of found) {
      masks.push(f.corners);
      if (!texts.includes(f.text) && texts.length < maxCodes) texts.push(f.text);
    }
    if (found.length > 0 && first === null) first = variant.name;
  }
  return { texts, variant: first, tried, ms: performance.now() - started };
}

/** Scans one variant; returned corners are in the working image's coordinates. */
async function runVariant(
  work: GreyImage,
  variant: Variant,
  masks: Point[][],
  scaled: Map<number, Promise<GreyImage>>,
  deadline: number,
): Promise<Found[]> {
  let base = work;
  if (variant.side !== 'full') {
    const side = variant.side;
    const needed = variant.enlarge ? Math.max(work.width, work.height) !== side : Math.max(work.width, work.height) > side;
    if (needed) {
      let cached = scaled.get(side);
      if (!cached) {
        cached = scaleTo(work, side);
        scaled.set(side, cached);
      }
      base = await cached;
    }
  }
  const factor = base.width / work.width;
  const masked = masks.length > 0 ? maskGrey(base, masks, factor) : base;

  if (variant.tile) {
    const found: Found[] = [];
    for (const rect of tiles(masked.width, masked.height, variant.tile)) {
      if (performance.now() > deadline) break;
      const piece = crop(masked, rect);
      const ready = variant.prepare ? await variant.prepare(piece) : piece;
      for (const f of await scanZxing(ready, variant.scan)) {
        found.push({ text: f.text, corners: f.corners.map((p) => ({ x: (p.x + rect.x) / factor, y: (p.y + rect.y) / factor })) });
      }
    }
    return found;
  }

  const ready = variant.prepare ? await variant.prepare(masked) : masked;
  const hits = variant.engine === 'jsqr' ? scanJsqr(ready) : await scanZxing(ready, variant.scan);
  // Preparing never changes the size, so only the scale factor maps corners back.
  return hits.map((f) => ({ text: f.text, corners: f.corners.map((p) => ({ x: p.x / factor, y: p.y / factor })) }));
}

/** A copy of `img` with each polygon (given in working coordinates, scaled by `factor`) painted white. */
function maskGrey(img: GreyImage, polygons: Point[][], factor: number): GreyImage {
  const data = new Uint8Array(img.data);
  for (const poly of polygons) {
    const scaledPoly = poly.map((p) => ({ x: p.x * factor, y: p.y * factor }));
    forEachPixelInside(scaledPoly, 0.2, img.width, img.height, (x, y) => {
      data[y * img.width + x] = 255;
    });
  }
  return { data, width: img.width, height: img.height };
}
