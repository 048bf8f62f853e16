import { describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { KumaRouter } from './kuma.ts';
import { itIsWeightsOnly } from './mesh-object.fixture.ts';
import { LaggingKube, NS, newCanary, newCtx } from './router.fixture.ts';
import { CachedReader } from './util.ts';

const key = { name: 'podinfo' };
const split = (p: number, c: number) => [
  { weight: p, destination: { 'kuma.io/service': `podinfo-primary_${NS}_svc_9898` } },
  { weight: c, destination: { 'kuma.io/service': `podinfo-canary_${NS}_svc_9898` } },
];

function setup(kube = new FakeKube()) {
  return { kube, router: new KumaRouter({ kube, reader: new CachedReader(kube) }), ctx: newCtx() };
}

function withMeta(canary: Canary, metadata: { namespace?: string; annotations?: Record<string, string> }): Canary {
  return parseCanary({ ...canary, metadata: { ...canary.metadata, ...metadata } });
}

describe('KumaRouter', () => {
  // Flagger TestKumaRouter_Reconcile: the cluster-scoped TrafficRoute, everything to the primary.
  it('reconcile creates the cluster-scoped TrafficRoute in the annotated mesh, without owner', async () => {
    const { kube, router, ctx } = setup();
    const canary = withMeta(newCanary({ service: { apex: { labels: { app: 'podinfo' } } } }), {
      annotations: { 'kuma.io/mesh': 'mesh1' },
    });
    await router.reconcile(ctx, canary);
    const route = kube.peek(Resources.kumaTrafficRoute, key);
    expect(route).toMatchObject({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'TrafficRoute',
      mesh: 'mesh1',
      metadata: { name: 'podinfo', labels: { app: 'podinfo' } },
      spec: {
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: { 'kuma.io/service': `podinfo_${NS}_svc_9898` } }],
        conf: { split: split(100, 0) },
      },
    });
    expect(route?.metadata.namespace).toBeUndefined();
    expect(route?.metadata.ownerReferences).toBeUndefined();
  });

  it('the mesh defaults to "default"', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, newCanary());
    expect(kube.peek(Resources.kumaTrafficRoute, key)?.['mesh']).toBe('default');
  });

  // Flagger TestKumaRouter_Routes: setRoutes then getRoutes.
  it('setRoutes writes both splits and reconcile keeps them', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    await router.reconcile(ctx, canary);
    expect(kube.peek(Resources.kumaTrafficRoute, key)?.['spec']).toMatchObject({ conf: { split: split(50, 50) } });
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 50, canary: 50, mirrored: false });
  });

  itIsWeightsOnly(setup, () => newCanary());

  it('never takes over the TrafficRoute of a same-named canary in another namespace', async () => {
    const { kube, router, ctx } = setup();
    const other = withMeta(newCanary(), { namespace: 'other' });
    await router.reconcile(ctx, other);
    kube.clearActions();
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(OperatorError);
    await expect(router.getRoutes(ctx, newCanary())).rejects.toThrow(/another Canary named podinfo owns it/);
    await router.cleanup(ctx, newCanary());
    expect(kube.writes()).toEqual([]);
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeDefined();
  });

  it('finalize and cleanup delete the TrafficRoute (no garbage collection for cluster-scoped objects)', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    await router.finalize(ctx, canary);
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeUndefined();
    // The same router (and reader) creates it again: the deleted write is not read back.
    await router.reconcile(ctx, canary);
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeDefined();
    await router.cleanup(ctx, canary);
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeUndefined();
    expect(kube.writes({ verb: 'delete' })).toHaveLength(2);
  });

  it('a route deleted while the cache lags is created again by the next reconcile', async () => {
    const kube = new FakeKube();
    const lagging = new LaggingKube(kube);
    lagging.freeze([], NS); // the cache never sees the route
    const router = new KumaRouter({ kube: lagging, reader: new CachedReader(lagging) });
    const ctx = newCtx();
    await router.reconcile(ctx, newCanary());
    await router.cleanup(ctx, newCanary());
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeUndefined();
    await router.reconcile(ctx, newCanary());
    expect(kube.peek(Resources.kumaTrafficRoute, key)).toBeDefined();
  });
});
