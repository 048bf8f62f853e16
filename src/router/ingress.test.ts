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
import { buildNginxCanaryIngress, IngressRouter } from './ingress.ts';
import { abAnalysis, NS, RecordingLogger, newCanary, newCtx } from './router.fixture.ts';

function setup(o: { analysis?: CanaryAnalysis; prefix?: string; source?: KubeObject } = {}) {
  const kube = new FakeKube([o.source ?? podinfoIngress()]);
  const router = new IngressRouter({ kube, annotationsPrefix: o.prefix });
  const canary = withIngressRef(newCanary(o.analysis === undefined ? {} : { analysis: o.analysis }));
  return { kube, router, canary, ctx: newCtx() };
}

const canaryIngress = (kube: FakeKube): KubeObject => stored(kube, Resources.ingress, 'podinfo-canary');
const annotations = (obj: KubeObject): Readonly<Record<string, string>> => obj.metadata.annotations ?? {};
/** The annotations of the last apply of the canary Ingress (FakeKube merges annotations; the API server drops absent ones). */
function lastApplied(kube: FakeKube): Readonly<Record<string, string>> {
  const body = kube.writes({ verb: 'apply' }).at(-1)?.body as KubeObject | undefined;
  return body?.metadata.annotations ?? {};
}

const ab = (headers: Record<string, { exact?: string; regex?: string; prefix?: string }>): CanaryAnalysis =>
  abAnalysis([{ headers }]);

