/**
 * Decoding runs in worker threads: the main event loop stays free, a decode that runs over its
 * time is stopped (and the next one still works), and overload is refused instead of queued forever.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeQrDecoder, decodeQr, encodeQr, QrError } from '../../src/features/qr/index.ts';
import { DecodePool } from '../../src/features/qr/pool.ts';
import { renderScene } from './photos.ts';

afterAll(() => closeQrDecoder());

const bigPhoto = renderScene({
  width: 3600,
  height: 2700,
  seed: 21,
  codes: [{ text: 'big', cx: 1800, cy: 1350, size: 120 }],
  noise: 20,
});

describe('the decode worker pool', () => {
  it('keeps the main event loop running while a photo is decoded', async () => {
    const photo = await bigPhoto;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      expect(await decodeQr(photo)).toEqual(['big']);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('stops a decode that overruns its time limit with QrError "timeout", then decodes again', async () => {
    const pool = new DecodePool({ timeoutMs: 30_000 });
    try {
      const photo = await bigPhoto;
      await pool.warm();
      expect(pool.threads).toBe(1);
      const error = await pool.run(photo, {}, 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QrError);
      expect(error).toMatchObject({ code: 'timeout' });
      expect(pool.threads).toBe(0); // the overrunning worker was terminated
      const png = await encodeQr('after timeout', { format: 'png' });
      expect((await pool.run(png)).texts).toEqual(['after timeout']);
      expect(pool.threads).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('reuses one worker for consecutive decodes', async () => {
    const pool = new DecodePool();
    try {
      for (const text of ['one', 'two', 'three']) {
        expect((await pool.run(await encodeQr(text, { format: 'png' }))).texts).toEqual([text]);
        expect(pool.threads).toBe(1);
      }
    } finally {
      await pool.close();
    }
  });

  it('refuses work with QrError "busy" when its queue is full, and finishes what it accepted', async () => {
    const pool = new DecodePool({ maxQueue: 1 });
    try {
      const png = await encodeQr('queued', { format: 'png' });
      const first = pool.run(png); // taken by the worker at once
      const second = pool.run(png); // waits in the queue
      const third = await pool.run(png).catch((e: unknown) => e);
      expect(third).toMatchObject({ code: 'busy' });
      expect((await first).texts).toEqual(['queued']);
      expect((await second).texts).toEqual(['queued']);
    } finally {
      await pool.close();
    }
  });

  it('turns a failure inside the worker into QrError "internal" and stays usable', async () => {
    const pool = new DecodePool();
    try {
      const png = await encodeQr('ok', { format: 'png' });
      const error = await pool.run(png, { variants: ['no-such-variant'] }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'internal' });
      expect((await pool.run(png)).texts).toEqual(['ok']);
    } finally {
      await pool.close();
    }
  });

  it('rejects new work once closed', async () => {
    const pool = new DecodePool();
    await pool.close();
    await expect(pool.run(Buffer.from('x'))).rejects.toMatchObject({ code: 'internal' });
  });
});
