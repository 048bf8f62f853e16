import { describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { comparePrimary, isFlaggerStatus, type PrimaryComparisonInput } from './adoption.ts';
import { DEFAULT_SELECTOR_LABELS } from './deployment-controller.ts';
import { NS, TRACKED_KEYS, newConfigs, newDeployment, newFixture } from './fixtures.fixture.ts';

type Json = Record<string, unknown>;
type Template = {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: Json & {
    containers: (Json & { image: string; env?: (Json & { valueFrom?: Record<string, { name: string }> })[] })[];
    volumes: Json[];
    affinity: { podAntiAffinity: Record<string, Json[]> };
  };
};

function templateOf(d: KubeObject): Template {
  return (d['spec'] as { template: Template }).template;
}

/**
 * The primary as Flagger 1.44 writes it (written out here by hand, from deployment_controller.go
 * and config_tracker.go, not with Fledge's builder): `-primary` selector value, Flux keys dropped,
 * a random `flagger-id`, tracked config references suffixed, and anti-affinity/topology terms on a
 * selector label whose value is the Deployment's name suffixed.
 */
function flaggerPrimary(target: KubeObject, tracked: readonly string[] = TRACKED_KEYS): KubeObject {
  const t = structuredClone(templateOf(target));
  const dropFlux = (m: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.includes('toolkit.fluxcd.io')));
  t.metadata.labels = { ...dropFlux(t.metadata.labels), app: 'podinfo-primary' };
  t.metadata.annotations = {
    ...dropFlux(t.metadata.annotations),
    'flagger-id': '0f6e0f7c-3c1e-4a5b-9d1e-2b1a4c5d6e7f',
  };
  const suffix = (kind: string, holder: Json | undefined, field = 'name'): void => {
    if (holder && tracked.includes(`${kind}/${String(holder[field])}`))
      holder[field] = `${String(holder[field])}-primary`;
  };
  const spec = t.spec;
  for (const v of spec.volumes) {
    suffix('configmap', v['configMap'] as Json | undefined);
    suffix('secret', v['secret'] as Json | undefined, 'secretName');
    for (const s of ((v['projected'] as Json | undefined)?.['sources'] as Json[] | undefined) ?? []) {
      suffix('configmap', s['configMap'] as Json | undefined);
      suffix('secret', s['secret'] as Json | undefined);
    }
  }
  const containers = [...spec.containers, ...((spec['initContainers'] as Template['spec']['containers']) ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      suffix('configmap', e.valueFrom?.['configMapKeyRef']);
      suffix('secret', e.valueFrom?.['secretKeyRef']);
    }
    for (const e of (c['envFrom'] as Json[] | undefined) ?? []) {
      suffix('configmap', e['configMapRef'] as Json | undefined);
      suffix('secret', e['secretRef'] as Json | undefined);
    }
  }
  const anti = spec.affinity.podAntiAffinity;
  const selectors = [
    ...(anti['requiredDuringSchedulingIgnoredDuringExecution'] ?? []).map((x) => x['labelSelector']),
    ...(anti['preferredDuringSchedulingIgnoredDuringExecution'] ?? []).map(
      (x) => (x['podAffinityTerm'] as Json)['labelSelector'],
    ),
    ...((spec['topologySpreadConstraints'] as Json[] | undefined) ?? []).map((x) => x['labelSelector']),
  ] as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; values: string[] }[] }[];
  for (const sel of selectors) {
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
      if (DEFAULT_SELECTOR_LABELS.includes(k) && v === 'podinfo' && sel.matchLabels)
        sel.matchLabels[k] = 'podinfo-primary';
    }
    for (const e of sel.matchExpressions ?? []) {
      if (!DEFAULT_SELECTOR_LABELS.includes(e.key)) continue;
      const i = e.values.indexOf('podinfo');
      if (i >= 0) e.values[i] = 'podinfo-primary';
    }
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'podinfo-primary', namespace: NS },
    spec: { replicas: 2, selector: { matchLabels: { app: 'podinfo-primary' } }, template: t },
  };
}

