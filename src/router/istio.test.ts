// The Istio router against FakeKube: the exact objects written, compared with what Flagger's
// pkg/router/istio_test.go expects (each test names the Flagger test it follows).
import { describe, expect, it } from 'vitest';
import type { Canary, CanaryAnalysis, CanaryService } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { INITIAL_WEIGHTS, IstioRouter, buildVirtualService, mergeMatches } from './istio.ts';
import { controllerRef, toolkitAnnotations } from './util.ts';
import {
  NS,
  RecordingLogger,
  abAnalysis,
  canaryAnalysis,
  newCanary,
  newCtx,
  type CanaryOptions,
} from './router.fixture.ts';

// What Fledge's own helpers produce for the fixture Canary.
const ownerRef = controllerRef(newCanary());
const toolkit = toolkitAnnotations;
const ORIGINAL = 'flagger.kubernetes.io/original-configuration';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Flagger's `newTestCanary()` service (pkg/router/router_test.go). */
const flaggerService = {
  port: 9898,
  portDiscovery: true,
  appProtocol: 'http',
  headers: {
    request: { add: { 'x-envoy-upstream-rq-timeout-ms': '15000' }, remove: ['test'] },
    response: { remove: ['token'] },
  },
  corsPolicy: { allowMethods: ['GET', 'POST'] },
  match: [{ name: 'podinfo', uri: { prefix: '/podinfo' }, method: { exact: 'GET' }, ignoreUriCase: true }],
  retries: { attempts: 10, perTryTimeout: '30s', retryOn: 'connect-failure,gateway-error' },
  gateways: ['istio/public-gateway', 'mesh'],
} satisfies Partial<CanaryService>;

/** The route fields every HTTP route of the Flagger canary carries. */
const common = {
  retries: flaggerService.retries,
  corsPolicy: flaggerService.corsPolicy,
  headers: flaggerService.headers,
};

function istioCanary(o: CanaryOptions = {}) {
  return newCanary({ provider: 'istio', ...o, service: { ...flaggerService, ...o.service } });
}

/** A destination behind the public gateway: with the service port (portDiscovery). */
const dest = (host: string, weight: number) => ({ destination: { host, port: { number: 9898 } }, weight });
const primary = (w: number) => dest('podinfo-primary', w);
const canaryDest = (w: number) => dest('podinfo-canary', w);

function setup(objects: KubeObject[] = [], cookie = 'abcdefghij') {
  const kube = new FakeKube(objects);
  return { kube, router: new IstioRouter({ kube, cookieValue: () => cookie }), ctx: newCtx() };
}

function vs(kube: FakeKube): KubeObject {
  const obj = kube.peek(Resources.virtualService, { namespace: NS, name: 'podinfo' });
  if (obj === undefined) throw new Error('VirtualService missing');
  return obj;
}

function spec(obj: KubeObject): Record<string, unknown> {
  return isRecord(obj['spec']) ? obj['spec'] : {};
}

function http(kube: FakeKube): unknown[] {
  const routes = spec(vs(kube))['http'];
  return Array.isArray(routes) ? routes : [];
}

const weights = (p: number, c: number, mirrored = false) => ({ primary: p, canary: c, mirrored });

