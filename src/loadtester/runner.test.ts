import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.ts';
import { TaskRunner } from './runner.ts';
import type { TaskOutput, TaskPlan } from './tasks.ts';

const task = (key: string): TaskPlan => ({
  type: 'cmd',
  canary: 'podinfo.test',
  plan: { kind: 'exec', argv: ['true'] },
  command: 'true',
  background: true,
  returnOutput: false,
  logOutput: false,
  needsToken: true,
  key,
});

/** An executor whose runs end when the test says so. */
function controllable(): {
  execute: (t: TaskPlan, s: AbortSignal) => Promise<TaskOutput>;
  finish: (key: string) => void;
  started: string[];
  signals: AbortSignal[];
} {
  const pending = new Map<string, () => void>();
  const started: string[] = [];
  const signals: AbortSignal[] = [];
  return {
    started,
    signals,
    execute: (t, signal) =>
      new Promise((resolve) => {
        started.push(t.key);
        signals.push(signal);
        const done = (): void => resolve({ ok: !signal.aborted, output: '' });
        pending.set(t.key, done);
        signal.addEventListener('abort', done, { once: true });
      }),
    finish: (key) => pending.get(key)?.(),
  };
}

describe('TaskRunner', () => {
  it('skips a task while the same one runs, and runs it again once it has ended', async () => {
    const ex = controllable();
    const running: number[] = [];
    const done: boolean[] = [];
    const runner = new TaskRunner({
      execute: ex.execute,
      log: silentLogger,
      onRunning: (n) => running.push(n),
      onDone: (_t, out) => done.push(out.ok),
    });
    expect(runner.submit(task('a'))).toBe(true);
    expect(runner.submit(task('a'))).toBe(false);
    expect(runner.submit(task('b'))).toBe(true);
    expect(runner.size).toBe(2);
    expect(ex.started).toEqual(['a', 'b']);
    ex.finish('a');
    await new Promise((r) => setImmediate(r));
    expect(runner.isRunning('a')).toBe(false);
    expect(runner.submit(task('a'))).toBe(true);
    expect(ex.started).toEqual(['a', 'b', 'a']);
    ex.finish('a');
    ex.finish('b');
    await runner.idle();
    expect(runner.size).toBe(0);
    expect(running).toEqual([1, 2, 1, 2, 1, 0]);
    expect(done).toEqual([true, true, true]);
  });

  it('aborts running tasks on stop and starts nothing afterwards', async () => {
    const ex = controllable();
    const runner = new TaskRunner({ execute: ex.execute, log: silentLogger });
    runner.submit(task('a'));
    await runner.stop();
    expect(ex.signals[0]?.aborted).toBe(true);
    expect(runner.submit(task('b'))).toBe(false);
    expect(ex.started).toEqual(['a']);
  });

  it('survives an executor that throws', async () => {
    const outputs: TaskOutput[] = [];
    const runner = new TaskRunner({
      execute: () => Promise.reject(new Error('boom')),
      log: silentLogger,
      onDone: (_t, out) => outputs.push(out),
    });
    runner.submit(task('a'));
    await runner.idle();
    expect(outputs).toEqual([{ ok: false, output: '', error: 'boom' }]);
  });
});
