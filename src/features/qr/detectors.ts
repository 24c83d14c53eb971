/**
 * The two QR detectors the engine runs: ZXing-C++ compiled to WebAssembly (the main one: finds
 * several codes per pass, copes with perspective and rotation) and jsQR (pure JavaScript, a
 * different locator that sometimes reads what ZXing misses). Both are synchronous CPU work and
 * must only run inside the decode worker.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import jsQR from 'jsqr';
import { prepareZXingModule, readBarcodes, type ReaderOptions } from 'zxing-wasm/reader';
import type { GreyImage } from './image.ts';

/** A decoded code and where it was found, in the scanned image's pixel coordinates. */
export interface Found {
  text: string;
  corners: Array<{ x: number; y: number }>;
}

let zxingReady: Promise<unknown> | undefined;

/**
 * Loads the ZXing wasm binary from the installed `zxing-wasm` package. The package's default is to
 * fetch it from a CDN; handing the bytes over ourselves keeps decoding offline.
 */
export function loadZxing(): Promise<unknown> {
  if (!zxingReady) {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('zxing-wasm/reader/zxing_reader.wasm');
    const bytes = readFileSync(wasmPath);
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    zxingReady = prepareZXingModule({
      overrides: {
        wasmBinary,
        // Never consulted while wasmBinary is given; set so that nothing can point at the network.
        locateFile: (file: string) => wasmPath.replace(/zxing_reader\.wasm$/, file),
      },
      fireImmediately: true,
    });
  }
  return zxingReady;
}

/** ZXing settings for a scan. */
export interface ZxingScan {
  /** Binarizer: LocalAverage (default, adaptive) or GlobalHistogram (better for blur/low contrast). */
  binarizer?: 'LocalAverage' | 'GlobalHistogram';
  /** Let ZXing close small gaps (helps with noise and print defects). */
  denoise?: boolean;
  /** Upper bound of codes reported in one pass. */
  maxCodes?: number;
}

/** Scans with ZXing; returns every valid QR code (incl. Micro QR and rMQR) in the image. */
export async function scanZxing(img: GreyImage, scan: ZxingScan = {}): Promise<Found[]> {
  await loadZxing();
  const options: ReaderOptions = {
    formats: ['QRCode', 'MicroQRCode', 'RMQRCode'],
    tryHarder: true,
    tryRotate: true,
    tryInvert: true,
    tryDownscale: true,
    tryDenoise: scan.denoise ?? false,
    binarizer: scan.binarizer ?? 'LocalAverage',
    maxNumberOfSymbols: scan.maxCodes ?? 16,
    textMode: 'Plain',
  };
  const imageData = { data: toRgba(img), width: img.width, height: img.height, colorSpace: 'srgb' } as ImageData;
  const results = await readBarcodes(imageData, options);
  return results
    .filter((r) => r.isValid)
    .map((r) => ({
      text: r.text,
      corners: [r.position.topLeft, r.position.topRight, r.position.bottomRight, r.position.bottomLeft],
    }));
}

/**
 * Scans with jsQR. jsQR reports one code per call, so after each hit the code's area is painted
 * white and the image scanned again, up to `maxCodes` times.
 */
export function scanJsqr(img: GreyImage, maxCodes = 8): Found[] {
  const rgba = toRgba(img);
  const found: Found[] = [];
  for (let i = 0; i < maxCodes; i++) {
    const hit = jsQR(rgba, img.width, img.height, { inversionAttempts: 'attemptBoth' });
    if (!hit || hit.data === '' && hit.binaryData.length === 0) break;
    const { topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner } = hit.location;
    const corners = [topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner];
    found.push({ text: hit.data, corners });
    maskPolygon(rgba, img.width, img.height, corners);
  }
  return found;
}

/** Paints the quadrilateral (grown by a few modules' worth of margin) white in an RGBA buffer. */
export function maskPolygon(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  corners: Array<{ x: number; y: number }>,
): void {
  const cx = corners.reduce((s, p) => s + p.x, 0) / corners.length;
  const cy = corners.reduce((s, p) => s + p.y, 0) / corners.length;
  // Grow by 15% around the centre so the finder patterns' quiet zone goes too.
  const grown = corners.map((p) => ({ x: cx + (p.x - cx) * 1.15, y: cy + (p.y - cy) * 1.15 }));
  const minX = Math.max(0, Math.floor(Math.min(...grown.map((p) => p.x))));
  const maxX = Math.min(width - 1, Math.ceil(Math.max(...grown.map((p) => p.x))));
  const minY = Math.max(0, Math.floor(Math.min(...grown.map((p) => p.y))));
  const maxY = Math.min(height - 1, Math.ceil(Math.max(...grown.map((p) => p.y))));
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      if (!insideConvex(grown, x, y)) continue;
      const o = (y * width + x) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = 255;
    }
  }
}

function insideConvex(poly: Array<{ x: number; y: number }>, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    const cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
    if (cross === 0) continue;
    const s = cross > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

function toRgba(img: GreyImage): Uint8ClampedArray {
  const out = new Uint8ClampedArray(img.width * img.height * 4);
  const { data } = img;
  for (let i = 0, o = 0; i < data.length; i++, o += 4) {
    out[o] = out[o + 1] = out[o + 2] = data[i];
    out[o + 3] = 255;
  }
  return out;
}