/** The `-primary` copies Flagger makes of the tracked configs. */
function primaryCopies(configs: readonly KubeObject[], tracked: readonly string[] = TRACKED_KEYS): KubeObject[] {
  return configs
    .filter((c) => tracked.includes(`${c.kind === 'Secret' ? 'secret' : 'configmap'}/${c.metadata.name}`))
    .map((c) => ({ ...structuredClone(c), metadata: { name: `${c.metadata.name}-primary`, namespace: NS } }));
}

function input(
  target: KubeObject,
  primary: KubeObject | undefined,
  configs: readonly KubeObject[],
  tracked: readonly string[] = TRACKED_KEYS,
): PrimaryComparisonInput {
  return {
    target,
    primary,
    labelKey: 'app',
    labelValue: 'podinfo',
    selectorLabels: DEFAULT_SELECTOR_LABELS,
    trackedKeys: new Set(tracked),
    lookup: (kind, name) =>
      configs.find((c) => c.metadata.name === name && (c.kind === 'Secret') === (kind === 'secret')),
  };
}

function withTemplate(d: KubeObject, edit: (t: Template) => void): KubeObject {
  const copy = structuredClone(d);
  edit(templateOf(copy));
  return copy;
}

describe('comparePrimary', () => {
  const target = newDeployment();
  const configs = newConfigs();
  const all = [...configs, ...primaryCopies(configs)];

  it('finds a primary written by Flagger running the target', () => {
    expect(comparePrimary(input(target, flaggerPrimary(target), all))).toEqual({ same: true });
  });

  it('finds a primary written by Fledge running the target', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.controller.compareWithPrimary(fx.ctx, fx.canary)).toEqual({ same: true });
  });

  it('ignores flagger-id and Flux metadata, not other pod annotations', () => {
    const primary = withTemplate(flaggerPrimary(target), (t) => {
      t.metadata.annotations['flagger-id'] = 'another-promotion';
      t.metadata.labels['kustomize.toolkit.fluxcd.io/name'] = 'other';
    });
    expect(comparePrimary(input(target, primary, all))).toEqual({ same: true });
    const restarted = withTemplate(target, (t) => {
      t.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = '2026-01-01T00:00:00Z';
    });
    expect(comparePrimary(input(restarted, flaggerPrimary(target), all))).toEqual({
      same: false,
      reason: "the pod template differs from the primary's in metadata.annotations",
    });
  });

  it('names the pod spec fields that differ', () => {
    const next = withTemplate(target, (t) => {
      const c = t.spec.containers[0];
      if (c) c.image = 'ghcr.io/stefanprodan/podinfo:6.0.1';
      t.spec.volumes = t.spec.volumes.filter((v) => v['name'] !== 'tmp');
    });
    expect(comparePrimary(input(next, flaggerPrimary(target), all))).toEqual({
      same: false,
      reason: "the pod template differs from the primary's in spec.containers, spec.volumes",
    });
  });

  it('sees a reference to another config', () => {
    const primary = withTemplate(flaggerPrimary(target), (t) => {
      const v = t.spec.volumes.find((x) => x['name'] === 'config');
      if (v) v['configMap'] = { name: 'podinfo-config-old-primary', defaultMode: 420 };
    });
    expect(comparePrimary(input(target, primary, all))).toEqual({
      same: false,
      reason: "the pod template differs from the primary's in spec.volumes",
    });
  });

  it('compares the data of every -primary copy, naming only the objects', () => {
    const changed = all.map((c) =>
      c.metadata.name === 'podinfo-secret-env'
        ? { ...c, data: { apiKey: Buffer.from('rotated').toString('base64') } }
        : c,
    );
    const result = comparePrimary(input(target, flaggerPrimary(target), changed));
    expect(result).toEqual({
      same: false,
      reason: 'secret podinfo-secret-env differs from secret podinfo-secret-env-primary',
    });
    expect(JSON.stringify(result)).not.toContain(Buffer.from('rotated').toString('base64'));

    const cm = all.map((c) =>
      c.metadata.name === 'podinfo-config-init-primary' ? { ...c, data: { mode: 'slow' } } : c,
    );
    expect(comparePrimary(input(target, flaggerPrimary(target), cm))).toEqual({
      same: false,
      reason: 'configmap podinfo-config-init differs from configmap podinfo-config-init-primary',
    });
  });

  it('reports a missing copy or a missing primary', () => {
    const without = all.filter((c) => c.metadata.name !== 'podinfo-config-projected-primary');
    expect(comparePrimary(input(target, flaggerPrimary(target), without))).toEqual({
      same: false,
      reason: 'configmap podinfo-config-projected-primary not found',
    });
    expect(comparePrimary(input(target, undefined, all))).toEqual({
      same: false,
      reason: 'Deployment podinfo-primary not found',
    });
  });

  it('accepts a config Flagger did not track (the primary reads the original) that Fledge tracks', () => {
    const flaggerTracked = TRACKED_KEYS.filter((k) => k !== 'configmap/podinfo-config-env');
    const primary = flaggerPrimary(target, flaggerTracked);
    const objects = [...configs, ...primaryCopies(configs, flaggerTracked)];
    expect(comparePrimary(input(target, primary, objects))).toEqual({ same: true });
  });

  it('accepts copies Flagger tracked while Fledge does not (config tracking off)', () => {
    expect(comparePrimary(input(target, flaggerPrimary(target), all, []))).toEqual({ same: true });
  });

  it("undoes Flagger's anti-affinity rewrite keyed on the name when the selector value differs", () => {
    // Selector app=web on Deployment podinfo: Flagger suffixes terms equal to the name, Fledge those equal to the value.
    const web = withTemplate(target, (t) => {
      t.metadata.labels['app'] = 'web';
    });
    const primary = withTemplate(flaggerPrimary(target), (t) => {
      t.metadata.labels['app'] = 'web-primary';
    });
    expect(comparePrimary({ ...input(web, primary, all), labelValue: 'web' })).toEqual({ same: true });
  });
});

