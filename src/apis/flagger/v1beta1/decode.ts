/**
 * A small combinator library that turns `unknown` JSON into typed, readonly values while applying
 * the OpenAPI rules a CRD schema uses (type, enum, required, pattern, bounds, oneOf). Decoders collect
 * every problem of an object before throwing one `ValidationError` whose issues carry field paths.
 *
 * Conventions (same as the API server after pruning): `null` and `undefined` mean "absent", unknown
 * object fields are dropped, and no defaults are filled in (see `defaults.ts` for those).
 */
import { ValidationError } from './errors.ts';
import type { ValidationIssue } from './errors.ts';

/** Decodes `value` found at `path` or throws `ValidationError`. */
export type Decoder<T> = (value: unknown, path: string) => T;

/** An object-level rule run after all fields decoded; returns the problems found (empty when valid). */
export type Check<T> = (value: T, path: string) => readonly ValidationIssue[];

type RequiredKeys<T> = {
  [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K;
}[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;

/** Decoders for the required fields of `T`; the compiler insists every required field is listed. */
export type RequiredFields<T> = { readonly [K in RequiredKeys<T>]-?: Decoder<T[K]> };
/** Decoders for the optional fields of `T`; the compiler insists every optional field is listed. */
export type OptionalFields<T> = { readonly [K in OptionalKeys<T>]-?: Decoder<Exclude<T[K], undefined>> };

/** Throws a `ValidationError` with one issue. */
export function fail(path: string, message: string): never {
  throw new ValidationError([{ path, message }]);
}

/** Joins a field name onto a path: `spec` + `analysis` → `spec.analysis`. */
export function fieldPath(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A short rendering of a value for error messages: `"ten"`, `5`, `an object`. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return `a ${typeof value}`;
}

/** True for `null` and `undefined`, which the API server treats as an absent field. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** True for plain JSON objects (not arrays, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Runs `fn`, turning a thrown `ValidationError` into issues appended to `issues`. */
function collect<T>(issues: ValidationIssue[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e: unknown) {
    if (e instanceof ValidationError) {
      issues.push(...e.issues);
      return undefined;
    }
    throw e;
  }
}

export interface StringRules {
  /** Unanchored like OpenAPI `pattern`: the value must contain a match. */
  readonly pattern?: RegExp;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** `url`: an absolute URL; `date-time`: RFC 3339 (a `Date` is accepted and converted). */
  readonly format?: 'url' | 'date-time';
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A string, optionally constrained like an OpenAPI string schema. */
export function string(rules: StringRules = {}): Decoder<string> {
  return (value, path) => {
    if (rules.format === 'date-time' && value instanceof Date && !Number.isNaN(value.getTime())) {
      return value.toISOString();
    }
    if (typeof value !== 'string') return fail(path, `must be a string, got ${describe(value)}`);
    if (rules.minLength !== undefined && value.length < rules.minLength) {
      fail(path, `must be at least ${rules.minLength} characters long, got ${describe(value)}`);
    }
    if (rules.maxLength !== undefined && value.length > rules.maxLength) {
      fail(path, `must be at most ${rules.maxLength} characters long, got ${describe(value)}`);
    }
    if (rules.pattern !== undefined && !rules.pattern.test(value)) {
      fail(path, `must match ${rules.pattern.source}, got ${describe(value)}`);
    }
    if (rules.format === 'url' && !URL.canParse(value)) fail(path, `must be an absolute URL, got ${describe(value)}`);
    if (rules.format === 'date-time' && (!rfc3339.test(value) || Number.isNaN(Date.parse(value)))) {
      fail(path, `must be an RFC 3339 date-time, got ${describe(value)}`);
    }
    return value;
  };
}

export interface NumberRules {
  readonly minimum?: number;
  readonly maximum?: number;
}

function checkBounds(value: number, path: string, rules: NumberRules): void {
  if (rules.minimum !== undefined && value < rules.minimum) {
    fail(path, `must be greater than or equal to ${rules.minimum}, got ${value}`);
  }
  if (rules.maximum !== undefined && value > rules.maximum) {
    fail(path, `must be less than or equal to ${rules.maximum}, got ${value}`);
  }
}

/** An integral number (OpenAPI `type: integer`). */
export function integer(rules: NumberRules = {}): Decoder<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return fail(path, `must be an integer, got ${describe(value)}`);
    }
    checkBounds(value, path, rules);
    return value;
  };
}

/** A finite number (OpenAPI `type: number`). */
export function number(rules: NumberRules = {}): Decoder<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail(path, `must be a number, got ${describe(value)}`);
    }
    checkBounds(value, path, rules);
    return value;
  };
}

/** A boolean. */
export const boolean: Decoder<boolean> = (value, path) =>
  typeof value === 'boolean' ? value : fail(path, `must be a boolean, got ${describe(value)}`);

/** A string from a fixed set (OpenAPI `enum`). */
export function enumOf<const T extends string>(values: readonly T[]): Decoder<T> {
  const allowed: ReadonlySet<unknown> = new Set(values);
  const isMember = (value: unknown): value is T => allowed.has(value);
  const listing = values.map((v) => JSON.stringify(v)).join(', ');
  return (value, path) => {
    if (isMember(value)) return value;
    if (typeof value !== 'string') return fail(path, `must be a string, got ${describe(value)}`);
    return fail(path, `must be one of ${listing}, got ${describe(value)}`);
  };
}

