import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServerProbe } from './probe.ts';

describe('ServerProbe', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(): { probe: ServerProbe; answers: boolean[]; calls: () => number } {
    const answers: boolean[] = [];
    let calls = 0;
    const probe = new ServerProbe({
      intervalMs: 1000,
      ready: () => {
        calls++;
        return Promise.resolve(answers.shift() ?? false);
      },
    });
    return { probe, answers, calls: () => calls };
  }

  it('asks nothing while nobody waits', async () => {
    const { calls } = setup();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls()).toBe(0);
  });

  it('probes once per interval for all waiters and wakes every one of them at the first success', async () => {
    const { probe, answers, calls } = setup();
    const woken: string[] = [];
    answers.push(false, false, true);
    probe.whenReachable(() => woken.push('deployments'));
    probe.whenReachable(() => woken.push('services'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls()).toBe(2);
    expect(woken).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls()).toBe(3);
    expect(woken).toEqual(['deployments', 'services']);
    expect(probe.waiting).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls()).toBe(3);
  });

  it('stops probing when the last waiter cancels, and after stop()', async () => {
    const { probe, calls } = setup();
    const cancel = probe.whenReachable(() => undefined);
    await vi.advanceTimersByTimeAsync(1000);
    cancel();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(1);
    const woken: number[] = [];
    probe.whenReachable(() => woken.push(1));
    probe.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(1);
    expect(woken).toEqual([]);
  });

  it('treats a rejected probe as not ready, and a throwing waiter does not keep others asleep', async () => {
    let first = true;
    const probe = new ServerProbe({
      intervalMs: 1000,
      ready: () => {
        if (first) {
          first = false;
          return Promise.reject(new Error('boom'));
        }
        return Promise.resolve(true);
      },
    });
    const woken: string[] = [];
    probe.whenReachable(() => {
      throw new Error('waiter bug');
    });
    probe.whenReachable(() => woken.push('ok'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(woken).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(woken).toEqual(['ok']);
  });
});
