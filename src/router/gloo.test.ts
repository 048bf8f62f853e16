import { describe, expect, it } from 'vitest';
import type { Canary, CanaryAnalysis } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { buildRouteTable, GlooRouter } from './gloo.ts';
import {
  expectWeightsRoundTrip,
  expectIgnoredRoutingByWeight,
  mirrorOrAffinity,
  ownerRef,
  stored,
  toolkit,
} from './ingress.fixture.ts';
import { abAnalysis, NS, newCanary, newCtx } from './router.fixture.ts';

const PRIMARY = `${NS}-podinfo-primaryupstream-9898`;
const CANARY = `${NS}-podinfo-canaryupstream-9898`;
const w = (primary: number, canary: number) => ({ primary, canary, mirrored: false });
const destinations = (primary: number, canary: number) => [
  { destination: { upstream: { name: PRIMARY, namespace: NS } }, weight: primary },
  { destination: { upstream: { name: CANARY, namespace: NS } }, weight: canary },
];

function svc(name: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app }, ports: [{ port: 9898 }] },
  };
}

/** The `upstreamRef` Upstream whose settings the generated Upstreams copy. */
const configUpstream: KubeObject = {
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name: 'config', namespace: 'gloo-system', labels: { 'team.io/name': 'web', other: 'x' } },
  spec: {
    loadBalancerConfig: { roundRobin: {} },
    connectionConfig: { connectTimeout: '2s' },
    kube: { serviceName: 'ignored', serviceNamespace: 'ignored', servicePort: 1 },
  },
};

function setup(o: { analysis?: CanaryAnalysis; upstreamRef?: boolean; services?: boolean } = {}) {
  const objects =
    o.services === false ? [] : [svc('podinfo-primary', 'podinfo-primary'), svc('podinfo-canary', 'podinfo')];
  const kube = new FakeKube([...objects, configUpstream]);
  const router = new GlooRouter({ kube, includeLabelPrefix: ['team.io'] });
  const base = newCanary(o.analysis === undefined ? {} : { analysis: o.analysis });
  const canary: Canary =
    o.upstreamRef === true
      ? {
          ...base,
          spec: {
            ...base.spec,
            upstreamRef: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: 'config', namespace: 'gloo-system' },
          },
        }
      : base;
  return { kube, router, canary, ctx: newCtx() };
}

const tableRoutes = (kube: FakeKube): unknown =>
  (stored(kube, Resources.glooRouteTable, 'podinfo')['spec'] as { routes: unknown }).routes;

describe('buildRouteTable', () => {
  // Flagger TestGlooRouter_Sync "test insert".
  it('builds one weighted route between the two Upstreams', () => {
    expect(buildRouteTable(newCanary(), w(100, 0))).toEqual({
      apiVersion: 'gateway.solo.io/v1',
      kind: 'RouteTable',
      metadata: { name: 'podinfo', namespace: NS, labels: {}, annotations: toolkit, ownerReferences: [ownerRef] },
      spec: {
        routes: [{ routeAction: { multi: { destinations: destinations(100, 0) } }, inheritablePathMatchers: true }],
      },
    });
  });

  // Flagger TestGlooRouter_Sync "test headers update"; plus the default route Flagger lacks.
  it('A/B: one matcher per entry on the weighted route, then a default route to the primary', () => {
    const canary = newCanary({
      analysis: abAnalysis([
        { headers: { 'x-user-type': { exact: 'test' } } },
        {
          headers: { 'user-agent': { regex: '.*Mobile.*' }, 'x-v': { prefix: '1.2' } },
          queryParams: { beta: { exact: 'on' } },
        },
      ]),
    });
    expect(buildRouteTable(canary, w(0, 100)).spec.routes).toEqual([
      {
        matchers: [
          { headers: [{ name: 'x-user-type', value: 'test' }] },
          {
            headers: [
              { name: 'user-agent', value: '.*Mobile.*', regex: true },
              { name: 'x-v', value: '1\\.2.*', regex: true },
            ],
            queryParameters: [{ name: 'beta', value: 'on' }],
          },
        ],
        routeAction: { multi: { destinations: destinations(0, 100) } },
        inheritablePathMatchers: true,
      },
      { routeAction: { multi: { destinations: destinations(100, 0) } }, inheritablePathMatchers: true },
    ]);
  });

  it('refuses an A/B match on source labels', () => {
    const canary = newCanary({ analysis: abAnalysis([{ sourceLabels: { app: 'x' } }]) });
    expect(() => buildRouteTable(canary, w(0, 100))).toThrow(UnsupportedError);
    expect(() => buildRouteTable(newCanary({ analysis: abAnalysis([{}]) }), w(0, 100))).toThrow(InvalidCanaryError);
  });
});

