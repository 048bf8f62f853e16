/**
 * Go `flag`-style command lines for both binaries (Flagger's flags are Go flags): `-f v`, `-f=v`,
 * `--f`, bare booleans, `-h` for `-help`, `--` ends the flags. Pure: reads only its arguments.
 */

export type FlagKind = 'string' | 'bool' | 'int' | 'duration' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** As Go prints it; '' for none. */
  readonly default: string;
  readonly help: string;
  /** An environment variable that, when non-empty, wins over the flag (Flagger's `fromEnv`). */
  readonly env?: string;
}

/** The values of one command line; accessors record malformed values in `errors`. */
export interface Flags {
  /** Flags present on the command line. */
  readonly given: ReadonlySet<string>;
  readonly errors: string[];
  readonly str: (name: string) => string;
  /** Every value of a repeatable (`list`) flag, in order. */
  readonly list: (name: string) => readonly string[];
  readonly bool: (name: string) => boolean;
  readonly int: (name: string, min: number, max?: number) => number;
}

/** Parses `argv` against `specs`; a string is the first error (unknown flag, missing value…). */
export function parseFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  specs: readonly FlagSpec[],
  refused: Readonly<Record<string, string>> = {},
): Flags | string {
  const byName = new Map(specs.map((f) => [f.name, f]));
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      if (i + 1 < argv.length) return `unexpected argument "${argv[i + 1] ?? ''}"`;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') return `unexpected argument "${arg}"`;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const raw = eq >= 0 ? body.slice(0, eq) : body;
    const name = raw === 'h' ? 'help' : raw;
    if (refused[name] !== undefined) return `flag -${name} is not supported: ${refused[name]}`;
    const spec = byName.get(name);
    if (!spec) return `flag provided but not defined: -${raw}`;
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) return `flag needs an argument: -${name}`;
      value = next;
      i++;
    }
    values.set(name, spec.kind === 'list' ? [...(values.get(name) ?? []), value] : [value]);
  }

  const errors: string[] = [];
  const str = (name: string): string => {
    const spec = byName.get(name);
    const fromEnv = spec?.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return values.get(name)?.[0] ?? spec?.default ?? '';
  };
  return {
    given: new Set(values.keys()),
    errors,
    str,
    list: (name) => values.get(name) ?? [],
    bool: (name) => {
      const v = str(name).toLowerCase();
      if (['1', 't', 'true'].includes(v)) return true;
      if (['0', 'f', 'false'].includes(v)) return false;
      errors.push(`invalid boolean value "${str(name)}" for flag -${name}`);
      return false;
    },
    int: (name, min, max = Number.MAX_SAFE_INTEGER) => {
      const v = str(name);
      const n = /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        errors.push(`invalid value "${v}" for flag -${name}: want an integer from ${min} to ${max}`);
        return min;
      }
      return n;
    },
  };
}

/** Go's `-help` text for `specs`. */
export function flagUsage(binary: string, specs: readonly FlagSpec[]): string {
  const lines = [`Usage of ${binary}:`];
  for (const f of specs) {
    const type = f.kind === 'bool' ? '' : f.kind === 'list' ? ' value' : ` ${f.kind}`;
    lines.push(`  -${f.name}${type}`);
    const shown = f.kind === 'string' ? JSON.stringify(f.default) : f.default;
    const def = f.default === '' || (f.kind === 'bool' && f.default === 'false') ? '' : ` (default ${shown})`;
    lines.push(`    \t${f.help}${def}${f.env ? ` [env ${f.env}]` : ''}`);
  }
  return lines.join('\n');
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration (`10s`, `1m30s`, `500ms`, `0`) into milliseconds; undefined when malformed. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m?.[1] || !m[2]) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[m[2]] ?? Number.NaN);
    pos = re.lastIndex;
  }
  return pos === 0 || !Number.isFinite(total) ? undefined : total;
}

/** `a, b,,c` → `['a', 'b', 'c']`. */
export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
