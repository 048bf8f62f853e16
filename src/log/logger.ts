/** Structured JSON logging: one object per line on stderr, keys after Flagger's zap config. */

export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line (e.g. `{ canary, namespace }`). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  readonly level?: Level;
  readonly name?: string;
  readonly write?: (line: string) => void;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, type: value.name };
    if (value.cause !== undefined) out['cause'] = errorFields(value.cause);
    return out;
  }
  return value;
}

class JsonLogger implements Logger {
  readonly #min: number;
  readonly #base: Fields;
  readonly #write: (line: string) => void;
  readonly #options: LoggerOptions;

  constructor(options: LoggerOptions, base: Fields) {
    this.#options = options;
    this.#min = order[options.level ?? 'info'];
    this.#base = base;
    this.#write = options.write ?? ((line) => process.stderr.write(line + '\n'));
  }

  #log(level: Level, msg: string, fields?: Fields): void {
    if (order[level] < this.#min) return;
    const line: Record<string, unknown> = { ts: new Date().toISOString(), level, msg, ...this.#base };
    if (fields) for (const [k, v] of Object.entries(fields)) line[k] = errorFields(v);
    this.#write(JSON.stringify(line));
  }

  debug(msg: string, fields?: Fields): void {
    this.#log('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.#log('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.#log('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.#log('error', msg, fields);
  }
  child(fields: Fields): Logger {
    return new JsonLogger(this.#options, { ...this.#base, ...fields });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return new JsonLogger(options, options.name ? { logger: options.name } : {});
}

/** A logger that drops everything; for unit tests. */
export const silentLogger: Logger = createLogger({ write: () => undefined, level: 'error' });

export function isLevel(s: string): s is Level {
  return s in order;
}
