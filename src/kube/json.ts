/** JSON helpers shared by the client adapter, the informer and FakeKube. Pure; no I/O. */

import type { KubeObject, ResourceType } from './objects.ts';

/** A JSON object (after narrowing `unknown`). */
export type JsonObject = Record<string, unknown>;

/** Narrows `u` to a plain (non-array, non-null) object. */
export function isRecord(u: unknown): u is JsonObject {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/**
 * Deep-copies `value` into plain JSON: `Date`s become ISO strings, `undefined` properties are
 * dropped and class instances become plain objects. client-node's typed APIs deserialize
 * timestamps into `Date` while its watch hands out raw JSON; everything leaving `src/kube/` goes
 * through here so callers only ever see strings.
 */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toPlainJson(v)));
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined && typeof v !== 'function') out[k] = toPlainJson(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Freezes `value` and everything reachable from it; returns it for chaining. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Structural equality of two JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Applies a JSON merge patch (RFC 7386) to `target` and returns the result; neither input is
 * modified. `null` in the patch deletes a key; arrays and scalars replace; objects merge.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: JsonObject = isRecord(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** `ms` since the epoch as a Kubernetes `Time` (RFC 3339, whole seconds). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `ms` since the epoch as a Kubernetes `MicroTime`. The API server parses MicroTime with Go's
 * `RFC3339Micro` layout, which needs exactly six fractional digits; JavaScript gives three.
 */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Narrows `u` to a {@link KubeObject}: apiVersion, kind and metadata.name are strings. */
export function isKubeObject(u: unknown): u is KubeObject {
  return (
    isRecord(u) &&
    typeof u['apiVersion'] === 'string' &&
    typeof u['kind'] === 'string' &&
    isRecord(u['metadata']) &&
    typeof u['metadata']['name'] === 'string'
  );
}

/**
 * Converts an object from the API server into a plain-JSON {@link KubeObject}, or undefined when
 * it has no `metadata.name`. Items of a core/v1 list carry no apiVersion/kind; `type` fills them in.
 */
export function toKubeObject(u: unknown, type?: ResourceType): KubeObject | undefined {
  const plain = toPlainJson(u);
  if (!isRecord(plain)) return undefined;
  if (type) {
    if (typeof plain['apiVersion'] !== 'string') plain['apiVersion'] = type.apiVersion;
    if (typeof plain['kind'] !== 'string') plain['kind'] = type.kind;
  }
  return isKubeObject(plain) ? plain : undefined;
}
