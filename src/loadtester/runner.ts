/**
 * Runs background tasks (`type: cmd`, and `type: load` without `wait`), deduplicated as Flagger's
 * TaskRunner does: while a task with the same key (canary + command) runs, the same request is
 * skipped, so a `rollout` webhook called at every analysis step starts one `hey -z 1m` at a time.
 * Unlike Flagger there is no 100 ms polling loop: a task starts when it is submitted.
 */
import type { Logger } from '../log/logger.ts';
import type { TaskExecutor, TaskOutput, TaskPlan } from './tasks.ts';

/** Options of {@link TaskRunner}. */
export interface TaskRunnerOptions {
  readonly execute: TaskExecutor;
  readonly log: Logger;
  /** Told when a task ends, and when the number of running tasks changes. */
  readonly onDone?: (task: TaskPlan, output: TaskOutput) => void;
  readonly onRunning?: (running: number) => void;
}

interface Running {
  readonly task: TaskPlan;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/** The background task runner. */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #running = new Map<string, Running>();
  #stopped = false;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** Tasks running now. */
  get size(): number {
    return this.#running.size;
  }

  /** True while a task with this key runs. */
  isRunning(key: string): boolean {
    return this.#running.has(key);
  }

  /**
   * Starts `task` unless one with the same key is running (then returns false and logs, as
   * Flagger's "command skipped … is already running"). After {@link stop}, starts nothing.
   */
  submit(task: TaskPlan): boolean {
    const log = this.#options.log.child({ canary: task.canary, type: task.type });
    if (this.#stopped) {
      log.warn('task not started: shutting down', { command: task.command });
      return false;
    }
    if (this.#running.has(task.key)) {
      log.info('command skipped: it is already running', { command: task.command });
      return false;
    }
    const abort = new AbortController();
    const done = this.#options
      .execute(task, abort.signal)
      .catch((err: unknown): TaskOutput => {
        const error = err instanceof Error ? err.message : String(err);
        log.error('task failed', { command: task.command, error });
        return { ok: false, output: '', error };
      })
      .then((output) => {
        this.#running.delete(task.key);
        this.#options.onRunning?.(this.#running.size);
        this.#options.onDone?.(task, output);
      });
    this.#running.set(task.key, { task, abort, done });
    this.#options.onRunning?.(this.#running.size);
    return true;
  }

  /** Resolves when every task running now has ended (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Stops accepting tasks, aborts the running ones (killing their processes) and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const r of this.#running.values()) r.abort.abort();
    await this.idle();
  }
}
