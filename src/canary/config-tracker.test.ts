import { describe, expect, it } from 'vitest';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  ConfigNotFoundError,
  ConfigTracker,
  buildPrimaryConfig,
  checksumsOf,
  configChecksum,
  findConfigRefs,
  isTrackedSecretType,
  resolveConfigs,
  rewriteConfigRefs,
} from './config-tracker.ts';
import {
  CANARY_UID,
  NS,
  RecordingLogger,
  TRACKED_KEYS,
  newCanary,
  newConfigMap,
  newConfigs,
  newCtx,
  newDeployment,
  newSecret,
  podinfoTemplate,
} from './fixtures.fixture.ts';

const podSpec = (): Record<string, unknown> => podinfoTemplate()['spec'] as Record<string, unknown>;

function lookupIn(objects: readonly KubeObject[]) {
  return (kind: 'configmap' | 'secret', name: string): KubeObject | undefined =>
    objects.find((o) => o.kind === (kind === 'configmap' ? 'ConfigMap' : 'Secret') && o.metadata.name === name);
}

describe('findConfigRefs', () => {
  it('finds volumes, projected sources, env and envFrom of containers and init containers, sorted', () => {
    expect(findConfigRefs(podSpec())).toEqual([
      { kind: 'configmap', name: 'podinfo-config-all-env', optional: false },
      { kind: 'configmap', name: 'podinfo-config-env', optional: false },
      { kind: 'configmap', name: 'podinfo-config-init', optional: false },
      { kind: 'configmap', name: 'podinfo-config-optional', optional: true },
      { kind: 'configmap', name: 'podinfo-config-projected', optional: false },
      { kind: 'configmap', name: 'podinfo-config-untracked', optional: false },
      { kind: 'configmap', name: 'podinfo-config-vol', optional: false },
      { kind: 'secret', name: 'podinfo-registry', optional: false },
      { kind: 'secret', name: 'podinfo-secret-all-env', optional: false },
      { kind: 'secret', name: 'podinfo-secret-env', optional: false },
      { kind: 'secret', name: 'podinfo-secret-projected', optional: false },
      { kind: 'secret', name: 'podinfo-secret-vol', optional: false },
    ]);
  });

  it('treats an object as optional only when every reference to it is optional', () => {
    const spec = {
      containers: [
        {
          name: 'a',
          env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'x', optional: true } } }],
          envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's', optional: true } }],
        },
      ],
    };
    expect(findConfigRefs(spec)).toEqual([
      { kind: 'configmap', name: 'cm', optional: false },
      { kind: 'secret', name: 's', optional: true },
    ]);
  });

  it('ignores malformed and empty references', () => {
    expect(
      findConfigRefs({ volumes: [{ configMap: {} }, null, { secret: { secretName: '' } }], containers: 'x' }),
    ).toEqual([]);
    expect(findConfigRefs(undefined)).toEqual([]);
  });
});

describe('rewriteConfigRefs', () => {
  it('renames tracked references everywhere to -primary and leaves the rest and the input alone', () => {
    const input = podSpec();
    const before = structuredClone(input);
    const out = rewriteConfigRefs(input, new Set(TRACKED_KEYS));
    expect(input).toEqual(before);
    expect(findConfigRefs(out).map((r) => `${r.kind}/${r.name}`)).toEqual([
      'configmap/podinfo-config-all-env-primary',
      'configmap/podinfo-config-env-primary',
      'configmap/podinfo-config-init-primary',
      'configmap/podinfo-config-optional',
      'configmap/podinfo-config-projected-primary',
      'configmap/podinfo-config-untracked',
      'configmap/podinfo-config-vol-primary',
      'secret/podinfo-registry',
      'secret/podinfo-secret-all-env-primary',
      'secret/podinfo-secret-env-primary',
      'secret/podinfo-secret-projected-primary',
      'secret/podinfo-secret-vol-primary',
    ]);
    const volumes = out['volumes'] as Record<string, unknown>[];
    expect(volumes[0]).toEqual({ name: 'config', configMap: { name: 'podinfo-config-vol-primary', defaultMode: 420 } });
    expect(volumes[1]).toEqual({ name: 'secret', secret: { secretName: 'podinfo-secret-vol-primary' } });
  });

  it('does not confuse a ConfigMap and a Secret of the same name', () => {
    const spec = {
      volumes: [
        { name: 'a', configMap: { name: 'same' } },
        { name: 'b', secret: { secretName: 'same' } },
      ],
    };
    const out = rewriteConfigRefs(spec, new Set(['secret/same']));
    expect(out['volumes']).toEqual([
      { name: 'a', configMap: { name: 'same' } },
      { name: 'b', secret: { secretName: 'same-primary' } },
    ]);
  });
});

