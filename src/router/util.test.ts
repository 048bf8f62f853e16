import { describe, expect, it } from 'vitest';
import { OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { Informer } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { LaggingKube, NS, newCanary, newCtx } from './router.fixture.ts';
import { appliedMetadataKeys, CachedReader, cacheSynced, controllerRef, metadataUpToDate } from './util.ts';

const cm = (data: string, rv?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: NS, ...(rv === undefined ? {} : { resourceVersion: rv }) },
  data: { v: data },
});

describe('CachedReader', () => {
  it('returns its own write while the cache still holds the version it replaced', async () => {
    const fake = new FakeKube([cm('0')]);
    const kube = new LaggingKube(fake);
    const reader = new CachedReader(kube);
    const ctx = newCtx();
    const key = { namespace: NS, name: 'c' };
    kube.freeze([Resources.configMap], NS);
    const before = await reader.get(ctx, Resources.configMap, key);
    const first = await fake.mergePatch(Resources.configMap, key, { data: { v: '1' } });
    reader.wrote(Resources.configMap, before, first);
    expect(await reader.get(ctx, Resources.configMap, key)).toBe(first);
    const second = await fake.mergePatch(Resources.configMap, key, { data: { v: '2' } });
    reader.wrote(Resources.configMap, first, second);
    expect(await reader.get(ctx, Resources.configMap, key)).toBe(second);
  });

  it('prefers the cache once it shows a version the write did not replace', async () => {
    const fake = new FakeKube([cm('0')]);
    const reader = new CachedReader(fake);
    const ctx = newCtx();
    const key = { namespace: NS, name: 'c' };
    const before = await reader.get(ctx, Resources.configMap, key);
    const written = await fake.mergePatch(Resources.configMap, key, { data: { v: '1' } });
    reader.wrote(Resources.configMap, before, written);
    fake.upsert(cm('someone else'));
    expect((await reader.get(ctx, Resources.configMap, key))?.['data']).toEqual({ v: 'someone else' });
  });

  it('forgets a write after a minute even when the cache never moves', async () => {
    let now = 0;
    const fake = new FakeKube([cm('0')]);
    const kube = new LaggingKube(fake);
    const reader = new CachedReader(kube, () => now);
    const ctx = newCtx();
    const key = { namespace: NS, name: 'c' };
    kube.freeze([Resources.configMap], NS);
    const before = await reader.get(ctx, Resources.configMap, key);
    reader.wrote(Resources.configMap, before, await fake.mergePatch(Resources.configMap, key, { data: { v: '1' } }));
    now = 60_000;
    expect((await reader.get(ctx, Resources.configMap, key))?.['data']).toEqual({ v: '0' });
  });

  it('asks the API server when the cache has no such object', async () => {
    const fake = new FakeKube();
    const kube = new LaggingKube(fake);
    kube.freeze([Resources.configMap], NS);
    fake.upsert(cm('live'));
    const got = await new CachedReader(kube).get(newCtx(), Resources.configMap, { namespace: NS, name: 'c' });
    expect(got?.['data']).toEqual({ v: 'live' });
  });
});

describe('cacheSynced', () => {
  const never: Informer = {
    type: Resources.service,
    synced: () => new Promise<void>(() => undefined),
    get: () => undefined,
    list: () => [],
    onChange: () => () => undefined,
    health: () => ({
      synced: false,
      watching: false,
      lastEventAt: undefined,
      lastListAt: undefined,
      consecutiveFailures: 3,
      lastError: 'the server could not find the requested resource',
    }),
    stop: () => undefined,
  };

  it('gives up after the timeout with the informer error', async () => {
    await expect(cacheSynced(newCtx(), never, 5)).rejects.toThrow(
      /Service cache not synced \(after 5 ms\): the server could not find the requested resource/,
    );
  });

  it('gives up when the tick is cancelled', async () => {
    const abort = new AbortController();
    const waiting = cacheSynced({ ...newCtx(), signal: abort.signal }, never, 60_000);
    abort.abort();
    await expect(waiting).rejects.toThrow(OperatorError);
  });
});

describe('metadataUpToDate', () => {
  const obj = (meta: Partial<KubeObject['metadata']>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', ...meta },
  });
  const desired = { labels: { a: '1' }, annotations: { b: '2' }, ownerReferences: [] };

  it('accepts extra keys other managers set', () => {
    expect(metadataUpToDate(obj({ labels: { a: '1', x: 'y' }, annotations: { b: '2', z: 'w' } }), desired)).toBe(true);
  });

  it('rejects a missing or different key and a stale key Fledge applied', () => {
    expect(metadataUpToDate(obj({ labels: { a: '2' }, annotations: { b: '2' } }), desired)).toBe(false);
    expect(metadataUpToDate(obj({ labels: { a: '1' } }), desired)).toBe(false);
    const managedFields = [
      {
        manager: 'fledge',
        operation: 'Apply',
        fieldsV1: { 'f:metadata': { 'f:annotations': { '.': {}, 'f:old': {} } } },
      },
      { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:x': {} } } } },
    ];
    const stale = obj({ labels: { a: '1', x: 'y' }, annotations: { b: '2', old: 'o' }, ...{ managedFields } });
    expect([...appliedMetadataKeys(stale, 'annotations')]).toEqual(['old']);
    expect([...appliedMetadataKeys(stale, 'labels')]).toEqual([]);
    expect(metadataUpToDate(stale, desired)).toBe(false);
  });

  it('requires the owner references', () => {
    const ref = controllerRef(newCanary());
    expect(
      metadataUpToDate(obj({ labels: { a: '1' }, annotations: { b: '2' } }), { ...desired, ownerReferences: [ref] }),
    ).toBe(false);
    expect(
      metadataUpToDate(obj({ labels: { a: '1' }, annotations: { b: '2' }, ownerReferences: [ref] }), {
        ...desired,
        ownerReferences: [ref],
      }),
    ).toBe(true);
  });
});

describe('controllerRef', () => {
  it('needs the Canary uid', () => {
    const canary = newCanary();
    const { uid: _uid, ...metadata } = canary.metadata;
    expect(() => controllerRef({ ...canary, metadata })).toThrow(OperatorError);
  });
});
