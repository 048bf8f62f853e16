import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, KubeApiError } from '../kube/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { ConfigMapGateStore, DEFAULT_GATE_CONFIGMAP, gateKey, isValidGateKey } from './gates.ts';

const ref = { namespace: 'loadtester', name: DEFAULT_GATE_CONFIGMAP };
const dataOf = (kube: FakeKube): unknown => kube.peek(Resources.configMap, ref)?.['data'];

describe('gate keys', () => {
  it("are Flagger's names, valid as ConfigMap keys", () => {
    expect(gateKey('gate', 'podinfo', 'test')).toBe('podinfo.test');
    expect(gateKey('rollback', 'podinfo', 'test')).toBe('rollback.podinfo.test');
    expect(isValidGateKey('podinfo.test')).toBe(true);
    expect(isValidGateKey('a/b')).toBe(false);
    expect(isValidGateKey('')).toBe(false);
    expect(isValidGateKey('x'.repeat(254))).toBe(false);
  });
});

describe('ConfigMapGateStore', () => {
  it('reads a missing ConfigMap as all gates closed, without creating it', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    expect(await store.isOpen('podinfo.test')).toBe(false);
    await store.set('podinfo.test', false);
    expect(kube.actions).toEqual([]);
  });

  it('creates the ConfigMap on the first open, then patches keys in and out', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    await store.set('podinfo.test', true);
    expect(kube.writes({ verb: 'create' })).toHaveLength(1);
    expect(kube.peek(Resources.configMap, ref)?.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'fledge-loadtester',
    });
    expect(dataOf(kube)).toEqual({ 'podinfo.test': 'true' });
    expect(await store.isOpen('podinfo.test')).toBe(true);
    expect(await store.isOpen('other.test')).toBe(false);

    await store.set('rollback.podinfo.test', true);
    expect(dataOf(kube)).toEqual({ 'podinfo.test': 'true', 'rollback.podinfo.test': 'true' });
    await store.set('podinfo.test', false);
    expect(dataOf(kube)).toEqual({ 'rollback.podinfo.test': 'true' });
    expect(await store.isOpen('podinfo.test')).toBe(false);
  });

  it('guards every patch with the resourceVersion it read, and skips writes that change nothing', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    await store.set('a.ns', true);
    const rv = kube.peek(Resources.configMap, ref)?.metadata.resourceVersion;
    await store.set('b.ns', true);
    const patch = kube.writes({ verb: 'patch' })[0]?.body;
    expect(patch).toEqual({ metadata: { resourceVersion: rv }, data: { 'b.ns': 'true' } });
    kube.clearActions();
    await store.set('b.ns', true);
    await store.set('c.ns', false);
    expect(kube.actions).toEqual([]);
  });

  it('retries on a conflict (another replica wrote in between) without losing its write or theirs', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    await store.set('a.ns', true);
    // Another replica's write lands between our read and our patch: the stale patch gets a 409.
    kube.failOn(
      { verb: 'patch', kind: 'ConfigMap' },
      new ConflictError('the object has been modified', 409, 'Conflict'),
    );
    await store.set('b.ns', true);
    expect(kube.writes({ verb: 'patch' })).toHaveLength(2);
    expect(dataOf(kube)).toEqual({ 'a.ns': 'true', 'b.ns': 'true' });
  });

  it('two stores (two replicas) over one ConfigMap see each other at once', async () => {
    const kube = new FakeKube();
    const a = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    const b = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    await Promise.all([a.set('one.ns', true), b.set('two.ns', true), a.set('three.ns', true)]);
    expect(dataOf(kube)).toEqual({ 'one.ns': 'true', 'two.ns': 'true', 'three.ns': 'true' });
    await b.set('one.ns', false);
    expect(await a.isOpen('one.ns')).toBe(false);
    expect(await a.isOpen('two.ns')).toBe(true);
  });

  it('patches instead when another replica created the ConfigMap first', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester' });
    kube.failOn({ verb: 'create', kind: 'ConfigMap' }, new AlreadyExistsError('exists', 409, 'AlreadyExists'));
    // The failing create happens while the ConfigMap is absent; make it exist as the other replica would.
    const get = kube.get.bind(kube);
    let calls = 0;
    kube.get = async (type, key) => {
      calls++;
      if (calls === 2) kube.upsert({ apiVersion: 'v1', kind: 'ConfigMap', metadata: ref, data: { 'x.ns': 'true' } });
      return get(type, key);
    };
    await store.set('y.ns', true);
    expect(dataOf(kube)).toEqual({ 'x.ns': 'true', 'y.ns': 'true' });
  });

  it('gives up after its attempts and rethrows other errors', async () => {
    const kube = new FakeKube();
    const store = new ConfigMapGateStore({ kube, namespace: 'loadtester', attempts: 2 });
    await store.set('a.ns', true);
    kube.failOn({ verb: 'patch' }, new ConflictError('modified', 409, 'Conflict'), 2);
    await expect(store.set('b.ns', true)).rejects.toBeInstanceOf(ConflictError);
    kube.failOn({ verb: 'get' }, new KubeApiError('forbidden', 403, 'Forbidden'));
    await expect(store.isOpen('a.ns')).rejects.toThrow('forbidden');
    await expect(store.set('bad/key', true)).rejects.toThrow(RangeError);
  });
});