describe('isTrackedSecretType', () => {
  it.each([
    ['Opaque', true],
    ['', true],
    [undefined, true],
    ['kubernetes.io/basic-auth', true],
    ['kubernetes.io/ssh-auth', true],
    ['kubernetes.io/tls', true],
    ['kubernetes.io/dockerconfigjson', false],
    ['kubernetes.io/dockercfg', false],
    ['kubernetes.io/service-account-token', false],
    ['bootstrap.kubernetes.io/token', false],
  ])('%s → %s', (type, tracked) => {
    expect(isTrackedSecretType(type)).toBe(tracked);
  });
});

describe('configChecksum', () => {
  it('is the first 16 hex chars of sha256 over the data, as Flagger computes it', () => {
    expect(configChecksum(newConfigMap('c', { color: 'blue' }))).toBe('f234cb93c08ad64e');
  });

  it('changes with data, not with metadata', () => {
    const base = configChecksum(newConfigMap('c', { color: 'blue' }));
    expect(configChecksum(newConfigMap('c', { color: 'green' }))).not.toBe(base);
    expect(configChecksum(newConfigMap('other', { color: 'blue' }, { labels: { x: 'y' } }))).toBe(base);
  });

  it('covers a ConfigMap’s binaryData', () => {
    const a = { ...newConfigMap('c', { color: 'blue' }), binaryData: { bin: 'AAE=' } };
    const b = { ...newConfigMap('c', { color: 'blue' }), binaryData: { bin: 'AAI=' } };
    expect(configChecksum(a)).not.toBe(configChecksum(b));
    expect(configChecksum(a)).not.toBe(configChecksum(newConfigMap('c', { color: 'blue' })));
  });

  it('counts a Secret’s stringData as the data it becomes', () => {
    const viaData = newSecret('s', { k: 'v' });
    const viaStringData: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { k: 'v' },
    };
    expect(configChecksum(viaStringData)).toBe(configChecksum(viaData));
  });
});

describe('resolveConfigs', () => {
  const ctx = (log = new RecordingLogger()) => ({ log, namespace: NS });

  it('tracks the referenced configs, skipping disabled ones and registry secrets', () => {
    const configs = resolveConfigs(findConfigRefs(podSpec()), lookupIn(newConfigs()), ctx());
    expect([...configs.keys()].sort()).toEqual(TRACKED_KEYS);
    expect(checksumsOf(configs)['configmap/podinfo-config-env']).toBe(
      configChecksum(newConfigMap('x', { color: 'blue' })),
    );
  });

  it('skips any value of the annotation that starts with "disable"', () => {
    for (const value of ['disabled', 'disable', 'disable-please']) {
      const cm = newConfigMap('cm', { a: '1' }, { annotations: { 'flagger.app/config-tracking': value } });
      expect(resolveConfigs([{ kind: 'configmap', name: 'cm', optional: false }], lookupIn([cm]), ctx()).size).toBe(0);
    }
    const enabled = newConfigMap('cm', { a: '1' }, { annotations: { 'flagger.app/config-tracking': 'enabled' } });
    expect(resolveConfigs([{ kind: 'configmap', name: 'cm', optional: false }], lookupIn([enabled]), ctx()).size).toBe(
      1,
    );
  });

  it('logs and skips a missing optional config', () => {
    const log = new RecordingLogger();
    const out = resolveConfigs([{ kind: 'secret', name: 'gone', optional: true }], lookupIn([]), ctx(log));
    expect(out.size).toBe(0);
    expect(log.lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'optional secret gone.test not found, not tracked' }),
    ]);
  });

  it('throws a retriable ConfigNotFoundError for a missing required config', () => {
    const run = () => resolveConfigs([{ kind: 'configmap', name: 'gone', optional: false }], lookupIn([]), ctx());
    expect(run).toThrow(ConfigNotFoundError);
    expect(run).toThrow('configmap gone.test not found');
  });
});

