/** Time and timers, injectable so leader election, informers and retries are testable without sleeps. */

/** A pending timer. */
export interface Timer {
  cancel(): void;
}

/** Wall clock plus one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. Timers never keep the process alive on their own. */
  setTimeout(fn: () => void, ms: number): Timer;
}

/**
 * The real clock. It looks up `Date.now` and `setTimeout` at call time, so `vi.useFakeTimers()`
 * drives code that was handed this clock.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms`, or at once when `signal` aborts (it never rejects). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `base` scaled by a random factor in [1 - jitter/2, 1 + jitter/2]. */
export function jittered(base: number, jitter: number, random: () => number = Math.random): number {
  return base * (1 - jitter / 2 + jitter * random());
}
