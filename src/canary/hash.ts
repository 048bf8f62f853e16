/**
 * Stable hashing of Kubernetes objects (replaces Flagger's spew + FNV `ComputeHash`, whose value
 * moves whenever the Go structs gain a field: Flagger #1673). Pure; no I/O.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/objects.ts';

/** Go's encoding/json escapes these for HTML safety; doing the same keeps config checksums equal to Flagger's. */
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function quote(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}

/** Orders keys by their UTF-8 bytes, as Go sorts map keys. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Canonical JSON of a JSON-like value: object keys sorted (by UTF-8 bytes), `undefined` properties
 * dropped (`undefined` array items become `null`, as JSON.stringify does), no whitespace, strings
 * escaped as Go's encoding/json does. Equal values give equal text whatever their key order or
 * object identity.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      // functions and symbols are not JSON
      return 'null';
  }
  if (value instanceof Date) return quote(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
    .sort(([a], [b]) => compareKeys(a, b));
  return `{${entries.map(([k, v]) => `${quote(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Lower-case hex sha256 of a string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The first `length` hex characters (default 16, i.e. 64 bits) of sha256 over the canonical JSON of `value`. */
export function shortHash(value: unknown, length = 16): string {
  return sha256Hex(canonicalJson(value)).slice(0, length);
}

/**
 * The revision hash of a workload: sha256 over the canonical JSON of its pod template and of its
 * tracked configs' checksums (keys sorted). Changes when the template or any config's data changes;
 * not when replicas, status or the workload's own metadata change.
 */
export function revisionHash(template: unknown, trackedConfigs: Readonly<Record<string, string>>): string {
  return shortHash({ template: template ?? null, configs: trackedConfigs });
}

/**
 * The change fence of a workload: `<uid>/<generation>`. While it is unchanged the API server has not
 * accepted any spec change, so the template cannot have changed (whatever its hash says after an
 * upgrade that adds defaulted fields).
 */
export function fenceOf(obj: KubeObject): string {
  return `${obj.metadata.uid ?? ''}/${obj.metadata.generation ?? 0}`;
}

/**
 * A UUID-shaped identifier derived from `parts` (sha256, version nibble 4 and RFC 4122 variant
 * bits set so that it looks like the random ids Flagger writes). Same parts, same id.
 */
export function deterministicId(...parts: readonly string[]): string {
  const hex = sha256Hex(canonicalJson(parts)).slice(0, 32);
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const memo = new WeakMap<object, Map<string, string>>();

/**
 * `compute()` for `obj` and `key`, remembered while `obj` lives. Only frozen objects (informer
 * cache entries, replaced, never changed, on update) are remembered: an idle tick then hashes nothing.
 */
export function memoFrozen(obj: object, key: string, compute: () => string): string {
  if (!Object.isFrozen(obj)) return compute();
  let byKey = memo.get(obj);
  if (!byKey) {
    byKey = new Map();
    memo.set(obj, byKey);
  }
  let value = byKey.get(key);
  if (value === undefined) {
    value = compute();
    byKey.set(key, value);
  }
  return value;
}
