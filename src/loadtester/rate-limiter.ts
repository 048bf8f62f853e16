/**
 * A token bucket that hands out reservations, like Go's `golang.org/x/time/rate` `Reserve()`:
 * tokens accrue at `rate` per second up to `burst`; taking one when none is left books the next
 * one that will accrue and says how long to wait for it. The balance may go negative, so several
 * workers asking at once get successive slots `1/rate` apart, and a worker that wakes late does not
 * lose its slot: the long-run rate is exact whatever the timer jitter, as long as workers keep up.
 *
 * Pure: time is passed in (milliseconds, any monotonic origin), so the math is unit-tested without
 * timers.
 */
export class TokenBucket {
  /** Tokens per millisecond. */
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /**
   * @param rate tokens per second, > 0
   * @param burst capacity, ≥ 1: how many tokens can pile up while nobody takes any
   * @param now the current time in ms
   * @param initial tokens available at `now` (default 1: one request may start at once)
   */
  constructor(rate: number, burst: number, now: number, initial = 1) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.#perMs = rate / 1000;
    this.#burst = burst;
    this.#tokens = Math.min(burst, Math.max(0, initial));
    this.#last = now;
  }

  /** Tokens available at `now` (negative while reservations are outstanding). */
  tokens(now: number): number {
    return Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#last) * this.#perMs);
  }

  /**
   * Takes one token at `now` and returns how many milliseconds the caller must wait before using
   * it (0 when one was available).
   */
  reserve(now: number): number {
    const available = this.tokens(now);
    if (now > this.#last) this.#last = now;
    this.#tokens = available - 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#perMs;
  }
}