describe('GlooRouter', () => {
  it('reconcile creates both Upstreams from the Services, then the RouteTable', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    expect(kube.writes().map((a) => `${a.verb} ${a.type} ${a.key}`)).toEqual([
      `apply Upstream ${NS}/${PRIMARY}`,
      `apply Upstream ${NS}/${CANARY}`,
      `apply RouteTable ${NS}/podinfo`,
    ]);
    const { metadata, spec } = stored(kube, Resources.glooUpstream, CANARY);
    expect({ labels: metadata.labels, ownerReferences: metadata.ownerReferences, spec }).toEqual({
      labels: {},
      ownerReferences: [ownerRef],
      spec: {
        kube: { serviceName: 'podinfo-canary', serviceNamespace: NS, servicePort: 9898, selector: { app: 'podinfo' } },
      },
    });
    expect(tableRoutes(kube)).toEqual([
      { routeAction: { multi: { destinations: destinations(100, 0) } }, inheritablePathMatchers: true },
    ]);
  });

  // Flagger getGlooUpstreamKubeService / syncUpstreamSpec.
  it('copies the upstreamRef settings and its labels filtered by -include-label-prefix', async () => {
    const { kube, router, canary, ctx } = setup({ upstreamRef: true });
    await router.reconcile(ctx, canary);
    const { metadata, spec } = stored(kube, Resources.glooUpstream, PRIMARY);
    expect(metadata.labels).toEqual({ 'team.io/name': 'web' });
    expect(spec).toEqual({
      loadBalancerConfig: { roundRobin: {} },
      connectionConfig: { connectTimeout: '2s' },
      kube: {
        serviceName: 'podinfo-primary',
        serviceNamespace: NS,
        servicePort: 9898,
        selector: { app: 'podinfo-primary' },
      },
    });
  });

  // Flagger TestGlooRouter_SetRoutes and TestGlooRouter_GetRoutes.
  it('setRoutes writes the weights and getRoutes reads them back; A/B matchers at 0/100', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual(w(100, 0));
    await router.setRoutes(ctx, canary, w(50, 50));
    expect(await router.getRoutes(ctx, canary)).toEqual(w(50, 50));
    const abCanary = newCanary({ analysis: abAnalysis([{ headers: { 'x-user-type': { exact: 'test' } } }]) });
    await router.setRoutes(ctx, abCanary, w(0, 100));
    expect(tableRoutes(kube)).toMatchObject([
      { matchers: [{ headers: [{ name: 'x-user-type', value: 'test' }] }] },
      {},
    ]);
    expect(await router.getRoutes(ctx, abCanary)).toEqual(w(0, 100));
  });

  it('waits (retriable OperatorError) while a Service or the config Upstream is missing', async () => {
    for (const o of [{ services: false }, { upstreamRef: true, services: false }]) {
      const { kube, router, canary, ctx } = setup(o);
      const error: unknown = await router.reconcile(ctx, canary).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OperatorError);
      expect(error).not.toBeInstanceOf(InvalidCanaryError);
      expect(kube.writes()).toEqual([]);
    }
  });

  for (const [name, analysis] of mirrorOrAffinity) {
    it(`ignores ${name} as Flagger does, and routes by weight`, () =>
      expectIgnoredRoutingByWeight(setup({ analysis })));
  }

  it('property: setRoutes(w) then getRoutes() returns w, and repeating setRoutes writes nothing', async () => {
    const { kube, router, canary, ctx } = setup({ upstreamRef: true });
    await expectWeightsRoundTrip(kube, router, canary, ctx);
  });
});
