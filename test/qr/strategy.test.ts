/**
 * Each clean-up in strategy.ts earns its place: on a photo of the kind it is meant for, it reads
 * the code on its own. Runs the scan in-process (no worker) with one variant at a time.
 */
import { describe, expect, it } from 'vitest';
import { scanImage } from '../../src/features/qr/decode.ts';
import { VARIANTS } from '../../src/features/qr/strategy.ts';
import { renderScene } from './photos.ts';

describe('the decode strategy', () => {
  it('starts with plain ZXing and has uniquely named variants', () => {
    expect(VARIANTS[0].name).toBe('plain');
    expect(new Set(VARIANTS.map((v) => v.name)).size).toBe(VARIANTS.length);
  });

  it('stretches the contrast of a dim, washed-out photo', async () => {
    const photo = await renderScene({
      width: 1280,
      height: 960,
      seed: 31,
      codes: [{ text: 'dim', cx: 640, cy: 480, size: 360, angle: 5 }],
      contrast: 0.05,
      shading: 0.5,
      noise: 2,
    });
    expect((await scanImage(photo, { variants: ['plain'] })).texts).toEqual([]);
    expect((await scanImage(photo, { variants: ['stretch'] })).texts).toEqual(['dim']);
  });

  it('sharpens an out-of-focus photo', async () => {
    const photo = await renderScene({
      width: 1280,
      height: 960,
      seed: 3,
      // 370 px over 37 modules: sigma 8 is 0.8 of a module, past what plain ZXing reads.
      codes: [{ text: 'blurry', cx: 640, cy: 480, size: 370, angle: -4 }],
      blur: 8,
      noise: 3,
    });
    expect((await scanImage(photo, { variants: ['plain'] })).texts).toEqual([]);
    expect((await scanImage(photo, { variants: ['unsharp'] })).texts).toEqual(['blurry']);
  });

  it('finds a small code in a large photo tile by tile, every tile mapped back to the photo', async () => {
    const photo = await renderScene({
      width: 3000,
      height: 2250,
      seed: 12,
      codes: [
        { text: 'left', cx: 400, cy: 400, size: 150 },
        { text: 'right', cx: 2600, cy: 1900, size: 150, angle: 30 },
      ],
    });
    const result = await scanImage(photo, { variants: ['tiles'] });
    expect([...result.texts].sort()).toEqual(['left', 'right']);
  });

  it('stops soon after a hit instead of trying every clean-up, and reports each code once', async () => {
    const photo = await renderScene({
      width: 1200,
      height: 800,
      seed: 13,
      codes: [
        { text: 'one', cx: 330, cy: 400, size: 300 },
        { text: 'two', cx: 870, cy: 400, size: 300 },
      ],
    });
    const result = await scanImage(photo);
    expect([...result.texts].sort()).toEqual(['one', 'two']);
    // Found by the first variant; the masked second look found nothing new and the search stopped.
    expect(result.variant).toBe('plain');
    expect(result.tried).toBe(2);
  });
});
