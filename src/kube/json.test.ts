import { describe, expect, it } from 'vitest';
import { applyMergePatch, formatMicroTime, formatTime, jsonEqual, toKubeObject, toPlainJson } from './json.ts';
import { parseLabelSelector } from './selector.ts';

describe('applyMergePatch (RFC 7386 appendix A)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j = %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    applyMergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

describe('toPlainJson / toKubeObject', () => {
  it('turns Dates into ISO strings and drops undefined', () => {
    const when = new Date('2026-01-02T03:04:05.000Z');
    expect(toPlainJson({ a: when, b: undefined, c: [when] })).toEqual({
      a: '2026-01-02T03:04:05.000Z',
      c: ['2026-01-02T03:04:05.000Z'],
    });
  });

  it('fills apiVersion/kind missing from list items and rejects objects without a name', () => {
    const type = { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true };
    expect(toKubeObject({ metadata: { name: 's' } }, type)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
    });
    expect(toKubeObject({ metadata: {} }, type)).toBeUndefined();
  });
});

describe('time formats', () => {
  const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  it('MicroTime has exactly six fractional digits (Go RFC3339Micro)', () => {
    expect(formatMicroTime(ms)).toBe('2026-01-02T03:04:05.678000Z');
  });
  it('Time has whole seconds', () => {
    expect(formatTime(ms)).toBe('2026-01-02T03:04:05Z');
  });
});

describe('jsonEqual', () => {
  it('ignores key order but not values', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});

describe('parseLabelSelector', () => {
  const labels = { app: 'podinfo', tier: 'web' };
  it.each([
    ['', true],
    ['app=podinfo', true],
    ['app==podinfo,tier=web', true],
    ['app=other', false],
    ['app!=other', true],
    ['tier', true],
    ['!tier', false],
    ['missing', false],
    ['!missing', true],
    ['app in (a, podinfo)', true],
    ['app notin (a,podinfo)', false],
    ['app in (a,b),tier=web', false],
  ])('%s → %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });
  it('rejects nonsense', () => {
    expect(() => parseLabelSelector('a=b=c')).toThrow(/invalid label selector/);
  });
});
