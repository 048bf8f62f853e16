import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limiter.ts';

describe('TokenBucket', () => {
  it('hands one token at once, then books successive slots 1/rate apart', () => {
    const b = new TokenBucket(100, 4, 0); // one token per 10 ms
    expect([b.reserve(0), b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 10, 20, 30]);
    // A worker back at t=5 ms gets the slot after the last one booked (t=40 ms).
    expect(b.reserve(5)).toBeCloseTo(35, 9);
  });

  it('accrues tokens while idle, up to the burst', () => {
    const b = new TokenBucket(10, 3, 0, 0); // 1 per 100 ms, empty at start
    expect(b.tokens(0)).toBe(0);
    expect(b.tokens(150)).toBeCloseTo(1.5, 9);
    expect(b.tokens(10_000)).toBe(3);
    expect([b.reserve(10_000), b.reserve(10_000), b.reserve(10_000)]).toEqual([0, 0, 0]);
    expect(b.reserve(10_000)).toBeCloseTo(100, 9);
  });

  it('keeps the long-run rate exact when callers wake late (reservations are not lost)', () => {
    const rate = 200; // 5 ms per token
    const b = new TokenBucket(rate, 1, 0);
    let now = 0;
    let sent = 0;
    // One worker that always wakes 3 ms late and spends 1 ms per request.
    while (now < 10_000) {
      const wait = b.reserve(now);
      now += wait > 0 ? wait + 3 : 0;
      sent++;
      now += 1;
    }
    // Lateness (3 ms) + work (1 ms) < interval (5 ms): nothing is lost.
    expect(sent).toBeGreaterThanOrEqual(rate * 10 - 1);
    expect(sent).toBeLessThanOrEqual(rate * 10 + 1);
  });

  it('spreads many workers over the rate (no burst beyond the capacity)', () => {
    const b = new TokenBucket(1000, 8, 0); // 1 per ms
    const waits = Array.from({ length: 100 }, () => b.reserve(0));
    expect(waits[0]).toBe(0);
    expect(waits[99]).toBeCloseTo(99, 9);
    const immediate = waits.filter((w) => w === 0).length;
    expect(immediate).toBe(1);
  });

  it('tolerates a clock that goes backwards', () => {
    const b = new TokenBucket(100, 1, 1000);
    expect(b.reserve(1000)).toBe(0);
    expect(b.reserve(900)).toBeCloseTo(10, 9);
  });

  it('rejects a rate or burst that makes no sense', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0.5, 0)).toThrow(RangeError);
  });
});
