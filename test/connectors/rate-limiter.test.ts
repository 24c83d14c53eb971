import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/connectors/rate-limiter.ts';

describe('rate limiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('lets a burst through, then spaces requests at the overall rate', async () => {
    const limiter = new RateLimiter({ perSecond: 10 });
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) waits.push(await limiter.acquire());
    expect(waits.every((w) => w === 0)).toBe(true);
    const eleventh = limiter.acquire();
    await vi.advanceTimersByTimeAsync(100);
    expect(await eleventh).toBeCloseTo(100, 0);
    // Twelve more queued at once: the last one waits about 1.2 s — never faster than 10/s.
    const queued = Array.from({ length: 12 }, () => limiter.acquire());
    await vi.advanceTimersByTimeAsync(2000);
    const last = (await Promise.all(queued)).at(-1)!;
    expect(last).toBeGreaterThanOrEqual(1100);
    expect(last).toBeLessThanOrEqual(1300);
  });

  it('limits each chat separately from the others', async () => {
    const limiter = new RateLimiter({ perSecond: 1000, perChatPerSecond: 1, perChatBurst: 2 });
    expect(await limiter.acquire('a')).toBe(0);
    expect(await limiter.acquire('a')).toBe(0);
    expect(await limiter.acquire('b')).toBe(0);
    const third = limiter.acquire('a');
    await vi.advanceTimersByTimeAsync(1000);
    expect(await third).toBeCloseTo(1000, -1);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(undefined, controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });

  it('refuses a non-positive rate', () => {
    expect(() => new RateLimiter({ perSecond: 0 })).toThrow('perSecond must be > 0');
  });
});
