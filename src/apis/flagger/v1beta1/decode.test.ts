import { describe, expect, it } from 'vitest';
import {
  array,
  atMostOneOf,
  describe as describeValue,
  enumOf,
  exactlyOneOf,
  fieldPath,
  integer,
  intOrString,
  number,
  object,
  oneOfRequired,
  record,
  refine,
  string,
} from './decode.ts';
import type { Decoder } from './decode.ts';
import { ValidationError } from './errors.ts';

function issues<T>(decoder: Decoder<T>, value: unknown, path = 'x'): string[] {
  try {
    decoder(value, path);
  } catch (e: unknown) {
    if (e instanceof ValidationError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('fieldPath', () => {
  it('joins identifiers with dots and quotes other keys', () => {
    expect(fieldPath('', 'spec')).toBe('spec');
    expect(fieldPath('spec', 'analysis')).toBe('spec.analysis');
    expect(fieldPath('m', 'x-canary')).toBe('m.x-canary');
    expect(fieldPath('m', 'app.kubernetes.io/name')).toBe('m["app.kubernetes.io/name"]');
    expect(fieldPath('m', '')).toBe('m[""]');
  });
});

describe('describe', () => {
  it('renders values briefly', () => {
    expect(describeValue('ten')).toBe('"ten"');
    expect(describeValue(5)).toBe('5');
    expect(describeValue(false)).toBe('false');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue('x'.repeat(100))).toMatch(/^"x{56}\.\.\."$/);
  });
});

describe('primitives', () => {
  it('check types and bounds', () => {
    expect(issues(integer({ minimum: 1, maximum: 3 }), 4)).toEqual(['x: must be less than or equal to 3, got 4']);
    expect(issues(number(), Number.NaN)).toEqual(['x: must be a number, got NaN']);
    expect(issues(string({ minLength: 2 }), 'a')).toEqual(['x: must be at least 2 characters long, got "a"']);
    expect(issues(string({ maxLength: 1 }), 'ab')).toEqual(['x: must be at most 1 characters long, got "ab"']);
    expect(issues(string({ format: 'date-time' }), '2026-01-01')).toEqual([
      'x: must be an RFC 3339 date-time, got "2026-01-01"',
    ]);
    expect(string({ format: 'date-time' })('2026-01-01T10:00:00.5+02:00', 'x')).toBe('2026-01-01T10:00:00.5+02:00');
    expect(issues(enumOf(['a', 'b']), 1)).toEqual(['x: must be a string, got 1']);
    expect(intOrString('http', 'x')).toBe('http');
    expect(intOrString(8080, 'x')).toBe(8080);
  });
});

describe('containers', () => {
  it('collect the issues of every element with their paths', () => {
    expect(issues(array(integer()), [1, 'a', 2, 'b'])).toEqual([
      'x[1]: must be an integer, got "a"',
      'x[3]: must be an integer, got "b"',
    ]);
    expect(issues(record(integer()), { a: 'a', b: 1 })).toEqual(['x.a: must be an integer, got "a"']);
  });

  it('drop null map values', () => {
    expect(record(string())({ a: 'x', b: null }, 'm')).toEqual({ a: 'x' });
  });

  it('report missing required fields and skip checks until fields are valid', () => {
    interface Pair {
      readonly a: string;
      readonly b?: number;
    }
    let checked = 0;
    const pair = object<Pair>({ a: string() }, { b: integer() }, () => {
      checked += 1;
      return [];
    });
    expect(issues(pair, { b: 'no' })).toEqual(['x.a: is required', 'x.b: must be an integer, got "no"']);
    expect(checked).toBe(0);
    expect(pair({ a: 'ok', c: true }, 'x')).toEqual({ a: 'ok' });
    expect(checked).toBe(1);
  });

  it('let unexpected errors through', () => {
    const boom: Decoder<string> = () => {
      throw new TypeError('boom');
    };
    expect(() => array(boom)(['x'], 'x')).toThrow(TypeError);
  });
});

describe('object rules', () => {
  interface Match {
    readonly exact?: string;
    readonly prefix?: string;
  }
  const fields = { exact: string(), prefix: string() };

  it('atMostOneOf allows none or one', () => {
    const d = object<Match>({}, fields, atMostOneOf(['exact', 'prefix']));
    expect(issues(d, {})).toEqual([]);
    expect(issues(d, { exact: 'a', prefix: 'b' })).toEqual([
      'x: must set at most one of exact, prefix, got exact, prefix',
    ]);
  });

  it('exactlyOneOf requires one', () => {
    const d = object<Match>({}, fields, exactlyOneOf(['exact', 'prefix']));
    expect(issues(d, {})).toEqual(['x: must set exactly one of exact, prefix, got none']);
    expect(issues(d, { prefix: '' })).toEqual([]);
  });

  it('oneOfRequired counts complete field sets', () => {
    const d = object<Match>({}, fields, oneOfRequired([['exact'], ['prefix']]));
    expect(issues(d, { exact: 'a' })).toEqual([]);
    expect(issues(d, {})).toEqual(['x: must set exactly one of the field sets [exact] | [prefix]; none is complete']);
  });

  it('refine adds checks to any decoder', () => {
    const even = refine(integer(), (n, path) => (n % 2 === 0 ? [] : [{ path, message: 'must be even' }]));
    expect(issues(even, 3)).toEqual(['x: must be even']);
    expect(even(4, 'x')).toBe(4);
  });
});
