import { describe, expect, it } from 'vitest';
import type { Route } from '../apis/contour/v1/types.ts';
import type { CanaryAnalysis, CanaryService } from '../apis/flagger/v1beta1/types.ts';
import { UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { buildHttpProxy, ContourRouter, httpProxyWeights } from './contour.ts';
import {
  expectWeightsRoundTrip,
  expectIgnoredRoutingByWeight,
  mirrorOrAffinity,
  ownerRef,
  stored,
  toolkit,
} from './ingress.fixture.ts';
import { abAnalysis, NS, newCanary, newCtx } from './router.fixture.ts';

const service = (name: string, weight: number, port = 9898) => ({
  name,
  port,
  weight,
  requestHeadersPolicy: { set: [{ name: 'l5d-dst-override', value: `${name}.${NS}.svc.cluster.local:${port}` }] },
});
const split = (primary: number, canary: number, port = 9898) => [
  service('podinfo-primary', primary, port),
  service('podinfo-canary', canary, port),
];
const w = (primary: number, canary: number) => ({ primary, canary, mirrored: false });

function setup(o: { analysis?: CanaryAnalysis; service?: Partial<CanaryService>; ingressClass?: string } = {}) {
  const kube = new FakeKube();
  const router = new ContourRouter({ kube, ingressClass: o.ingressClass });
  const canary = newCanary({
    ...(o.analysis === undefined ? {} : { analysis: o.analysis }),
    ...(o.service === undefined ? {} : { service: o.service }),
  });
  return { kube, router, canary, ctx: newCtx() };
}

const routes = (kube: FakeKube): Route[] => {
  const spec = stored(kube, Resources.httpProxy, 'podinfo')['spec'] as { routes: Route[] };
  return spec.routes;
};

describe('buildHttpProxy', () => {
  // Flagger TestContourRouter_Reconcile: init weights 100/0 and the ingress class.
  it('builds the HTTPProxy of a plain canary', () => {
    const canary = newCanary({ service: { apex: { labels: { team: 'web' }, annotations: { a: 'b' } } } });
    expect(buildHttpProxy(canary, w(100, 0), 'contour')).toEqual({
      apiVersion: 'projectcontour.io/v1',
      kind: 'HTTPProxy',
      metadata: {
        name: 'podinfo',
        namespace: NS,
        labels: { team: 'web' },
        annotations: { a: 'b', ...toolkit },
        ownerReferences: [ownerRef],
      },
      spec: { routes: [{ conditions: [{ prefix: '/' }], services: split(100, 0) }], ingressClassName: 'contour' },
    });
  });

  // Flagger TestContourRouter_Reconcile "test update": port, timeout, prefix, retries.
  it('maps port, match prefix, timeout and retries', () => {
    const canary = newCanary({
      service: {
        port: 8080,
        timeout: '1m',
        match: [{ uri: { prefix: '/podinfo' } }],
        retries: { attempts: 10, perTryTimeout: '30s', retryOn: 'connect-failure,gateway-error' },
      },
    });
    expect(buildHttpProxy(canary, w(100, 0)).spec).toEqual({
      routes: [
        {
          conditions: [{ prefix: '/podinfo' }],
          timeoutPolicy: { response: '1m', idle: '5m' },
          retryPolicy: { count: 10, perTryTimeout: '30s', retryOn: ['connect-failure', 'gateway-error'] },
          services: split(100, 0, 8080),
        },
      ],
    });
  });

  // Flagger TestContourRouter_Reconcile "test headers update" and TestContourRouter_Routes (A/B).
  it('A/B: one weighted route per match entry, then the default route to the primary', () => {
    const canary = newCanary({
      analysis: abAnalysis([
        { headers: { 'x-user-type': { exact: 'test' }, 'x-beta': { prefix: 'yes' } } },
        { headers: { 'user-agent': { suffix: 'Mobile' } } },
      ]),
    });
    expect(buildHttpProxy(canary, w(0, 100)).spec.routes).toEqual([
      {
        conditions: [
          { prefix: '/', header: { name: 'x-beta', contains: 'yes' } },
          { header: { name: 'x-user-type', exact: 'test' } },
        ],
        services: split(0, 100),
      },
      { conditions: [{ prefix: '/', header: { name: 'user-agent', contains: 'Mobile' } }], services: split(0, 100) },
      { conditions: [{ prefix: '/' }], services: split(100, 0) },
    ]);
  });

  it('refuses A/B conditions Contour cannot express', () => {
    for (const match of [
      [{ headers: { 'x-user-type': { regex: 'te.t' } } }],
      [{ queryParams: { q: { exact: 'x' } } }],
      [{ headers: { a: { exact: 'b' } }, sourceLabels: { app: 'x' } }],
    ]) {
      expect(() => buildHttpProxy(newCanary({ analysis: abAnalysis(match) }), w(0, 100))).toThrow(UnsupportedError);
    }
  });
});

describe('ContourRouter', () => {
  // Flagger TestContourRouter_Routes.
  it('setRoutes writes the weights, getRoutes reads them, A/B keeps the default route on the primary', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, w(50, 50));
    expect(routes(kube)[0]?.services).toEqual(split(50, 50));
    expect(await router.getRoutes(ctx, canary)).toEqual(w(50, 50));

    const abCanary = newCanary({ analysis: abAnalysis([{ headers: { 'x-user-type': { exact: 'test' } } }]) });
    await router.reconcile(ctx, abCanary);
    await router.setRoutes(ctx, abCanary, w(0, 100));
    expect(routes(kube).map((r) => r.services)).toEqual([split(0, 100), split(100, 0)]);
    expect(routes(kube)[0]?.conditions).toEqual([{ prefix: '/', header: { name: 'x-user-type', exact: 'test' } }]);
    expect(await router.getRoutes(ctx, abCanary)).toEqual(w(0, 100));
  });

  it('reconcile keeps the current weights when the spec changes (Flagger resets them)', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, w(70, 30));
    await router.reconcile(ctx, newCanary({ service: { timeout: '30s' } }));
    expect(routes(kube)[0]).toMatchObject({ timeoutPolicy: { response: '30s' }, services: split(70, 30) });
  });

  it('reads weights Flagger wrote (a zero weight is omitted)', () => {
    const obj = { ...buildHttpProxy(newCanary(), w(100, 0)) };
    const flaggers = {
      ...obj,
      spec: {
        routes: [
          {
            services: [
              { name: 'podinfo-primary', port: 9898, weight: 100 },
              { name: 'podinfo-canary', port: 9898 },
            ],
          },
        ],
      },
    };
    expect(httpProxyWeights(newCanary(), flaggers)).toEqual(w(100, 0));
  });

  for (const [name, analysis] of mirrorOrAffinity) {
    it(`ignores ${name} as Flagger does, and routes by weight`, () =>
      expectIgnoredRoutingByWeight(setup({ analysis })));
  }

  it('getRoutes fails (retriable) while the HTTPProxy is missing', async () => {
    const { router, canary, ctx } = setup();
    await expect(router.getRoutes(ctx, canary)).rejects.toThrow(`HTTPProxy ${NS}/podinfo not found`);
  });

  it('property: setRoutes(w) then getRoutes() returns w, and repeating setRoutes writes nothing', async () => {
    const { kube, router, canary, ctx } = setup({ ingressClass: 'contour' });
    await expectWeightsRoundTrip(kube, router, canary, ctx);
  });
});
