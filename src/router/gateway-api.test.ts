import { describe, expect, it } from 'vitest';
import type { HTTPRoute } from '../apis/gatewayapi/v1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { OperatorError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  buildHttpRoute,
  GATEWAY_REFS_REQUIRED,
  GatewayApiRouter,
  gatewayApiVersions,
  INITIAL_WEIGHTS,
} from './gateway-api.ts';
import {
  abAnalysis,
  blueGreenAnalysis,
  CANARY_UID,
  LaggingKube,
  NS,
  RecordingLogger,
  newCanary,
  newCtx,
} from './router.fixture.ts';

const ownerRef = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  name: 'podinfo',
  uid: CANARY_UID,
  controller: true,
  blockOwnerDeletion: true,
};
const toolkit = {
  'kustomize.toolkit.fluxcd.io/reconcile': 'disabled',
  'helm.toolkit.fluxcd.io/driftDetection': 'disabled',
};
const primary = (weight: number) => ({ group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight });
const canaryRef = (weight: number) => ({ group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight });
const rootMatch = { path: { type: 'PathPrefix', value: '/' } } as const;
const mirrorToCanary = {
  type: 'RequestMirror',
  requestMirror: { backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 } },
};

function route(kube: FakeKube): KubeObject {
  const obj = kube.peek(Resources.httpRoute, { namespace: NS, name: 'podinfo' });
  if (obj === undefined) throw new Error('HTTPRoute missing');
  return obj;
}

function rules(obj: KubeObject): unknown[] {
  const spec = obj['spec'];
  return isRecord(spec) && Array.isArray(spec['rules']) ? spec['rules'] : [];
}

function setup(objects: KubeObject[] = []) {
  const kube = new FakeKube(objects);
  return { kube, router: new GatewayApiRouter({ kube }), ctx: newCtx() };
}

