/**
 * QR decoding benchmark: generates a deterministic (seeded) set of distorted photos — rotation,
 * perspective, focus blur, sensor noise, low contrast with uneven light, a small code in a 12 Mpx
 * photo, several codes in one photo, heavy JPEG compression, and all of those at once — plus photos
 * with no code, and decodes each through the public `decodeQr` path (worker thread included).
 *
 * Reports the decode rate overall and per distortion (a photo counts only if every code in it was
 * read and nothing else), the rate of plain ZXing without any preprocessing for comparison, the
 * median / p95 / max decode time, and the time spent on photos without a code (the worst case:
 * every clean-up is tried).
 *
 * Run alone: `node --import tsx bench/qr.ts` (QR_BENCH_PER=N photos per distortion, default 10).
 */
import { pathToFileURL } from 'node:url';
import { closeQrDecoder, decodeQrDetailed, warmQrDecoder } from '../src/features/qr/index.ts';
import { DISTORTIONS, makePhotoSet, renderScene, type Photo } from '../test/qr/photos.ts';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function exact(found: string[], expected: string[]): boolean {
  return found.length === expected.length && expected.every((t) => found.includes(t));
}

/** Photos with clutter but no code: a decoder must say "none" and not invent one. */
async function emptyPhotos(count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    out.push(await renderScene({ width: 1280, height: 960, seed: 9000 + i, codes: [], noise: 6, blur: 0.8 }));
  }
  return out;
}

/** Generates the photo set, decodes it and returns the figures. */
export async function benchQr(perDistortion = Number(process.env.QR_BENCH_PER ?? 10)): Promise<Record<string, number>> {
  const photos: Photo[] = await makePhotoSet(perDistortion);
  const empty = await emptyPhotos(Math.max(4, Math.round(perDistortion / 2)));
  await warmQrDecoder();

  const times: number[] = [];
  const okBy = new Map<string, number>();
  let ok = 0;
  let baselineOk = 0;
  for (const photo of photos) {
    const start = performance.now();
    const result = await decodeQrDetailed(photo.bytes);
    times.push(performance.now() - start);
    if (exact(result.texts, photo.texts)) {
      ok++;
      okBy.set(photo.distortion, (okBy.get(photo.distortion) ?? 0) + 1);
    }
    const baseline = await decodeQrDetailed(photo.bytes, { variants: ['plain'] });
    if (exact(baseline.texts, photo.texts)) baselineOk++;
  }

  const emptyTimes: number[] = [];
  let falsePositives = 0;
  for (const bytes of empty) {
    const start = performance.now();
    const result = await decodeQrDetailed(bytes);
    emptyTimes.push(performance.now() - start);
    falsePositives += result.texts.length;
  }
  await closeQrDecoder();

  times.sort((a, b) => a - b);
  emptyTimes.sort((a, b) => a - b);
  const figures: Record<string, number> = {
    qr_photos: photos.length,
    qr_decode_rate: round3(ok / photos.length),
    qr_plain_zxing_rate: round3(baselineOk / photos.length),
  };
  for (const d of DISTORTIONS) figures[`qr_rate_${d}`] = round3((okBy.get(d) ?? 0) / perDistortion);
  Object.assign(figures, {
    qr_median_ms: round1(quantile(times, 0.5)),
    qr_p95_ms: round1(quantile(times, 0.95)),
    qr_max_ms: round1(times[times.length - 1]),
    qr_no_code_photos: empty.length,
    qr_no_code_median_ms: round1(quantile(emptyTimes, 0.5)),
    qr_no_code_max_ms: round1(emptyTimes[emptyTimes.length - 1]),
    qr_false_positives: falsePositives,
  });
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchQr();
  for (const [key, value] of Object.entries(result)) process.stdout.write(`${key}: ${value}\n`);
}
