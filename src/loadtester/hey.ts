/**
 * Parses a `hey` command line (github.com/rakyll/hey, the tool Flagger's loadtester image ships
 * and its docs use) into a {@link LoadSpec} for the built-in generator, with hey's defaults and
 * checks: `-n` 200, `-c` 50, `-q` per worker (total rate = q × c), `-z` overrides `-n`, `-t` 20 s
 * (0 = none), `-m` GET, `-T` text/html, `User-Agent: hey/0.0.1`, TLS certificates not verified.
 * Go `flag` syntax: `-f v`, `-f=v`, `--f`, booleans as `-f` or `-f=true`; parsing stops at the
 * first non-flag word, the URL.
 *
 * Refused, with a message saying why: `-D` (reads a file of the loadtester), `-x` (proxy), `-h2`,
 * `-o` (the report is always JSON), extra words after the URL. Accepted without effect:
 * `-disable-compression` (no compression is ever requested), `-disable-redirects` (redirects are
 * never followed; a 3xx counts as such), `-cpus`.
 */
import { parseGoDuration } from '../config.ts';
import type { LoadSpec } from './generator.ts';

/** A hey command line the generator cannot run as asked. */
export class HeyFlagError extends Error {
  constructor(message: string) {
    super(`hey: ${message}`);
    this.name = new.target.name;
  }
}

/** `User-Agent` hey sends (appended to a user-given one). */
export const HEY_USER_AGENT = 'hey/0.0.1';

type FlagKind = 'string' | 'bool' | 'int' | 'float' | 'duration';

const FLAGS: Readonly<Record<string, FlagKind>> = {
  n: 'int',
  c: 'int',
  q: 'float',
  z: 'duration',
  o: 'string',
  m: 'string',
  H: 'string',
  t: 'int',
  A: 'string',
  d: 'string',
  D: 'string',
  T: 'string',
  a: 'string',
  x: 'string',
  h2: 'bool',
  host: 'string',
  'disable-compression': 'bool',
  'disable-keepalive': 'bool',
  'disable-redirects': 'bool',
  cpus: 'int',
};

const REFUSED: Readonly<Record<string, string>> = {
  D: 'reading the request body from a file of the loadtester is not supported; use -d',
  x: 'proxies are not supported',
  h2: 'HTTP/2 is not supported by the built-in generator',
  o: 'output formats are not supported: the report is logged as JSON',
};

/** hey's `-H` syntax: `Name: value`. */
const HEADER = /^([\w-]+):\s*(.+)$/;

/** The result of {@link parseHey}. */
export interface HeyCommand {
  readonly spec: LoadSpec;
  /** Flags accepted without effect, to log. */
  readonly ignored: readonly string[];
}

/** Parses `argv` (the words after `hey`). Throws {@link HeyFlagError}. */
export function parseHey(argv: readonly string[]): HeyCommand {
  const values = new Map<string, string>();
  const headers: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const kind = FLAGS[name];
    if (kind === undefined) throw new HeyFlagError(`flag provided but not defined: -${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new HeyFlagError(`flag needs an argument: -${name}`);
      value = next;
      i++;
    }
    const refused = REFUSED[name];
    if (refused !== undefined && !(kind === 'bool' && !parseBoolFlag(name, value))) {
      throw new HeyFlagError(`-${name}: ${refused}`);
    }
    if (name === 'H') headers.push(value);
    else values.set(name, value);
  }
  const rest = argv.slice(i);
  if (rest.length === 0)
    throw new HeyFlagError('a URL is required, e.g. hey -z 1m -q 10 -c 2 http://podinfo-canary:9898/');
  if (rest.length > 1) throw new HeyFlagError(`unexpected arguments after the URL: ${rest.slice(1).join(' ')}`);
  const url = rest[0] ?? '';

  const int = (name: string, def: number): number => {
    const v = values.get(name);
    if (v === undefined) return def;
    if (!/^[+-]?\d+$/.test(v)) throw new HeyFlagError(`invalid value "${v}" for flag -${name}: parse error`);
    return Number(v);
  };
  const float = (name: string, def: number): number => {
    const v = values.get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new HeyFlagError(`invalid value "${v}" for flag -${name}: parse error`);
    return n;
  };
  const bool = (name: string): boolean => {
    const v = values.get(name);
    return v === undefined ? false : parseBoolFlag(name, v);
  };

  let n = int('n', 200);
  const c = int('c', 50);
  const q = float('q', 0);
  const t = int('t', 20);
  let durationMs: number | undefined;
  const z = values.get('z');
  if (z !== undefined) {
    const ms = parseGoDuration(z);
    if (ms === undefined) throw new HeyFlagError(`invalid value "${z}" for flag -z: parse error`);
    if (ms > 0) durationMs = ms;
  }
  if (n <= 0 || c <= 0) throw new HeyFlagError('-n and -c cannot be smaller than 1.');
  if (durationMs !== undefined) n = Number.MAX_SAFE_INTEGER;
  else if (n < c) throw new HeyFlagError('-n cannot be less than -c.');
  if (t < 0) throw new HeyFlagError('-t cannot be negative.');

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HeyFlagError(`invalid URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HeyFlagError(`unsupported URL scheme "${parsed.protocol}": want http or https`);
  }

  // Headers as hey builds them, each name set once (Go's Header.Set: the last one wins):
  // Content-Type from -T, then -H (a -H Content-Type wins), -A, the User-Agent, basic auth, Host.
  const set = new Map<string, [string, string]>();
  const put = (name: string, value: string): void => void set.set(name.toLowerCase(), [name, value]);
  put('Content-Type', values.get('T') ?? 'text/html');
  for (const h of headers) {
    const m = HEADER.exec(h);
    if (!m?.[1] || m[2] === undefined)
      throw new HeyFlagError(`invalid header ${JSON.stringify(h)}: want "Name: value"`);
    put(m[1], m[2]);
  }
  const accept = values.get('A');
  if (accept !== undefined && accept !== '') put('Accept', accept);
  const ua = set.get('user-agent')?.[1];
  put('User-Agent', ua === undefined ? HEY_USER_AGENT : `${ua} ${HEY_USER_AGENT}`);
  const auth = values.get('a');
  if (auth !== undefined && auth !== '') {
    // hey's own pattern: a user of one or more characters, then a password of two or more characters not starting with a space.
    const m = /^(.+):(\S.+)$/.exec(auth);
    if (!m) throw new HeyFlagError('-a: want username:password');
    put('Authorization', `Basic ${Buffer.from(auth, 'utf8').toString('base64')}`);
  }
  const host = values.get('host');
  if (host !== undefined && host !== '') put('Host', host);

  const ignored = ['disable-compression', 'disable-redirects', 'cpus'].filter((f) => values.has(f)).map((f) => `-${f}`);
  const body = values.get('d');
  const spec: LoadSpec = {
    url,
    method: (values.get('m') ?? 'GET').toUpperCase(),
    headers: [...set.values()],
    ...(body === undefined ? {} : { body }),
    concurrency: c,
    ...(q > 0 ? { rate: q * c } : {}),
    ...(durationMs === undefined ? { requests: n } : { durationMs }),
    timeoutMs: t * 1000,
    keepAlive: !bool('disable-keepalive'),
    insecureSkipVerify: true,
  };
  return { spec, ignored };
}

/** Go's `strconv.ParseBool` for a flag value. */
function parseBoolFlag(name: string, value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new HeyFlagError(`invalid boolean value "${value}" for -${name}: parse error`);
}
