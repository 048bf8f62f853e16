import { describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary, SessionAffinity } from '../apis/flagger/v1beta1/types.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import { Resources } from '../kube/resources.ts';
import { buildCookie, cookieMatch } from './gateway-api-session.ts';
import { GatewayApiRouter, gatewayApiVersions, type GatewayApiVersion } from './gateway-api.ts';
import { blueGreenAnalysis, canaryAnalysis, NS, RecordingLogger, newCanary, newCtx } from './router.fixture.ts';

const primary = (weight: number) => ({ group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight });
const canaryRef = (weight: number) => ({ group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight });
const rootMatch = { path: { type: 'PathPrefix', value: '/' } } as const;
const setCookie = (value: string) => ({
  type: 'ResponseHeaderModifier',
  responseHeaderModifier: { add: [{ name: 'Set-Cookie', value }] },
});
const stickyMatch = (name: string, value: string) => ({
  ...rootMatch,
  headers: [{ name: 'Cookie', type: 'RegularExpression', value: `.*${name}.*${value}.*` }],
});

// TestGatewayAPIRouter_Routes "session affinity": every cookie attribute.
const fullAffinity: SessionAffinity = {
  cookieName: 'flagger-cookie',
  domain: 'flagger.app',
  httpOnly: true,
  maxAge: 300,
  partitioned: true,
  path: '/app',
  sameSite: 'Strict',
  secure: true,
};

function affinityCanary(sa: SessionAffinity, interval = '1m'): Canary {
  return newCanary({ analysis: { ...canaryAnalysis, interval, sessionAffinity: sa } });
}

/** A router whose cookie values are AAAAAAAAAA, BBBBBBBBBB, … and a FakeKube holding the Canary. */
function setup(canary: Canary, version: GatewayApiVersion = gatewayApiVersions.v1) {
  const kube = new FakeKube([canary]);
  let n = 0;
  const cookieValue = () => String.fromCharCode(65 + n++).repeat(10);
  const log = new RecordingLogger();
  return { kube, log, ctx: newCtx(log), router: new GatewayApiRouter({ kube, version, cookieValue }) };
}

function rules(kube: FakeKube, version: GatewayApiVersion = gatewayApiVersions.v1): unknown[] {
  const spec = kube.peek(version.type, { namespace: NS, name: 'podinfo' })?.['spec'];
  return isRecord(spec) && Array.isArray(spec['rules']) ? spec['rules'] : [];
}

function status(kube: FakeKube): unknown {
  return kube.peek(Resources.canary, { namespace: NS, name: 'podinfo' })?.['status'];
}

describe('buildCookie (Flagger SessionAffinity.BuildCookie)', () => {
  it('writes every attribute in Flagger order', () => {
    expect(buildCookie(fullAffinity, 'flagger-cookie=abc', 300)).toBe(
      'flagger-cookie=abc; Max-Age=300; Domain=flagger.app; HttpOnly; Partitioned; Path=/app; SameSite=Strict; Secure',
    );
    expect(buildCookie({ cookieName: 'c' }, 'c=abc', 86400)).toBe('c=abc; Max-Age=86400');
  });

  it('matches the cookie with Flagger regex', () => {
    expect(cookieMatch('c=abc')).toEqual({
      headers: [{ name: 'Cookie', type: 'RegularExpression', value: '.*c.*abc.*' }],
    });
  });
});

