/**
 * Synthetic "photos" of QR codes for the tests and the benchmark: a code printed on paper, placed
 * in a cluttered scene under a perspective transform, then blurred, darkened, washed out, noised
 * and JPEG-compressed like a phone picture. Everything is driven by a seeded PRNG, so the same seed
 * always gives the same bytes.
 */
import QRCode from 'qrcode';
import sharp from 'sharp';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const between = (r: Rand, lo: number, hi: number): number => lo + (hi - lo) * r();
function gaussian(r: Rand): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** One code to draw: its text, centre, side (incl. quiet zone), rotation and perspective. */
export interface CodeSpec {
  text: string;
  cx: number;
  cy: number;
  /** Side in pixels of the printed square, quiet zone included. */
  size: number;
  /** Rotation in degrees. */
  angle?: number;
  /** How far (as a fraction of size) each corner is pushed at random: a perspective view. */
  perspective?: number;
}

/** A scene and the camera faults applied to it. */
export interface SceneSpec {
  width: number;
  height: number;
  codes: CodeSpec[];
  seed: number;
  /** Gaussian blur sigma in pixels (focus). */
  blur?: number;
  /** Standard deviation of added sensor noise, in grey levels. */
  noise?: number;
  /** Contrast kept: 1 = as printed, 0.15 = modules differ by ~15% of the range. */
  contrast?: number;
  /** Strength (0–1) of an uneven-lighting gradient across the picture. */
  shading?: number;
  /** JPEG quality of the output. */
  jpegQuality?: number;
}

/** Renders a scene to JPEG bytes. */
export async function renderScene(spec: SceneSpec): Promise<Buffer> {
  const r = rng(spec.seed);
  const { width, height } = spec;
  const px = new Float32Array(width * height * 3);
  paintBackground(px, width, height, r);
  for (const code of spec.codes) drawCode(px, width, height, code, r);
  shade(px, width, height, spec.shading ?? between(r, 0, 0.25), r);
  if (spec.contrast !== undefined && spec.contrast < 1) squeezeContrast(px, spec.contrast);
  let raw = toBytes(px);
  if (spec.blur && spec.blur > 0.3) {
    raw = await sharp(raw, { raw: { width, height, channels: 3 } }).blur(spec.blur).raw().toBuffer();
  }
  if (spec.noise) addNoise(raw, spec.noise, r);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: spec.jpegQuality ?? 88 })
    .toBuffer();
}

function paintBackground(px: Float32Array, w: number, h: number, r: Rand): void {
  const c0 = [between(r, 60, 200), between(r, 60, 200), between(r, 60, 200)];
  const c1 = [between(r, 60, 200), between(r, 60, 200), between(r, 60, 200)];
  for (let y = 0; y < h; y++) {
    const t = y / h;
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) px[o + c] = c0[c] * (1 - t) + c1[c] * t;
    }
  }
  // Clutter: rectangles of random colour (a desk, a badge, a phone...), some with hard edges.
  const count = 6 + Math.floor(r() * 10);
  for (let i = 0; i < count; i++) {
    const rw = between(r, 0.05, 0.4) * w;
    const rh = between(r, 0.05, 0.4) * h;
    const x0 = Math.floor(between(r, -0.1, 1) * w);
    const y0 = Math.floor(between(r, -0.1, 1) * h);
    const col = [between(r, 0, 255), between(r, 0, 255), between(r, 0, 255)];
    for (let y = Math.max(0, y0); y < Math.min(h, y0 + rh); y++) {
      for (let x = Math.max(0, x0); x < Math.min(w, x0 + rw); x++) {
        const o = (y * w + x) * 3;
        px[o] = col[0];
        px[o + 1] = col[1];
        px[o + 2] = col[2];
      }
    }
  }
}

type Pt = { x: number; y: number };

