/** Test builders shared by the ingress router tests (contour, gloo, nginx, skipper). */
import { expect } from 'vitest';
import type { Canary, CanaryAnalysis } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { UnsupportedError } from '../core/errors.ts';
import type { FakeKube } from '../kube/fake.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import { blueGreenAnalysis, CANARY_UID, NS } from './router.fixture.ts';
import type { Router } from './router.ts';

/** The controller reference to the podinfo Canary that every routing object carries. */
export const ownerRef = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  name: 'podinfo',
  uid: CANARY_UID,
  controller: true,
  blockOwnerDeletion: true,
};

/** The Flux opt-out annotations every routing object carries. */
export const toolkit = {
  'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
  'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
};

/** `canary` with `spec.ingressRef` to the Ingress `name`. */
export function withIngressRef(canary: Canary, name = 'podinfo'): Canary {
  return {
    ...canary,
    spec: { ...canary.spec, ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name } },
  };
}

/** The user's Ingress of Flagger's router tests (`newTestIngress`): host app.example.com, `/` → podinfo:9898. */
export function podinfoIngress(annotations: Record<string, string> = {}, namespace = NS): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'podinfo',
      namespace,
      labels: { app: 'podinfo', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
      annotations: {
        'kubernetes.io/ingress.class': 'nginx',
        'kustomize.toolkit.fluxcd.io/checksum': '0a40893bfdc545d62125bd3e74eeb2ebaa7097c2',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        ...annotations,
      },
    },
    spec: {
      rules: [
        {
          host: 'app.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'podinfo', port: { number: 9898 } } } },
              { path: '/other', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  };
}

/** The stored object, or a test failure. */
export function stored(kube: FakeKube, type: ResourceType, name: string): KubeObject {
  const obj = kube.peek(type, { namespace: NS, name });
  if (obj === undefined) throw new Error(`${type.kind} ${name} missing`);
  return obj;
}

/**
 * The property every router must have: for each weight 0..100, setRoutes then getRoutes returns
 * it, and a second setRoutes with the same weights writes nothing.
 */
export async function expectWeightsRoundTrip(kube: FakeKube, router: Router, canary: Canary, ctx: Ctx): Promise<void> {
  await router.reconcile(ctx, canary);
  for (let w = 0; w <= 100; w++) {
    const weights = { primary: 100 - w, canary: w, mirrored: false };
    await router.setRoutes(ctx, canary, weights);
    expect(await router.getRoutes(ctx, canary)).toEqual(weights);
    kube.clearActions();
    await router.setRoutes(ctx, canary, weights);
    expect(kube.writes()).toEqual([]);
  }
}

/** Analyses that no ingress router supports, by name: mirroring and session affinity. */
export const mirrorOrAffinity: readonly (readonly [string, CanaryAnalysis])[] = [
  ['mirroring', { ...blueGreenAnalysis, mirror: true }],
  ['session affinity', { ...blueGreenAnalysis, sessionAffinity: { cookieName: 'flagger-cookie' } }],
];

/** reconcile and setRoutes both throw an UnsupportedError, and nothing is written. */
/** Mirroring and session affinity are ignored as Flagger does: the router still routes by weight, never mirrored. */
export async function expectIgnoredRoutingByWeight(s: {
  readonly router: Router;
  readonly canary: Canary;
  readonly ctx: Ctx;
}): Promise<void> {
  await s.router.reconcile(s.ctx, s.canary);
  await s.router.setRoutes(s.ctx, s.canary, { primary: 50, canary: 50, mirrored: true });
  expect(await s.router.getRoutes(s.ctx, s.canary)).toEqual({ primary: 50, canary: 50, mirrored: false });
}

export async function expectRefusedBeforeWriting(s: {
  readonly kube: FakeKube;
  readonly router: Router;
  readonly canary: Canary;
  readonly ctx: Ctx;
}): Promise<void> {
  await expect(s.router.reconcile(s.ctx, s.canary)).rejects.toThrow(UnsupportedError);
  await expect(s.router.setRoutes(s.ctx, s.canary, { primary: 50, canary: 50, mirrored: false })).rejects.toThrow(
    UnsupportedError,
  );
  expect(s.kube.writes()).toEqual([]);
}
