import { describe, expect, it } from 'vitest';
import type { SmiVersion } from '../apis/smi/types.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { INITIAL_WEIGHTS } from './gateway-api.ts';
import {
  abAnalysis,
  blueGreenAnalysis,
  LaggingKube,
  NS,
  newCanary,
  newCtx,
  type CanaryOptions,
} from './router.fixture.ts';
import { buildTrafficSplit, smiFlavour, SmiRouter, trafficSplitTypes } from './smi.ts';
import { controllerRef } from './util.ts';

// The reference itself is checked in util.test.ts.
const ownerRef = controllerRef(newCanary());

function setup(provider: string, objects: KubeObject[] = []) {
  const kube = new FakeKube(objects);
  const flavour = smiFlavour(provider);
  return { kube, flavour, router: new SmiRouter({ kube, flavour }), ctx: newCtx() };
}

function split(kube: FakeKube, version: SmiVersion, name = 'podinfo'): KubeObject {
  const obj = kube.peek(trafficSplitTypes[version], { namespace: NS, name });
  if (obj === undefined) throw new Error('TrafficSplit missing');
  return obj;
}

const canary = (o: CanaryOptions = {}) => newCanary({ provider: 'linkerd', ...o });

describe('smiFlavour (Flagger pkg/router/factory.go)', () => {
  it.each([
    ['linkerd', 'v1alpha1', 'linkerd'],
    ['osm', 'v1alpha2', 'osm'],
    ['smi:v1alpha1', 'v1alpha1', 'smi:v1alpha1'],
    ['smi:v1alpha2:istio', 'v1alpha2', 'istio'],
    ['smi:v1alpha3:linkerd', 'v1alpha3', 'linkerd'],
  ])('maps %s to %s with target mesh %s', (provider, version, mesh) => {
    expect(smiFlavour(provider)).toEqual({ version, mesh, provider });
  });

  it('refuses other names', () => {
    expect(() => smiFlavour('smi:v1beta1')).toThrow(InvalidCanaryError);
  });
});

describe('buildTrafficSplit', () => {
  // TestSmiRouter_Sync: service = apex, backends canary 0 / primary 100 (quantities in v1alpha1).
  it('builds the v1alpha1 split with quantity weights (linkerd)', () => {
    expect(buildTrafficSplit(canary(), INITIAL_WEIGHTS, smiFlavour('linkerd'))).toEqual({
      apiVersion: 'split.smi-spec.io/v1alpha1',
      kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: NS, ownerReferences: [ownerRef] },
      spec: {
        service: 'podinfo',
        backends: [
          { service: 'podinfo-canary', weight: '0' },
          { service: 'podinfo-primary', weight: '100' },
        ],
      },
    });
  });

  // TestSmiv1alpha2Router_Sync / TestSmiv1alpha3Router_Sync: integer weights.
  it.each([
    ['osm', 'v1alpha2'],
    ['smi:v1alpha3', 'v1alpha3'],
  ])('builds the %s split with integer weights', (provider, version) => {
    const ts = buildTrafficSplit(canary(), { primary: 70, canary: 30, mirrored: false }, smiFlavour(provider));
    expect(ts.apiVersion).toBe(`split.smi-spec.io/${version}`);
    expect(ts.spec.backends).toEqual([
      { service: 'podinfo-canary', weight: 30 },
      { service: 'podinfo-primary', weight: 70 },
    ]);
  });

  it('uses hosts[0] as the root service and service.name for the names', () => {
    const ts = buildTrafficSplit(
      canary({ service: { name: 'web', hosts: ['web.example.com', 'other'] } }),
      INITIAL_WEIGHTS,
      smiFlavour('osm'),
    );
    expect(ts.metadata.name).toBe('web');
    expect(ts.spec.service).toBe('web.example.com');
    expect(ts.spec.backends.map((b) => b.service)).toEqual(['web-canary', 'web-primary']);
  });

  it('annotates the gateways for target mesh istio only', () => {
    const c = canary({ service: { gateways: ['public-gateway.istio-system.svc.cluster.local', 'mesh'] } });
    expect(buildTrafficSplit(c, INITIAL_WEIGHTS, smiFlavour('smi:v1alpha1:istio')).metadata.annotations).toEqual({
      'VirtualService.v1alpha3.networking.istio.io/spec.gateways':
        '["public-gateway.istio-system.svc.cluster.local","mesh"]',
    });
    expect(buildTrafficSplit(c, INITIAL_WEIGHTS, smiFlavour('linkerd')).metadata.annotations).toBeUndefined();
    expect(buildTrafficSplit(canary(), INITIAL_WEIGHTS, smiFlavour('smi:v1alpha3:istio')).metadata).not.toHaveProperty(
      'annotations',
    );
  });

  it.each([
    ['A/B testing (analysis.match)', { analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) }],
  ] as const)('refuses %s', (what, options) => {
    const build = () => buildTrafficSplit(canary(options), INITIAL_WEIGHTS, smiFlavour('linkerd'));
    expect(build).toThrow(UnsupportedError);
    expect(build).toThrow(`${what} is not supported by provider "linkerd"`);
  });
});

