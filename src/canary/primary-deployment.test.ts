import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/objects.ts';
import {
  buildPrimaryDeployment,
  flaggerIdFor,
  primaryReplicasFor,
  rewriteSelectorsForPrimary,
} from './primary-deployment.ts';
import { CANARY_UID, NS, TRACKED_KEYS, newCanary, newDeployment } from './fixtures.fixture.ts';

const owner = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  name: 'podinfo',
  uid: CANARY_UID,
  controller: true,
  blockOwnerDeletion: true,
};

const options = {
  labelKey: 'app',
  labelValue: 'podinfo',
  includeLabelPrefix: [] as string[],
  configRefs: new Set(TRACKED_KEYS),
  flaggerId: 'id-1',
};

describe('buildPrimaryDeployment', () => {
  it('builds the primary from the target, by value', () => {
    const got = buildPrimaryDeployment(newCanary(), newDeployment(), options);
    expect(got).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'podinfo-primary',
        namespace: NS,
        labels: { app: 'podinfo-primary' },
        annotations: { owner: 'team-a' },
        ownerReferences: [owner],
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'podinfo-primary' } },
        progressDeadlineSeconds: 60,
        minReadySeconds: 5,
        revisionHistoryLimit: 10,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: {
            labels: { app: 'podinfo-primary', version: 'v1' },
            annotations: { 'prometheus.io/scrape': 'true', 'flagger-id': 'id-1' },
          },
          spec: {
            initContainers: [
              {
                name: 'init',
                image: 'busybox:1.36',
                env: [
                  {
                    name: 'INIT',
                    valueFrom: { configMapKeyRef: { name: 'podinfo-config-init-primary', key: 'mode' } },
                  },
                ],
              },
            ],
            containers: [
              {
                name: 'podinfo',
                image: 'ghcr.io/stefanprodan/podinfo:6.0.0',
                ports: [
                  { name: 'http', containerPort: 9898, protocol: 'TCP' },
                  { containerPort: 9797, protocol: 'TCP' },
                  { name: 'grpc', containerPort: 9999, protocol: 'TCP' },
                ],
                env: [
                  {
                    name: 'PODINFO_UI_COLOR',
                    valueFrom: { configMapKeyRef: { name: 'podinfo-config-env-primary', key: 'color' } },
                  },
                  {
                    name: 'API_KEY',
                    valueFrom: { secretKeyRef: { name: 'podinfo-secret-env-primary', key: 'apiKey' } },
                  },
                  {
                    name: 'OPTIONAL',
                    valueFrom: { configMapKeyRef: { name: 'podinfo-config-optional', key: 'x', optional: true } },
                  },
                  { name: 'PLAIN', value: 'x' },
                ],
                envFrom: [
                  { configMapRef: { name: 'podinfo-config-all-env-primary' } },
                  { secretRef: { name: 'podinfo-secret-all-env-primary' } },
                ],
                volumeMounts: [{ name: 'config', mountPath: '/etc/podinfo/config' }],
              },
              {
                name: 'istio-proxy',
                image: 'istio/proxyv2',
                ports: [{ name: 'http-envoy-prom', containerPort: 15090 }],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'podinfo-config-vol-primary', defaultMode: 420 } },
              { name: 'secret', secret: { secretName: 'podinfo-secret-vol-primary' } },
              {
                name: 'projected',
                projected: {
                  sources: [
                    { configMap: { name: 'podinfo-config-projected-primary' } },
                    { secret: { name: 'podinfo-secret-projected-primary' } },
                  ],
                },
              },
              { name: 'registry', secret: { secretName: 'podinfo-registry' } },
              { name: 'untracked', configMap: { name: 'podinfo-config-untracked' } },
              { name: 'tmp', emptyDir: {} },
            ],
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: 'podinfo-primary' } }, topologyKey: 'kubernetes.io/hostname' },
                ],
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      labelSelector: {
                        matchExpressions: [{ key: 'app', operator: 'In', values: ['podinfo-primary', 'other'] }],
                      },
                      topologyKey: 'topology.kubernetes.io/zone',
                    },
                  },
                ],
              },
            },
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                // only the selector label is rewritten, not every key whose value happens to match
                labelSelector: { matchLabels: { app: 'podinfo-primary', version: 'podinfo' } },
              },
            ],
          },
        },
      },
    });
  });

  it('does not modify the target it was built from', () => {
    const target = newDeployment();
    const before = structuredClone(target);
    buildPrimaryDeployment(newCanary(), target, options);
    expect(target).toEqual(before);
  });

  it.each([
    [['*'], { app: 'podinfo-primary', team: 'a' }],
    [['team'], { app: 'podinfo-primary', team: 'a' }],
    [['te', 'zzz'], { app: 'podinfo-primary', team: 'a' }],
    [['kustomize'], { app: 'podinfo-primary' }],
    [[], { app: 'podinfo-primary' }],
  ])('copies labels matching include-label-prefix %j, never Flux’s', (prefixes, labels) => {
    const got = buildPrimaryDeployment(newCanary(), newDeployment(), { ...options, includeLabelPrefix: prefixes });
    expect(got.metadata.labels).toEqual(labels);
  });

  it('uses another selector label when the target selects by it', () => {
    const target = newDeployment({
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } } },
    });
    const got = buildPrimaryDeployment(newCanary(), target, {
      ...options,
      labelKey: 'app.kubernetes.io/name',
      labelValue: 'web',
    });
    const spec = got['spec'] as { selector: unknown; template: { metadata: { labels: unknown } } };
    expect(spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'web-primary' } });
    expect(spec.template.metadata.labels).toEqual({
      app: 'podinfo',
      version: 'v1',
      'app.kubernetes.io/name': 'web-primary',
    });
    expect(got.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'web-primary' });
  });

  it('leaves config references alone when no config is tracked', () => {
    const got = buildPrimaryDeployment(newCanary(), newDeployment(), { ...options, configRefs: new Set() });
    const volumes = (got['spec'] as { template: { spec: { volumes: unknown[] } } }).template.spec.volumes;
    expect(volumes[0]).toEqual({ name: 'config', configMap: { name: 'podinfo-config-vol', defaultMode: 420 } });
  });

  it('omits spec fields the target does not set', () => {
    const target: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bare', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'bare' } },
        template: { metadata: { labels: { app: 'bare' } }, spec: { containers: [] } },
      },
    };
    const got = buildPrimaryDeployment(newCanary(), target, { ...options, labelValue: 'bare' });
    expect(got['spec']).toEqual({
      replicas: 1,
      selector: { matchLabels: { app: 'bare-primary' } },
      template: {
        metadata: { labels: { app: 'bare-primary' }, annotations: { 'flagger-id': 'id-1' } },
        spec: { containers: [] },
      },
    });
    expect(got.metadata).not.toHaveProperty('annotations');
  });
});

