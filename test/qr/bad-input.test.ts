/**
 * Whatever people send, the decoder answers with a QrError that names the problem — never a crash,
 * never an attempt to allocate what a hostile header claims.
 */
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQrDecoder, decodeQr, encodeQr, QrError } from '../../src/features/qr/index.ts';
import { pngClaiming, svgClaiming } from './fixtures/bad-images.ts';

afterAll(() => closeQrDecoder());

async function errorOf(promise: Promise<unknown>): Promise<QrError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QrError);
  return error as QrError;
}

describe('decodeQr on bad input', () => {
  it('says "empty" for an empty file', async () => {
    const error = await errorOf(decodeQr(Buffer.alloc(0)));
    expect(error.code).toBe('empty');
    expect(error.message).toMatch(/empty/i);
  });

  it('says "not_an_image" for text, random bytes and a truncated PNG', async () => {
    expect((await errorOf(decodeQr(Buffer.from('{"hello": "world"}')))).code).toBe('not_an_image');
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    expect((await errorOf(decodeQr(random))).code).toBe('not_an_image');
    const png = await encodeQr('cut short', { format: 'png' });
    expect((await errorOf(decodeQr(png.subarray(0, 20)))).code).toBe('not_an_image');
  });

  it('refuses a decompression bomb (PNG header claiming 100000×100000) without decoding it', async () => {
    const bomb = pngClaiming(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2000);
    const error = await errorOf(decodeQr(bomb));
    expect(error.code).toBe('too_large');
    expect(error.message).toContain('100000×100000');
  }, 10_000);

  it('refuses an SVG that asks for a huge canvas, and an image over a configured limit', async () => {
    expect((await errorOf(decodeQr(svgClaiming(200_000, 200_000)))).code).toBe('too_large');
    const big = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#888' } }).jpeg().toBuffer();
    const error = await errorOf(decodeQr(big, { limits: { maxPixels: 1_000_000 } }));
    expect(error.code).toBe('too_large');
    expect((await errorOf(decodeQr(big, { limits: { maxInputBytes: 100 } }))).code).toBe('too_large');
  });

  it('still decodes normally after refusing bad input', async () => {
    await errorOf(decodeQr(pngClaiming(100_000, 100_000)));
    await errorOf(decodeQr(Buffer.from('nope')));
    expect(await decodeQr(await encodeQr('still fine', { format: 'png' }))).toEqual(['still fine']);
  });
});
