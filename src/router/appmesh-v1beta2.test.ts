import { describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { AppMeshV1beta2Router } from './appmesh-v1beta2.ts';
import { expectWeightsRoundTrip } from './mesh-object.fixture.ts';
import {
  NS,
  abAnalysis,
  canaryAnalysis,
  newCanary,
  newCtx,
  podinfoMetadata,
  type CanaryOptions,
} from './router.fixture.ts';
import { CachedReader } from './util.ts';

function setup(objects: KubeObject[] = []) {
  const kube = new FakeKube(objects);
  const router = new AppMeshV1beta2Router({ kube, reader: new CachedReader(kube), metadata: podinfoMetadata() });
  return { kube, router, ctx: newCtx() };
}

/** Flagger's newTestCanaryAppMesh: timeout, retries, backends and the access log annotation. */
function appMeshCanary(o: CanaryOptions = {}): Canary {
  const c = newCanary({
    ...o,
    service: {
      timeout: '30s',
      retries: { attempts: 5, perTryTimeout: '10s', retryOn: 'gateway-error,5xx' },
      backends: ['backend.default', 'arn:aws:appmesh:eu-west-1:12345678910:mesh/my-mesh/virtualService/mybackend'],
      ...o.service,
    },
  });
  return parseCanary({
    ...c,
    metadata: { ...c.metadata, annotations: { 'appmesh.flagger.app/accesslog': 'enabled' } },
  });
}

const get = (kube: FakeKube, type: (typeof Resources)[keyof typeof Resources], name: string) =>
  kube.peek(type, { namespace: NS, name })?.['spec'];
const ms = (value: number) => ({ unit: 'ms', value });
const retryPolicy = { perRetryTimeout: ms(10000), maxRetries: 5, httpRetryEvents: ['gateway-error', '5xx'] };
const weighted = (p: number, c: number) => ({
  weightedTargets: [
    { virtualNodeRef: { name: 'podinfo-canary' }, weight: c },
    { virtualNodeRef: { name: 'podinfo-primary' }, weight: p },
  ],
});

describe('AppMeshV1beta2Router', () => {
  // Flagger TestAppmeshv1beta2Router_Reconcile.
  it('reconcile creates the VirtualNodes, VirtualRouters and VirtualServices', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, appMeshCanary());
    expect(get(kube, Resources.appMeshVirtualNode, 'podinfo-primary')).toEqual({
      podSelector: { matchLabels: { app: 'podinfo-primary' } },
      listeners: [{ portMapping: { port: 9898, protocol: 'http' }, timeout: { http: { perRequest: ms(30000) } } }],
      serviceDiscovery: { dns: { hostname: `podinfo-primary.${NS}.svc.cluster.local.` } },
      backends: [
        { virtualService: { virtualServiceRef: { name: 'backend.default' } } },
        {
          virtualService: {
            virtualServiceARN: 'arn:aws:appmesh:eu-west-1:12345678910:mesh/my-mesh/virtualService/mybackend',
          },
        },
      ],
      logging: { accessLog: { file: { path: '/dev/stdout' } } },
    });
    expect(get(kube, Resources.appMeshVirtualNode, 'podinfo-canary')).toMatchObject({
      podSelector: { matchLabels: { app: 'podinfo' } },
      serviceDiscovery: { dns: { hostname: `podinfo-canary.${NS}.svc.cluster.local.` } },
    });
    const route = (name: string, p: number, c: number) => ({
      listeners: [{ portMapping: { port: 9898, protocol: 'http' } }],
      routes: [
        {
          name,
          httpRoute: {
            match: { prefix: '/' },
            timeout: { perRequest: ms(30000) },
            retryPolicy,
            action: weighted(p, c),
          },
        },
      ],
    });
    expect(get(kube, Resources.appMeshVirtualRouter, 'podinfo')).toEqual(route('podinfo', 100, 0));
    expect(get(kube, Resources.appMeshVirtualRouter, 'podinfo-canary')).toEqual(route('podinfo-canary', 0, 100));
    for (const name of ['podinfo', 'podinfo-canary']) {
      expect(get(kube, Resources.appMeshVirtualService, name)).toEqual({
        provider: { virtualRouter: { virtualRouterRef: { name } } },
      });
    }
    expect(kube.writes()).toHaveLength(6);
  });

  // Flagger TestAppmeshv1beta2Router_GetSetRoutes; reconcile keeps the weights and ignores meshRef/awsName.
  it('setRoutes writes the weights of the apex router; reconcile keeps them', async () => {
    const { kube, router, ctx } = setup();
    const canary = appMeshCanary();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 60, canary: 40, mirrored: false });
    const vr = kube.peek(Resources.appMeshVirtualRouter, { namespace: NS, name: 'podinfo' });
    if (vr === undefined) throw new Error('VirtualRouter missing');
    kube.upsert({ ...vr, spec: { ...(vr['spec'] as object), meshRef: { name: 'global', uid: 'u' }, awsName: 'x' } });
    kube.clearActions();
    await router.reconcile(ctx, canary);
    expect(kube.writes()).toEqual([]);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 60, canary: 40, mirrored: false });
  });

  it('for every weight, getRoutes returns what setRoutes wrote and a repeat writes nothing', async () => {
    const { kube, router } = setup();
    await expectWeightsRoundTrip(kube, router, appMeshCanary());
  });

  // Flagger TestAppmesv1beta2hRouter_ABTest: a header route with the split, then the primary.
  it('A/B: a header route (priority 10) with the split, then everything to the primary (20)', async () => {
    const { kube, router, ctx } = setup();
    const canary = appMeshCanary({
      analysis: abAnalysis([
        { headers: { 'x-user-type': { exact: 'test' }, cookie: { regex: '^(.*?;)?(type=insider)(;.*)?$' } } },
      ]),
    });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    const routes = (get(kube, Resources.appMeshVirtualRouter, 'podinfo') as { routes: unknown[] }).routes;
    expect(routes).toEqual([
      {
        name: 'podinfo-a',
        priority: 10,
        httpRoute: {
          match: {
            prefix: '/',
            headers: [
              { name: 'cookie', match: { regex: '^(.*?;)?(type=insider)(;.*)?$' } },
              { name: 'x-user-type', match: { exact: 'test' } },
            ],
          },
          timeout: { perRequest: ms(30000) },
          retryPolicy,
          action: weighted(0, 100),
        },
      },
      {
        name: 'podinfo-b',
        priority: 20,
        httpRoute: {
          match: { prefix: '/' },
          timeout: { perRequest: ms(30000) },
          retryPolicy,
          action: { weightedTargets: [{ virtualNodeRef: { name: 'podinfo-primary' }, weight: 100 }] },
        },
      },
    ]);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 0, canary: 100, mirrored: false });
  });

  it('A/B conditions other than headers are refused before anything is written', async () => {
    const { kube, router, ctx } = setup();
    const uri = appMeshCanary({
      analysis: abAnalysis([{ headers: { user: { exact: 'a' } }, queryParams: { v: { exact: '2' } } }]),
    });
    await expect(router.reconcile(ctx, uri)).rejects.toThrow(InvalidCanaryError);
    await expect(router.reconcile(ctx, uri)).rejects.toThrow(/matches only headers, not queryParams/);
    const sticky = appMeshCanary({ analysis: { ...canaryAnalysis, sessionAffinity: { cookieName: 'c' } } });
    await expect(router.reconcile(ctx, sticky)).rejects.toThrow(UnsupportedError);
    expect(kube.writes()).toEqual([]);
  });

  // Flagger TestAppmeshv1beta2Router_Gateway.
  it('the apex VirtualService carries the App Mesh gateway annotations of service.hosts', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, appMeshCanary({ service: { hosts: ['podinfo.example.com'] } }));
    expect(
      kube.peek(Resources.appMeshVirtualService, { namespace: NS, name: 'podinfo' })?.metadata.annotations,
    ).toMatchObject({
      'gateway.appmesh.k8s.aws/expose': 'true',
      'gateway.appmesh.k8s.aws/domain': 'podinfo.example.com,',
      'gateway.appmesh.k8s.aws/timeout': '30s',
      'gateway.appmesh.k8s.aws/retries': '5',
    });
    expect(
      kube.peek(Resources.appMeshVirtualService, { namespace: NS, name: 'podinfo-canary' })?.metadata.annotations,
    ).not.toHaveProperty('gateway.appmesh.k8s.aws/expose');
  });

  it('grpc port names, numeric target ports and match prefixes shape listeners and routes', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(
      ctx,
      newCanary({ service: { portName: 'grpc', targetPort: 9899, match: [{ uri: { prefix: '/podinfo' } }] } }),
    );
    expect(get(kube, Resources.appMeshVirtualNode, 'podinfo-canary')).toMatchObject({
      listeners: [{ portMapping: { port: 9899, protocol: 'grpc' } }],
    });
    expect(get(kube, Resources.appMeshVirtualRouter, 'podinfo')).toMatchObject({
      routes: [{ httpRoute: { match: { prefix: '/podinfo' } } }],
    });
  });
});