describe('buildHttpRoute', () => {
  it('builds the route of a plain canary', () => {
    const canary = newCanary({ service: { apex: { labels: { team: 'web' }, annotations: { a: 'b' } } } });
    expect(buildHttpRoute(canary, INITIAL_WEIGHTS)).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'podinfo',
        namespace: NS,
        labels: { team: 'web' },
        annotations: { a: 'b', ...toolkit },
        ownerReferences: [ownerRef],
      },
      spec: {
        parentRefs: [{ namespace: 'istio-ingress', name: 'gateway' }],
        rules: [{ matches: [rootMatch], backendRefs: [primary(100), canaryRef(0)] }],
      },
    } satisfies HTTPRoute);
  });

  it('carries the weights on the two backends', () => {
    const r = buildHttpRoute(newCanary(), { primary: 70, canary: 30, mirrored: false });
    expect(r.spec.rules?.[0]?.backendRefs).toEqual([primary(70), canaryRef(30)]);
  });

  it('uses service.name for the apex and the backends', () => {
    const r = buildHttpRoute(newCanary({ service: { name: 'web' } }), INITIAL_WEIGHTS);
    expect(r.metadata.name).toBe('web');
    expect(r.spec.rules?.[0]?.backendRefs?.map((b) => b.name)).toEqual(['web-primary', 'web-canary']);
  });

  it('passes gatewayRefs with sectionName, port, group and kind, and hosts as hostnames', () => {
    const gatewayRefs = [
      { name: 'gw', namespace: 'infra', sectionName: 'https', port: 443 },
      { group: '', kind: 'Service', name: 'podinfo' },
    ];
    const r = buildHttpRoute(
      newCanary({ service: { gatewayRefs, hosts: ['app.example.com', '*.example.org'] } }),
      INITIAL_WEIGHTS,
    );
    expect(r.spec.parentRefs).toEqual(gatewayRefs);
    expect(r.spec.hostnames).toEqual(['app.example.com', '*.example.org']);
  });

  it('requires gatewayRefs', () => {
    const canary = newCanary({ service: { gatewayRefs: [] } });
    expect(() => buildHttpRoute(canary, INITIAL_WEIGHTS)).toThrow(InvalidCanaryError);
    expect(() => buildHttpRoute(canary, INITIAL_WEIGHTS)).toThrow(GATEWAY_REFS_REQUIRED);
  });

  it('maps service.match to the rule matches', () => {
    const canary = newCanary({
      service: {
        match: [
          { uri: { prefix: '/api' }, method: { exact: 'GET' } },
          { uri: { regex: '^/v[0-9]+/' }, headers: { 'x-b': { exact: '1' }, 'x-a': { regex: 'a.*' } } },
          { uri: { exact: '/healthz' }, queryParams: { debug: { exact: 'true' } } },
        ],
      },
    });
    expect(buildHttpRoute(canary, INITIAL_WEIGHTS).spec.rules?.[0]?.matches).toEqual([
      { path: { type: 'PathPrefix', value: '/api' }, method: 'GET' },
      {
        path: { type: 'RegularExpression', value: '^/v[0-9]+/' },
        headers: [
          { name: 'x-a', type: 'RegularExpression', value: 'a.*' },
          { name: 'x-b', type: 'Exact', value: '1' },
        ],
      },
      { path: { type: 'Exact', value: '/healthz' }, queryParams: [{ name: 'debug', type: 'Exact', value: 'true' }] },
    ]);
  });

  it('builds the A/B rule from analysis.match merged with service.match, then a primary-only default rule', () => {
    const canary = newCanary({
      service: { match: [{ uri: { prefix: '/api' }, headers: { host: { exact: 'a.example.com' } } }], timeout: '30s' },
      analysis: abAnalysis([
        { headers: { 'x-canary': { regex: '.*insider.*' } } },
        { headers: { cookie: { exact: 'canary=always' } }, queryParams: { beta: { exact: 'on' } } },
      ]),
    });
    const r = buildHttpRoute(canary, { primary: 0, canary: 100, mirrored: false });
    const serviceMatch = {
      path: { type: 'PathPrefix', value: '/api' },
      headers: [{ name: 'host', type: 'Exact', value: 'a.example.com' }],
    };
    expect(r.spec.rules).toEqual([
      {
        matches: [
          {
            path: { type: 'PathPrefix', value: '/api' },
            headers: [
              { name: 'host', type: 'Exact', value: 'a.example.com' },
              { name: 'x-canary', type: 'RegularExpression', value: '.*insider.*' },
            ],
          },
          {
            path: { type: 'PathPrefix', value: '/api' },
            headers: [
              { name: 'cookie', type: 'Exact', value: 'canary=always' },
              { name: 'host', type: 'Exact', value: 'a.example.com' },
            ],
            queryParams: [{ name: 'beta', type: 'Exact', value: 'on' }],
          },
        ],
        backendRefs: [primary(0), canaryRef(100)],
        timeouts: { request: '30s' },
      },
      { matches: [serviceMatch], backendRefs: [primary(100)], timeouts: { request: '30s' } },
    ]);
  });

  it('merges A/B conditions into the default path match without service.match', () => {
    const canary = newCanary({ analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) });
    expect(buildHttpRoute(canary, INITIAL_WEIGHTS).spec.rules?.map((rule) => rule.matches)).toEqual([
      [{ ...rootMatch, headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }] }],
      [rootMatch],
    ]);
  });

  it('mirrors to the canary for Blue/Green when asked to', () => {
    const canary = newCanary({ analysis: blueGreenAnalysis, service: { headers: { request: { set: { a: '1' } } } } });
    const mirrored = buildHttpRoute(canary, { primary: 100, canary: 0, mirrored: true });
    expect(mirrored.spec.rules?.[0]?.filters).toEqual([
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'a', value: '1' }] } },
      mirrorToCanary,
    ]);
    expect(buildHttpRoute(canary, INITIAL_WEIGHTS).spec.rules?.[0]?.filters).toHaveLength(1);
    // Mirroring is Blue/Green only (as Flagger): a progressive canary never mirrors.
    expect(
      buildHttpRoute(newCanary(), { primary: 100, canary: 0, mirrored: true }).spec.rules?.[0]?.filters,
    ).toBeUndefined();
  });

  it('maps headers, rewrite and static mirrors to filters, in order, and skips corsPolicy', () => {
    const canary = newCanary({
      service: {
        headers: {
          request: { add: { 'x-b': '2', 'x-a': '1' }, set: { 'x-s': 's' }, remove: ['x-r'] },
          response: { set: { 'x-resp': 'v' } },
        },
        rewrite: { uri: '/v2', authority: 'backend.example.com', type: 'ReplacePrefixMatch' },
        mirror: [{ backendRef: { name: 'shadow', namespace: 'other', port: 8080 } }],
        corsPolicy: { allowOrigin: ['https://example.com'], allowMethods: ['GET'] },
      },
    });
    expect(buildHttpRoute(canary, INITIAL_WEIGHTS).spec.rules?.[0]?.filters).toEqual([
      {
        type: 'RequestHeaderModifier',
        requestHeaderModifier: {
          set: [{ name: 'x-s', value: 's' }],
          add: [
            { name: 'x-a', value: '1' },
            { name: 'x-b', value: '2' },
          ],
          remove: ['x-r'],
        },
      },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-resp', value: 'v' }] } },
      {
        type: 'URLRewrite',
        urlRewrite: {
          hostname: 'backend.example.com',
          path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' },
        },
      },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', namespace: 'other', port: 8080 } } },
    ]);
  });

  it('rewrites the full path unless ReplacePrefixMatch is asked for', () => {
    const r = buildHttpRoute(newCanary({ service: { rewrite: { uri: '/' } } }), INITIAL_WEIGHTS);
    expect(r.spec.rules?.[0]?.filters).toEqual([
      { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/' } } },
    ]);
  });

  it('sets request and backend timeouts', () => {
    const both = buildHttpRoute(newCanary({ service: { timeout: '30s', backendTimeout: '10s' } }), INITIAL_WEIGHTS);
    expect(both.spec.rules?.[0]?.timeouts).toEqual({ request: '30s', backendRequest: '10s' });
    const backend = buildHttpRoute(newCanary({ service: { backendTimeout: '10s' } }), INITIAL_WEIGHTS);
    expect(backend.spec.rules?.[0]?.timeouts).toEqual({ backendRequest: '10s' });
  });

  it('refuses matches Gateway API cannot express instead of widening them', () => {
    const cases = [
      newCanary({ service: { match: [{ authority: { exact: 'a' } }] } }),
      newCanary({ service: { match: [{ uri: { prefix: '/' }, ignoreUriCase: true }] } }),
      newCanary({ service: { match: [{ method: { regex: 'GET|POST' } }] } }),
      newCanary({ analysis: abAnalysis([{ headers: { 'x-a': { prefix: 'a' } } }]) }),
      newCanary({ analysis: abAnalysis([{ sourceLabels: { app: 'frontend' } }]) }),
    ];
    for (const canary of cases) expect(() => buildHttpRoute(canary, INITIAL_WEIGHTS)).toThrow(InvalidCanaryError);
  });

  it('refuses session affinity combined with A/B matches', () => {
    const analysis = abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]);
    const canary = newCanary({ analysis: { ...analysis, sessionAffinity: { cookieName: 'c' } } });
    expect(() => buildHttpRoute(canary, INITIAL_WEIGHTS)).toThrow(UnsupportedError);
    expect(() => buildHttpRoute(canary, INITIAL_WEIGHTS)).toThrow('cannot be combined with analysis.match');
  });
});