describe('IstioRouter', () => {
  // TestIstioRouter_Sync (insert)
  it('reconcile creates the DestinationRules and the VirtualService with all traffic on the primary', async () => {
    const { kube, router, ctx } = setup();
    const trafficPolicy = { tls: { mode: 'ISTIO_MUTUAL' as const } };
    await router.reconcile(ctx, istioCanary({ service: { trafficPolicy, apex: { labels: { team: 'web' } } } }));

    expect(kube.writes({ type: 'DestinationRule' }).map((w) => w.body)).toEqual(
      ['podinfo-canary', 'podinfo-primary'].map((name) => ({
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'DestinationRule',
        metadata: { name, namespace: NS, ownerReferences: [ownerRef] },
        spec: { host: name, trafficPolicy },
      })),
    );
    expect(kube.writes({ type: 'VirtualService' }).map((w) => w.body)).toEqual([
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'VirtualService',
        metadata: {
          name: 'podinfo',
          namespace: NS,
          labels: { team: 'web' },
          annotations: toolkit,
          ownerReferences: [ownerRef],
        },
        spec: {
          hosts: ['podinfo'],
          gateways: ['istio/public-gateway', 'mesh'],
          http: [{ match: flaggerService.match, ...common, route: [primary(100), canaryDest(0)] }],
        },
      },
    ]);
    await expect(router.getRoutes(ctx, istioCanary())).resolves.toEqual(INITIAL_WEIGHTS);
  });

  // TestIstioRouter_Sync (update, drift)
  it('reconcile applies spec changes and reverts drift, keeping the weights', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, istioCanary());
    await router.setRoutes(ctx, istioCanary(), weights(70, 30));

    await router.reconcile(ctx, istioCanary({ service: { hosts: ['app.example.com'] } }));
    expect(spec(vs(kube))['hosts']).toEqual(['app.example.com', 'podinfo']);

    const drifted = { ...spec(vs(kube)), gateways: ['istio/public-gateway', 'mesh', 'istio-system/test-gateway'] };
    kube.upsert({ ...vs(kube), spec: drifted });
    await router.reconcile(ctx, istioCanary({ service: { hosts: ['app.example.com'] } }));
    expect(spec(vs(kube))['gateways']).toEqual(['istio/public-gateway', 'mesh']);
    await expect(router.getRoutes(ctx, istioCanary())).resolves.toEqual(weights(70, 30));

    kube.clearActions();
    await router.reconcile(ctx, istioCanary({ service: { hosts: ['app.example.com'] } }));
    expect(kube.actions).toEqual([]);
  });

  it('defaults the gateway to mesh, adds no port inside the mesh and keeps `*` as the only host', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, istioCanary({ service: { gateways: [], hosts: ['*'], timeout: '5s' } }));
    expect(spec(vs(kube))).toEqual({
      hosts: ['*'],
      gateways: ['mesh'],
      http: [
        {
          match: flaggerService.match,
          timeout: '5s',
          ...common,
          route: [
            { destination: { host: 'podinfo-primary' }, weight: 100 },
            { destination: { host: 'podinfo-canary' }, weight: 0 },
          ],
        },
      ],
    });
  });

  it('maps service.rewrite to the Istio rewrite (uri and authority)', async () => {
    const { kube, router, ctx } = setup();
    const rewrite = { uri: '/', authority: 'podinfo.example.com', type: 'ReplacePrefixMatch' };
    await router.reconcile(ctx, istioCanary({ service: { rewrite } }));
    expect(http(kube)[0]).toMatchObject({ rewrite: { uri: '/', authority: 'podinfo.example.com' } });
    expect(JSON.stringify(http(kube)[0])).not.toContain('ReplacePrefixMatch');
  });

  // TestIstioRouter_SetRoutes ("normal"), TestIstioRouter_HTTPRequestHeaders, TestIstioRouter_CORS
  it('setRoutes writes the weights on the one weighted route', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, istioCanary());
    await router.setRoutes(ctx, istioCanary(), weights(60, 40));
    expect(http(kube)).toEqual([{ match: flaggerService.match, ...common, route: [primary(60), canaryDest(40)] }]);
    await expect(router.getRoutes(ctx, istioCanary())).resolves.toEqual(weights(60, 40));
  });

  // TestIstioRouter_SetRoutes ("mirror")
  it.each([0, 10, 50])('mirrors to the canary with mirrorWeight %i', async (mirrorWeight) => {
    const { kube, router, ctx } = setup();
    const canary = istioCanary({ analysis: { ...canaryAnalysis, mirror: true, mirrorWeight } });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, weights(100, 0, true));
    expect(http(kube)).toEqual([
      {
        match: flaggerService.match,
        ...common,
        route: [primary(100), canaryDest(0)],
        mirror: { host: 'podinfo-canary' },
        ...(mirrorWeight > 0 ? { mirrorPercentage: { value: mirrorWeight } } : {}),
      },
    ]);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(100, 0, true));
    // reconcile keeps the mirror; the next step drops it.
    await router.reconcile(ctx, canary);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(100, 0, true));
    await router.setRoutes(ctx, canary, weights(90, 10));
    expect(http(kube)[0]).not.toHaveProperty('mirror');
  });

  // TestIstioRouter_GetRoutes
  it('getRoutes reads a mirror set by someone else, and fails without a split', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, istioCanary());
    const routes = http(kube).map((r) => (isRecord(r) ? { ...r, mirror: { host: 'podinfo-canary' } } : r));
    kube.upsert({ ...vs(kube), spec: { ...spec(vs(kube)), http: routes } });
    await expect(router.getRoutes(ctx, istioCanary())).resolves.toEqual(weights(100, 0, true));

    kube.upsert({
      ...vs(kube),
      spec: { hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] },
    });
    await expect(router.getRoutes(ctx, istioCanary())).rejects.toThrow(
      /does not contain routes for podinfo-primary and podinfo-canary/,
    );
    await expect(setup().router.getRoutes(ctx, istioCanary())).rejects.toThrow(
      /VirtualService test\/podinfo not found/,
    );
  });

  // TestIstioRouter_ABTest, TestIstioRouter_Match
  it('A/B: the analysis conditions merged into each service match go to the weighted route, the rest to the primary', async () => {
    const { kube, router, ctx } = setup();
    const analysis = abAnalysis([
      { headers: { 'x-user-type': { exact: 'test' }, 'x-auth-test': { exact: 'test' } } },
      { headers: { 'x-session-id': { exact: 'test' } } },
    ]);
    const canary = istioCanary({ analysis });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, weights(0, 100));
    const base = flaggerService.match[0];
    expect(http(kube)).toEqual([
      {
        match: [
          { ...base, headers: { 'x-user-type': { exact: 'test' }, 'x-auth-test': { exact: 'test' } } },
          { ...base, headers: { 'x-session-id': { exact: 'test' } } },
        ],
        ...common,
        route: [primary(0), canaryDest(100)],
      },
      { match: flaggerService.match, ...common, route: [primary(100)] },
    ]);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(0, 100));
  });

  // TestIstioRouter_Match (no service.match)
  it('A/B without service.match: the conditions as they are, and a default route without match', async () => {
    const { kube, router, ctx } = setup();
    const canary = istioCanary({
      service: { match: [] },
      analysis: abAnalysis([{ headers: { 'x-user-type': { exact: 'test' } } }]),
    });
    await router.reconcile(ctx, canary);
    expect(http(kube)).toEqual([
      { match: [{ headers: { 'x-user-type': { exact: 'test' } } }], ...common, route: [primary(100), canaryDest(0)] },
      { ...common, route: [primary(100)] },
    ]);
  });

  it('mergeMatches unites headers with the service match instead of replacing them (unlike Flagger)', () => {
    const merged = mergeMatches(
      [{ headers: { 'x-canary': { exact: 'yes' } }, queryParams: { beta: { exact: '1' } } }],
      [{ uri: { prefix: '/api' }, headers: { 'x-tenant': { exact: 'a' } } }],
    );
    expect(merged).toEqual([
      {
        uri: { prefix: '/api' },
        headers: { 'x-tenant': { exact: 'a' }, 'x-canary': { exact: 'yes' } },
        queryParams: { beta: { exact: '1' } },
      },
    ]);
  });

  // TestIstioRouter_GatewayPort, TestIstioRouter_Delegate
  it('delegation: no hosts nor gateways, destinations with the port', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, istioCanary({ service: { gateways: [], delegation: true } }));
    const s = spec(vs(kube));
    expect(s).not.toHaveProperty('hosts');
    expect(s).not.toHaveProperty('gateways');
    expect(http(kube)[0]).toMatchObject({ route: [primary(100), canaryDest(0)] });
  });

  it('delegation with hosts or gateways is an invalid canary, and nothing is written', async () => {
    const { kube, router, ctx } = setup();
    await expect(router.reconcile(ctx, istioCanary({ service: { delegation: true } }))).rejects.toThrow(
      new InvalidCanaryError('VirtualService podinfo.test cannot have hosts and gateways when delegation enabled'),
    );
    expect(kube.actions).toEqual([]);
  });

  describe('TCP (appProtocol: tcp)', () => {
    // newTestCanaryTCP in Flagger's istio_test.go
    const tcpCanary = () => istioCanary({ service: { appProtocol: 'TCP', match: [{ port: 9898 }] } });

    // TestIstioRouter_SetRoutesTCP, TestIstioRouter_GetRoutesTCP
    it('routes with one TCP route matching the service ports', async () => {
      const { kube, router, ctx } = setup();
      await router.reconcile(ctx, tcpCanary());
      await expect(router.getRoutes(ctx, tcpCanary())).resolves.toEqual(INITIAL_WEIGHTS);
      await router.setRoutes(ctx, tcpCanary(), weights(60, 40));
      expect(spec(vs(kube))).toEqual({
        hosts: ['podinfo'],
        gateways: ['istio/public-gateway', 'mesh'],
        tcp: [{ match: [{ port: 9898 }], route: [primary(60), canaryDest(40)] }],
      });
      await expect(router.getRoutes(ctx, tcpCanary())).resolves.toEqual(weights(60, 40));
    });

    it.each<[string, CanaryAnalysis]>([
      ['A/B', abAnalysis([{ headers: { 'x-user': { exact: 'a' } } }])],
      ['mirroring', { ...canaryAnalysis, mirror: true }],
    ])('refuses %s before writing anything', async (_, analysis) => {
      const { kube, router, ctx } = setup();
      const canary = istioCanary({ analysis, service: { appProtocol: 'tcp' } });
      await expect(router.reconcile(ctx, canary)).rejects.toThrow(UnsupportedError);
      await expect(router.setRoutes(ctx, canary, weights(90, 10))).rejects.toThrow(UnsupportedError);
      expect(kube.actions).toEqual([]);
    });
  });

  it.each<[string, Partial<CanaryService>, CanaryAnalysis]>([
    ['a suffix A/B condition', {}, abAnalysis([{ headers: { 'x-user': { suffix: 'a' } } }])],
    ['an empty A/B condition', {}, abAnalysis([{}])],
  ])('refuses %s as invalid before writing anything', async (_, service, analysis) => {
    const { kube, router, ctx } = setup();
    await expect(router.reconcile(ctx, istioCanary({ service, analysis }))).rejects.toThrow(InvalidCanaryError);
    expect(kube.actions).toEqual([]);
  });

  it('ignores session affinity with A/B, as Flagger does: the A/B routes carry no cookie', async () => {
    const { router, ctx } = setup();
    const ab = abAnalysis([{ headers: { 'x-user': { exact: 'a' } } }]);
    const canary = istioCanary({ analysis: { ...ab, sessionAffinity: { cookieName: 'c' } } });
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    const vs = buildVirtualService(canary, { primary: 0, canary: 100, mirrored: false });
    expect(vs).toEqual(
      buildVirtualService(istioCanary({ analysis: ab }), { primary: 0, canary: 100, mirrored: false }),
    );
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 0, canary: 100, mirrored: false });
  });

  describe('takeover and finalize', () => {
    const userSpec = {
      hosts: ['podinfo'],
      gateways: ['istio-system/ingressgateway'],
      http: [{ route: [{ destination: { host: 'podinfo' } }] }],
    };
    const userVs = (annotations: Record<string, string> = {}): KubeObject => ({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'podinfo', namespace: NS, annotations: { team: 'web', ...annotations } },
      spec: userSpec,
    });

    it('keeps the spec of a VirtualService it takes over in the original-configuration annotation, and restores it', async () => {
      const { kube, router, ctx } = setup([userVs()]);
      await router.reconcile(ctx, istioCanary());
      const taken = vs(kube);
      expect(taken.metadata.annotations).toEqual({ team: 'web', ...toolkit, [ORIGINAL]: JSON.stringify(userSpec) });
      expect(taken.metadata.ownerReferences).toBeUndefined();
      expect(http(kube)).toHaveLength(1);

      // Later writes keep the annotation and never overwrite it with Fledge's own spec.
      await router.setRoutes(ctx, istioCanary(), weights(80, 20));
      await router.reconcile(ctx, istioCanary({ service: { timeout: '3s' } }));
      expect(vs(kube).metadata.annotations?.[ORIGINAL]).toBe(JSON.stringify(userSpec));

      await router.finalize(ctx, istioCanary());
      expect(spec(vs(kube))).toEqual(userSpec);
    });

    // TestIstioRouter_Finalize (kubectl annotation)
    it('restores from kubectl last-applied-configuration and adds no annotation of its own', async () => {
      const lastApplied = JSON.stringify({
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'VirtualService',
        metadata: { annotations: {}, name: 'podinfo', namespace: NS },
        spec: userSpec,
      });
      const { kube, router, ctx } = setup([userVs({ [LAST_APPLIED]: lastApplied })]);
      await router.reconcile(ctx, istioCanary());
      expect(vs(kube).metadata.annotations).not.toHaveProperty(ORIGINAL);
      expect(http(kube)[0]).toMatchObject({ route: [primary(100), canaryDest(0)] });
      await router.finalize(ctx, istioCanary());
      expect(spec(vs(kube))).toEqual(userSpec);
    });

    // TestIstioRouter_Finalize (flagger annotation)
    it('restores the original-configuration annotation written before (e.g. by Flagger)', async () => {
      const stored = { http: [{ match: flaggerService.match, retries: flaggerService.retries }] };
      const { kube, router, ctx } = setup();
      await router.reconcile(ctx, istioCanary());
      kube.upsert({
        ...vs(kube),
        metadata: { ...vs(kube).metadata, annotations: { [ORIGINAL]: JSON.stringify(stored) } },
      });
      await router.reconcile(ctx, istioCanary());
      await router.finalize(ctx, istioCanary());
      expect(spec(vs(kube))).toEqual(stored);
    });

    // TestIstioRouter_Finalize (no annotation, VS not found)
    it('leaves a VirtualService it created alone, and a missing one is nothing to revert', async () => {
      const log = new RecordingLogger();
      const { kube, router } = setup();
      const ctx = newCtx(log);
      await router.finalize(ctx, istioCanary());
      await router.reconcile(ctx, istioCanary());
      kube.clearActions();
      await router.finalize(ctx, istioCanary());
      expect(kube.actions).toEqual([]);
      expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
        'VirtualService original configuration not found, unable to revert',
      ]);
    });

    it('fails on an annotation that is not JSON', async () => {
      const { router, ctx } = setup([userVs({ [ORIGINAL]: '{not json' })]);
      await expect(router.finalize(ctx, istioCanary())).rejects.toThrow(/original-configuration is not JSON/);
    });
  });

  it('takes over an existing DestinationRule without adding an owner', async () => {
    const dr: KubeObject = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'podinfo-primary', namespace: NS },
      spec: { host: 'podinfo-primary', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    };
    const { kube, router, ctx } = setup([dr]);
    await router.reconcile(ctx, istioCanary());
    const primaryDr = kube.writes({ type: 'DestinationRule' }).find((w) => w.key === `${NS}/podinfo-primary`);
    expect(primaryDr?.body).toEqual({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'podinfo-primary', namespace: NS },
      spec: { host: 'podinfo-primary' },
    });
  });

  describe('session affinity', () => {
    /** Draws 'aaaaaaaaaa', then 'bbbbbbbbbb', …: a reused cookie keeps its letter. */
    function drawing() {
      let n = 0;
      return () => String.fromCharCode(97 + n++).repeat(10);
    }
    function withCanary(canary: Canary) {
      const kube = new FakeKube([canary]);
      return { kube, router: new IstioRouter({ kube, cookieValue: drawing() }), ctx: newCtx() };
    }
    const base = flaggerService.match[0];
    const cookieMatch = (cookie: string) => [
      { ...base, headers: { Cookie: { regex: `.*${cookie.replace('=', '.*')}.*` } } },
    ];
    const setCookie = (d: object, value: string) => ({ ...d, headers: { response: { add: { 'Set-Cookie': value } } } });
    const statusPatches = (kube: FakeKube) => kube.writes({ verb: 'patchStatus', type: 'Canary' }).map((w) => w.body);

    // TestIstioRouter_SetRoutes ("session affinity")
    it('sets a canary cookie while the canary gets traffic, keeps it across steps, and expires it at 0', async () => {
      const sessionAffinity = {
        cookieName: 'flagger-cookie',
        domain: 'flagger.app',
        httpOnly: true,
        maxAge: 300,
        partitioned: true,
        path: '/app',
        sameSite: 'Strict' as const,
        secure: true,
      };
      const canary = istioCanary({ analysis: { ...canaryAnalysis, sessionAffinity } });
      const { kube, router, ctx } = withCanary(canary);
      await router.reconcile(ctx, canary);
      expect(http(kube)).toEqual([{ match: flaggerService.match, ...common, route: [primary(100), canaryDest(0)] }]);

      const cookie = 'flagger-cookie=aaaaaaaaaa';
      const attributes = 'Max-Age=300; Domain=flagger.app; HttpOnly; Partitioned; Path=/app; SameSite=Strict; Secure';
      const running = (p: number, c: number) => [
        { match: cookieMatch(cookie), ...common, route: [primary(0), canaryDest(100)] },
        {
          match: flaggerService.match,
          ...common,
          route: [primary(p), setCookie(canaryDest(c), `${cookie}; ${attributes}`)],
        },
      ];
      await router.setRoutes(ctx, canary, weights(90, 10));
      expect(http(kube)).toEqual(running(90, 10));
      await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(90, 10));

      // reconcile changes nothing; the next step keeps the cookie.
      kube.clearActions();
      await router.reconcile(ctx, canary);
      expect(kube.actions).toEqual([]);
      await router.setRoutes(ctx, canary, weights(50, 50));
      expect(http(kube)).toEqual(running(50, 50));

      await router.setRoutes(ctx, canary, weights(100, 0));
      expect(http(kube)).toEqual([
        {
          match: cookieMatch(cookie),
          ...common,
          headers: {
            ...common.headers,
            response: { ...common.headers.response, add: { 'Set-Cookie': `${cookie}; Max-Age=-1` } },
          },
          route: [primary(100), canaryDest(0)],
        },
        { match: flaggerService.match, ...common, route: [primary(100), canaryDest(0)] },
      ]);
      await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(100, 0));
      expect(statusPatches(kube)).toEqual([
        { status: { sessionAffinityCookie: null, previousSessionAffinityCookie: cookie } },
      ]);
      const stored = kube.peek(Resources.canary, { namespace: NS, name: 'podinfo' });
      expect(stored?.['status']).toEqual({ previousSessionAffinityCookie: cookie });
    });

    it('records the cookie in the Canary status once, and draws a new one for the next run', async () => {
      const canary = istioCanary({ analysis: { ...canaryAnalysis, sessionAffinity: { cookieName: 'c' } } });
      const { kube, router, ctx } = withCanary(canary);
      await router.reconcile(ctx, canary);
      await router.setRoutes(ctx, canary, weights(90, 10));
      await router.setRoutes(ctx, canary, weights(80, 20));
      expect(statusPatches(kube)).toEqual([{ status: { sessionAffinityCookie: 'c=aaaaaaaaaa' } }]);
      await router.setRoutes(ctx, canary, weights(100, 0));
      // The Canary as the scheduler reads it after the run: the cookie moved to previous.
      const after = istioCanary({
        analysis: { ...canaryAnalysis, sessionAffinity: { cookieName: 'c' } },
        status: { previousSessionAffinityCookie: 'c=aaaaaaaaaa' },
      });
      await router.setRoutes(ctx, after, weights(90, 10));
      expect(JSON.stringify(http(kube))).toContain('c=bbbbbbbbbb; Max-Age=86400');
      expect(JSON.stringify(http(kube))).not.toContain('aaaaaaaaaa');
    });

    // TestIstioRouter_getSessionAffinityRoutes ("with primary cookie")
    it('with primaryCookieName: a sticky primary route and a primary cookie living one interval', async () => {
      const sessionAffinity = {
        cookieName: 'canary-flagger-cookie',
        primaryCookieName: 'primary-flagger-cookie',
        maxAge: 300,
      };
      const canary = istioCanary({ analysis: { ...canaryAnalysis, interval: '15s', sessionAffinity } });
      const { kube, router, ctx } = withCanary(canary);
      await router.reconcile(ctx, canary);
      await router.setRoutes(ctx, canary, weights(90, 10));
      const c = 'canary-flagger-cookie=bbbbbbbbbb';
      const p = 'primary-flagger-cookie=aaaaaaaaaa';
      expect(http(kube)).toEqual([
        { match: cookieMatch(c), ...common, route: [primary(0), canaryDest(100)] },
        { match: cookieMatch(p), ...common, route: [primary(100), canaryDest(0)] },
        {
          match: flaggerService.match,
          ...common,
          route: [setCookie(primary(90), `${p}; Max-Age=15`), setCookie(canaryDest(10), `${c}; Max-Age=300`)],
        },
      ]);
      expect(statusPatches(kube)).toEqual([{ status: { sessionAffinityCookie: c, primarySessionAffinityCookie: p } }]);
      await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights(90, 10));
    });
  });

  // For any weight w: setRoutes(w) then getRoutes() gives w back, and a repeated setRoutes(w) writes nothing.
  describe.each<[string, () => Canary]>([
    ['HTTP', () => istioCanary()],
    ['TCP', () => istioCanary({ service: { appProtocol: 'tcp', match: [{ port: 9898 }] } })],
    ['A/B', () => istioCanary({ analysis: abAnalysis([{ headers: { 'x-user': { exact: 'a' } } }]) })],
    [
      'session affinity',
      () =>
        istioCanary({ analysis: { ...canaryAnalysis, sessionAffinity: { cookieName: 'c', primaryCookieName: 'p' } } }),
    ],
  ])('weights round-trip (%s)', (_, make) => {
    it('for every weight 0..100', async () => {
      const canary = make();
      const { kube, router, ctx } = setup([canary]);
      await router.reconcile(ctx, canary);
      for (let w = 0; w <= 100; w++) {
        const want = weights(100 - w, w);
        await router.setRoutes(ctx, canary, want);
        await expect(router.getRoutes(ctx, canary)).resolves.toEqual(want);
        const before = kube.actions.length;
        await router.setRoutes(ctx, canary, want);
        await router.reconcile(ctx, canary);
        expect(kube.actions.slice(before)).toEqual([]);
      }
    });
  });

  it('leaves spec fields another manager owns alone instead of rewriting them every tick, but drops its own', async () => {
    const managed = (manager: string, operation: string, fields: string[]) => ({
      manager,
      operation,
      fieldsV1: { 'f:spec': Object.fromEntries(fields.map((f) => [`f:${f}`, {}])) },
    });
    const dr = (managedFields: object[]): KubeObject => ({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'podinfo-primary', namespace: NS, managedFields } as KubeObject['metadata'],
      spec: { host: 'podinfo-primary', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    const primaryWrites = (kube: FakeKube) =>
      kube.writes({ type: 'DestinationRule' }).filter((w) => w.key === `${NS}/podinfo-primary`);

    const theirs = setup([dr([managed('kubectl-client-side-apply', 'Update', ['host', 'trafficPolicy'])])]);
    await theirs.router.reconcile(theirs.ctx, istioCanary());
    expect(primaryWrites(theirs.kube)).toEqual([]);

    const ours = setup([dr([managed('fledge', 'Apply', ['host', 'trafficPolicy'])])]);
    await ours.router.reconcile(ours.ctx, istioCanary());
    expect(primaryWrites(ours.kube)).toHaveLength(1);
  });
});
