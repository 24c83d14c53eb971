import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQrDecoder, decodeQr, encodeQr, QrError } from '../../src/features/qr/index.ts';

afterAll(() => closeQrDecoder());

describe('encodeQr → decodeQr round trip', () => {
  it('reads back a PNG it wrote', async () => {
    const text = 'https://switchboard.example/c/3f9a2b';
    const png = await encodeQr(text, { format: 'png' });
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([512, 512]);
    expect(await decodeQr(png)).toEqual([text]);
  });

  it('reads back an SVG it wrote, given as SVG and rasterised by sharp', async () => {
    const text = 'contact:42;name=Ada Lovelace';
    const svg = await encodeQr(text, { format: 'svg' });
    expect(svg).toContain('<svg');
    expect(await decodeQr(Buffer.from(svg))).toEqual([text]);
    const raster = await sharp(Buffer.from(svg), { density: 300 }).png().toBuffer();
    expect(await decodeQr(raster)).toEqual([text]);
  });

  it('keeps non-Latin text and emoji intact', async () => {
    const text = 'Привет, мир! 你好 👋';
    expect(await decodeQr(await encodeQr(text, { format: 'png', size: 300 }))).toEqual([text]);
  });

  it('honours size and error correction', async () => {
    const png = await encodeQr('x', { format: 'png', size: 200, errorCorrection: 'H' });
    expect((await sharp(png).metadata()).width).toBe(200);
    expect(await decodeQr(png)).toEqual(['x']);
  });

  it('refuses empty text and text too long for a QR code, with stable codes', async () => {
    await expect(encodeQr('', { format: 'png' })).rejects.toMatchObject({ code: 'empty' });
    const err = await encodeQr('x'.repeat(8000), { format: 'svg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QrError);
    expect(err).toMatchObject({ code: 'text_too_long' });
  });
});