describe('GatewayApiRouter', () => {
  it('reconcile creates the route once, then writes nothing', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, newCanary());
    expect(kube.writes().map((a) => `${a.verb} ${a.type} ${a.key}`)).toEqual([`apply HTTPRoute ${NS}/podinfo`]);
    kube.clearActions();
    await router.reconcile(ctx, newCanary());
    await router.setRoutes(ctx, newCanary(), INITIAL_WEIGHTS);
    expect(kube.actions).toEqual([]);
  });

  it('round-trips weights through setRoutes and getRoutes, writing only changes', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual(INITIAL_WEIGHTS);
    kube.clearActions();
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 60, canary: 40, mirrored: false });
    kube.clearActions();
    await router.setRoutes(ctx, canary, { primary: 60, canary: 40, mirrored: false });
    await router.reconcile(ctx, canary);
    expect(kube.actions).toEqual([]);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 60, canary: 40, mirrored: false });
  });

  it('reconcile applies spec changes but keeps the current weights', async () => {
    const { kube, router, ctx } = setup();
    await router.setRoutes(ctx, newCanary(), { primary: 80, canary: 20, mirrored: false });
    kube.clearActions();
    await router.reconcile(ctx, newCanary({ service: { hosts: ['app.example.com'] } }));
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    expect(rules(route(kube))).toEqual([{ matches: [rootMatch], backendRefs: [primary(80), canaryRef(20)] }]);
  });

  it('reads A/B weights from the rule with both backends', async () => {
    const { router, ctx } = setup();
    const canary = newCanary({ analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 0, canary: 100, mirrored: false });
  });

  it('reports and keeps Blue/Green mirroring', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary({ analysis: blueGreenAnalysis });
    await router.setRoutes(ctx, canary, { primary: 100, canary: 0, mirrored: true });
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 100, canary: 0, mirrored: true });
    kube.clearActions();
    await router.reconcile(ctx, canary);
    expect(kube.actions).toEqual([]);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 0, canary: 100, mirrored: false });
  });

  it('writes nothing when the cached route differs only by API server defaults', async () => {
    const defaulted: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'podinfo',
        namespace: NS,
        annotations: { ...toolkit, 'other.controller/state': 'kept' },
        ownerReferences: [ownerRef],
      },
      spec: {
        parentRefs: [
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'istio-ingress', name: 'gateway' },
        ],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: '/' },
                headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }],
              },
            ],
            backendRefs: [primary(50), canaryRef(50)],
          },
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [primary(100)] },
        ],
      },
    };
    const { kube, router, ctx } = setup([defaulted]);
    const canary = newCanary({ analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    expect(kube.actions).toEqual([]);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    expect(route(kube).metadata.annotations?.['other.controller/state']).toBe('kept');
  });

  it('re-applies when a label Fledge applied is no longer wanted', async () => {
    const desired = buildHttpRoute(newCanary({ service: { apex: { labels: { old: 'x' } } } }), INITIAL_WEIGHTS);
    const managedFields = [
      {
        manager: 'fledge',
        operation: 'Apply',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:old': {} } } },
      },
    ];
    const { kube, router, ctx } = setup([{ ...desired, metadata: { ...desired.metadata, ...{ managedFields } } }]);
    await router.reconcile(ctx, newCanary({ service: { apex: { labels: { old: 'x' } } } }));
    expect(kube.actions).toEqual([]);
    await router.reconcile(ctx, newCanary());
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
  });

  it('sees its own write at once when the cache lags', async () => {
    const fake = new FakeKube();
    const kube = new LaggingKube(fake);
    const router = new GatewayApiRouter({ kube });
    const ctx = newCtx();
    const canary = newCanary();
    await router.reconcile(ctx, canary);
    kube.freeze([Resources.httpRoute], NS);
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    await router.setRoutes(ctx, canary, { primary: 100, canary: 0, mirrored: false });
    expect(rules(route(fake))).toEqual([{ matches: [rootMatch], backendRefs: [primary(100), canaryRef(0)] }]);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual(INITIAL_WEIGHTS);
  });

  describe('getRoutes', () => {
    /** A route with `status.parents`; `changed` writes new weights first (generation 2). */
    async function withStatus(parents: unknown[], changed = false) {
      const { kube, router, ctx } = setup();
      await router.reconcile(ctx, newCanary());
      if (changed) await router.setRoutes(ctx, newCanary(), { primary: 90, canary: 10, mirrored: false });
      kube.upsert({ ...route(kube), status: { parents } });
      return router.getRoutes(ctx, newCanary());
    }
    const parentRef = {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'istio-ingress',
      name: 'gateway',
    };
    const accepted = (status: string, observedGeneration = 1) => ({
      parentRef,
      controllerName: 'example.com/gateway-controller',
      conditions: [
        {
          type: 'Accepted',
          status,
          reason: 'X',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          observedGeneration,
        },
      ],
    });

    it('proceeds when no Gateway controller has written a status', async () => {
      await expect(withStatus([])).resolves.toEqual(INITIAL_WEIGHTS);
    });

    it('proceeds when the parent is accepted', async () => {
      await expect(withStatus([accepted('True')])).resolves.toEqual(INITIAL_WEIGHTS);
    });

    it('refuses while a parent is not accepted', async () => {
      await expect(withStatus([accepted('False')])).rejects.toThrow(OperatorError);
      await expect(withStatus([accepted('False')])).rejects.toThrow(/parent gateway is not ready \(status: False/);
    });

    it('refuses while the acceptance is for an older generation', async () => {
      await expect(withStatus([accepted('True', 1)], true)).rejects.toThrow(
        /observed generation: 1, current generation: 2/,
      );
      await expect(withStatus([accepted('True', 2)], true)).resolves.toEqual({
        primary: 90,
        canary: 10,
        mirrored: false,
      });
    });

    it('ignores the status of other parents', async () => {
      const other = { ...accepted('False'), parentRef: { ...parentRef, name: 'other' } };
      await expect(withStatus([other])).resolves.toEqual(INITIAL_WEIGHTS);
    });

    it('fails when the route is missing', async () => {
      const { router, ctx } = setup();
      await expect(router.getRoutes(ctx, newCanary())).rejects.toThrow(/HTTPRoute test\/podinfo not found/);
    });
  });

  it('warns that corsPolicy is not applied', async () => {
    const log = new RecordingLogger();
    const { router } = setup();
    await router.reconcile(newCtx(log), newCanary({ service: { corsPolicy: { allowOrigin: ['https://a.example'] } } }));
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      expect.stringContaining('corsPolicy is not applied') as unknown,
    ]);
  });

  it('finalize writes nothing', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, newCanary());
    kube.clearActions();
    await router.finalize(ctx, newCanary());
    expect(kube.actions).toEqual([]);
  });
});

