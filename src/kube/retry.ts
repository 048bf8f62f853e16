import { type Clock, jittered, sleep, systemClock } from '../core/clock.ts';
import { ConflictError } from './errors.ts';

/** Options of {@link retryOnConflict}. Defaults follow client-go's `retry.DefaultRetry`. */
export interface RetryOnConflictOptions {
  /** Total attempts, the first included (default 5). */
  readonly attempts?: number;
  /** Pause between attempts, jittered by ±5% (default 10 ms). */
  readonly backoffMs?: number;
  /** Stops retrying (the last error is thrown) once aborted. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

/**
 * Runs `fn` and retries it while it throws {@link ConflictError} (HTTP 409 on a stale
 * resourceVersion), like client-go's `retry.RetryOnConflict`. `fn` must re-read the object on each
 * attempt, otherwise it conflicts again. Any other error, and the last conflict once `attempts` are
 * used up, is thrown unchanged.
 */
export async function retryOnConflict<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOnConflictOptions = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const backoffMs = options.backoffMs ?? 10;
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= attempts || options.signal?.aborted) throw err;
    }
    if (backoffMs > 0) await sleep(clock, jittered(backoffMs, 0.1), options.signal);
  }
}
