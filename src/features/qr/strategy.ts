/**
 * The order in which the engine tries to read a photo. Each {@link Variant} is one cleaned-up
 * version of the image at one scale; they are tried cheapest and most often useful first, and the
 * search stops at the first that yields a code (plus a short look for codes that one missed).
 *
 * The order comes from the benchmark (bench/qr.ts): plain ZXing reads most photos; a contrast
 * stretch rescues washed-out and dim ones; a blur before binarizing rescues noisy and heavily
 * degraded ones; a strong unsharp mask rescues out-of-focus ones; the full-resolution pass and
 * tiles find a small code in a large photo.
 */
import type { ZxingScan } from './detectors.ts';
import type { GreyImage } from './image.ts';
import { adaptiveThreshold, blur, stretchContrast, unsharp } from './preprocess.ts';

/** One way of looking at the image. */
export interface Variant {
  /** Short name, reported by the benchmark and in debug logs. */
  name: string;
  /**
   * Longest side, in pixels, the image is scaled to before `prepare` (never enlarged unless
   * `enlarge`); `'full'` scans the loaded image at its working resolution.
   */
  side: number | 'full';
  enlarge?: boolean;
  /** Scan overlapping tiles of this size (at the working resolution) instead of the whole image. */
  tile?: number;
  prepare?: (img: GreyImage) => GreyImage | Promise<GreyImage>;
  scan?: ZxingScan;
  engine?: 'zxing' | 'jsqr';
  /** Only worth trying for images whose working size matches. */
  when?: (work: GreyImage) => boolean;
}

const longest = (img: GreyImage): number => Math.max(img.width, img.height);

/** Everything, in order. */
export const VARIANTS: readonly Variant[] = [
  { name: 'plain', side: 1600 },
  { name: 'stretch', side: 1600, prepare: (g) => stretchContrast(g) },
  { name: 'smooth', side: 1600, prepare: async (g) => stretchContrast(await blur(g, 2)) },
  { name: 'unsharp', side: 800, prepare: async (g) => stretchContrast(await unsharp(g, 3, 4)) },
  { name: 'full', side: 'full', when: (w) => longest(w) > 1600 },
  // Blurred *and* noisy: smooth the grain away first, then restore the edges.
  { name: 'restore', side: 800, prepare: async (g) => stretchContrast(await unsharp(await blur(g, 2), 2, 3)) },
  { name: 'coarse', side: 400, prepare: async (g) => stretchContrast(await unsharp(await blur(g, 1), 2, 3)), when: (w) => longest(w) > 400 },
  { name: 'threshold', side: 1200, prepare: async (g) => adaptiveThreshold(await blur(g, 1.5)) },
  { name: 'small', side: 1000, when: (w) => longest(w) > 1000 },
  { name: 'half-smooth', side: 800, prepare: async (g) => stretchContrast(await blur(g, 1)), when: (w) => longest(w) > 800 },
  { name: 'enlarge', side: 1600, enlarge: true, when: (w) => longest(w) < 800 },
  { name: 'full-stretch', side: 'full', prepare: async (g) => stretchContrast(await blur(g, 1)), when: (w) => longest(w) > 1600 },
  { name: 'tiles', side: 'full', tile: 1200, prepare: (g) => stretchContrast(g), when: (w) => longest(w) > 2000 },
  { name: 'jsqr', side: 640, engine: 'jsqr', prepare: async (g) => stretchContrast(await blur(g, 1)) },
];

/**
 * After a hit, this many further variants (with the codes already found masked out) look for
 * codes the first one missed, e.g. a second code that is blurrier or smaller.
 */
export const EXTRA_PASSES = 1;
