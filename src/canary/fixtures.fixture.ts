/**
 * Test builders for src/canary (cf. Flagger pkg/canary/deployment_fixture_test.go): the podinfo
 * Deployment referencing ConfigMaps and Secrets in every supported way, its configs, an HPA, a
 * Canary, and a fixture bundling FakeKube, a manual clock and a DeploymentController.
 */
import type { Canary, CanarySpec, CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Ctx } from '../core/context.ts';
import type { Fields, Logger } from '../log/logger.ts';
import type { Clock as KubeClock, Timer } from '../core/clock.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject, ObjectMeta } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { DeploymentController, type DeploymentControllerOptions } from './deployment-controller.ts';

export const NS = 'test';
export const CANARY_UID = '11111111-2222-4333-8444-555555555555';
export const TARGET_UID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
/** 2026-01-01T00:00:00Z */
export const T0 = Date.UTC(2026, 0, 1);

/** A clock the test moves by hand; also drives FakeKube's timestamps and timers. */
export class ManualClock implements Clock, KubeClock {
  #now: number;
  #timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(now = T0) {
    this.#now = now;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    const timer = { at: this.#now + Math.max(0, ms), fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
  /** Moves time forward, running the timers that fall due. */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.at <= this.#now && !t.cancelled);
    this.#timers = this.#timers.filter((t) => t.at > this.#now && !t.cancelled);
    for (const t of due) t.fn();
  }
}

/** A logger that keeps every line, for asserting on what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; msg: string; fields: Fields }[];
  readonly #base: Fields;
  constructor(lines: { level: string; msg: string; fields: Fields }[] = [], base: Fields = {}) {
    this.lines = lines;
    this.#base = base;
  }
  debug(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'debug', msg, fields: { ...this.#base, ...fields } });
  }
  info(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'info', msg, fields: { ...this.#base, ...fields } });
  }
  warn(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'warn', msg, fields: { ...this.#base, ...fields } });
  }
  error(msg: string, fields?: Fields): void {
    this.lines.push({ level: 'error', msg, fields: { ...this.#base, ...fields } });
  }
  child(fields: Fields): Logger {
    return new RecordingLogger(this.lines, { ...this.#base, ...fields });
  }
}

export function newCtx(log: Logger = new RecordingLogger()): Ctx {
  return { signal: new AbortController().signal, log };
}

/** The podinfo Canary: Deployment target, service port 9898, a canary analysis. */
export function newCanary(
  over: { spec?: Partial<CanarySpec>; status?: CanaryStatus; metadata?: Partial<ObjectMeta> } = {},
): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: NS, uid: CANARY_UID, generation: 1, ...over.metadata },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
      ...over.spec,
    },
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}

/** The pod template of podinfo: every kind of config reference, an init container, affinity rules and a sidecar. */
export function podinfoTemplate(): Record<string, unknown> {
  return {
    metadata: {
      labels: { app: 'podinfo', version: 'v1', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
      annotations: { 'prometheus.io/scrape': 'true', 'flagger-id': 'stale', 'kustomize.toolkit.fluxcd.io/x': 'y' },
    },
    spec: {
      initContainers: [
        {
          name: 'init',
          image: 'busybox:1.36',
          env: [{ name: 'INIT', valueFrom: { configMapKeyRef: { name: 'podinfo-config-init', key: 'mode' } } }],
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
            { name: 'PODINFO_UI_COLOR', valueFrom: { configMapKeyRef: { name: 'podinfo-config-env', key: 'color' } } },
            { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'podinfo-secret-env', key: 'apiKey' } } },
            {
              name: 'OPTIONAL',
              valueFrom: { configMapKeyRef: { name: 'podinfo-config-optional', key: 'x', optional: true } },
            },
            { name: 'PLAIN', value: 'x' },
          ],
          envFrom: [
            { configMapRef: { name: 'podinfo-config-all-env' } },
            { secretRef: { name: 'podinfo-secret-all-env' } },
          ],
          volumeMounts: [{ name: 'config', mountPath: '/etc/podinfo/config' }],
        },
        { name: 'istio-proxy', image: 'istio/proxyv2', ports: [{ name: 'http-envoy-prom', containerPort: 15090 }] },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'podinfo-config-vol', defaultMode: 420 } },
        { name: 'secret', secret: { secretName: 'podinfo-secret-vol' } },
        {
          name: 'projected',
          projected: {
            sources: [
              { configMap: { name: 'podinfo-config-projected' } },
              { secret: { name: 'podinfo-secret-projected' } },
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
            { labelSelector: { matchLabels: { app: 'podinfo' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['podinfo', 'other'] }] },
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
          labelSelector: { matchLabels: { app: 'podinfo', version: 'podinfo' } },
        },
      ],
    },
  };
}

/** A Deployment status that `deploymentVerdict` accepts as ready for `replicas`. */
export function readyStatus(replicas: number, generation = 1): Record<string, unknown> {
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
    ],
  };
}