describe('GatewayApiRouter session affinity (TestGatewayAPIRouter_Routes, getSessionAffinityRouteRules)', () => {
  it('declares the capability', () => {
    expect(setup(newCanary()).router.capabilities.sessionAffinity).toBe(true);
  });

  it('sticks users to the canary during a run, then expires the cookie', async () => {
    const canary = affinityCanary(fullAffinity);
    const { kube, router, ctx } = setup(canary);
    await router.reconcile(ctx, canary);
    expect(rules(kube)).toEqual([{ matches: [rootMatch], backendRefs: [primary(100), canaryRef(0)] }]);

    // Canary run starts: sticky rule first, Set-Cookie on the canary backend of the weighted rule.
    await router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false });
    const cookieHeader =
      'flagger-cookie=AAAAAAAAAA; Max-Age=300; Domain=flagger.app; HttpOnly; Partitioned; Path=/app; SameSite=Strict; Secure';
    const running = (p: number, c: number) => [
      { matches: [stickyMatch('flagger-cookie', 'AAAAAAAAAA')], backendRefs: [primary(0), canaryRef(100)] },
      { matches: [rootMatch], backendRefs: [primary(p), { ...canaryRef(c), filters: [setCookie(cookieHeader)] }] },
    ];
    expect(rules(kube)).toEqual(running(90, 10));
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 90, canary: 10, mirrored: false });
    expect(status(kube)).toEqual({ sessionAffinityCookie: 'flagger-cookie=AAAAAAAAAA' });

    // Reconcile leaves the route as it is; the next step keeps the cookie.
    kube.clearActions();
    await router.reconcile(ctx, canary);
    expect(kube.writes({ verb: 'apply' })).toEqual([]);
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    expect(rules(kube)).toEqual(running(50, 50));

    // Promotion: the weighted rule stops setting the cookie, a rule deletes it from clients.
    await router.setRoutes(ctx, canary, { primary: 100, canary: 0, mirrored: false });
    expect(rules(kube)).toEqual([
      {
        matches: [stickyMatch('flagger-cookie', 'AAAAAAAAAA')],
        filters: [setCookie('flagger-cookie=AAAAAAAAAA; Max-Age=-1')],
        backendRefs: [primary(100), canaryRef(0)],
      },
      { matches: [rootMatch], backendRefs: [primary(100), canaryRef(0)] },
    ]);
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 100, canary: 0, mirrored: false });
    expect(status(kube)).toEqual({ previousSessionAffinityCookie: 'flagger-cookie=AAAAAAAAAA' });

    // The next run mints a new cookie.
    await router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false });
    expect(rules(kube)[0]).toEqual({
      matches: [stickyMatch('flagger-cookie', 'BBBBBBBBBB')],
      backendRefs: [primary(0), canaryRef(100)],
    });
  });

  it('keeps the cookie of a run across a restart (a new router reads it from the route)', async () => {
    const canary = affinityCanary({ cookieName: 'c' });
    const { kube, router, ctx } = setup(canary);
    await router.setRoutes(ctx, canary, { primary: 80, canary: 20, mirrored: false });
    const restarted = new GatewayApiRouter({ kube, cookieValue: () => 'ZZZZZZZZZZ' });
    const stored = parseCanary(kube.peek(Resources.canary, { namespace: NS, name: 'podinfo' }));
    kube.clearActions();
    await restarted.setRoutes(ctx, stored, { primary: 80, canary: 20, mirrored: false });
    expect(kube.actions).toEqual([]);
    await restarted.setRoutes(ctx, stored, { primary: 70, canary: 30, mirrored: false });
    expect(JSON.stringify(rules(kube))).toContain('c=AAAAAAAAAA; Max-Age=86400');
    expect(JSON.stringify(rules(kube))).not.toContain('ZZZZZZZZZZ');
  });

  // getSessionAffinityRouteRules "with primary cookie": three rules, primary Max-Age = interval.
  it('v1: adds the primary cookie and its sticky rule', async () => {
    const canary = affinityCanary({ cookieName: 'canary-c', primaryCookieName: 'primary-c', maxAge: 300 }, '15s');
    const { kube, router, ctx } = setup(canary);
    await router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false });
    expect(rules(kube)).toEqual([
      { matches: [stickyMatch('canary-c', 'AAAAAAAAAA')], backendRefs: [primary(0), canaryRef(100)] },
      { matches: [stickyMatch('primary-c', 'BBBBBBBBBB')], backendRefs: [primary(100), canaryRef(0)] },
      {
        matches: [rootMatch],
        backendRefs: [
          { ...primary(90), filters: [setCookie('primary-c=BBBBBBBBBB; Max-Age=15')] },
          { ...canaryRef(10), filters: [setCookie('canary-c=AAAAAAAAAA; Max-Age=300')] },
        ],
      },
    ]);
    expect(status(kube)).toEqual({
      sessionAffinityCookie: 'canary-c=AAAAAAAAAA',
      primarySessionAffinityCookie: 'primary-c=BBBBBBBBBB',
    });
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 90, canary: 10, mirrored: false });
  });

  // TestGatewayAPIV1Beta1Router_getSessionAffinityRouteRules: no primary cookie in v1beta1.
  it('v1beta1: ignores the primary cookie with a warning', async () => {
    const canary = affinityCanary({ cookieName: 'canary-c', primaryCookieName: 'primary-c', maxAge: 300 });
    const { kube, router, ctx, log } = setup(canary, gatewayApiVersions.v1beta1);
    await router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false });
    expect(rules(kube, gatewayApiVersions.v1beta1)).toEqual([
      { matches: [stickyMatch('canary-c', 'AAAAAAAAAA')], backendRefs: [primary(0), canaryRef(100)] },
      {
        matches: [rootMatch],
        backendRefs: [primary(90), { ...canaryRef(10), filters: [setCookie('canary-c=AAAAAAAAAA; Max-Age=300')] }],
      },
    ]);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'analysis.sessionAffinity.primaryCookieName is not applied: provider "gatewayapi:v1beta1" does not write it',
    ]);
  });

  it('keeps service filters, timeouts and the Blue/Green mirror on every rule', async () => {
    const canary = newCanary({
      service: { timeout: '10s', headers: { request: { set: { 'x-a': '1' } } } },
      analysis: { ...blueGreenAnalysis, mirror: true, sessionAffinity: { cookieName: 'c' } },
    });
    const { kube, router, ctx } = setup(canary);
    await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
    const header = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } };
    expect(rules(kube)).toEqual([
      {
        matches: [stickyMatch('c', 'AAAAAAAAAA')],
        filters: [header],
        backendRefs: [primary(0), canaryRef(100)],
        timeouts: { request: '10s' },
      },
      {
        matches: [rootMatch],
        filters: [header],
        backendRefs: [primary(0), { ...canaryRef(100), filters: [setCookie('c=AAAAAAAAAA; Max-Age=86400')] }],
        timeouts: { request: '10s' },
      },
    ]);
  });

  it('a status that cannot be written only warns: the route is the source of truth', async () => {
    const canary = affinityCanary({ cookieName: 'c' });
    const { router, ctx, log, kube } = setup(canary);
    kube.failOn({ verb: 'patchStatus' }, new Error('boom'));
    await router.setRoutes(ctx, canary, { primary: 90, canary: 10, mirrored: false });
    await expect(router.getRoutes(ctx, canary)).resolves.toEqual({ primary: 90, canary: 10, mirrored: false });
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'session affinity cookies not recorded in the Canary status',
    ]);
  });

  it('for every weight w in 0..100: setRoutes(w) then getRoutes() returns w, a second setRoutes(w) writes nothing', async () => {
    const canary = affinityCanary({ cookieName: 'c', primaryCookieName: 'p' });
    const { kube, router, ctx } = setup(canary);
    for (let w = 0; w <= 100; w++) {
      const weights = { primary: 100 - w, canary: w, mirrored: false };
      await router.setRoutes(ctx, canary, weights);
      await expect(router.getRoutes(ctx, canary)).resolves.toEqual(weights);
      const before = kube.writes({ type: 'HTTPRoute' }).length;
      await router.setRoutes(ctx, canary, weights);
      expect(kube.writes({ type: 'HTTPRoute' }).length).toBe(before);
    }
  });
});
