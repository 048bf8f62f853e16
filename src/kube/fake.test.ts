import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.ts';
import { FakeKube } from './fake.ts';
import type { KubeObject } from './objects.ts';
import type { InformerEvent } from './port.ts';
import { Resources } from './resources.ts';

const deployment = (name = 'podinfo', spec: Record<string, unknown> = { replicas: 2 }): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'test', labels: { app: name } },
  spec,
});

const key = { namespace: 'test', name: 'podinfo' };

describe('FakeKube', () => {
  it('seeds objects with uid, resourceVersion and generation 1', async () => {
    const kube = new FakeKube([deployment()]);
    const got = await kube.get(Resources.deployment, key);
    expect(got?.metadata).toMatchObject({ name: 'podinfo', generation: 1, resourceVersion: '1' });
    expect(got?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got?.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('get of a missing object is undefined; patch of one is NotFoundError', async () => {
    const kube = new FakeKube();
    await expect(kube.get(Resources.deployment, key)).resolves.toBeUndefined();
    await expect(kube.mergePatch(Resources.deployment, key, { spec: {} })).rejects.toBeInstanceOf(NotFoundError);
    await expect(kube.patchStatus(Resources.deployment, key, {})).rejects.toThrow(
      /deployments.apps "podinfo" not found/,
    );
  });

  it('create of an existing object is AlreadyExistsError and changes nothing', async () => {
    const kube = new FakeKube([deployment()]);
    const err: unknown = await kube.create(deployment('podinfo', { replicas: 9 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as AlreadyExistsError).status).toBe(409);
    expect(kube.peek(Resources.deployment, key)?.['spec']).toEqual({ replicas: 2 });
  });

  it('returns copies: mutating a result does not touch the store', async () => {
    const kube = new FakeKube([deployment()]);
    const got = (await kube.get(Resources.deployment, key)) as unknown as { spec: { replicas: number } };
    got.spec.replicas = 100;
    expect(kube.peek(Resources.deployment, key)?.['spec']).toEqual({ replicas: 2 });
  });

  it('bumps resourceVersion on every effective write, generation only on spec changes', async () => {
    const kube = new FakeKube([deployment()]);
    const labelled = await kube.mergePatch(Resources.deployment, key, { metadata: { labels: { extra: 'x' } } });
    expect(labelled.metadata).toMatchObject({ resourceVersion: '2', generation: 1 });
    const scaled = await kube.mergePatch(Resources.deployment, key, { spec: { replicas: 0 } });
    expect(scaled.metadata).toMatchObject({ resourceVersion: '3', generation: 2 });
    const status = await kube.patchStatus(Resources.deployment, key, { readyReplicas: 0 });
    expect(status.metadata).toMatchObject({ resourceVersion: '4', generation: 2 });
    // A no-op write keeps the resourceVersion, as the API server does.
    const same = await kube.mergePatch(Resources.deployment, key, { spec: { replicas: 0 } });
    expect(same.metadata.resourceVersion).toBe('4');
  });

  it('merge patch follows RFC 7386: objects merge, null deletes, arrays replace', async () => {
    const kube = new FakeKube([
      deployment('podinfo', { replicas: 2, paused: true, template: { args: ['a', 'b'], env: { A: '1' } } }),
    ]);
    const out = await kube.mergePatch(Resources.deployment, key, {
      spec: { paused: null, template: { args: ['c'], env: { B: '2' } } },
    });
    expect(out['spec']).toEqual({ replicas: 2, template: { args: ['c'], env: { A: '1', B: '2' } } });
  });

  it('writes to the main resource ignore status; patchStatus touches only status', async () => {
    const kube = new FakeKube([{ ...deployment(), status: { readyReplicas: 1, conditions: [] } }]);
    const patched = await kube.mergePatch(Resources.deployment, key, {
      status: { readyReplicas: 5 },
      spec: { replicas: 3 },
    });
    expect(patched['status']).toEqual({ readyReplicas: 1, conditions: [] });
    const status = await kube.patchStatus(Resources.deployment, key, { readyReplicas: 3, conditions: null });
    expect(status['status']).toEqual({ readyReplicas: 3 });
    expect(status['spec']).toEqual({ replicas: 3 });
  });

  it('create ignores status, like an API with a status subresource', async () => {
    const kube = new FakeKube();
    const created = await kube.create({ ...deployment(), status: { readyReplicas: 7 } });
    expect(created['status']).toBeUndefined();
  });

  it('a resourceVersion in a patch is a precondition', async () => {
    const kube = new FakeKube([deployment()]);
    await expect(
      kube.mergePatch(Resources.deployment, key, { metadata: { resourceVersion: '0' }, spec: { replicas: 1 } }),
    ).rejects.toBeInstanceOf(ConflictError);
    const ok = await kube.mergePatch(Resources.deployment, key, {
      metadata: { resourceVersion: '1' },
      spec: { replicas: 1 },
    });
    expect(ok['spec']).toEqual({ replicas: 1 });
  });

  it('apply creates, then replaces the given fields and keeps status and foreign labels', async () => {
    const kube = new FakeKube();
    await kube.apply(deployment('podinfo', { replicas: 1, paused: true }));
    kube.setStatus(Resources.deployment, key, { readyReplicas: 1 });
    await kube.mergePatch(Resources.deployment, key, { metadata: { labels: { owner: 'someone-else' } } });
    const applied = await kube.apply(deployment('podinfo', { replicas: 2 }));
    expect(applied['spec']).toEqual({ replicas: 2 });
    expect(applied['status']).toEqual({ readyReplicas: 1 });
    expect(applied.metadata.labels).toEqual({ app: 'podinfo', owner: 'someone-else' });
    expect(applied.metadata.generation).toBe(2);
  });

  it('records every write through the port, failed ones included, but not reads or helpers', async () => {
    const kube = new FakeKube([deployment()]);
    await kube.get(Resources.deployment, key);
    await kube.list(Resources.deployment);
    kube.setStatus(Resources.deployment, key, { readyReplicas: 2 });
    expect(kube.actions).toEqual([]);
    await kube.mergePatch(Resources.deployment, key, { spec: { replicas: 0 } });
    await kube.create(deployment()).catch(() => undefined);
    await kube.delete(Resources.deployment, key);
    expect(kube.actions).toEqual([
      {
        verb: 'patch',
        type: 'Deployment',
        apiVersion: 'apps/v1',
        key: 'test/podinfo',
        body: { spec: { replicas: 0 } },
      },
      { verb: 'create', type: 'Deployment', apiVersion: 'apps/v1', key: 'test/podinfo', body: deployment() },
      { verb: 'delete', type: 'Deployment', apiVersion: 'apps/v1', key: 'test/podinfo', body: undefined },
    ]);
    expect(kube.writes({ verb: 'patch' })).toHaveLength(1);
  });

  it('delete of a missing object is not an error', async () => {
    const kube = new FakeKube();
    await expect(kube.delete(Resources.deployment, key)).resolves.toBeUndefined();
  });

  it('delete with finalizers sets deletionTimestamp; removing the last finalizer deletes', async () => {
    const canary: KubeObject = {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'podinfo', namespace: 'test', finalizers: ['finalizer.flagger.app'] },
      spec: {},
    };
    const kube = new FakeKube([canary]);
    await kube.delete(Resources.canary, key);
    const terminating = await kube.get(Resources.canary, key);
    expect(terminating?.metadata.deletionTimestamp).toBeDefined();
    await kube.mergePatch(Resources.canary, key, { metadata: { finalizers: null } });
    await expect(kube.get(Resources.canary, key)).resolves.toBeUndefined();
  });

  it('lists by namespace and label selector', async () => {
    const other: KubeObject = { ...deployment('b'), metadata: { name: 'b', namespace: 'other', labels: { app: 'b' } } };
    const kube = new FakeKube([deployment('a'), deployment('c'), other]);
    const names = async (o: Parameters<FakeKube['list']>[1]): Promise<string[]> =>
      (await kube.list(Resources.deployment, o)).map((d) => d.metadata.name).sort();
    expect(await names({})).toEqual(['a', 'b', 'c']);
    expect(await names({ namespace: 'test' })).toEqual(['a', 'c']);
    expect(await names({ labelSelector: 'app in (a,b)' })).toEqual(['a', 'b']);
    expect(await names({ namespace: 'test', labelSelector: 'app!=a' })).toEqual(['c']);
  });

  it('failOn makes the next matching calls throw, then recovers', async () => {
    const kube = new FakeKube([deployment()]);
    kube.failOn({ verb: 'patch', kind: 'Deployment' }, new ConflictError('boom', 409, 'Conflict'), 2);
    for (let i = 0; i < 2; i++) {
      await expect(kube.mergePatch(Resources.deployment, key, { spec: { replicas: 1 } })).rejects.toBeInstanceOf(
        ConflictError,
      );
    }
    expect(kube.peek(Resources.deployment, key)?.['spec']).toEqual({ replicas: 2 });
    await expect(kube.mergePatch(Resources.deployment, key, { spec: { replicas: 1 } })).resolves.toBeDefined();
  });

  it('records events', async () => {
    const kube = new FakeKube();
    await kube.recordEvent({ involved: deployment(), type: 'Normal', reason: 'Synced', message: 'ok' });
    expect(kube.events).toEqual([{ involved: deployment(), type: 'Normal', reason: 'Synced', message: 'ok' }]);
  });

  describe('informer', () => {
    it('shares one informer per type and namespace and sees the store', async () => {
      const kube = new FakeKube([deployment()]);
      const inf = kube.informer(Resources.deployment, 'test');
      expect(kube.informer(Resources.deployment, 'test')).toBe(inf);
      expect(kube.informer(Resources.deployment)).not.toBe(inf);
      await inf.synced();
      expect(inf.get({ name: 'podinfo' })?.metadata.name).toBe('podinfo');
      expect(inf.list()).toHaveLength(1);
    });

    it('notifies listeners synchronously on writes, with frozen objects', async () => {
      const kube = new FakeKube();
      const seen: [InformerEvent, string, unknown][] = [];
      const inf = kube.informer(Resources.deployment, 'test');
      inf.onChange((event, obj) => {
        seen.push([event, obj.metadata.name, obj['spec']]);
        expect(Object.isFrozen(obj) && Object.isFrozen(obj.metadata)).toBe(true);
      });
      const created = kube.create(deployment());
      expect(seen).toEqual([['add', 'podinfo', { replicas: 2 }]]); // before the promise settles
      await created;
      await kube.mergePatch(Resources.deployment, key, { spec: { replicas: 3 } });
      kube.setStatus(Resources.deployment, key, { readyReplicas: 3 });
      await kube.delete(Resources.deployment, key);
      expect(seen.map(([e]) => e)).toEqual(['add', 'update', 'update', 'delete']);
    });

    it('ignores other namespaces and stops notifying after unsubscribe', async () => {
      const kube = new FakeKube();
      const events: string[] = [];
      const off = kube
        .informer(Resources.deployment, 'test')
        .onChange((e, o) => events.push(`${e}:${o.metadata.name}`));
      await kube.create({ ...deployment('x'), metadata: { name: 'x', namespace: 'elsewhere' } });
      await kube.create(deployment('y'));
      off();
      await kube.create(deployment('z'));
      expect(events).toEqual(['add:y']);
    });

    it('pauseWatches: informers see only writes through the port until resumed, then catch up', async () => {
      const kube = new FakeKube([deployment(), deployment('other')]);
      const informer = kube.informer(Resources.deployment, 'test');
      const events: string[] = [];
      informer.onChange((e, o) => events.push(`${e}:${o.metadata.name}@${o.metadata.resourceVersion ?? ''}`));
      kube.pauseWatches();
      const late = kube.informer(Resources.deployment); // created while paused: paused too
      kube.setStatus(Resources.deployment, key, { readyReplicas: 2 }); // another actor: not seen
      expect(informer.get(key)?.['status']).toBeUndefined();
      const patched = await kube.mergePatch(Resources.deployment, key, { spec: { replicas: 3 } }); // own write: seen
      expect(informer.get(key)?.metadata.resourceVersion).toBe(patched.metadata.resourceVersion);
      expect(late.get(key)?.metadata.resourceVersion).toBe(patched.metadata.resourceVersion);
      kube.upsert(deployment('new'));
      await kube.delete(Resources.deployment, { namespace: 'test', name: 'other' });
      expect(informer.list().map((o) => o.metadata.name)).toEqual(['podinfo']);
      kube.resumeWatches();
      expect(informer.list().map((o) => o.metadata.name)).toEqual(['podinfo', 'new']);
      expect(events).toEqual(['update:podinfo@4', 'delete:other@2', 'add:new@5']);
    });

    it('the cache cannot be corrupted through returned objects', () => {
      const kube = new FakeKube([deployment()]);
      const cached = kube.informer(Resources.deployment, 'test').get(key);
      expect(() => {
        (cached?.['spec'] as { replicas: number }).replicas = 0;
      }).toThrow(TypeError);
    });
  });
});
