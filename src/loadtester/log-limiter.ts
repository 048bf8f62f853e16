/**
 * Rate-limits log lines that clients can cause (refused tasks, bad payloads, aborted bodies), so
 * that a client cannot flood the log: per level and message, at most `burst` lines per `intervalMs`;
 * the next line let through after a quiet spell carries `suppressed: <n>`.
 */
import type { Fields, Logger } from '../log/logger.ts';

/** Options of {@link limitedLogger}. */
export interface LogLimitOptions {
  readonly burst: number;
  readonly intervalMs: number;
  /** Milliseconds, any monotonic origin; injected for tests. */
  readonly now?: () => number;
}

interface Window {
  start: number;
  count: number;
  suppressed: number;
}

/** Decides which lines go through; one instance is shared by a logger and its children. */
export class LogLimiter {
  readonly #options: LogLimitOptions;
  readonly #windows = new Map<string, Window>();

  constructor(options: LogLimitOptions) {
    this.#options = options;
  }

  /** Undefined when the line is dropped, else how many like it were dropped before it. */
  admit(key: string): number | undefined {
    const now = (this.#options.now ?? performance.now.bind(performance))();
    let w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.#options.intervalMs) {
      const suppressed = w?.suppressed ?? 0;
      // Bounded memory: keys are our own message texts, but forget stale windows anyway.
      if (w === undefined && this.#windows.size >= 1000) this.#windows.clear();
      w = { start: now, count: 0, suppressed: 0 };
      this.#windows.set(key, w);
      w.count++;
      return suppressed;
    }
    if (w.count >= this.#options.burst) {
      w.suppressed++;
      return undefined;
    }
    w.count++;
    return 0;
  }
}

/** A logger whose lines go through `limiter`, keyed by level and message. */
export function limitedLogger(log: Logger, limiter: LogLimiter): Logger {
  const emit =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: Fields): void => {
      const suppressed = limiter.admit(`${level}\n${msg}`);
      if (suppressed === undefined) return;
      log[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => limitedLogger(log.child(fields), limiter),
  };
}