function drawCode(px: Float32Array, w: number, h: number, spec: CodeSpec, r: Rand): void {
  const qr = QRCode.create(spec.text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 4;
  const total = n + 2 * quiet;
  const angle = ((spec.angle ?? 0) * Math.PI) / 180;
  const half = spec.size / 2;
  const jitter = (spec.perspective ?? 0) * spec.size;
  const unit: Pt[] = [
    { x: -1, y: -1 },
    { x: 1, y: -1 },
    { x: 1, y: 1 },
    { x: -1, y: 1 },
  ];
  const quad = unit.map((p) => {
    const x = p.x * half + between(r, -jitter, jitter);
    const y = p.y * half + between(r, -jitter, jitter);
    return {
      x: spec.cx + x * Math.cos(angle) - y * Math.sin(angle),
      y: spec.cy + x * Math.sin(angle) + y * Math.cos(angle),
    };
  });
  const inv = invert3(squareToQuad(quad));
  const paper = between(r, 225, 250);
  const ink = between(r, 10, 50);
  const minX = Math.max(0, Math.floor(Math.min(...quad.map((p) => p.x))));
  const maxX = Math.min(w - 1, Math.ceil(Math.max(...quad.map((p) => p.x))));
  const minY = Math.max(0, Math.floor(Math.min(...quad.map((p) => p.y))));
  const maxY = Math.min(h - 1, Math.ceil(Math.max(...quad.map((p) => p.y))));
  const sub = [0.25, 0.75];
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      // 2×2 supersampling: edges of modules come out anti-aliased, as a camera sees them.
      let dark = 0;
      let inside = 0;
      for (const sy of sub) {
        for (const sx of sub) {
          const [u, v] = apply(inv, x + sx, y + sy);
          if (u < 0 || u >= 1 || v < 0 || v >= 1) continue;
          inside++;
          const col = Math.floor(u * total) - quiet;
          const row = Math.floor(v * total) - quiet;
          if (col >= 0 && row >= 0 && col < n && row < n && qr.modules.get(row, col)) dark++;
        }
      }
      if (inside === 0) continue;
      const o = (y * w + x) * 3;
      const value = paper + ((ink - paper) * dark) / 4;
      const cover = inside / 4;
      for (let c = 0; c < 3; c++) px[o + c] = px[o + c] * (1 - cover) + value * cover;
    }
  }
}

/** Projective map from the unit square onto a quadrilateral (Heckbert's closed form). */
function squareToQuad(q: Pt[]): number[] {
  const [p0, p1, p2, p3] = q;
  const dx1 = p1.x - p2.x;
  const dx2 = p3.x - p2.x;
  const dy1 = p1.y - p2.y;
  const dy2 = p3.y - p2.y;
  const sx = p0.x - p1.x + p2.x - p3.x;
  const sy = p0.y - p1.y + p2.y - p3.y;
  const den = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / den;
  const hh = (dx1 * sy - sx * dy1) / den;
  return [
    p1.x - p0.x + g * p1.x, p3.x - p0.x + hh * p3.x, p0.x,
    p1.y - p0.y + g * p1.y, p3.y - p0.y + hh * p3.y, p0.y,
    g, hh, 1,
  ];
}

function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ];
}

function apply(m: number[], x: number, y: number): [number, number] {
  const z = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / z, (m[3] * x + m[4] * y + m[5]) / z];
}

function shade(px: Float32Array, w: number, h: number, strength: number, r: Rand): void {
  if (strength <= 0) return;
  const ax = between(r, -1, 1);
  const ay = between(r, -1, 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = (ax * (x / w - 0.5) + ay * (y / h - 0.5) + 1) / 2; // 0..1
      const k = 1 - strength * t;
      const o = (y * w + x) * 3;
      px[o] *= k;
      px[o + 1] *= k;
      px[o + 2] *= k;
    }
  }
}

function squeezeContrast(px: Float32Array, contrast: number): void {
  let mean = 0;
  for (let i = 0; i < px.length; i++) mean += px[i];
  mean /= px.length;
  for (let i = 0; i < px.length; i++) px[i] = mean + (px[i] - mean) * contrast;
}

function toBytes(px: Float32Array): Buffer {
  const out = Buffer.alloc(px.length);
  for (let i = 0; i < px.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(px[i])));
  return out;
}

function addNoise(raw: Buffer, sigma: number, r: Rand): void {
  for (let i = 0; i < raw.length; i += 3) {
    // Mostly luminance noise, a little chroma, as phone sensors produce.
    const l = gaussian(r) * sigma;
    for (let c = 0; c < 3; c++) raw[i + c] = Math.max(0, Math.min(255, Math.round(raw[i + c] + l + gaussian(r) * sigma * 0.2)));
  }
}

/** The distortion families the benchmark reports on. */
export const DISTORTIONS = [
  'rotation',
  'perspective',
  'blur',
  'noise',
  'low_contrast',
  'small_in_large',
  'several',
  'jpeg',
  'combined',
] as const;
export type Distortion = (typeof DISTORTIONS)[number];