/** The podinfo Deployment (selector `app: podinfo`), ready with `replicas`. */
export function newDeployment(
  over: { name?: string; replicas?: number; spec?: Record<string, unknown>; metadata?: Partial<ObjectMeta> } = {},
): KubeObject {
  const replicas = over.replicas ?? 2;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: over.name ?? 'podinfo',
      namespace: NS,
      uid: TARGET_UID,
      labels: { app: 'podinfo', team: 'a', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
      annotations: {
        owner: 'team-a',
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration': '{"secret":"stuff"}',
        'kustomize.toolkit.fluxcd.io/checksum': 'abc',
      },
      ...over.metadata,
    },
    spec: {
      replicas,
      progressDeadlineSeconds: 60,
      minReadySeconds: 5,
      revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      selector: { matchLabels: { app: 'podinfo' } },
      template: podinfoTemplate(),
      ...over.spec,
    },
    status: readyStatus(replicas),
  };
}

export function newConfigMap(
  name: string,
  data: Record<string, string>,
  metadata: Partial<ObjectMeta> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ...metadata }, data };
}

export function newSecret(
  name: string,
  data: Record<string, string>,
  type = 'Opaque',
  metadata: Partial<ObjectMeta> = {},
): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS, ...metadata }, type, data: encoded };
}

/** Every ConfigMap and Secret podinfo references (except the optional one, which is missing). */
export function newConfigs(): KubeObject[] {
  return [
    newConfigMap('podinfo-config-env', { color: 'blue' }, { labels: { app: 'podinfo' } }),
    newConfigMap('podinfo-config-all-env', { A: '1', B: '2' }),
    newConfigMap('podinfo-config-vol', { 'podinfo.yaml': 'level: info' }),
    newConfigMap('podinfo-config-projected', { p: 'x' }),
    newConfigMap('podinfo-config-init', { mode: 'fast' }),
    newConfigMap(
      'podinfo-config-untracked',
      { u: '1' },
      { annotations: { 'flagger.app/config-tracking': 'disabled' } },
    ),
    newSecret('podinfo-secret-env', { apiKey: 'secret' }, 'Opaque', {
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"apiKey":"secret"}}' },
    }),
    newSecret('podinfo-secret-all-env', { USER: 'u' }, 'kubernetes.io/basic-auth'),
    newSecret('podinfo-secret-vol', { 'tls.crt': 'c', 'tls.key': 'k' }, 'kubernetes.io/tls'),
    newSecret('podinfo-secret-projected', { 'ssh-privatekey': 'k' }, 'kubernetes.io/ssh-auth'),
    newSecret('podinfo-registry', { '.dockerconfigjson': '{}' }, 'kubernetes.io/dockerconfigjson'),
  ];
}

/** The keys of the configs podinfo tracks. */
export const TRACKED_KEYS: readonly string[] = [
  'configmap/podinfo-config-all-env',
  'configmap/podinfo-config-env',
  'configmap/podinfo-config-init',
  'configmap/podinfo-config-projected',
  'configmap/podinfo-config-vol',
  'secret/podinfo-secret-all-env',
  'secret/podinfo-secret-env',
  'secret/podinfo-secret-projected',
  'secret/podinfo-secret-vol',
];

/** podinfo's HPA: 2–4 replicas on CPU. */
export function newHpa(over: { spec?: Record<string, unknown>; metadata?: Partial<ObjectMeta> } = {}): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'podinfo', namespace: NS, labels: { app: 'podinfo' }, ...over.metadata },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 99 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      ...over.spec,
    },
    status: { currentReplicas: 2, desiredReplicas: 2 },
  };
}

export interface Fixture {
  readonly kube: FakeKube;
  readonly clock: ManualClock;
  readonly log: RecordingLogger;
  readonly ctx: Ctx;
  readonly controller: DeploymentController;
  canary: Canary;
}

/** FakeKube seeded with podinfo, its configs (and `objects`), a manual clock and a controller. */
export function newFixture(
  over: {
    canary?: Canary;
    objects?: readonly KubeObject[];
    deployment?: KubeObject;
    options?: Partial<DeploymentControllerOptions>;
  } = {},
): Fixture {
  const clock = new ManualClock();
  const kube = new FakeKube([over.deployment ?? newDeployment(), ...newConfigs(), ...(over.objects ?? [])], { clock });
  const log = new RecordingLogger();
  const controller = new DeploymentController({ kube, clock, ...over.options });
  return { kube, clock, log, ctx: newCtx(log), controller, canary: over.canary ?? newCanary() };
}

/** Makes the stored Deployment `name` report a finished rollout of its current spec. */
export function makeReady(kube: FakeKube, name: string): void {
  const key = { namespace: NS, name };
  const obj = kube.peek(Resources.deployment, key);
  if (!obj) throw new Error(`no deployment ${name}`);
  const replicas = (obj['spec'] as { replicas?: number }).replicas ?? 1;
  kube.setStatus(Resources.deployment, key, readyStatus(replicas, obj.metadata.generation ?? 1));
}