describe('isFlaggerStatus', () => {
  const flagger: CanaryStatus = {
    phase: 'Succeeded',
    lastAppliedSpec: '5c8b9d6f7',
    lastPromotedSpec: '5c8b9d6f7',
    canaryWeight: 0,
    iterations: 0,
    failedChecks: 0,
  };

  it('is true for a status past initialization without lastTrackedRevision', () => {
    for (const phase of ['Initialized', 'Succeeded', 'Failed', 'Progressing', 'Waiting', 'Promoting'] as const) {
      expect(isFlaggerStatus({ ...flagger, phase })).toBe(true);
    }
  });

  it('is false for a status Fledge wrote, for none, and while initializing or deleting', () => {
    expect(isFlaggerStatus({ ...flagger, lastTrackedRevision: 'uid/3' })).toBe(false);
    expect(isFlaggerStatus(undefined)).toBe(false);
    for (const phase of ['', 'Initializing', 'Terminating', 'Terminated'] as const) {
      expect(isFlaggerStatus({ ...flagger, phase })).toBe(false);
    }
  });
});

describe('DeploymentController.compareWithPrimary', () => {
  it('reads the target, the primary and the copies from the caches', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    const key = { namespace: NS, name: 'podinfo-config-env-primary' };
    const copy = fx.kube.peek(Resources.configMap, key);
    if (!copy) throw new Error('no copy');
    fx.kube.upsert({ ...copy, data: { color: 'green' } });
    expect(fx.controller.compareWithPrimary(fx.ctx, fx.canary)).toEqual({
      same: false,
      reason: 'configmap podinfo-config-env differs from configmap podinfo-config-env-primary',
    });
  });
});
