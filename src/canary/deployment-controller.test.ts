import { describe, expect, it } from 'vitest';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { NotFoundError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { CacheNotSyncedError } from './apply.ts';
import { ConfigNotFoundError, findConfigRefs } from './config-tracker.ts';
import { DeploymentController, discoverPorts } from './deployment-controller.ts';
import {
  CANARY_UID,
  type Fixture,
  NS,
  T0,
  TARGET_UID,
  TRACKED_KEYS,
  makeReady,
  newCanary,
  newConfigMap,
  newDeployment,
  newFixture,
  newHpa,
  newSecret,
  podinfoTemplate,
  readyStatus,
} from './fixtures.fixture.ts';

const target = { namespace: NS, name: 'podinfo' };
const primary = { namespace: NS, name: 'podinfo-primary' };
const hpaRef = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' as const, name: 'podinfo' };

type DeploymentSpec = {
  replicas?: number;
  selector: unknown;
  template: {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: Record<string, unknown>;
  };
};

/** isPrimaryReady of a primary whose latest spec the Deployment controller has not seen yet. */
const PRIMARY_NOT_OBSERVED = {
  ready: false,
  retriable: true,
  message:
    'podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation',
};

const specOf = (obj: KubeObject | undefined): DeploymentSpec => obj?.['spec'] as DeploymentSpec;
const summary = (fx: Fixture): string[] => fx.kube.actions.map((a) => `${a.verb} ${a.type} ${a.key}`);

/** Replaces the stored target with `change` applied to its spec (as the user would with kubectl apply). */
function editTarget(
  fx: Fixture,
  change: (spec: DeploymentSpec, obj: { metadata: Record<string, unknown> }) => void,
): void {
  const obj = structuredClone(fx.kube.peek(Resources.deployment, target)) as KubeObject & {
    metadata: Record<string, unknown>;
  };
  change(obj['spec'] as DeploymentSpec, obj);
  fx.kube.upsert(obj);
}

describe('DeploymentController.metadata', () => {
  it('returns the first configured selector label present and no ports without portDiscovery', () => {
    const fx = newFixture();
    expect(fx.controller.metadata(fx.ctx, fx.canary)).toEqual({ labelKey: 'app', labelValue: 'podinfo', ports: {} });
  });

  it('honours the configured order of selector labels', () => {
    const fx = newFixture({
      deployment: newDeployment({ spec: { selector: { matchLabels: { app: 'a', name: 'n' } } } }),
      options: { selectorLabels: ['name', 'app'] },
    });
    expect(fx.controller.metadata(fx.ctx, fx.canary)).toMatchObject({ labelKey: 'name', labelValue: 'n' });
  });

  it('throws InvalidCanaryError when the selector has none of the selector labels', () => {
    const fx = newFixture({ deployment: newDeployment({ spec: { selector: { matchLabels: { role: 'web' } } } }) });
    const run = () => fx.controller.metadata(fx.ctx, fx.canary);
    expect(run).toThrow(InvalidCanaryError);
    expect(run).toThrow(
      'Deployment podinfo.test spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]',
    );
  });

  it('throws NotFoundError when the target is not in the cache', () => {
    const fx = newFixture({
      canary: newCanary({ spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nope' } } }),
    });
    const run = () => fx.controller.metadata(fx.ctx, fx.canary);
    expect(run).toThrow(NotFoundError);
    expect(run).toThrow('Deployment nope.test not found');
  });

  it('discovers ports when service.portDiscovery is set', () => {
    const fx = newFixture({ canary: newCanary({ spec: { service: { port: 9898, portDiscovery: true } } }) });
    expect(fx.controller.metadata(fx.ctx, fx.canary).ports).toEqual({ 'tcp-podinfo-1': 9797, grpc: 9999 });
  });

  it('reads from the informer cache only', () => {
    const fx = newFixture();
    fx.kube.failOn({ verb: 'get' }, new Error('no GETs please'), 100);
    fx.controller.metadata(fx.ctx, fx.canary);
    fx.controller.revision(fx.ctx, fx.canary);
    fx.controller.isCanaryReady(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });
});

describe('discoverPorts', () => {
  const spec = podinfoTemplate()['spec'];
  it.each<[string, { port: number; targetPort?: number | string }, Record<string, number>]>([
    ['excludes service.port by default', { port: 9898 }, { 'tcp-podinfo-1': 9797, grpc: 9999 }],
    ['excludes a numeric targetPort instead', { port: 80, targetPort: 9999 }, { http: 9898, 'tcp-podinfo-1': 9797 }],
    ['excludes a named targetPort', { port: 80, targetPort: 'grpc' }, { http: 9898, 'tcp-podinfo-1': 9797 }],
  ])('%s; skips sidecars', (_name, service, ports) => {
    expect(discoverPorts(newCanary({ spec: { service: { ...service, portDiscovery: true } } }), spec)).toEqual(ports);
  });
});

describe('DeploymentController.initialize', () => {
  it('creates the primary and the -primary configs with rewritten references, labels, annotations and owners', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);

    expect(summary(fx)).toEqual([
      ...TRACKED_KEYS.map((k) => {
        const [kind, name] = k.split('/');
        return `apply ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} test/${name ?? ''}-primary`;
      }),
      'apply Deployment test/podinfo-primary',
    ]);
    const owner = {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      name: 'podinfo',
      uid: CANARY_UID,
      controller: true,
      blockOwnerDeletion: true,
    };

    const dep = fx.kube.peek(Resources.deployment, primary);
    expect(dep?.metadata.labels).toEqual({ app: 'podinfo-primary' });
    const { 'fledge.app/applied-hash': appliedHash, ...annotations } = dep?.metadata.annotations ?? {};
    expect(annotations).toEqual({ owner: 'team-a' });
    expect(appliedHash).toMatch(/^[0-9a-f]{16}$/);
    expect(dep?.metadata.ownerReferences).toEqual([owner]);
    const spec = specOf(dep);
    expect(spec.replicas).toBe(2);
    expect(spec.selector).toEqual({ matchLabels: { app: 'podinfo-primary' } });
    expect(spec.template.metadata.labels).toEqual({ app: 'podinfo-primary', version: 'v1' });
    expect(spec.template.metadata.annotations['flagger-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(spec.template.spec)).toContain('"podinfo-config-env-primary"');
    expect(JSON.stringify(spec.template.spec)).toContain('"podinfo-secret-projected-primary"');
    expect(JSON.stringify(spec.template.spec)).toContain('"secretName":"podinfo-registry"');

    const cm = fx.kube.peek(Resources.configMap, { namespace: NS, name: 'podinfo-config-env-primary' });
    expect(cm?.['data']).toEqual({ color: 'blue' });
    expect(cm?.metadata.labels).toEqual({ app: 'podinfo' });
    expect(cm?.metadata.ownerReferences).toEqual([owner]);
    const secret = fx.kube.peek(Resources.secret, { namespace: NS, name: 'podinfo-secret-env-primary' });
    expect(secret?.['type']).toBe('Opaque');
    // kubectl's last-applied-configuration (holding the secret's data) is not copied
    expect(Object.keys(secret?.metadata.annotations ?? {})).toEqual(['fledge.app/applied-hash']);
    expect(fx.kube.peek(Resources.secret, { namespace: NS, name: 'podinfo-registry-primary' })).toBeUndefined();
    expect(
      fx.kube.peek(Resources.configMap, { namespace: NS, name: 'podinfo-config-untracked-primary' }),
    ).toBeUndefined();
    // the target is untouched
    expect(fx.kube.writes({ verb: 'patch' })).toEqual([]);
  });

  it('writes nothing the second time', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    fx.kube.clearActions();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('leaves an existing primary as promoted even when the target and its configs changed', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    editTarget(fx, (s) => {
      s.template.metadata.labels['version'] = 'v2';
    });
    fx.kube.upsert(newConfigMap('podinfo-config-env', { color: 'green' }, { labels: { app: 'podinfo' } }));
    fx.kube.clearActions();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('recreates a -primary copy the primary needs that was deleted', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    await fx.kube.delete(Resources.secret, { namespace: NS, name: 'podinfo-secret-vol-primary' });
    fx.kube.clearActions();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(summary(fx)).toEqual(['apply Secret test/podinfo-secret-vol-primary']);
  });

  it('fails with a retriable ConfigNotFoundError before creating anything when a required config is missing', async () => {
    const fx = newFixture();
    await fx.kube.delete(Resources.configMap, { namespace: NS, name: 'podinfo-config-vol' });
    fx.kube.clearActions();
    await expect(fx.controller.initialize(fx.ctx, fx.canary)).rejects.toThrow(ConfigNotFoundError);
    expect(fx.kube.actions).toEqual([]);
  });

  it('neither copies configs nor rewrites references when config tracking is off', async () => {
    const fx = newFixture({ options: { configTracking: false } });
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(summary(fx)).toEqual(['apply Deployment test/podinfo-primary']);
    const refs = findConfigRefs(specOf(fx.kube.peek(Resources.deployment, primary)).template.spec);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => r.name.endsWith('-primary'))).toEqual([]);
    expect(fx.controller.revision(fx.ctx, fx.canary).trackedConfigs).toEqual({});
  });

  it('copies labels selected by include-label-prefix', async () => {
    const fx = newFixture({ options: { includeLabelPrefix: 'team,foo' } });
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.kube.peek(Resources.deployment, primary)?.metadata.labels).toEqual({ app: 'podinfo-primary', team: 'a' });
  });

  it('creates the primary with one replica when the target is at zero', async () => {
    const fx = newFixture({ deployment: newDeployment({ replicas: 0 }) });
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(specOf(fx.kube.peek(Resources.deployment, primary)).replicas).toBe(1);
  });

  it('tells the cache is not synced rather than that objects are missing', () => {
    const fx = newFixture();
    const kube = fx.kube;
    const unsynced: KubeClient = {
      get: (type, key) => kube.get(type, key),
      list: (type, options) => kube.list(type, options),
      create: (obj) => kube.create(obj),
      apply: (obj, options) => kube.apply(obj, options),
      mergePatch: (type, key, patch) => kube.mergePatch(type, key, patch),
      patchStatus: (type, key, status) => kube.patchStatus(type, key, status),
      delete: (type, key) => kube.delete(type, key),
      recordEvent: (event) => kube.recordEvent(event),
      informer: (type, namespace) => {
        const inf = kube.informer(type, namespace);
        return {
          type: inf.type,
          synced: () => inf.synced(),
          get: (key) => inf.get(key),
          list: (ns) => inf.list(ns),
          onChange: (listener) => inf.onChange(listener),
          health: () => ({ ...inf.health(), synced: false }),
          stop: () => inf.stop(),
        };
      },
    };
    const controller = new DeploymentController({ kube: unsynced, clock: fx.clock });
    expect(() => controller.metadata(fx.ctx, fx.canary)).toThrow(CacheNotSyncedError);
    expect(() => controller.metadata(fx.ctx, fx.canary)).toThrow(
      'deployments cache of namespace test is not synced yet',
    );
  });
});

describe('DeploymentController.revision', () => {
  it('reports the hash, the tracked configs and the <uid>/<generation> fence', () => {
    const fx = newFixture();
    const rev = fx.controller.revision(fx.ctx, fx.canary);
    expect(rev.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(rev.trackedConfigs)).toEqual(TRACKED_KEYS);
    expect(rev.fence).toBe(`${TARGET_UID}/1`);
  });

  it('changes when the pod template changes', () => {
    const fx = newFixture();
    const before = fx.controller.revision(fx.ctx, fx.canary);
    editTarget(fx, (s) => {
      s.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = 'now';
    });
    const after = fx.controller.revision(fx.ctx, fx.canary);
    expect(after.hash).not.toBe(before.hash);
    expect(after.fence).toBe(`${TARGET_UID}/2`);
  });

  it.each([
    [
      'a ConfigMap',
      () => newConfigMap('podinfo-config-vol', { 'podinfo.yaml': 'level: debug' }),
      'configmap/podinfo-config-vol',
    ],
    [
      'a Secret',
      () => newSecret('podinfo-secret-projected', { 'ssh-privatekey': 'k2' }, 'kubernetes.io/ssh-auth'),
      'secret/podinfo-secret-projected',
    ],
    [
      'an init container’s ConfigMap',
      () => newConfigMap('podinfo-config-init', { mode: 'slow' }),
      'configmap/podinfo-config-init',
    ],
  ])('changes when the data of %s changes', (_name, changed, key) => {
    const fx = newFixture();
    const before = fx.controller.revision(fx.ctx, fx.canary);
    fx.kube.upsert(changed());
    const after = fx.controller.revision(fx.ctx, fx.canary);
    expect(after.hash).not.toBe(before.hash);
    expect(after.trackedConfigs[key]).not.toBe(before.trackedConfigs[key]);
    expect(after.fence).toBe(before.fence);
  });

  it('does not change with replicas, status, Deployment metadata or untracked configs', async () => {
    const fx = newFixture();
    const before = fx.controller.revision(fx.ctx, fx.canary);
    await fx.kube.mergePatch(Resources.deployment, target, {
      spec: { replicas: 7 },
      metadata: { labels: { extra: 'x' } },
    });
    fx.kube.setStatus(Resources.deployment, target, readyStatus(7, 2));
    fx.kube.upsert(
      newConfigMap(
        'podinfo-config-untracked',
        { u: '2' },
        { annotations: { 'flagger.app/config-tracking': 'disabled' } },
      ),
    );
    fx.kube.upsert(newSecret('podinfo-registry', { '.dockerconfigjson': '{"x":1}' }, 'kubernetes.io/dockerconfigjson'));
    fx.kube.upsert(newConfigMap('podinfo-config-env', { color: 'blue' }, { labels: { app: 'podinfo', new: 'label' } }));
    expect(fx.controller.revision(fx.ctx, fx.canary).hash).toBe(before.hash);
  });

  it('stops tracking a config annotated with config-tracking: disabled', () => {
    const fx = newFixture();
    fx.kube.upsert(
      newConfigMap(
        'podinfo-config-env',
        { color: 'blue' },
        { annotations: { 'flagger.app/config-tracking': 'disabled' } },
      ),
    );
    expect(fx.controller.revision(fx.ctx, fx.canary).trackedConfigs).not.toHaveProperty('configmap/podinfo-config-env');
  });
});

describe('DeploymentController.promote', () => {
  async function promoted(over: Parameters<typeof newFixture>[0] = {}): Promise<Fixture> {
    const fx = newFixture(over);
    await fx.controller.initialize(fx.ctx, fx.canary);
    makeReady(fx.kube, 'podinfo-primary');
    fx.kube.clearActions();
    return fx;
  }

  it('writes nothing when the target is unchanged since initialization', async () => {
    const fx = await promoted();
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('copies a new template with a new flagger-id, once', async () => {
    const fx = await promoted();
    const idBefore = specOf(fx.kube.peek(Resources.deployment, primary)).template.metadata.annotations['flagger-id'];
    editTarget(fx, (s) => {
      ((s.template.spec['containers'] as { image: string }[])[0] as { image: string }).image = 'podinfo:6.0.1';
    });
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(summary(fx)).toEqual(['apply Deployment test/podinfo-primary']);
    const spec = specOf(fx.kube.peek(Resources.deployment, primary));
    expect((spec.template.spec['containers'] as { image: string }[])[0]?.image).toBe('podinfo:6.0.1');
    expect(spec.template.metadata.annotations['flagger-id']).not.toBe(idBefore);

    // a repeated promotion (crash, retried tick) does not roll the primary again
    fx.kube.clearActions();
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('derives the same flagger-id when the same revision is promoted again from scratch', async () => {
    const first = await promoted();
    const second = await promoted();
    const id = (fx: Fixture) =>
      specOf(fx.kube.peek(Resources.deployment, primary)).template.metadata.annotations['flagger-id'];
    expect(id(second)).toBe(id(first));
  });

  it('syncs changed config data to the copies and rolls the primary', async () => {
    const fx = await promoted();
    fx.kube.upsert(newConfigMap('podinfo-config-env', { color: 'green' }, { labels: { app: 'podinfo' } }));
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(summary(fx)).toEqual([
      'apply ConfigMap test/podinfo-config-env-primary',
      'apply Deployment test/podinfo-primary',
    ]);
    expect(fx.kube.peek(Resources.configMap, { namespace: NS, name: 'podinfo-config-env-primary' })?.['data']).toEqual({
      color: 'green',
    });
  });

  it('copies replicas, strategy and the other spec fields, and resets metadata from the target', async () => {
    const fx = await promoted();
    editTarget(fx, (s, o) => {
      s.replicas = 4;
      (s as unknown as Record<string, unknown>)['minReadySeconds'] = 30;
      (s as unknown as Record<string, unknown>)['strategy'] = { type: 'Recreate' };
      o.metadata['annotations'] = { owner: 'team-b' };
    });
    await fx.controller.promote(fx.ctx, fx.canary);
    const dep = fx.kube.peek(Resources.deployment, primary);
    expect(specOf(dep).replicas).toBe(4);
    expect(dep?.['spec']).toMatchObject({ minReadySeconds: 30, strategy: { type: 'Recreate' } });
    expect(dep?.metadata.annotations).toMatchObject({ owner: 'team-b' });
  });

  it('with an HPA, keeps the primary’s replicas and does not write for replica drift alone', async () => {
    const canary = newCanary({ spec: { autoscalerRef: hpaRef } });
    const fx = await promoted({ canary, objects: [newHpa()] });
    // the HPA scaled the primary
    await fx.kube.mergePatch(Resources.deployment, primary, { spec: { replicas: 3 } });
    await fx.kube.mergePatch(Resources.deployment, target, { spec: { replicas: 1 } });
    fx.kube.clearActions();
    await fx.controller.promote(fx.ctx, canary);
    expect(fx.kube.actions).toEqual([]);

    editTarget(fx, (s) => {
      s.template.metadata.labels['version'] = 'v2';
    });
    await fx.controller.promote(fx.ctx, canary);
    expect(summary(fx)).toEqual(['apply Deployment test/podinfo-primary']);
    expect(specOf(fx.kube.peek(Resources.deployment, primary)).replicas).toBe(3);
  });

  it('recreates a primary that was deleted', async () => {
    const fx = await promoted();
    await fx.kube.delete(Resources.deployment, primary);
    fx.kube.clearActions();
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(summary(fx)).toEqual(['apply Deployment test/podinfo-primary']);
  });
});

describe('DeploymentController scaling', () => {
  it('scaleToZero merge-patches the target’s replicas, and does nothing when already 0', async () => {
    const fx = newFixture();
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([
      {
        verb: 'patch',
        type: 'Deployment',
        apiVersion: 'apps/v1',
        key: 'test/podinfo',
        body: { spec: { replicas: 0 } },
      },
    ]);
    fx.kube.clearActions();
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it.each<[string, number, { hpa?: boolean; hpaMin?: number; primaryReplicas?: number }, number | undefined]>([
    ['keeps the target’s own replicas (no write)', 3, {}, undefined],
    ['takes the primary’s replicas without an HPA', 0, { primaryReplicas: 5 }, 5],
    ['takes 1 when the primary is missing', 0, {}, 1],
    ['takes the HPA’s minReplicas when > 1', 0, { hpa: true, hpaMin: 3, primaryReplicas: 5 }, 3],
    ['takes 1 when the HPA’s minReplicas is 1', 0, { hpa: true, hpaMin: 1, primaryReplicas: 5 }, 1],
  ])('scaleFromZero %s', async (_name, targetReplicas, o, expected) => {
    const objects: KubeObject[] = [];
    if (o.hpa) objects.push(newHpa({ spec: { minReplicas: o.hpaMin } }));
    if (o.primaryReplicas !== undefined)
      objects.push(newDeployment({ name: 'podinfo-primary', replicas: o.primaryReplicas }));
    const canary = newCanary(o.hpa ? { spec: { autoscalerRef: hpaRef } } : {});
    const fx = newFixture({ canary, objects, deployment: newDeployment({ replicas: targetReplicas }) });
    await fx.controller.scaleFromZero(fx.ctx, canary);
    if (expected === undefined) {
      expect(fx.kube.actions).toEqual([]);
    } else {
      expect(fx.kube.actions.map((a) => a.body)).toEqual([{ spec: { replicas: expected } }]);
    }
  });

  it('scaleFromZero rejects ScaledObjects as unsupported', async () => {
    const canary = newCanary({
      spec: { autoscalerRef: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'so' } },
    });
    const fx = newFixture({ canary, deployment: newDeployment({ replicas: 0 }) });
    await expect(fx.controller.scaleFromZero(fx.ctx, canary)).rejects.toThrow(UnsupportedError);
  });

  it('reconcileAutoscaler creates the primary HPA', async () => {
    const canary = newCanary({ spec: { autoscalerRef: hpaRef } });
    const fx = newFixture({ canary, objects: [newHpa()] });
    await fx.controller.reconcileAutoscaler(fx.ctx, canary, true);
    expect(summary(fx)).toEqual(['apply HorizontalPodAutoscaler test/podinfo-primary']);
  });
});

describe('DeploymentController readiness', () => {
  it('isPrimaryReady follows the cached primary', async () => {
    const fx = newFixture();
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: false, retriable: true });
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toEqual(PRIMARY_NOT_OBSERVED);
    makeReady(fx.kube, 'podinfo-primary');
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: true });
  });

  it('isPrimaryReady uses primaryReadyThreshold', () => {
    const primaryDep = {
      ...newDeployment({ name: 'podinfo-primary', replicas: 4 }),
      status: { ...readyStatus(4), availableReplicas: 2 },
    };
    const strict = newFixture({ objects: [primaryDep] });
    expect(strict.controller.isPrimaryReady(strict.ctx, strict.canary).ready).toBe(false);
    const lenient = newCanary({
      spec: { analysis: { interval: '1m', threshold: 5, stepWeight: 10, primaryReadyThreshold: 50 } },
    });
    const fx = newFixture({ objects: [primaryDep], canary: lenient });
    expect(fx.controller.isPrimaryReady(fx.ctx, lenient).ready).toBe(true);
  });

  describe('isCanaryReady with the progress deadline measured from status.lastTransitionTime', () => {
    const notReady = { ...newDeployment({ replicas: 1 }), status: { ...readyStatus(1), availableReplicas: 0 } };
    const progressing = (progressDeadlineSeconds?: number) =>
      newCanary({
        spec: progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds },
        status: { phase: 'Progressing', lastTransitionTime: new Date(T0).toISOString() },
      });

    it('waits within the deadline and gives up after it (injected clock)', () => {
      const canary = progressing();
      const fx = newFixture({ deployment: notReady, canary });
      fx.clock.advance(600_000);
      expect(fx.controller.isCanaryReady(fx.ctx, canary)).toMatchObject({ ready: false, retriable: true });
      fx.clock.advance(1_000);
      expect(fx.controller.isCanaryReady(fx.ctx, canary)).toEqual({
        ready: false,
        retriable: false,
        message:
          'canary deployment podinfo.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available; not ready within the progress deadline of 600s',
      });
    });

    it('uses the Canary’s progressDeadlineSeconds', () => {
      const canary = progressing(30);
      const fx = newFixture({ deployment: notReady, canary });
      fx.clock.advance(31_000);
      expect(fx.controller.isCanaryReady(fx.ctx, canary).retriable).toBe(false);
    });

    it('does not apply outside Progressing (the transition time says nothing about this wait)', () => {
      const canary = newCanary({
        status: { phase: 'WaitingPromotion', lastTransitionTime: new Date(T0).toISOString() },
      });
      const fx = newFixture({ deployment: notReady, canary });
      fx.clock.advance(3_600_000);
      expect(fx.controller.isCanaryReady(fx.ctx, canary).retriable).toBe(true);
    });

    it('is ready once the canary is available, however late', () => {
      const canary = progressing();
      const fx = newFixture({ canary });
      fx.clock.advance(3_600_000);
      expect(fx.controller.isCanaryReady(fx.ctx, canary)).toMatchObject({ ready: true });
    });
  });
});

describe('DeploymentController while the Deployment watch is down (e.g. after an API server restart)', () => {
  it('judges the primary it just promoted, never the pre-promotion object the watch last delivered', async () => {
    const fx = newFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    makeReady(fx.kube, 'podinfo-primary');
    editTarget(fx, (s) => {
      ((s.template.spec['containers'] as { image: string }[])[0] as { image: string }).image = 'podinfo:6.0.1';
    });
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: true });
    fx.kube.pauseWatches();
    await fx.controller.promote(fx.ctx, fx.canary);
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toEqual(PRIMARY_NOT_OBSERVED);
    // The Deployment controller rolls the primary out, but Fledge cannot see it yet: still waiting.
    makeReady(fx.kube, 'podinfo-primary');
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: false, retriable: true });
    fx.kube.resumeWatches();
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: true });
    expect(fx.controller.primaryRuns(fx.ctx, fx.canary, fx.controller.revision(fx.ctx, fx.canary).hash)).toBe(true);
  });

  it('finds the primary it just created: "not ready", never "not found"', async () => {
    const fx = newFixture();
    fx.kube.pauseWatches();
    await fx.controller.initialize(fx.ctx, fx.canary);
    const readiness = fx.controller.isPrimaryReady(fx.ctx, fx.canary);
    expect(readiness.message).not.toMatch(/not found/);
    expect(readiness).toMatchObject({ ready: false, retriable: true });
    // and does not create it twice
    fx.kube.clearActions();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.kube.writes({ type: 'Deployment' })).toEqual([]);
  });
});

