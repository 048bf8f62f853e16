import { describe, expect, it } from 'vitest';
import { OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { itIsWeightsOnly } from './mesh-object.fixture.ts';
import { CANARY_UID, NS, newCanary, newCtx } from './router.fixture.ts';
import { TraefikRouter } from './traefik.ts';
import { CachedReader } from './util.ts';

const key = { namespace: NS, name: 'podinfo' };
const entry = (name: string, weight: number) => ({ name, namespace: NS, port: 9898, weight });

function setup() {
  const kube = new FakeKube();
  return { kube, router: new TraefikRouter({ kube, reader: new CachedReader(kube) }), ctx: newCtx() };
}

function services(kube: FakeKube): unknown {
  return (kube.peek(Resources.traefikService, key)?.['spec'] as { weighted: { services: unknown } }).weighted.services;
}

describe('TraefikRouter', () => {
  // Flagger TestTraefikRouter_Reconcile: one primary service at 100, apex labels and annotations.
  it('reconcile creates the TraefikService with everything on the primary', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary({ service: { apex: { labels: { test: 'label' }, annotations: { test: 'annotation' } } } });
    await router.reconcile(ctx, canary);
    expect(kube.peek(Resources.traefikService, key)).toMatchObject({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'TraefikService',
      metadata: {
        name: 'podinfo',
        namespace: NS,
        labels: { test: 'label' },
        annotations: {
          test: 'annotation',
          'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
          'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
        },
        ownerReferences: [{ kind: 'Canary', name: 'podinfo', uid: CANARY_UID, controller: true }],
      },
      spec: { weighted: { services: [entry('podinfo-primary', 100)] } },
    });
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 100, canary: 0, mirrored: false });
  });

  // Flagger TestTraefikRouter_SetRoutes: the canary entry appears only while its weight is > 0.
  it.each([
    [100, 0, [entry('podinfo-primary', 100)]],
    [80, 20, [entry('podinfo-primary', 80), entry('podinfo-canary', 20)]],
    [40, 60, [entry('podinfo-primary', 40), entry('podinfo-canary', 60)]],
    [0, 100, [entry('podinfo-primary', 0), entry('podinfo-canary', 100)]],
  ])('setRoutes(%i, %i) writes the weighted services', async (p, c, want) => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: p, canary: c, mirrored: false });
    expect(services(kube)).toEqual(want);
  });

  // Flagger TestTraefikRouter_Reconcile subtests: reconcile keeps the weights of a progressing canary.
  it('reconcile keeps the current weights', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    kube.clearActions();
    await router.reconcile(ctx, canary);
    expect(kube.writes()).toEqual([]);
    await router.reconcile(ctx, newCanary({ service: { apex: { labels: { new: 'x' } } } }));
    expect(services(kube)).toEqual([entry('podinfo-primary', 60), entry('podinfo-canary', 40)]);
    expect(kube.peek(Resources.traefikService, key)?.metadata.labels).toEqual({ new: 'x' });
  });

  itIsWeightsOnly(setup, () => newCanary());

  it('getRoutes and setRoutes fail (retriable) before reconcile; 0/0 weights are refused', async () => {
    const { router, ctx } = setup();
    const canary = newCanary();
    await expect(router.getRoutes(ctx, canary)).rejects.toThrow(OperatorError);
    await expect(router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false })).rejects.toThrow(
      /not found/,
    );
    await router.reconcile(ctx, canary);
    await expect(router.setRoutes(ctx, canary, { primary: 0, canary: 0, mirrored: false })).rejects.toThrow(
      /no valid weights/,
    );
  });
});
