import { describe, expect, it } from 'vitest';
import { canonicalJson, deterministicId, fenceOf, memoFrozen, revisionHash, shortHash } from './hash.ts';
import { newDeployment, podinfoTemplate } from './fixtures.fixture.ts';

/** Rebuilds `value` with every object's keys in reverse order (same content, other identity). */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  }
  return value;
}

describe('canonicalJson', () => {
  it('sorts keys at every level, drops undefined properties and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: true, y: null }], c: undefined } })).toBe(
      '{"a":{"d":[3,1,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('writes undefined array items and non-finite numbers as null, like JSON.stringify', () => {
    expect(canonicalJson([undefined, Number.NaN, 1.5])).toBe('[null,null,1.5]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('escapes <, > and & as Go encoding/json does', () => {
    expect(canonicalJson({ k: '<b> &' })).toBe('{"k":"\\u003cb\\u003e \\u0026"}');
  });
});

describe('shortHash', () => {
  it('is 16 hex characters by default and honours a length', () => {
    expect(shortHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
    expect(shortHash({ a: 1 }, 8)).toHaveLength(8);
  });

  it('matches sha256 prefixes computed outside (Flagger config checksums)', () => {
    // printf '{"color":"blue"}' | sha256sum
    expect(shortHash({ color: 'blue' })).toBe('f234cb93c08ad64e');
    // Go: json.Marshal(map[string]string{"k": "<b> &"})
    expect(shortHash({ k: '<b> &' })).toBe('97bbfa8d3dfada34');
    // Go: json.Marshal of a nil map
    expect(shortHash(null)).toBe('74234e98afe7498f');
  });

  it('does not depend on key order or object identity', () => {
    const template = podinfoTemplate();
    expect(shortHash(reversed(template))).toBe(shortHash(template));
    expect(shortHash(structuredClone(template))).toBe(shortHash(template));
  });

  it('changes when any value changes', () => {
    const a = podinfoTemplate();
    const b = podinfoTemplate();
    ((b['spec'] as { containers: { image: string }[] }).containers[0] as { image: string }).image = 'podinfo:6.0.1';
    expect(shortHash(b)).not.toBe(shortHash(a));
  });
});

describe('revisionHash', () => {
  const configs = { 'configmap/a': '0123456789abcdef', 'secret/b': 'fedcba9876543210' };

  it('is stable across key order of the template and of the tracked configs', () => {
    const reorderedConfigs = { 'secret/b': 'fedcba9876543210', 'configmap/a': '0123456789abcdef' };
    const first = revisionHash(podinfoTemplate(), configs);
    expect(revisionHash(reversed(podinfoTemplate()), reorderedConfigs)).toBe(first);
    expect(revisionHash(podinfoTemplate(), configs)).toBe(first);
  });

  it('changes with the template and with any config checksum', () => {
    const base = revisionHash(podinfoTemplate(), configs);
    const changedTemplate = podinfoTemplate();
    (changedTemplate['metadata'] as { annotations: Record<string, string> }).annotations['restartedAt'] = 'now';
    expect(revisionHash(changedTemplate, configs)).not.toBe(base);
    expect(revisionHash(podinfoTemplate(), { ...configs, 'secret/b': '0000000000000000' })).not.toBe(base);
    expect(revisionHash(podinfoTemplate(), { 'configmap/a': '0123456789abcdef' })).not.toBe(base);
  });
});

describe('fenceOf', () => {
  it('is <uid>/<generation>', () => {
    const d = newDeployment({ metadata: { generation: 7 } });
    expect(fenceOf(d)).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/7');
  });
});

describe('deterministicId', () => {
  it('is UUID-shaped (version 4, RFC 4122 variant) and the same for the same parts', () => {
    const id = deterministicId('uid', 'hash');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId('uid', 'hash')).toBe(id);
  });

  it('differs when any part differs, including how parts are split', () => {
    const id = deterministicId('uid', 'hash');
    expect(deterministicId('uid', 'hash2')).not.toBe(id);
    expect(deterministicId('uid2', 'hash')).not.toBe(id);
    expect(deterministicId('uidh', 'ash')).not.toBe(id);
  });
});

describe('memoFrozen', () => {
  it('computes once per frozen object and key, and every time for mutable objects', () => {
    let calls = 0;
    const compute = (): string => String(++calls);
    const frozen = Object.freeze({ a: 1 });
    expect([memoFrozen(frozen, 'k', compute), memoFrozen(frozen, 'k', compute)]).toEqual(['1', '1']);
    expect(memoFrozen(frozen, 'other', compute)).toBe('2');
    const mutable = { a: 1 };
    expect([memoFrozen(mutable, 'k', compute), memoFrozen(mutable, 'k', compute)]).toEqual(['3', '4']);
  });
});
