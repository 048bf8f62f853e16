import { describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError } from './errors.ts';
import { retryOnConflict } from './retry.ts';

const conflict = (): ConflictError => new ConflictError('the object has been modified', 409, 'Conflict');

describe('retryOnConflict', () => {
  it('retries a ConflictError until fn succeeds, passing the attempt number', async () => {
    const fn = vi.fn((attempt: number) =>
      attempt < 3 ? Promise.reject(conflict()) : Promise.resolve(`ok after ${attempt}`),
    );
    await expect(retryOnConflict(fn, { backoffMs: 0 })).resolves.toBe('ok after 3');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('gives up after `attempts` and throws the last conflict', async () => {
    const fn = vi.fn(() => Promise.reject(conflict()));
    await expect(retryOnConflict(fn, { attempts: 4, backoffMs: 0 })).rejects.toBeInstanceOf(ConflictError);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('defaults to 5 attempts', async () => {
    const fn = vi.fn(() => Promise.reject(conflict()));
    await expect(retryOnConflict(fn, { backoffMs: 0 })).rejects.toBeInstanceOf(ConflictError);
    expect(fn).toHaveBeenCalledTimes(5);
  });

  it('does not retry other errors', async () => {
    const fn = vi.fn(() => Promise.reject(new NotFoundError('gone', 404, 'NotFound')));
    await expect(retryOnConflict(fn, { backoffMs: 0 })).rejects.toBeInstanceOf(NotFoundError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits backoffMs (jittered) between attempts', async () => {
    vi.useFakeTimers();
    try {
      const calls: number[] = [];
      const done = retryOnConflict(
        () => {
          calls.push(Date.now());
          return calls.length < 3 ? Promise.reject(conflict()) : Promise.resolve();
        },
        { backoffMs: 1000 },
      );
      await vi.advanceTimersByTimeAsync(940);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2200);
      await done;
      expect(calls).toHaveLength(3);
      const gaps = calls.slice(1).map((t, i) => t - (calls[i] ?? 0));
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
      for (const gap of gaps) expect(gap).toBeLessThanOrEqual(1050);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops retrying once the signal aborts', async () => {
    const controller = new AbortController();
    const fn = vi.fn(() => {
      controller.abort();
      return Promise.reject(conflict());
    });
    await expect(retryOnConflict(fn, { backoffMs: 0, signal: controller.signal })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