/** An integer or a string (`x-kubernetes-int-or-string`). */
export const intOrString: Decoder<number | string> = (value, path) => {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) return value;
  return fail(path, `must be an integer or a string, got ${describe(value)}`);
};

export interface ArrayRules {
  readonly maxItems?: number;
}

/** An array whose items all decode with `item`. */
export function array<T>(item: Decoder<T>, rules: ArrayRules = {}): Decoder<readonly T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return fail(path, `must be an array, got ${describe(value)}`);
    if (rules.maxItems !== undefined && value.length > rules.maxItems) {
      fail(path, `must have at most ${rules.maxItems} items, got ${value.length}`);
    }
    const issues: ValidationIssue[] = [];
    const out: T[] = [];
    value.forEach((element: unknown, i) => {
      const decoded = collect(issues, () => item(element, `${path}[${i}]`));
      if (decoded !== undefined) out.push(decoded);
    });
    if (issues.length > 0) throw new ValidationError(issues);
    return out;
  };
}

/** A map with string keys (OpenAPI `additionalProperties`). `null` values are dropped. */
export function record<T>(item: Decoder<T>): Decoder<Readonly<Record<string, T>>> {
  return (value, path) => {
    if (!isRecord(value)) return fail(path, `must be an object, got ${describe(value)}`);
    const issues: ValidationIssue[] = [];
    const out: Record<string, T> = {};
    for (const [key, element] of Object.entries(value)) {
      if (isAbsent(element)) continue;
      const decoded = collect(issues, () => item(element, fieldPath(path, key)));
      if (decoded !== undefined) out[key] = decoded;
    }
    if (issues.length > 0) throw new ValidationError(issues);
    return out;
  };
}

/**
 * An object with known fields (OpenAPI `properties` + `required`). Unknown fields are dropped;
 * `checks` run once every field decoded without problems.
 */
export function object<T>(
  required: RequiredFields<T>,
  optional: OptionalFields<T>,
  ...checks: readonly Check<T>[]
): Decoder<T> {
  const requiredEntries = Object.entries(required as Readonly<Record<string, Decoder<unknown>>>);
  const optionalEntries = Object.entries(optional as Readonly<Record<string, Decoder<unknown>>>);
  return (value, path) => {
    if (!isRecord(value)) return fail(path, `must be an object, got ${describe(value)}`);
    const issues: ValidationIssue[] = [];
    const out: Record<string, unknown> = {};
    for (const [key, decode] of requiredEntries) {
      const field = value[key];
      if (isAbsent(field)) {
        issues.push({ path: fieldPath(path, key), message: 'is required' });
        continue;
      }
      const decoded = collect(issues, () => decode(field, fieldPath(path, key)));
      if (decoded !== undefined) out[key] = decoded;
    }
    for (const [key, decode] of optionalEntries) {
      const field = value[key];
      if (isAbsent(field)) continue;
      const decoded = collect(issues, () => decode(field, fieldPath(path, key)));
      if (decoded !== undefined) out[key] = decoded;
    }
    if (issues.length > 0) throw new ValidationError(issues);
    // Every required field is present and every present field decoded with its declared decoder.
    const result = out as T;
    for (const check of checks) issues.push(...check(result, path));
    if (issues.length > 0) throw new ValidationError(issues);
    return result;
  };
}

/** Applies extra rules to an already decoded value. */
export function refine<T>(decoder: Decoder<T>, ...checks: readonly Check<T>[]): Decoder<T> {
  return (value, path) => {
    const result = decoder(value, path);
    const issues = checks.flatMap((check) => check(result, path));
    if (issues.length > 0) throw new ValidationError(issues);
    return result;
  };
}

function present<T>(value: T, key: keyof T): boolean {
  return value[key] !== undefined;
}

/**
 * OpenAPI `oneOf` of `required` lists: exactly one of the field sets must be fully present
 * (e.g. `[interval, threshold, iterations] | [interval, threshold, stepWeight]`).
 */
export function oneOfRequired<T>(branches: readonly (readonly (keyof T & string)[])[]): Check<T> {
  const sets = branches.map((fields) => `[${fields.join(', ')}]`);
  return (value, path) => {
    const matched = branches.flatMap((fields, i) => (fields.every((f) => present(value, f)) ? [sets[i]] : []));
    if (matched.length === 1) return [];
    const got = matched.length === 0 ? 'none is complete' : `${matched.join(' and ')} are all complete`;
    return [{ path, message: `must set exactly one of the field sets ${sets.join(' | ')}; ${got}` }];
  };
}

/** At most one of `keys` may be set (the `not: anyOf` + `oneOf` idiom of Istio string matches). */
export function atMostOneOf<T>(keys: readonly (keyof T & string)[]): Check<T> {
  return (value, path) => {
    const set = keys.filter((k) => present(value, k));
    return set.length <= 1
      ? []
      : [{ path, message: `must set at most one of ${keys.join(', ')}, got ${set.join(', ')}` }];
  };
}

/** Exactly one of `keys` must be set. */
export function exactlyOneOf<T>(keys: readonly (keyof T & string)[]): Check<T> {
  return (value, path) => {
    const set = keys.filter((k) => present(value, k));
    if (set.length === 1) return [];
    const got = set.length === 0 ? 'none' : set.join(', ');
    return [{ path, message: `must set exactly one of ${keys.join(', ')}, got ${got}` }];
  };
}
