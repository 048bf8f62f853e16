import { describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { ApisixRouter } from './apisix.ts';
import { itIsWeightsOnly } from './mesh-object.fixture.ts';
import { CANARY_UID, NS, newCanary, newCtx, type CanaryOptions } from './router.fixture.ts';
import { CachedReader } from './util.ts';

const canaryKey = { namespace: NS, name: 'podinfo-podinfo-canary' };
const plugin = { name: 'prometheus', enable: true, config: { disable: 'false', prefer_name: 'true' } };
const match = { hosts: ['foobar.com'], methods: ['GET'], paths: ['/*'] };

/** Flagger's newTestApisixRoute, plus a second rule for another service. */
function userRoute(backends: unknown[] = [{ serviceName: 'podinfo', servicePort: 80 }]): KubeObject {
  return {
    apiVersion: 'apisix.apache.org/v2',
    kind: 'ApisixRoute',
    metadata: {
      name: 'podinfo',
      namespace: NS,
      labels: { team: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', note: 'kept' },
    },
    spec: {
      http: [
        { name: 'other', match: { paths: ['/other'] }, backends: [{ serviceName: 'other', servicePort: 80 }] },
        { name: 'method', match, plugins: [plugin], websocket: false, backends },
      ],
    },
  };
}

function apisixCanary(o: CanaryOptions = {}): Canary {
  const c = newCanary(o);
  return parseCanary({
    ...c,
    spec: { ...c.spec, routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'podinfo' } },
  });
}

function setup(objects: KubeObject[] = [userRoute()]) {
  const kube = new FakeKube(objects);
  return { kube, router: new ApisixRouter({ kube, reader: new CachedReader(kube) }), ctx: newCtx() };
}

const backends = (p: number, c: number) => [
  { serviceName: 'podinfo-primary', servicePort: 80, weight: p },
  { serviceName: 'podinfo-canary', servicePort: 80, weight: c },
];

describe('ApisixRouter', () => {
  // Flagger TestApisixRouter_Reconcile: the canary route carries the target rule with two backends.
  it('reconcile copies the target rule into <route>-<apex>-canary, max priority, primary 100', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, apisixCanary());
    expect(kube.peek(Resources.apisixRoute, canaryKey)).toMatchObject({
      metadata: {
        name: 'podinfo-podinfo-canary',
        labels: { team: 'web' },
        annotations: { note: 'kept', 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' },
        ownerReferences: [{ kind: 'Canary', uid: CANARY_UID, controller: true }],
      },
      spec: {
        http: [
          { name: 'method', match, plugins: [plugin], websocket: false, priority: 10000, backends: backends(100, 0) },
        ],
      },
    });
    const meta = kube.peek(Resources.apisixRoute, canaryKey)?.metadata;
    expect(meta?.annotations).not.toHaveProperty('kubectl.kubernetes.io/last-applied-configuration');
    expect(kube.peek(Resources.apisixRoute, { namespace: NS, name: 'podinfo' })).toEqual(
      expect.objectContaining({ spec: userRoute().spec }),
    );
  });

  // Flagger TestApisixRouter_GetSetRoutes.
  it('setRoutes writes both weights; getRoutes reads them; reconcile keeps them', async () => {
    const { kube, router, ctx } = setup();
    const canary = apisixCanary();
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 100, canary: 0, mirrored: false });
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 50, canary: 50, mirrored: false });
    expect(kube.peek(Resources.apisixRoute, canaryKey)?.['spec']).toMatchObject({
      http: [{ backends: backends(50, 50) }],
    });
  });

  it('keeps the backend options of the apex backend on both backends', async () => {
    const apex = { serviceName: 'podinfo', servicePort: 'http', resolveGranularity: 'service', subset: 'v1' };
    const { kube, router, ctx } = setup([userRoute([apex])]);
    await router.reconcile(ctx, apisixCanary());
    const opts = { servicePort: 'http', resolveGranularity: 'service', subset: 'v1' };
    expect(kube.peek(Resources.apisixRoute, canaryKey)?.['spec']).toMatchObject({
      http: [
        {
          backends: [
            { serviceName: 'podinfo-primary', ...opts, weight: 100 },
            { serviceName: 'podinfo-canary', ...opts, weight: 0 },
          ],
        },
      ],
    });
  });

  itIsWeightsOnly(setup, () => apisixCanary());

  it('refuses a canary without routeRef, and waits for a route without the apex or with two backends', async () => {
    const { kube, router, ctx } = setup([
      userRoute([
        { serviceName: 'podinfo', servicePort: 80 },
        { serviceName: 'x', servicePort: 80 },
      ]),
    ]);
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(InvalidCanaryError);
    await expect(router.reconcile(ctx, apisixCanary())).rejects.toThrow(/exactly one backend/);
    const noApex = setup([userRoute([{ serviceName: 'else', servicePort: 80 }])]);
    await expect(noApex.router.reconcile(ctx, apisixCanary())).rejects.toThrow(/no HTTP rule with backend podinfo/);
    const missing = setup([]);
    await expect(missing.router.reconcile(ctx, apisixCanary())).rejects.toThrow(OperatorError);
    expect([...kube.writes(), ...noApex.kube.writes(), ...missing.kube.writes()]).toEqual([]);
  });
});