describe('IngressRouter', () => {
  // Flagger TestIngressRouter_Reconcile (custom prefix), with the whole object compared.
  it('reconcile creates <ingress>-canary with the canary backend and canary annotations', async () => {
    const { kube, router, canary, ctx } = setup({ prefix: 'custom.ingress.kubernetes.io' });
    await router.reconcile(ctx, canary);
    const { metadata, ...rest } = canaryIngress(kube);
    expect({ ...rest, metadata: { ...metadata, resourceVersion: undefined, uid: undefined } }).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'podinfo-canary',
        namespace: NS,
        labels: { app: 'podinfo' },
        annotations: {
          'kubernetes.io/ingress.class': 'nginx',
          ...toolkit,
          'custom.ingress.kubernetes.io/canary': 'true',
          'custom.ingress.kubernetes.io/canary-weight': '0',
        },
        ownerReferences: [ownerRef],
        resourceVersion: undefined,
        uid: undefined,
        creationTimestamp: metadata.creationTimestamp,
        generation: metadata.generation,
      },
      spec: {
        rules: [
          {
            host: 'app.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'podinfo-canary', port: { number: 9898 } } },
                },
                { path: '/other', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    });
    // The user's Ingress is only read.
    expect(kube.writes().map((w) => w.key)).toEqual([`${NS}/podinfo-canary`]);
  });

  // Flagger TestIngressRouter_GetSetRoutes.
  it('setRoutes writes canary-weight and getRoutes reads it back; weight 0 resets', async () => {
    const { kube, router, canary, ctx } = setup({ prefix: 'prefix1.nginx.ingress.kubernetes.io' });
    await router.reconcile(ctx, canary);
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 100, canary: 0, mirrored: false });
    await router.setRoutes(ctx, canary, { primary: 50, canary: 50, mirrored: false });
    expect(annotations(canaryIngress(kube))).toMatchObject({
      'prefix1.nginx.ingress.kubernetes.io/canary': 'true',
      'prefix1.nginx.ingress.kubernetes.io/canary-weight': '50',
    });
    expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 50, canary: 50, mirrored: false });
    await router.setRoutes(ctx, canary, { primary: 100, canary: 0, mirrored: false });
    expect(annotations(canaryIngress(kube))).toMatchObject({
      'prefix1.nginx.ingress.kubernetes.io/canary': 'true',
      'prefix1.nginx.ingress.kubernetes.io/canary-weight': '0',
    });
  });

  // Flagger TestIngressRouter_ABTest: header exact, header regex, cookie.
  for (const [name, headers, want] of [
    [
      'header exact',
      { 'x-user-type': { exact: 'test' } },
      { 'canary-by-header': 'x-user-type', 'canary-by-header-value': 'test' },
    ],
    [
      'header regex',
      { 'x-user-type': { regex: 'test' } },
      { 'canary-by-header': 'x-user-type', 'canary-by-header-pattern': 'test' },
    ],
    ['cookie', { cookie: { exact: 'test' } }, { 'canary-by-cookie': 'test' }],
  ] as const) {
    it(`A/B by ${name}: the match routes to the canary at 100, weight 0 resets`, async () => {
      const { kube, router, canary, ctx } = setup({ analysis: ab(headers) });
      await router.reconcile(ctx, canary);
      await router.setRoutes(ctx, canary, { primary: 0, canary: 100, mirrored: false });
      const prefixed = Object.fromEntries(
        Object.entries(want).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v]),
      );
      expect(lastApplied(kube)).toEqual({
        'kubernetes.io/ingress.class': 'nginx',
        ...toolkit,
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '0',
        ...prefixed,
      });
      expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 0, canary: 100, mirrored: false });
      await router.setRoutes(ctx, canary, { primary: 100, canary: 0, mirrored: false });
      expect(lastApplied(kube)).toEqual({
        'kubernetes.io/ingress.class': 'nginx',
        ...toolkit,
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '0',
      });
      // The header/cookie rule is gone from the stored object too (removed explicitly).
      expect(await router.getRoutes(ctx, canary)).toEqual({ primary: 100, canary: 0, mirrored: false });
    });
  }

  it('A/B: a header entry and a cookie entry together (OR, as NGINX evaluates them)', () => {
    const canary = withIngressRef(
      newCanary({
        analysis: abAnalysis([
          { headers: { 'x-canary': { exact: 'insider' } } },
          { headers: { cookie: { exact: 'canary' } } },
        ]),
      }),
    );
    const obj = buildNginxCanaryIngress(canary, podinfoIngress(), { primary: 0, canary: 100, mirrored: false }, 'p');
    expect(obj.metadata.annotations).toMatchObject({
      'p/canary-by-header': 'x-canary',
      'p/canary-by-header-value': 'insider',
      'p/canary-by-cookie': 'canary',
    });
  });

  it("drops the user's own canary annotations from the copy", () => {
    const source = podinfoIngress({ 'nginx.ingress.kubernetes.io/canary-by-header': 'stale', 'other/x': 'y' });
    const obj = buildNginxCanaryIngress(
      withIngressRef(newCanary()),
      source,
      { primary: 90, canary: 10, mirrored: false },
      'nginx.ingress.kubernetes.io',
    );
    expect(obj.metadata.annotations).toEqual({
      'kubernetes.io/ingress.class': 'nginx',
      'other/x': 'y',
      ...toolkit,
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '10',
    });
  });

  const refused: readonly (readonly [string, CanaryAnalysis])[] = [
    ['two headers in one entry (NGINX would OR them)', ab({ a: { exact: '1' }, b: { exact: '2' } })],
    ['a prefix header match', ab({ a: { prefix: '1' } })],
    ['two different headers', abAnalysis([{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }])],
    ['query parameters', abAnalysis([{ queryParams: { a: { exact: '1' } } }])],
    ['source labels', abAnalysis([{ headers: { a: { exact: '1' } }, sourceLabels: { app: 'x' } }])],
  ];
  for (const [name, analysis] of mirrorOrAffinity) {
    it(`ignores ${name} as Flagger does, and routes by weight`, () =>
      expectIgnoredRoutingByWeight(setup({ analysis })));
  }
  for (const [name, analysis] of refused) {
    it(`refuses ${name} with an UnsupportedError before writing`, () =>
      expectRefusedBeforeWriting(setup({ analysis })));
  }

  it('refuses a canary without ingressRef or without an <apex> backend (InvalidCanaryError)', async () => {
    const { router, ctx } = setup();
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(/ingressRef is required/);
    const other = setup({ source: { ...podinfoIngress(), spec: { rules: [] } } });
    await expect(other.router.reconcile(other.ctx, other.canary)).rejects.toThrow(InvalidCanaryError);
    await expect(other.router.reconcile(other.ctx, other.canary)).rejects.toThrow(
      'backend podinfo not found in Ingress test/podinfo',
    );
  });

  it('reports a malformed user Ingress as an OperatorError naming it, never a crash', async () => {
    for (const spec of [{ rules: 'x' }, { rules: [{ http: { paths: [{ backend: {} }] } }] }, 'x']) {
      const { router, canary, ctx } = setup({ source: { ...podinfoIngress(), spec } });
      await expect(router.reconcile(ctx, canary)).rejects.toThrow(/Ingress test\/podinfo: malformed/);
    }
  });

  it("waits (retriable OperatorError) while the user's Ingress does not exist", async () => {
    const kube = new FakeKube();
    const router = new IngressRouter({ kube });
    const error: unknown = await router.reconcile(newCtx(), withIngressRef(newCanary())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperatorError);
    expect(error).not.toBeInstanceOf(InvalidCanaryError);
    expect(kube.writes()).toEqual([]);
  });

  it('reconcile keeps the current weight and follows changes of the user Ingress', async () => {
    const { kube, router, canary, ctx } = setup();
    await router.reconcile(ctx, canary);
    await router.setRoutes(ctx, canary, { primary: 70, canary: 30, mirrored: false });
    kube.upsert(podinfoIngress({ 'nginx.ingress.kubernetes.io/rewrite-target': '/' }));
    await router.reconcile(ctx, canary);
    expect(annotations(canaryIngress(kube))).toMatchObject({
      'nginx.ingress.kubernetes.io/rewrite-target': '/',
      'nginx.ingress.kubernetes.io/canary-weight': '30',
    });
  });

  it('getRoutes refuses an unreadable weight; reconcile then routes everything to the primary', async () => {
    const { kube, router, canary } = setup();
    const log = new RecordingLogger();
    const ctx = newCtx(log);
    await router.reconcile(ctx, canary);
    const obj = canaryIngress(kube);
    kube.upsert({
      ...obj,
      metadata: { ...obj.metadata, annotations: { 'nginx.ingress.kubernetes.io/canary-weight': 'ten' } },
    });
    await expect(router.getRoutes(ctx, canary)).rejects.toThrow(/canary-weight is not a weight: "ten"/);
    await router.reconcile(ctx, canary);
    expect(annotations(canaryIngress(kube))['nginx.ingress.kubernetes.io/canary-weight']).toBe('0');
    expect(log.lines.some((l) => l.level === 'warn' && l.msg.includes('unreadable'))).toBe(true);
  });

  it('finalize deletes the canary Ingress and leaves the user Ingress', async () => {
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