describe('DeploymentController.finalize', () => {
  it('gives the target the primary’s replicas and reports it not ready until rolled out', async () => {
    const fx = newFixture({
      deployment: newDeployment({ replicas: 0 }),
      objects: [newDeployment({ name: 'podinfo-primary', replicas: 3 })],
    });
    const first = await fx.controller.finalize(fx.ctx, fx.canary);
    expect(fx.kube.actions.map((a) => a.body)).toEqual([{ spec: { replicas: 3 } }]);
    expect(first).toMatchObject({ ready: false, retriable: true });

    fx.kube.clearActions();
    makeReady(fx.kube, 'podinfo');
    expect(await fx.controller.finalize(fx.ctx, fx.canary)).toMatchObject({ ready: true });
    expect(fx.kube.actions).toEqual([]);
  });

  it('scales the target from zero when the primary is gone', async () => {
    const fx = newFixture({ deployment: newDeployment({ replicas: 0 }) });
    await fx.controller.finalize(fx.ctx, fx.canary);
    expect(fx.kube.actions.map((a) => a.body)).toEqual([{ spec: { replicas: 1 } }]);
  });

  it('has nothing to revert when the target is gone', async () => {
    const fx = newFixture();
    await fx.kube.delete(Resources.deployment, target);
    fx.kube.clearActions();
    expect(await fx.controller.finalize(fx.ctx, fx.canary)).toMatchObject({ ready: true });
    expect(fx.kube.actions).toEqual([]);
  });
});
