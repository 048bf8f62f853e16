import { describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { AppMeshRouter } from './appmesh.ts';
import { expectWeightsRoundTrip } from './mesh-object.fixture.ts';
import { NS, abAnalysis, newCanary, newCtx, type CanaryOptions } from './router.fixture.ts';
import { CachedReader } from './util.ts';

function setup() {
  const kube = new FakeKube();
  return { kube, router: new AppMeshRouter({ kube, reader: new CachedReader(kube) }), ctx: newCtx() };
}

/** Flagger's newTestCanaryAppMesh (v1beta1): mesh, retries, backends, the access log annotation. */
function appMeshCanary(o: CanaryOptions = {}): Canary {
  const c = newCanary({
    ...o,
    service: {
      meshName: 'global',
      timeout: '30s',
      retries: { attempts: 5 },
      backends: ['backend.default'],
      ...o.service,
    },
  });
  return parseCanary({
    ...c,
    metadata: { ...c.metadata, annotations: { 'appmesh.flagger.app/accesslog': 'enabled' } },
  });
}

const spec = (kube: FakeKube, type: (typeof Resources)[keyof typeof Resources], name: string) =>
  kube.peek(type, { namespace: NS, name })?.['spec'];
const retryPolicy = { perRetryTimeoutMillis: 250, maxRetries: 5, httpRetryEvents: ['gateway-error'] };
const split = (p: number, c: number) => ({
  weightedTargets: [
    { virtualNodeName: 'podinfo-canary', weight: c },
    { virtualNodeName: 'podinfo-primary', weight: p },
  ],
});
const vsName = `podinfo.${NS}`;

describe('AppMeshRouter (v1beta1)', () => {
  // Flagger TestAppmeshRouter_Reconcile.
  it('reconcile creates three VirtualNodes and the apex and canary VirtualServices', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, appMeshCanary());
    const node = (host: string) => ({
      meshName: 'global',
      listeners: [{ portMapping: { port: 9898, protocol: 'http' } }],
      serviceDiscovery: { dns: { hostName: `${host}.${NS}` } },
      backends: [{ virtualService: { virtualServiceName: 'backend.default' } }],
      logging: { accessLog: { file: { path: '/dev/stdout' } } },
    });
    // The apex node is discovered as the primary, as Flagger writes it.
    expect(spec(kube, Resources.appMeshV1beta1VirtualNode, 'podinfo')).toEqual(node('podinfo-primary'));
    expect(spec(kube, Resources.appMeshV1beta1VirtualNode, 'podinfo-primary')).toEqual(node('podinfo-primary'));
    expect(spec(kube, Resources.appMeshV1beta1VirtualNode, 'podinfo-canary')).toEqual(node('podinfo-canary'));
    const service = (router: string, p: number, c: number) => ({
      meshName: 'global',
      virtualRouter: { name: router, listeners: [{ portMapping: { port: 9898, protocol: 'http' } }] },
      routes: [{ name: router, http: { match: { prefix: '/' }, retryPolicy, action: split(p, c) } }],
    });
    expect(spec(kube, Resources.appMeshV1beta1VirtualService, vsName)).toEqual(service('podinfo', 100, 0));
    expect(spec(kube, Resources.appMeshV1beta1VirtualService, `podinfo-canary.${NS}`)).toEqual(
      service('podinfo-canary', 0, 100),
    );
    expect(kube.writes()).toHaveLength(5);
  });

  // Flagger TestAppmeshRouter_GetSetRoutes.
  it('setRoutes writes the apex split; getRoutes reads it; reconcile keeps it', async () => {
    const { router, ctx } = setup();
    const canary = appMeshCanary();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 60, canary: 40, mirrored: false });
  });

  it('for every weight, getRoutes returns what setRoutes wrote and a repeat writes nothing', async () => {
    const { kube, router } = setup();
    await expectWeightsRoundTrip(kube, router, appMeshCanary());
  });

  // Flagger TestAppmeshRouter_ABTest.
  it('A/B: a header route with the split, then everything to the primary', async () => {
    const { kube, router, ctx } = setup();
    const canary = appMeshCanary({ analysis: abAnalysis([{ headers: { 'x-user-type': { exact: 'test' } } }]) });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    expect(spec(kube, Resources.appMeshV1beta1VirtualService, vsName)).toMatchObject({
      routes: [
        {
          name: 'podinfo-a',
          priority: 10,
          http: {
            match: { prefix: '/', headers: [{ name: 'x-user-type', match: { exact: 'test' } }] },
            action: split(0, 100),
          },
        },
        {
          name: 'podinfo-b',
          priority: 20,
          http: {
            match: { prefix: '/' },
            action: { weightedTargets: [{ virtualNodeName: 'podinfo-primary', weight: 100 }] },
          },
        },
      ],
    });
  });

  // Flagger TestAppmeshRouter_Gateway.
  it('the apex VirtualService carries the gateway annotations of service.hosts', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, appMeshCanary({ service: { hosts: ['podinfo.example.com'] } }));
    expect(
      kube.peek(Resources.appMeshV1beta1VirtualService, { namespace: NS, name: vsName })?.metadata.annotations,
    ).toMatchObject({
      'gateway.appmesh.k8s.aws/expose': 'true',
      'gateway.appmesh.k8s.aws/domain': 'podinfo.example.com,',
      'gateway.appmesh.k8s.aws/timeout': '30s',
      'gateway.appmesh.k8s.aws/retries': '5',
    });
  });

  it('refuses a canary without service.meshName before writing anything', async () => {
    const { kube, router, ctx } = setup();
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(InvalidCanaryError);
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(/service\.meshName is required/);
    expect(kube.writes()).toEqual([]);
  });
});
