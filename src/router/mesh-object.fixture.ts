/** Checks shared by the tests of the routers built on mesh-object.ts. */
import { expect, it } from 'vitest';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { UnsupportedError } from '../core/errors.ts';
import type { FakeKube } from '../kube/fake.ts';
import { abAnalysis, canaryAnalysis, newCanary, newCtx, type CanaryOptions } from './router.fixture.ts';
import type { Router } from './router.ts';

/**
 * For every w in 0..100 (the whole domain): setRoutes(100-w, w) then getRoutes() gives the split
 * back, and a second setRoutes of the same split writes nothing.
 */
export async function expectWeightsRoundTrip(kube: FakeKube, router: Router, canary: Canary): Promise<void> {
  const ctx = newCtx();
  await router.reconcile(ctx, canary);
  for (let w = 0; w <= 100; w++) {
    const weights = { primary: 100 - w, canary: w, mirrored: false };
    await router.setRoutes(ctx, canary, weights);
    expect(await router.getRoutes(ctx, canary)).toEqual(weights);
    kube.clearActions();
    await router.setRoutes(ctx, canary, weights);
    await router.reconcile(ctx, canary);
    expect(kube.writes()).toEqual([]);
  }
}

/** A/B matches and session affinity are refused before anything is written. */
export async function expectRefusesAbAndAffinity(
  kube: FakeKube,
  router: Router,
  base: CanaryOptions = {},
): Promise<void> {
  const ctx = newCtx();
  const ab = newCanary({ ...base, analysis: abAnalysis([{ headers: { user: { exact: 'test' } } }]) });
  await expect(router.reconcile(ctx, ab)).rejects.toThrow(UnsupportedError);
  await expect(router.reconcile(ctx, ab)).rejects.toThrow(/analysis\.match/);
  const sticky = newCanary({ ...base, analysis: { ...canaryAnalysis, sessionAffinity: { cookieName: 'c' } } });
  await expect(router.reconcile(ctx, sticky)).rejects.toThrow(/analysis\.sessionAffinity/);
  expect(kube.writes()).toEqual([]);
}

/** Registers the checks every weights-only router passes (inside a `describe`). */
export function itIsWeightsOnly(setup: () => { kube: FakeKube; router: Router }, canary: () => Canary): void {
  it('for every weight, getRoutes returns what setRoutes wrote and a repeat writes nothing', async () => {
    const { kube, router } = setup();
    await expectWeightsRoundTrip(kube, router, canary());
  });

  it('refuses A/B matches and session affinity', async () => {
    const { kube, router } = setup();
    await expectRefusesAbAndAffinity(kube, router);
  });
}
