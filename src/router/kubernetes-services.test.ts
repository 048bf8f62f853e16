import { describe, expect, it } from 'vitest';
import { InvalidCanaryError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { buildService, KubernetesServiceRouter, NopServiceRouter } from './kubernetes-services.ts';
import { CANARY_UID, LaggingKube, NS, newCanary, newCtx, podinfoMetadata } from './router.fixture.ts';

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
const ORIGINAL = 'flagger.kubernetes.io/original-configuration';

function spec(obj: KubeObject | undefined): Record<string, unknown> {
  const s = obj?.['spec'];
  if (!isRecord(s)) throw new Error('object has no spec');
  return s;
}

function svc(kube: FakeKube, name: string): KubeObject {
  const obj = kube.peek(Resources.service, { namespace: NS, name });
  if (obj === undefined) throw new Error(`Service ${name} missing`);
  return obj;
}

function setup(objects: KubeObject[] = [], ports: Record<string, number> = {}) {
  const kube = new FakeKube(objects);
  const router = new KubernetesServiceRouter({ kube, metadata: podinfoMetadata(ports) });
  return { kube, router, ctx: newCtx() };
}

/** A Service the user created (kubectl), of type NodePort. */
function userApex(over: { selector?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'podinfo',
      namespace: NS,
      labels: { team: 'web' },
      annotations: { note: 'mine', ...over.annotations },
    },
    spec: {
      type: 'NodePort',
      clusterIP: '10.96.0.15',
      selector: over.selector ?? { app: 'podinfo' },
      ports: [{ name: 'http', port: 80, targetPort: 9898, protocol: 'TCP', nodePort: 30080 }],
    },
  };
}

describe('buildService', () => {
  it('builds the canary Service: ClusterIP, main port, selector, labels, annotations, owner', () => {
    const canary = newCanary({ service: { canary: { labels: { tier: 'c' }, annotations: { a: 'b' } } } });
    const s = buildService(canary, {
      name: 'podinfo-canary',
      selector: { app: 'podinfo' },
      metadata: canary.spec.service?.canary,
      ports: {},
      labelKey: 'app',
    });
    expect(s).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'podinfo-canary',
        namespace: NS,
        labels: { tier: 'c', app: 'podinfo-canary' },
        annotations: { a: 'b', ...toolkit },
        ownerReferences: [ownerRef],
      },
      spec: {
        type: 'ClusterIP',
        selector: { app: 'podinfo' },
        ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }],
      },
    });
  });

  it('honours portName, a named targetPort, appProtocol, trafficDistribution and headless', () => {
    const canary = newCanary({
      service: {
        portName: 'grpc',
        targetPort: 'grpc-port',
        appProtocol: 'kubernetes.io/h2c',
        trafficDistribution: 'PreferClose',
        headless: true,
      },
    });
    const s = buildService(canary, {
      name: 'podinfo-primary',
      selector: { app: 'podinfo-primary' },
      metadata: undefined,
      ports: {},
      labelKey: 'app',
    });
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      clusterIP: 'None',
      selector: { app: 'podinfo-primary' },
      ports: [{ name: 'grpc', port: 9898, targetPort: 'grpc-port', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }],
      trafficDistribution: 'PreferClose',
    });
    expect(s.metadata.labels).toEqual({ app: 'podinfo-primary' });
  });

  it('adds discovered ports sorted by port, without clashes with the main port, only with portDiscovery', () => {
    const ports = { 'tcp-sidecar-0': 9999, metrics: 8080, http: 1234, admin: 9898, grpc: 8080 };
    const input = {
      name: 'podinfo',
      selector: { app: 'podinfo-primary' },
      metadata: undefined,
      ports,
      labelKey: 'app',
    };
    expect(buildService(newCanary({ service: { portDiscovery: true } }), input).spec.ports).toEqual([
      { name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' },
      { name: 'grpc', port: 8080, targetPort: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 8080, targetPort: 8080, protocol: 'TCP' },
      { name: 'tcp-sidecar-0', port: 9999, targetPort: 9999, protocol: 'TCP' },
    ]);
    expect(buildService(newCanary(), input).spec.ports).toHaveLength(1);
  });

  it('lets the selector label win over a user label of the same key', () => {
    const canary = newCanary({ service: { apex: { labels: { app: 'other', x: 'y' } } } });
    const s = buildService(canary, {
      name: 'podinfo',
      selector: { app: 'podinfo-primary' },
      metadata: canary.spec.service?.apex,
      ports: {},
      labelKey: 'app',
    });
    expect(s.metadata.labels).toEqual({ app: 'podinfo', x: 'y' });
  });

  it('refuses a canary without spec.service', () => {
    const canary = newCanary();
    const { service: _s, ...specWithout } = canary.spec;
    expect(() =>
      buildService(
        { ...canary, spec: specWithout },
        { name: 'x', selector: {}, metadata: undefined, ports: {}, labelKey: 'app' },
      ),
    ).toThrow(InvalidCanaryError);
  });
});

