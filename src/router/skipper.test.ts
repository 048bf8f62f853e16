import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  expectRefusedBeforeWriting,
  expectWeightsRoundTrip,
  expectIgnoredRoutingByWeight,
  mirrorOrAffinity,
  ownerRef,
  podinfoIngress,
  stored,
  toolkit,
  withIngressRef,
} from './ingress.fixture.ts';
import { abAnalysis, NS, newCanary, newCtx } from './router.fixture.ts';
import { buildSkipperCanaryIngress, insertPredicate, SkipperRouter } from './skipper.ts';

function setup(o: { analysis?: CanaryAnalysis; source?: KubeObject } = {}) {
  const kube = new FakeKube([o.source ?? podinfoIngress()]);
  const router = new SkipperRouter({ kube });
  const canary = withIngressRef(newCanary(o.analysis === undefined ? {} : { analysis: o.analysis }));
  return { kube, router, canary, ctx: newCtx() };
}

const canaryIngress = (kube: FakeKube): KubeObject => stored(kube, Resources.ingress, 'podinfo-canary');
const path = (service: string, p = '/', port = 9898) => ({
  path: p,
  pathType: 'Prefix',
  backend: { service: { name: service, port: { number: port } } },
});

describe('buildSkipperCanaryIngress', () => {
  // Flagger TestSkipperRouter_Reconcile: primary path first, the canary copy appended, same port.
  it('sends the <apex> paths to the primary, appends canary copies and carries the weights', () => {
    const source = podinfoIngress({ 'zalando.org/skipper-predicate': 'Host(/^my-host$/) && Method("GET")' });
    const obj = buildSkipperCanaryIngress(withIngressRef(newCanary()), source, {
      primary: 90,
      canary: 10,
      mirrored: false,
    });
    expect(obj).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'podinfo-canary',
        namespace: NS,
        labels: { app: 'podinfo' },
        annotations: {
          'kubernetes.io/ingress.class': 'nginx',
          ...toolkit,
          'zalando.org/backend-weights': '{"podinfo-canary":10,"podinfo-primary":90}',
          'zalando.org/skipper-predicate': 'Weight(100) && Host(/^my-host$/) && Method("GET")',
        },
        ownerReferences: [ownerRef],
      },
      spec: {
        rules: [
          {
            host: 'app.example.com',
            http: { paths: [path('podinfo-primary'), path('other', '/other', 80), path('podinfo-canary')] },
          },
        ],
      },
    });
  });

  it('turns the canary Ingress off with False() at canary weight 0', () => {
    const obj = buildSkipperCanaryIngress(withIngressRef(newCanary()), podinfoIngress(), {
      primary: 100,
      canary: 0,
      mirrored: false,
    });
    expect(obj.metadata.annotations).toMatchObject({
      'zalando.org/backend-weights': '{"podinfo-canary":0,"podinfo-primary":100}',
      'zalando.org/skipper-predicate': 'False()',
    });
  });
});

// Flagger Test_insertPredicate.
describe('insertPredicate', () => {
  for (const [name, raw, insert, want] of [
    [
      'a few predicates lined up',
      'Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
      'Weight(100)',
      'Weight(100) && Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
    ],
    ['adds the predicate if none is set', '', 'Weight(100)', 'Weight(100)'],
    [
      'removes a duplicated Weight(100)',
      'Weight(100) && Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
      'Weight(100)',
      'Weight(100) && Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
    ],
    [
      'removes a duplicated False() and reorders',
      'Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")&&False()',
      'False()',
      'False() && Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
    ],
    [
      'removes a conflicting False()',
      'Host(/^my-host-header\\.example\\.org$/) &&  False() && Method("GET") && Path("/hello")',
      'Weight(100)',
      'Weight(100) && Host(/^my-host-header\\.example\\.org$/) && Method("GET") && Path("/hello")',
    ],
  ] as const) {
    it(name, () => {
      expect(insertPredicate(raw, insert)).toBe(want);
    });
  }
});

describe('SkipperRouter', () => {
  // Flagger TestSkipperRouter_GetSetRoutes.
  it('reconcile starts at 100/0; setRoutes and getRoutes follow every step', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 100, canary: 0, mirrored: false });
    for (const [p, c] of [
      [100, 0],
      [90, 10],
      [80, 20],
      [70, 30],
      [15, 85],
      [0, 100],
    ] as const) {
      await router.setRoutes(ctx, canary, { primary: p, canary: c, mirrored: false });
      expect(JSON.parse(canaryIngress(kube).metadata.annotations?.['zalando.org/backend-weights'] ?? '')).toEqual({
        'podinfo-primary': p,
        'podinfo-canary': c,
      });
      expect(await router.getRoutes(ctx, canary)).toEqual({ primary: p, canary: c, mirrored: false });
    }
    // The user's Ingress is only read.
    expect(kube.writes().every((w) => w.key === `${NS}/podinfo-canary`)).toBe(true);
  });

  it('reconcile keeps the weights when the user Ingress changes', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    kube.upsert(podinfoIngress({ something: 'changed' }));
    await router.reconcile(ctx, canary);
    expect(canaryIngress(kube).metadata.annotations).toMatchObject({
      something: 'changed',
      'zalando.org/backend-weights': '{"podinfo-canary":40,"podinfo-primary":60}',
    });
  });

  const refused: readonly (readonly [string, CanaryAnalysis])[] = [
    ['A/B matches', abAnalysis([{ headers: { 'x-user-type': { exact: 'test' } } }])],
  ];
  for (const [name, analysis] of mirrorOrAffinity) {
    it(`ignores ${name} as Flagger does, and routes by weight`, () =>
      expectIgnoredRoutingByWeight(setup({ analysis })));
  }
  for (const [name, analysis] of refused) {
    it(`refuses ${name} with an UnsupportedError before writing`, () =>
      expectRefusedBeforeWriting(setup({ analysis })));
  }

  it('refuses a user Ingress without an <apex> backend (Flagger never does)', async () => {
    const { router, canary, ctx } = setup({ source: { ...podinfoIngress(), spec: { rules: [{ host: 'x' }] } } });
    await expect(router.reconcile(ctx, canary)).rejects.toThrow(InvalidCanaryError);
  });

  it('getRoutes refuses missing or malformed backend weights', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    const obj = canaryIngress(kube);
    for (const weights of ['{"podinfo-primary":100}', 'not json', '{"podinfo-primary":99.5,"podinfo-canary":0.5}']) {
      kube.upsert({ ...obj, metadata: { ...obj.metadata, annotations: { 'zalando.org/backend-weights': weights } } });
      await expect(router.getRoutes(ctx, canary)).rejects.toThrow(OperatorError);
    }
  });

  // Flagger's SkipperRouter.Finalize.
  it('finalize deletes the canary Ingress', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    await router.finalize(ctx, canary);
    expect(kube.peek(Resources.ingress, { namespace: NS, name: 'podinfo-canary' })).toBeUndefined();
    expect(kube.peek(Resources.ingress, { namespace: NS, name: 'podinfo' })).toBeDefined();
  });

  it('property: setRoutes(w) then getRoutes() returns w, and repeating setRoutes writes nothing', async () => {
    const { kube, router, canary, ctx } = setup();
    await expectWeightsRoundTrip(kube, router, canary, ctx);
  });
});
