/**
 * The two QR detectors the engine runs: ZXing-C++ compiled to WebAssembly (the main one: finds
 * several codes per pass, copes with perspective and rotation) and jsQR (pure JavaScript, a
 * different locator that sometimes reads what ZXing misses). Both are synchronous CPU work and
 * must only run inside the decode worker.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import jsQRModule from 'jsqr';
import { prepareZXingModule, readBarcodes, type ReaderOptions } from 'zxing-wasm/reader';
import { forEachPixelInside, type Point } from './geometry.ts';
import type { GreyImage } from './image.ts';

// jsqr is CommonJS whose typings declare an ES default export; under NodeNext the default import is
// module.exports, which is the function itself and also carries it as `.default`.
type JsQr = typeof import('jsqr').default;
const jsQR: JsQr = (jsQRModule as unknown as { default?: JsQr }).default ?? (jsQRModule as unknown as JsQr);

/** A decoded code and where it was found, in the scanned image's pixel coordinates. */
export interface Found {
  text: string;
  corners: Point[];
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
    if (!hit || (hit.data === '' && hit.binaryData.length === 0)) break;
    const { topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner } = hit.location;
    const corners = [topLeftCorner, topRightCorner, bottomRightCorner, bottomLeftCorner];
    found.push({ text: hit.data, corners });
    forEachPixelInside(corners, 0.2, img.width, img.height, (x, y) => {
      const o = (y * img.width + x) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = 255;
    });
  }
  return found;
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