describe('KubernetesServiceRouter', () => {
  it('initialize creates -canary and -primary, reconcile creates the apex selecting the primary', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary();
    await router.initialize(ctx, canary);
    await router.reconcile(ctx, canary);
    expect(kube.writes().map((a) => `${a.verb} ${a.key}`)).toEqual([
      `apply ${NS}/podinfo-canary`,
      `apply ${NS}/podinfo-primary`,
      `apply ${NS}/podinfo`,
    ]);
    expect(spec(svc(kube, 'podinfo-canary'))['selector']).toEqual({ app: 'podinfo' });
    expect(spec(svc(kube, 'podinfo-primary'))['selector']).toEqual({ app: 'podinfo-primary' });
    expect(spec(svc(kube, 'podinfo'))['selector']).toEqual({ app: 'podinfo-primary' });
    expect(svc(kube, 'podinfo').metadata.ownerReferences).toEqual([ownerRef]);
    expect(svc(kube, 'podinfo').metadata.labels).toEqual({ app: 'podinfo' });
  });

  it('writes nothing when nothing changed', async () => {
    const { kube, router, ctx } = setup([], { metrics: 8080 });
    const canary = newCanary({ service: { portDiscovery: true, apex: { annotations: { a: '1' } } } });
    await router.initialize(ctx, canary);
    await router.reconcile(ctx, canary);
    kube.clearActions();
    await router.initialize(ctx, canary);
    await router.reconcile(ctx, canary);
    await router.initialize(ctx, canary);
    expect(kube.actions).toEqual([]);
  });

  it('updates the Services when the spec changes', async () => {
    const { kube, router, ctx } = setup();
    await router.initialize(ctx, newCanary());
    await router.reconcile(ctx, newCanary());
    kube.clearActions();
    const changed = newCanary({ service: { port: 8080, apex: { labels: { tier: 'web' } } } });
    await router.initialize(ctx, changed);
    await router.reconcile(ctx, changed);
    expect(kube.writes({ verb: 'apply' })).toHaveLength(3);
    expect(spec(svc(kube, 'podinfo'))['ports']).toEqual([
      { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
    ]);
    expect(svc(kube, 'podinfo').metadata.labels).toEqual({ tier: 'web', app: 'podinfo' });
  });

  it('keeps the type and node ports of a Service it owns', async () => {
    const owned: KubeObject = {
      ...userApex(),
      metadata: {
        name: 'podinfo',
        namespace: NS,
        labels: { app: 'podinfo' },
        annotations: toolkit,
        ownerReferences: [ownerRef],
      },
    };
    const { kube, router, ctx } = setup([owned]);
    await router.reconcile(ctx, newCanary({ service: { port: 80 } }));
    expect(kube.writes({ verb: 'apply' })).toHaveLength(1);
    expect(spec(svc(kube, 'podinfo'))).toMatchObject({
      type: 'NodePort',
      selector: { app: 'podinfo-primary' },
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30080 }],
    });
    kube.clearActions();
    await router.reconcile(ctx, newCanary({ service: { port: 80 } }));
    expect(kube.actions).toEqual([]);
  });

  it('neither adds, changes nor removes unmanaged metadata keys', async () => {
    const { kube, router, ctx } = setup();
    const canary = newCanary({
      service: {
        apex: { annotations: { managed: 'yes', 'not-mine': 'fledge' } },
        unmanagedMetadata: { annotations: ['not-mine', 'set-by-other'] },
      },
    });
    await router.reconcile(ctx, canary);
    expect(svc(kube, 'podinfo').metadata.annotations).toEqual({ managed: 'yes', ...toolkit });

    const current = svc(kube, 'podinfo');
    kube.upsert({
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, 'set-by-other': 'x' } },
    });
    kube.clearActions();
    await router.reconcile(ctx, canary);
    expect(kube.actions).toEqual([]);
    expect(svc(kube, 'podinfo').metadata.annotations?.['set-by-other']).toBe('x');
  });

  it('refuses a Service controlled by another Canary', async () => {
    const other: KubeObject = {
      ...userApex(),
      metadata: { name: 'podinfo', namespace: NS, ownerReferences: [{ ...ownerRef, name: 'other', uid: 'u-2' }] },
    };
    const { kube, router, ctx } = setup([other]);
    await expect(router.reconcile(ctx, newCanary())).rejects.toThrow(/controlled by Canary other/);
    expect(kube.actions).toEqual([]);
  });

  describe('an apex Service the user created', () => {
    it('is taken over: ports and selector only, keeping type, clusterIP, node ports, labels and annotations', async () => {
      const { kube, router, ctx } = setup([userApex()]);
      await router.reconcile(ctx, newCanary());
      const writes = kube.writes();
      expect(writes.map((a) => a.verb)).toEqual(['patch']);
      expect(writes[0]?.body).toMatchObject({ metadata: { resourceVersion: expect.any(String) as unknown } });
      const apex = svc(kube, 'podinfo');
      expect(spec(apex)).toEqual({
        type: 'NodePort',
        clusterIP: '10.96.0.15',
        selector: { app: 'podinfo-primary' },
        ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP', nodePort: 30080 }],
      });
      expect(apex.metadata.labels).toEqual({ team: 'web' });
      expect(apex.metadata.ownerReferences).toBeUndefined();
      expect(apex.metadata.annotations).toMatchObject({ note: 'mine', ...toolkit });
      expect(JSON.parse(apex.metadata.annotations?.[ORIGINAL] ?? '')).toEqual({
        spec: { selector: { app: 'podinfo' } },
        metadata: {
          annotations: { 'kustomize.toolkit.fluxcd.io/reconcile': null, 'helm.toolkit.fluxcd.io/driftDetection': null },
        },
      });

      kube.clearActions();
      await router.reconcile(ctx, newCanary());
      expect(kube.actions).toEqual([]);
    });

    it('is pointed back at the target pods by finalize, with what Fledge added removed', async () => {
      const { kube, router, ctx } = setup([userApex({ selector: { app: 'podinfo', tier: 'web' } })]);
      await router.reconcile(ctx, newCanary());
      expect(spec(svc(kube, 'podinfo'))['selector']).toEqual({ app: 'podinfo-primary' });
      await router.finalize(ctx, newCanary());
      const apex = svc(kube, 'podinfo');
      expect(spec(apex)['selector']).toEqual({ app: 'podinfo', tier: 'web' });
      expect(apex.metadata.annotations).toEqual({ note: 'mine' });
      expect(spec(apex)['clusterIP']).toBe('10.96.0.15');

      kube.clearActions();
      await router.finalize(ctx, newCanary());
      expect(kube.actions).toEqual([]);
    });

    it('restores the Flux annotations the user had set before the takeover', async () => {
      const { kube, router, ctx } = setup([
        userApex({ annotations: { 'kustomize.toolkit.fluxcd.io/reconcile': 'enabled' } }),
      ]);
      await router.reconcile(ctx, newCanary());
      expect(svc(kube, 'podinfo').metadata.annotations?.['kustomize.toolkit.fluxcd.io/reconcile']).toBe('disabled');
      await router.finalize(ctx, newCanary());
      expect(svc(kube, 'podinfo').metadata.annotations).toEqual({
        note: 'mine',
        'kustomize.toolkit.fluxcd.io/reconcile': 'enabled',
      });
    });

    it('prefers the selector of kubectl last-applied-configuration on finalize', async () => {
      const lastApplied = JSON.stringify({ spec: { selector: { app: 'podinfo', version: 'v1' } } });
      const { kube, router, ctx } = setup([
        userApex({ annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }),
      ]);
      await router.reconcile(ctx, newCanary());
      await router.finalize(ctx, newCanary());
      expect(spec(svc(kube, 'podinfo'))['selector']).toEqual({ app: 'podinfo', version: 'v1' });
    });

    it('falls back to the target selector when nothing was recorded', async () => {
      const { kube, router, ctx } = setup([userApex({ selector: { app: 'podinfo-primary' } })]);
      await router.finalize(ctx, newCanary());
      expect(spec(svc(kube, 'podinfo'))['selector']).toEqual({ app: 'podinfo' });
    });

    it('is not created over when the cache has not seen it yet', async () => {
      const fake = new FakeKube();
      const kube = new LaggingKube(fake);
      kube.freeze([Resources.service], NS);
      fake.upsert(userApex());
      const router = new KubernetesServiceRouter({ kube, metadata: podinfoMetadata() });
      await router.reconcile(newCtx(), newCanary());
      expect(fake.writes().map((a) => a.verb)).toEqual(['patch']);
      expect(svc(fake, 'podinfo').metadata.ownerReferences).toBeUndefined();
    });
  });

  it('finalize leaves a Service it owns to garbage collection', async () => {
    const { kube, router, ctx } = setup();
    await router.reconcile(ctx, newCanary());
    kube.clearActions();
    await router.finalize(ctx, newCanary());
    expect(kube.actions).toEqual([]);
    expect(spec(svc(kube, 'podinfo'))['selector']).toEqual({ app: 'podinfo-primary' });
  });

  it('finalize does nothing without an apex Service', async () => {
    const { kube, router, ctx } = setup();
    await router.finalize(ctx, newCanary());
    expect(kube.actions).toEqual([]);
  });
});

describe('NopServiceRouter', () => {
  it('does nothing', async () => {
    const router = new NopServiceRouter();
    await expect(router.initialize(newCtx(), newCanary())).resolves.toBeUndefined();
    await expect(router.reconcile(newCtx(), newCanary())).resolves.toBeUndefined();
    await expect(router.finalize(newCtx(), newCanary())).resolves.toBeUndefined();
  });
});
