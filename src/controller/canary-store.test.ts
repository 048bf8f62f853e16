import { describe, expect, it } from 'vitest';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import { ConflictError } from '../kube/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { type KubeObject, type ObjectKey, keyString } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { silentLogger } from '../log/logger.ts';
import { CanaryStore } from './canary-store.ts';
import type { Ctx } from '../core/context.ts';

const ctx: Ctx = { signal: new AbortController().signal, log: silentLogger };
const key = { namespace: 'apps', name: 'podinfo' };

function canaryObject(finalizers?: string[]): KubeObject {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'apps', ...(finalizers ? { finalizers } : {}) },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, stepWeight: 10 },
    },
    status: { phase: 'Initialized' },
  };
}

/** A cache that lags behind the API until the test delivers objects to it, as a watch would. */
class LaggingCache {
  readonly #objects = new Map<string, KubeObject>();
  get(k: ObjectKey): KubeObject | undefined {
    return this.#objects.get(keyString(k));
  }
  deliver(obj: KubeObject): void {
    this.#objects.set(keyString({ namespace: obj.metadata.namespace ?? '', name: obj.metadata.name }), obj);
  }
  remove(k: ObjectKey): void {
    this.#objects.delete(keyString(k));
  }
}

function setup(seed: KubeObject = canaryObject(), now = { t: 0 }) {
  const kube = new FakeKube([seed]);
  const stored = kube.peek(Resources.canary, key);
  if (!stored) throw new Error('seed missing');
  const cache = new LaggingCache();
  cache.deliver(stored);
  const store = new CanaryStore({ kube, cache, clock: { now: () => now.t }, ownWriteTtlMs: 60_000 });
  return { kube, cache, store, canary: parseCanary(stored), stored, now };
}

const rv = (o: KubeObject | Canary | undefined): string | undefined => o?.metadata.resourceVersion;

describe('CanaryStore.patchStatus', () => {
  it('merge-patches /status and returns the canary with the new status and resourceVersion', async () => {
    const { kube, store, canary } = setup();
    const next = await store.patchStatus(ctx, canary, { phase: 'Progressing', canaryWeight: 10 });
    expect(kube.writes()).toEqual([
      expect.objectContaining({
        verb: 'patchStatus',
        type: 'Canary',
        key: 'apps/podinfo',
        body: { status: { phase: 'Progressing', canaryWeight: 10 } },
      }),
    ]);
    expect(next.status).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    expect(rv(next)).toBe(rv(kube.peek(Resources.canary, key)));
    expect(next.spec).toBe(canary.spec);
  });

  it('overlays its own write on the stale cache until the watch delivers it', async () => {
    const { kube, cache, store, canary, stored } = setup();
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    // The cache still holds the pre-write object: latest() must not return it.
    expect(rv(cache.get(key))).toBe(rv(stored));
    expect(store.latest(key)?.['status']).toMatchObject({ phase: 'Progressing' });
    expect(store.pendingWrites).toBe(1);

    const written = kube.peek(Resources.canary, key);
    if (!written) throw new Error('missing');
    cache.deliver(written);
    expect(store.latest(key)).toBe(written);
    expect(store.pendingWrites).toBe(0);
  });

  it('keeps the newest of several own writes', async () => {
    const { store, canary } = setup();
    const a = await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    await store.patchStatus(ctx, a, { canaryWeight: 20 });
    expect(store.latest(key)?.['status']).toMatchObject({ phase: 'Progressing', canaryWeight: 20 });
  });

  it('drops the own write once the cache holds a newer resourceVersion (e.g. a user edit after it)', async () => {
    const { kube, cache, store, canary } = setup();
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    const edited = kube.upsert({
      ...canaryObject(),
      status: { phase: 'Progressing' },
      spec: { ...(canaryObject()['spec'] as object), skipAnalysis: true },
    });
    cache.deliver(edited);
    expect(store.latest(key)).toBe(edited);
    expect(store.pendingWrites).toBe(0);
  });

  it('returns undefined and forgets the write when the canary left the cache (deleted)', async () => {
    const { cache, store, canary } = setup();
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    cache.remove(key);
    expect(store.latest(key)).toBeUndefined();
    expect(store.pendingWrites).toBe(0);
  });

  it('prefers the cache when the canary was recreated (other uid)', async () => {
    const { cache, store, canary } = setup();
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    const recreated: KubeObject = {
      ...canaryObject(),
      metadata: { name: 'podinfo', namespace: 'apps', uid: 'new-uid', resourceVersion: '1' },
    };
    cache.deliver(recreated);
    expect(store.latest(key)).toBe(recreated);
  });

  it('gives up on an own write the cache never confirms after the TTL', async () => {
    const now = { t: 0 };
    const { cache, store, canary, stored } = setup(canaryObject(), now);
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    now.t = 59_000;
    expect(store.latest(key)).not.toBe(cache.get(key));
    now.t = 61_000;
    expect(store.latest(key)).toBe(stored);
  });

  it('forget() drops the overlay', async () => {
    const { store, canary, stored } = setup();
    await store.patchStatus(ctx, canary, { phase: 'Progressing' });
    store.forget(key);
    expect(store.latest(key)).toBe(stored);
  });

  it('lets errors through and remembers nothing', async () => {
    const { kube, store, canary, stored } = setup();
    kube.failOn({ verb: 'patchStatus' }, new Error('boom'));
    await expect(store.patchStatus(ctx, canary, { phase: 'Failed' })).rejects.toThrow('boom');
    expect(store.latest(key)).toBe(stored);
  });
});

