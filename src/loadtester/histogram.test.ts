import { describe, expect, it } from 'vitest';
import { LatencyHistogram, bucketIndex, bucketRange, exactPercentile } from './histogram.ts';

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('exactPercentile (nearest rank)', () => {
  it('picks the ⌈p·n⌉-th smallest value', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(exactPercentile(s, 50)).toBe(5);
    expect(exactPercentile(s, 90)).toBe(9);
    expect(exactPercentile(s, 95)).toBe(10);
    expect(exactPercentile(s, 99)).toBe(10);
    expect(exactPercentile(s, 0)).toBe(1);
    expect(exactPercentile(s, 100)).toBe(10);
    expect(exactPercentile([], 50)).toBe(0);
  });
});

describe('bucketIndex / bucketRange', () => {
  it('puts every value inside the range of its bucket, buckets at most 1/256 of their value wide', () => {
    const values = [0, 1, 511, 512, 513, 1023, 1024, 1025, 4095, 4096, 99_999, 1_000_000, 2 ** 31, 2 ** 35 + 17];
    for (const v of values) {
      const [lo, hi] = bucketRange(bucketIndex(v));
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThan(hi);
      if (v >= 512) expect((hi - lo) / v).toBeLessThanOrEqual(1 / 256);
    }
  });

  it('is monotonic', () => {
    let prev = -1;
    for (let v = 0; v < 300_000; v += 7) {
      const i = bucketIndex(v);
      expect(i).toBeGreaterThanOrEqual(prev);
      prev = i;
    }
  });
});

describe('LatencyHistogram', () => {
  it('reports min, max and mean exactly and is empty-safe', () => {
    const h = new LatencyHistogram();
    expect(h.percentileMs(50)).toBe(0);
    expect(h.meanMs).toBe(0);
    for (const ms of [3, 1, 2, 10]) h.recordMs(ms);
    expect(h.count).toBe(4);
    expect(h.minMs).toBe(1);
    expect(h.maxMs).toBe(10);
    expect(h.meanMs).toBe(4);
    expect(h.percentileMs(100)).toBe(10);
  });

  it('is exact below 0.512 ms (one bucket per microsecond)', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 500 }, (_, i) => (i + 1) / 1000);
    for (const v of values) h.recordMs(v);
    for (const p of [1, 50, 90, 95, 99]) expect(h.percentileMs(p)).toBe(exactPercentile(values, p));
  });

  it.each([
    ['uniform 1–100 ms', (r: () => number) => 1 + 99 * r()],
    [
      'log-normal around 20 ms',
      (r: () => number) => 20 * Math.exp(Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r())),
    ],
    ['bimodal 5 ms / 250 ms', (r: () => number) => (r() < 0.9 ? 5 + r() : 250 + 50 * r())],
  ])('matches the exact sample percentiles within 0.2%% (%s)', (_name, draw) => {
    const r = rng(42);
    const h = new LatencyHistogram();
    const samples: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = Math.round(draw(r) * 1000) / 1000; // whole microseconds, as recorded
      samples.push(v);
      h.recordMs(v);
    }
    samples.sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(samples, p);
      expect(Math.abs(h.percentileMs(p) - exact)).toBeLessThanOrEqual(exact / 512 + 0.001);
    }
    expect(h.maxMs).toBe(samples[samples.length - 1]);
    expect(h.minMs).toBe(samples[0]);
  });
});