describe('primaryReplicasFor', () => {
  const hpa = newCanary({
    spec: { autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' } },
  });
  it.each([
    { name: 'create: target replicas', canary: newCanary(), target: 3, primary: undefined, expected: 3 },
    { name: 'create: target at 0 → 1', canary: newCanary(), target: 0, primary: undefined, expected: 1 },
    { name: 'create with HPA: target replicas', canary: hpa, target: 3, primary: undefined, expected: 3 },
    { name: 'promote: target replicas', canary: newCanary(), target: 3, primary: 5, expected: 3 },
    { name: 'promote: target at 0 keeps the primary', canary: newCanary(), target: 0, primary: 5, expected: 5 },
    { name: 'promote with HPA: keeps the primary', canary: hpa, target: 3, primary: 5, expected: 5 },
  ])('$name', ({ canary, target, primary, expected }) => {
    expect(primaryReplicasFor(canary, newDeployment({ replicas: target }), primary)).toBe(expected);
  });
});

describe('rewriteSelectorsForPrimary', () => {
  it('rewrites matchLabels and matchExpressions of the selector label only when the value is the target’s', () => {
    const spec = {
      topologySpreadConstraints: [
        { labelSelector: { matchLabels: { app: 'other' } } },
        { labelSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: ['podinfo'] }] } },
        { labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } },
        {},
      ],
    };
    rewriteSelectorsForPrimary(spec, 'app', 'podinfo');
    expect(spec.topologySpreadConstraints).toEqual([
      { labelSelector: { matchLabels: { app: 'other' } } },
      { labelSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: ['podinfo'] }] } },
      { labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } },
      {},
    ]);
  });
});

describe('flaggerIdFor', () => {
  it('is the same for the same canary and revision, and differs for another revision or canary', () => {
    const canary = newCanary();
    expect(flaggerIdFor(canary, 'rev1')).toBe(flaggerIdFor(newCanary(), 'rev1'));
    expect(flaggerIdFor(canary, 'rev2')).not.toBe(flaggerIdFor(canary, 'rev1'));
    expect(flaggerIdFor(newCanary({ metadata: { uid: 'other' } }), 'rev1')).not.toBe(flaggerIdFor(canary, 'rev1'));
  });
});