/** A generated photo with the texts a decoder should find in it. */
export interface Photo {
  distortion: Distortion;
  seed: number;
  texts: string[];
  bytes: Buffer;
  width: number;
  height: number;
}

function payload(r: Rand): string {
  let id = '';
  for (let i = 0; i < 12; i++) id += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(r() * 36)];
  return `https://switchboard.example/c/${id}`;
}

/** Builds one photo of the given distortion family; the same (distortion, seed) gives the same bytes. */
export async function makePhoto(distortion: Distortion, seed: number): Promise<Photo> {
  const r = rng(seed * 7919 + DISTORTIONS.indexOf(distortion));
  // The scene (background clutter, lighting) differs per family too, not only per seed.
  const sceneSeed = seed * 101 + DISTORTIONS.indexOf(distortion);
  let width = 1280;
  let height = 960;
  const one = (over: Partial<CodeSpec> = {}): CodeSpec => ({
    text: payload(r),
    cx: width * between(r, 0.35, 0.65),
    cy: height * between(r, 0.35, 0.65),
    size: between(r, 260, 480),
    angle: between(r, -8, 8),
    perspective: between(r, 0, 0.04),
    ...over,
  });
  let spec: SceneSpec;
  switch (distortion) {
    case 'rotation':
      spec = { width, height, seed: sceneSeed, codes: [one({ angle: between(r, 0, 360) })], blur: 0.8 };
      break;
    case 'perspective':
      spec = { width, height, seed: sceneSeed, codes: [one({ perspective: between(r, 0.18, 0.3) })], blur: 0.8 };
      break;
    case 'blur': {
      const code = one();
      // Sigma relative to one module (37 modules incl. quiet zone for these payloads).
      spec = { width, height, seed: sceneSeed, codes: [code], blur: (code.size / 37) * between(r, 0.4, 0.8) };
      break;
    }
    case 'noise':
      spec = { width, height, seed: sceneSeed, codes: [one()], noise: between(r, 50, 110), blur: 0.8 };
      break;
    case 'low_contrast':
      spec = { width, height, seed: sceneSeed, codes: [one()], contrast: between(r, 0.03, 0.1), shading: between(r, 0.3, 0.6), noise: 2 };
      break;
    case 'small_in_large':
      width = 4032;
      height = 3024;
      spec = {
        width,
        height,
        seed: sceneSeed,
        codes: [one({ size: between(r, 80, 140), cx: width * between(r, 0.1, 0.9), cy: height * between(r, 0.1, 0.9) })],
        blur: 0.7,
        noise: 4,
      };
      break;
    case 'several': {
      width = 1600;
      height = 1200;
      const codes: CodeSpec[] = [];
      const cells = [
        [0.25, 0.27],
        [0.75, 0.27],
        [0.25, 0.73],
        [0.75, 0.73],
      ];
      const count = 2 + Math.floor(r() * 3);
      for (let i = 0; i < count; i++) {
        codes.push(one({ cx: width * cells[i][0], cy: height * cells[i][1], size: between(r, 140, 320), angle: between(r, -45, 45) }));
      }
      spec = { width, height, seed: sceneSeed, codes, blur: 0.8, noise: 10 };
      break;
    }
    case 'jpeg':
      spec = { width, height, seed: sceneSeed, codes: [one({ size: between(r, 140, 240) })], jpegQuality: Math.round(between(r, 2, 6)) };
      break;
    case 'combined':
      spec = {
        width,
        height,
        seed: sceneSeed,
        codes: [one({ angle: between(r, 0, 360), perspective: between(r, 0.08, 0.16) })],
        blur: between(r, 2, 3.5),
        noise: between(r, 20, 40),
        contrast: between(r, 0.15, 0.3),
        shading: 0.4,
        jpegQuality: 60,
      };
      break;
  }
  const bytes = await renderScene(spec);
  return { distortion, seed, texts: spec.codes.map((c) => c.text), bytes, width, height };
}

/** `perDistortion` photos of every family, seeds 1..perDistortion. */
export async function makePhotoSet(perDistortion: number): Promise<Photo[]> {
  const photos: Photo[] = [];
  for (const distortion of DISTORTIONS) {
    for (let seed = 1; seed <= perDistortion; seed++) photos.push(await makePhoto(distortion, seed));
  }
  return photos;
}