// TestGatewayAPIV1Beta1Router_Reconcile / _Routes: the same route under v1beta1, without timeouts.
describe('GatewayApiRouter gatewayapi:v1beta1', () => {
  const v1beta1 = gatewayApiVersions.v1beta1;
  const setupV1beta1 = () => {
    const kube = new FakeKube();
    const log = new RecordingLogger();
    return { kube, log, ctx: newCtx(log), router: new GatewayApiRouter({ kube, version: v1beta1 }) };
  };
  const routeOf = (kube: FakeKube) => kube.peek(v1beta1.type, { namespace: NS, name: 'podinfo' });

  it('writes the v1beta1 route, without timeouts and with a warning', async () => {
    const { kube, router, ctx, log } = setupV1beta1();
    const canary = newCanary({ service: { timeout: '30s' } });
    await router.reconcile(ctx, canary);
    expect(kube.writes().map((a) => `${a.verb} ${a.apiVersion} ${a.type}`)).toEqual([
      'apply gateway.networking.k8s.io/v1beta1 HTTPRoute',
    ]);
    expect(routeOf(kube)).toMatchObject({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      spec: {
        parentRefs: [{ namespace: 'istio-ingress', name: 'gateway' }],
        rules: [{ matches: [rootMatch], backendRefs: [primary(100), canaryRef(0)] }],
      },
    });
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'service.timeout/backendTimeout is not applied: provider "gatewayapi:v1beta1" does not write it',
    ]);
  });

  it('builds the A/B rules as v1 does', async () => {
    const { kube, router, ctx } = setupV1beta1();
    const canary = newCanary({ analysis: abAnalysis([{ headers: { 'x-canary': { exact: 'insider' } } }]) });
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    expect(routeOf(kube)?.['spec']).toEqual(
      buildHttpRoute(canary, { primary: 0, canary: 100, mirrored: false }, { version: v1beta1 }).spec,
    );
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 0, canary: 100, mirrored: false });
  });

  it('getRoutes does not wait for the Accepted condition (as Flagger v1beta1)', async () => {
    const { kube, router, ctx } = setupV1beta1();
    await router.reconcile(ctx, newCanary());
    const route = routeOf(kube);
    if (route === undefined) throw new Error('HTTPRoute missing');
    const parentRef = {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'istio-ingress',
      name: 'gateway',
    };
    const condition = {
      type: 'Accepted',
      status: 'False',
      reason: 'X',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    kube.upsert({ ...route, status: { parents: [{ parentRef, controllerName: 'x/y', conditions: [condition] }] } });
    await expect(router.getRoutes(ctx, newCanary())).resolves.toEqual(INITIAL_WEIGHTS);
  });
});

describe.each([
  ['gatewayapi:v1', gatewayApiVersions.v1],
  ['gatewayapi:v1beta1', gatewayApiVersions.v1beta1],
])('%s: for every weight w in 0..100', (_, version) => {
  it('setRoutes(w) then getRoutes() returns w, and a second setRoutes(w) writes nothing', async () => {
    const kube = new FakeKube();
    const router = new GatewayApiRouter({ kube, version });
    const ctx = newCtx();
    const canary = newCanary();
    for (let w = 0; w <= 100; w++) {
      const weights = { primary: 100 - w, canary: w, mirrored: false };
      await router.setRoutes(ctx, canary, weights);
      await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights);
      const before = kube.actions.length;
      await router.setRoutes(ctx, canary, weights);
      expect(kube.actions.length).toBe(before);
    }
  });
});
