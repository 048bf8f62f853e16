/**
 * An HDR-style (log-linear) latency histogram with fixed memory, so that an hour of load at
 * thousands of requests per second costs 70 KB instead of a sample per request.
 *
 * Values are recorded in whole microseconds. Values below 2^{@link SUB_BITS} µs (0.512 ms) get a
 * bucket each (exact). Above, every power of two is split into 2^({@link SUB_BITS} - 1) equal
 * buckets, so a bucket is at most 1/256 of its value wide. A percentile reports the **midpoint**
 * of the bucket holding it (clamped to the exact min and max), hence is within 1/512 (≈ 0.2 %)
 * plus half a microsecond of the exact sample percentile. Min, max, count and mean are exact.
 *
 * Percentiles use the nearest-rank definition: the p-th percentile of n samples is the
 * ⌈p/100 · n⌉-th smallest (the 1st for p = 0).
 */

/** log2 of the number of exact buckets, and of twice the buckets per power of two above them. */
export const SUB_BITS = 9;
const SUB_COUNT = 1 << SUB_BITS; // 512 exact buckets [0, 512) µs
const HALF = SUB_COUNT >> 1; // 256 buckets per power of two above
/** Largest recordable value: 2^40 µs (~12.7 days); larger values are clamped. */
const MAX_EXPONENT = 40;
const BUCKETS = SUB_COUNT + (MAX_EXPONENT - SUB_BITS + 1) * HALF;

/** Index of the bucket of `v` µs (integer ≥ 0). */
export function bucketIndex(v: number): number {
  if (v < SUB_COUNT) return v;
  // Exponent of the power of two holding v: v in [2^e, 2^(e+1)), e ≥ SUB_BITS.
  const e = Math.min(MAX_EXPONENT, Math.floor(Math.log2(v)));
  const base = 2 ** e;
  // Guard against log2 rounding at exact powers of two.
  const exp = v < base ? e - 1 : v >= base * 2 && e < MAX_EXPONENT ? e + 1 : e;
  const lo = 2 ** exp;
  const width = lo / HALF;
  const sub = Math.min(HALF - 1, Math.floor((v - lo) / width));
  return SUB_COUNT + (exp - SUB_BITS) * HALF + sub;
}

/** The range `[lo, hi)` in µs that bucket `i` covers. */
export function bucketRange(i: number): readonly [number, number] {
  if (i < SUB_COUNT) return [i, i + 1];
  const k = i - SUB_COUNT;
  const exp = SUB_BITS + Math.floor(k / HALF);
  const lo = 2 ** exp;
  const width = lo / HALF;
  const start = lo + (k % HALF) * width;
  return [start, start + width];
}

/** A fixed-size latency histogram. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** Records one value in milliseconds (negative values count as 0). */
  recordMs(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.#counts[bucketIndex(us)]! += 1;
    this.#count++;
    this.#sum += us;
    if (us < this.#min) this.#min = us;
    if (us > this.#max) this.#max = us;
  }

  get count(): number {
    return this.#count;
  }

  /** Smallest value in ms; 0 when empty. */
  get minMs(): number {
    return this.#count === 0 ? 0 : this.#min / 1000;
  }

  /** Largest value in ms (exact); 0 when empty. */
  get maxMs(): number {
    return this.#max / 1000;
  }

  /** Arithmetic mean in ms; 0 when empty. */
  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count / 1000;
  }

  /** The nearest-rank `p`-th percentile (0–100) in ms; 0 when empty. */
  percentileMs(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.#count));
    if (rank >= this.#count) return this.#max / 1000;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        const mid = i < SUB_COUNT ? lo : (lo + hi) / 2;
        return Math.min(this.#max, Math.max(this.#min, mid)) / 1000;
      }
    }
    return this.#max / 1000;
  }
}

/** The exact nearest-rank percentile of `sorted` (ascending); for tests and small samples. */
export function exactPercentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? 0;
}