it.each([
  ['analysis.mirror', { analysis: { ...blueGreenAnalysis, mirror: true } }],
  ['analysis.sessionAffinity', { analysis: { ...blueGreenAnalysis, sessionAffinity: { cookieName: 'c' } } }],
] as const)('ignores %s as Flagger does: the TrafficSplit carries the weights only', (_, options) => {
  const split = buildTrafficSplit(canary(options), { primary: 60, canary: 40, mirrored: true }, smiFlavour('linkerd'));
  expect(JSON.stringify(split.spec)).not.toContain('mirror');
  expect(split.spec.backends.map((b) => b.weight)).toEqual(['40', '60']);
});

describe('SmiRouter', () => {
  it('has weights only', () => {
    expect(setup('linkerd').router.capabilities).toEqual({
      weights: true,
      abTesting: false,
      mirroring: false,
      sessionAffinity: false,
    });
  });

  // TestSmiRouter_GetRoutes
  it('reconcile creates the split with all traffic to the primary', async () => {
    const { kube, router, ctx } = setup('linkerd');
    await router.reconcile(ctx, canary());
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    expect(split(kube, 'v1alpha1')['spec']).toEqual({
      service: 'podinfo',
      backends: [
        { service: 'podinfo-canary', weight: '0' },
        { service: 'podinfo-primary', weight: '100' },
      ],
    });
    await expect(router.getRoutes(ctx, canary())).resolves.toEqual(INITIAL_WEIGHTS);
  });

  // TestSmiRouter_SetRoutes, TestSmiv1alpha2Router_SetRoutes, TestSmiv1alpha3Router_SetRoutes
  it.each(['linkerd', 'osm', 'smi:v1alpha3:linkerd'])('%s: setRoutes writes the weights', async (provider) => {
    const { kube, router, ctx, flavour } = setup(provider);
    await router.reconcile(ctx, canary());
    await router.setRoutes(ctx, canary(), { primary: 50, canary: 50, mirrored: false });
    const weight = flavour.version === 'v1alpha1' ? '50' : 50;
    expect(split(kube, flavour.version)['spec']).toEqual({
      service: 'podinfo',
      backends: [
        { service: 'podinfo-canary', weight },
        { service: 'podinfo-primary', weight },
      ],
    });
    await expect(router.getRoutes(ctx, canary())).resolves.toEqual({ primary: 50, canary: 50, mirrored: false });
  });

  // TestSmiRouter_Sync "test update": a renamed service gets its own split.
  it('reconcile applies spec changes but keeps the weights', async () => {
    const { kube, router, ctx } = setup('osm');
    await router.setRoutes(ctx, canary(), { primary: 80, canary: 20, mirrored: false });
    kube.clearActions();
    await router.reconcile(ctx, canary());
    expect(kube.actions).toEqual([]);
    await router.reconcile(ctx, canary({ service: { hosts: ['podinfo.test.svc.cluster.local'] } }));
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    expect(split(kube, 'v1alpha2')['spec']).toEqual({
      service: 'podinfo.test.svc.cluster.local',
      backends: [
        { service: 'podinfo-canary', weight: 20 },
        { service: 'podinfo-primary', weight: 80 },
      ],
    });
  });

  it('reads quantity weights a user or Flagger wrote, and keeps foreign annotations', async () => {
    const existing: KubeObject = {
      apiVersion: 'split.smi-spec.io/v1alpha1',
      kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: NS, annotations: { 'other/x': 'y' }, ownerReferences: [ownerRef] },
      spec: {
        service: 'podinfo',
        backends: [
          { service: 'podinfo-canary', weight: 40 },
          { service: 'podinfo-primary', weight: '+60' },
        ],
      },
    };
    const { kube, router, ctx } = setup('linkerd', [existing]);
    await expect(router.getRoutes(ctx, canary())).resolves.toEqual({ primary: 60, canary: 40, mirrored: false });
    await router.reconcile(ctx, canary());
    await router.setRoutes(ctx, canary(), { primary: 60, canary: 40, mirrored: false });
    expect(kube.actions).toEqual([]);
  });

  it('getRoutes fails when the split is missing or carries no weights', async () => {
    const empty: KubeObject = {
      apiVersion: 'split.smi-spec.io/v1alpha2',
      kind: 'TrafficSplit',
      metadata: { name: 'podinfo', namespace: NS },
      spec: { service: 'podinfo', backends: [{ service: 'other', weight: 100 }] },
    };
    await expect(setup('osm').router.getRoutes(newCtx(), canary())).rejects.toThrow(
      /TrafficSplit test\/podinfo not found/,
    );
    const { router, ctx } = setup('osm', [empty]);
    await expect(router.getRoutes(ctx, canary())).rejects.toThrow(OperatorError);
    await expect(router.getRoutes(ctx, canary())).rejects.toThrow(
      'TrafficSplit test/podinfo does not contain routes for podinfo-primary and podinfo-canary',
    );
  });

  it('refuses an A/B canary before writing anything', async () => {
    const { kube, router, ctx } = setup('linkerd');
    const ab = canary({ analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) });
    await expect(router.reconcile(ctx, ab)).rejects.toThrow(UnsupportedError);
    expect(kube.actions).toEqual([]);
  });

  it('sees its own write at once when the cache lags', async () => {
    const fake = new FakeKube();
    const kube = new LaggingKube(fake);
    const router = new SmiRouter({ kube, flavour: smiFlavour('smi:v1alpha3') });
    const ctx = newCtx();
    await router.reconcile(ctx, canary());
    kube.freeze([trafficSplitTypes.v1alpha3], NS);
    await router.setRoutes(ctx, canary(), { primary: 50, canary: 50, mirrored: false });
    await router.setRoutes(ctx, canary(), { primary: 100, canary: 0, mirrored: false });
    await expect(router.getRoutes(ctx, canary())).resolves.toEqual(INITIAL_WEIGHTS);
    expect(fake.writes({ verb: 'apply' })).toHaveLength(3);
  });

  it('finalize writes nothing', async () => {
    const { kube, router, ctx } = setup('linkerd');
    await router.reconcile(ctx, canary());
    kube.clearActions();
    await router.finalize(ctx, canary());
    expect(kube.actions).toEqual([]);
  });

  describe.each(['linkerd', 'osm', 'smi:v1alpha3'])('%s: for every weight w in 0..100', (provider) => {
    it('setRoutes(w) then getRoutes() returns w, and a second setRoutes(w) writes nothing', async () => {
      const { kube, router, ctx } = setup(provider);
      await router.reconcile(ctx, canary());
      // Descending from 100 so that w = 0 follows a non-zero weight (both zero is not a split).
      for (let w = 100; w >= 0; w--) {
        const weights = { primary: 100 - w, canary: w, mirrored: false };
        await router.setRoutes(ctx, canary(), weights);
        await expect(router.getRoutes(ctx, canary())).resolves.toEqual(weights);
        const before = kube.actions.length;
        await router.setRoutes(ctx, canary(), weights);
        expect(kube.actions.length).toBe(before);
      }
    });
  });
});