describe('buildPrimaryConfig', () => {
  it('copies data, type, labels and annotations (minus bookkeeping) under the -primary name, owned by the Canary', () => {
    const secret = newSecret('podinfo-secret-env', { apiKey: 'secret' }, 'kubernetes.io/basic-auth', {
      uid: 'src-uid',
      resourceVersion: '9',
      labels: { app: 'podinfo', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
      annotations: {
        note: 'keep',
        'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"apiKey":"secret"}}',
        'fledge.app/applied-hash': 'nope',
      },
    });
    expect(buildPrimaryConfig(newCanary(), secret)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'podinfo-secret-env-primary',
        namespace: NS,
        labels: { app: 'podinfo' },
        annotations: { note: 'keep' },
        ownerReferences: [
          {
            apiVersion: 'flagger.app/v1beta1',
            kind: 'Canary',
            name: 'podinfo',
            uid: CANARY_UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      type: 'kubernetes.io/basic-auth',
      data: { apiKey: Buffer.from('secret').toString('base64') },
    });
  });

  it('copies a ConfigMap’s data and binaryData and nothing else', () => {
    const cm = { ...newConfigMap('cm', { a: '1' }), binaryData: { b: 'AA==' }, immutable: true };
    const out = buildPrimaryConfig(newCanary(), cm);
    expect(out).toMatchObject({ kind: 'ConfigMap', data: { a: '1' }, binaryData: { b: 'AA==' } });
    expect(out).not.toHaveProperty('immutable');
    expect(out.metadata).not.toHaveProperty('labels');
    expect(out.metadata).not.toHaveProperty('annotations');
  });
});

describe('ConfigTracker', () => {
  it('tracks nothing and writes nothing when tracking is off', async () => {
    const kube = new FakeKube([newDeployment(), ...newConfigs()]);
    const tracker = new ConfigTracker({ kube, enabled: false });
    const configs = tracker.configs(newCtx(), newCanary(), newDeployment());
    expect(configs.size).toBe(0);
    await tracker.syncPrimaryCopies(newCtx(), newCanary(), configs);
    expect(kube.actions).toEqual([]);
  });

  it('applies each copy once and again only when the source data changes', async () => {
    const kube = new FakeKube([newDeployment(), ...newConfigs()]);
    const tracker = new ConfigTracker({ kube, enabled: true });
    const ctx = newCtx();
    const canary = newCanary();
    await tracker.syncPrimaryCopies(ctx, canary, tracker.configs(ctx, canary, newDeployment()));
    expect(kube.writes({ verb: 'apply' })).toHaveLength(TRACKED_KEYS.length);
    kube.clearActions();

    await tracker.syncPrimaryCopies(ctx, canary, tracker.configs(ctx, canary, newDeployment()));
    expect(kube.actions).toEqual([]);

    kube.upsert(newConfigMap('podinfo-config-env', { color: 'green' }, { labels: { app: 'podinfo' } }));
    await tracker.syncPrimaryCopies(ctx, canary, tracker.configs(ctx, canary, newDeployment()));
    expect(kube.actions.map((a) => `${a.verb} ${a.type} ${a.key}`)).toEqual([
      'apply ConfigMap test/podinfo-config-env-primary',
    ]);
    expect(kube.peek(Resources.configMap, { namespace: NS, name: 'podinfo-config-env-primary' })?.['data']).toEqual({
      color: 'green',
    });
  });
});
