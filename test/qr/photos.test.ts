/**
 * Photos as people take them: the decoder must read codes that are rotated, seen at an angle,
 * noisy, dim, small in a big picture, or several in one picture.
 */
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { closeQrDecoder, decodeQr, encodeQr } from '../../src/features/qr/index.ts';
import { renderScene } from './photos.ts';

afterAll(() => closeQrDecoder());

describe('decodeQr on photos', () => {
  it('finds every one of several codes in one photo', async () => {
    const texts = ['https://a.example/1', 'https://b.example/two', 'TEL:+15551234567'];
    const photo = await renderScene({
      width: 1600,
      height: 1200,
      seed: 11,
      codes: [
        { text: texts[0], cx: 400, cy: 330, size: 300, angle: 12 },
        { text: texts[1], cx: 1200, cy: 330, size: 260, angle: -20, perspective: 0.05 },
        { text: texts[2], cx: 800, cy: 880, size: 340, angle: 95 },
      ],
      blur: 0.8,
      noise: 8,
    });
    expect((await decodeQr(photo)).sort()).toEqual([...texts].sort());
  });

  it('reads a rotated, noisy, low-contrast photo taken at an angle', async () => {
    const text = 'https://switchboard.example/c/rot-noise-low';
    const photo = await renderScene({
      width: 1280,
      height: 960,
      seed: 5,
      codes: [{ text, cx: 620, cy: 500, size: 380, angle: 143, perspective: 0.1 }],
      blur: 1.5,
      noise: 28,
      contrast: 0.2,
      shading: 0.4,
      jpegQuality: 70,
    });
    expect(await decodeQr(photo)).toEqual([text]);
  });

  it('reads a small code in a large photo', async () => {
    const text = 'https://switchboard.example/c/tiny';
    const photo = await renderScene({
      width: 3600,
      height: 2700,
      seed: 9,
      codes: [{ text, cx: 3100, cy: 2350, size: 115, angle: 7 }],
      blur: 0.7,
      noise: 4,
    });
    expect(await decodeQr(photo)).toEqual([text]);
  });

  it('reads an out-of-focus photo', async () => {
    const text = 'https://switchboard.example/c/blurry';
    const photo = await renderScene({
      width: 1280,
      height: 960,
      seed: 3,
      // 370 px over 37 modules: sigma 6 is 0.6 of a module.
      codes: [{ text, cx: 640, cy: 480, size: 370, angle: -4 }],
      blur: 6,
    });
    expect(await decodeQr(photo)).toEqual([text]);
  });

  it('reads light-on-dark (inverted) codes and a tiny image', async () => {
    const png = await encodeQr('inverted', { format: 'png', size: 300 });
    const inverted = await sharp(png).negate({ alpha: false }).png().toBuffer();
    expect(await decodeQr(inverted)).toEqual(['inverted']);
    const tiny = await encodeQr('tiny', { format: 'png', size: 60, margin: 2 });
    expect(await decodeQr(tiny)).toEqual(['tiny']);
  });

  it('returns no codes for a photo without one', async () => {
    const photo = await renderScene({ width: 1024, height: 768, seed: 2, codes: [], noise: 10 });
    expect(await decodeQr(photo)).toEqual([]);
  });
});
