/** Structured JSON logging: one object per line on stderr, keys after Flagger's zap config. */

export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Keys with one meaning on every line, so that filtering by them finds every line: a field may set
 * them only to a value of this type (`{ canary: 30 }` does not compile; a weight is `canaryWeight`).
 */
export interface KnownFields {
  /** Component that wrote the line: `controller`, `kube`, `http`. */
  readonly logger: string;
  /** Name of the Canary the line is about. */
  readonly canary: string;
  /** Namespace of the Canary the line is about (or of the object, when there is no Canary). */
  readonly namespace: string;
  /** Controller of the line's object: `Deployment`, `HTTPRoute`. */
  readonly controller: string;
  /** Name of the Kubernetes object the line is about (a primary, a Service, an HTTPRoute). */
  readonly object: string;
  /** Name of the analysis webhook the line is about. */
  readonly webhook: string;
}

export type KnownKey = keyof KnownFields;
/** Keys the logger writes itself. */
type WrittenKey = 'ts' | 'level' | 'msg';

/**
 * The fields of one line or binding. {@link KnownFields} keys have their fixed types (undefined
 * leaves them out), keys already bound by {@link Logger.child} (`Bound`) and the logger's own keys
 * can't be set, any other key may hold anything (an `Error` is logged as its message, type and causes).
 */
export type Fields<Bound extends KnownKey = never> = {
  readonly [K in Exclude<KnownKey, Bound>]?: KnownFields[K] | undefined;
} & {
  readonly [K in Bound | WrittenKey]?: never;
} & { readonly [key: string]: unknown };

/**
 * A logger whose lines carry the fields bound with {@link Logger.child}. A bound key keeps its
 * value: the compiler rejects a call that sets it again, and at run time such a value goes under
 * `shadowed` instead of replacing it. `logger` alone may be bound again (a sub-component's name).
 */
export interface Logger<Bound extends KnownKey = never> {
  debug(msg: string, fields?: Fields<Bound>): void;
  info(msg: string, fields?: Fields<Bound>): void;
  warn(msg: string, fields?: Fields<Bound>): void;
  error(msg: string, fields?: Fields<Bound>): void;
  /** A logger that adds `fields` to every line (e.g. `{ canary, namespace }`). */
  child<F extends Fields<Bound>>(fields: F): Logger<Bound | Exclude<keyof F & KnownKey, 'logger'>>;
}

/** `json`: one object per line (machines); `text`: `time LEVEL msg key=value …` (a person at a terminal). */
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  readonly level?: Level;
  readonly name?: string;
  readonly write?: (line: string) => void;
  /** Default `json`. */
  readonly format?: LogFormat;
}

/** `text` when stderr is a terminal, else `json` (what log collectors expect). */
export function defaultLogFormat(stream: { readonly isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY === true ? 'text' : 'json';
}

/**
 * The format of Go's `-zap-encoding` (Flagger's flag): `json`, or `console` for text. Unset, it
 * follows the terminal ({@link defaultLogFormat}). Undefined for any other value.
 */
export function logFormatOf(encoding: string | undefined): LogFormat | undefined {
  if (encoding === undefined) return defaultLogFormat();
  if (encoding === 'json') return 'json';
  return encoding === 'console' ? 'text' : undefined;
}

/** One line for a person: time, level, message, then the fields as key=value (values JSON-quoted when needed). */
export function textLine(line: Readonly<Record<string, unknown>>): string {
  const { ts, level, msg, ...fields } = line;
  const time = typeof ts === 'string' ? ts.slice(11, 23) : '';
  const parts = [time, String(level).toUpperCase().padEnd(5), String(msg)];
  for (const [k, v] of Object.entries(fields)) {
    const text = typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
    parts.push(`${k}=${text}`);
  }
  return parts.join(' ');
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, type: value.name };
    if (value.cause !== undefined) out['cause'] = errorFields(value.cause);
    return out;
  }
  return value;
}

const WRITTEN: ReadonlySet<string> = new Set<WrittenKey>(['ts', 'level', 'msg']);

class JsonLogger implements Logger {
  readonly #min: number;
  readonly #base: Readonly<Record<string, unknown>>;
  readonly #write: (line: string) => void;
  readonly #options: LoggerOptions;

  constructor(options: LoggerOptions, base: Readonly<Record<string, unknown>>) {
    this.#options = options;
    this.#min = order[options.level ?? 'info'];
    this.#base = base;
    this.#write = options.write ?? ((line) => process.stderr.write(line + '\n'));
  }

  #log(level: Level, msg: string, fields?: Fields): void {
    if (order[level] < this.#min) return;
    const line: Record<string, unknown> = { ts: new Date().toISOString(), level, msg, ...this.#base };
    let shadowed: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(fields ?? {})) {
      // A bound or written key keeps its value: a call must not change what filtering by it finds.
      if (Object.hasOwn(line, k)) (shadowed ??= {})[k] = errorFields(v);
      else line[k] = errorFields(v);
    }
    if (shadowed !== undefined) line['shadowed'] = shadowed;
    this.#write(this.#options.format === 'text' ? textLine(line) : JSON.stringify(line));
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
    const base: Record<string, unknown> = { ...this.#base };
    for (const [k, v] of Object.entries(fields)) {
      if (WRITTEN.has(k) || (k !== 'logger' && Object.hasOwn(base, k))) continue;
      base[k] = v;
    }
    return new JsonLogger(this.#options, base);
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