describe('CanaryStore.setFinalizer', () => {
  it('adds the finalizer with a resourceVersion precondition, keeping other finalizers', async () => {
    const { kube, store, canary, stored } = setup(canaryObject(['other.io/keep']));
    const next = await store.setFinalizer(ctx, canary, true);
    expect(kube.writes()).toEqual([
      expect.objectContaining({
        verb: 'patch',
        body: { metadata: { resourceVersion: rv(stored), finalizers: ['other.io/keep', 'finalizer.flagger.app'] } },
      }),
    ]);
    expect(next.metadata.finalizers).toEqual(['other.io/keep', 'finalizer.flagger.app']);
    expect(store.latest(key)?.metadata.finalizers).toEqual(['other.io/keep', 'finalizer.flagger.app']);
  });

  it('removes it, deleting the list when it was the only one', async () => {
    const { kube, store, canary } = setup(canaryObject(['finalizer.flagger.app']));
    const next = await store.setFinalizer(ctx, canary, false);
    expect(kube.writes()[0]?.body).toMatchObject({ metadata: { finalizers: null } });
    expect(next.metadata.finalizers).toBeUndefined();
  });

  it('writes nothing when the finalizer is already as wanted', async () => {
    const { kube, store, canary } = setup(canaryObject(['finalizer.flagger.app']));
    await store.setFinalizer(ctx, canary, true);
    expect(kube.writes()).toEqual([]);
  });

  it('re-reads from the API and recomputes on a conflict', async () => {
    const { kube, store, canary } = setup();
    // Someone else adds a finalizer after our read: our precondition fails, the retry keeps theirs.
    kube.upsert({ ...canaryObject(['other.io/keep']) });
    const next = await store.setFinalizer(ctx, canary, true);
    expect(kube.writes()).toHaveLength(2);
    expect(next.metadata.finalizers).toEqual(['other.io/keep', 'finalizer.flagger.app']);
  });

  it('gives up after repeated conflicts', async () => {
    const { kube, store, canary } = setup();
    kube.failOn({ verb: 'patch' }, new ConflictError('conflict', 409, 'Conflict'), 10);
    await expect(store.setFinalizer(ctx, canary, true)).rejects.toBeInstanceOf(ConflictError);
    expect(kube.writes()).toHaveLength(5);
  });

  it('returns the canary unchanged when it was deleted meanwhile', async () => {
    const { kube, store, canary } = setup();
    kube.failOn({ verb: 'patch' }, new ConflictError('conflict', 409, 'Conflict'));
    await kube.delete(Resources.canary, key);
    const next = await store.setFinalizer(ctx, canary, true);
    expect(next).toBe(canary);
  });
});
