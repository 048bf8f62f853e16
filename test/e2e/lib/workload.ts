// Flagger's podinfo test workload, as plain objects, and small readers for what Fledge writes.
import { apply, kubectl, kubectlJson, waitFor } from '../support/index.ts';

export const IMAGE_V1 = 'ghcr.io/stefanprodan/podinfo:6.0.0';
export const IMAGE_V2 = 'ghcr.io/stefanprodan/podinfo:6.0.1';

export interface PodinfoOptions {
  readonly name?: string;
  readonly replicas?: number;
  readonly image?: string;
  /** Pods that can never be scheduled (no node matches): the rollout stalls. */
  readonly unschedulable?: boolean;
  readonly progressDeadlineSeconds?: number;
}

/** The podinfo Deployment with an env ConfigMap, a volume ConfigMap and an env Secret (as Flagger's fixtures). */
export function podinfo(namespace: string, o: PodinfoOptions = {}): object[] {
  const name = o.name ?? 'podinfo';
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config-env`, namespace },
      data: { color: 'blue' },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config-vol`, namespace },
      data: { 'app.yaml': 'level: info' },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-secret-env`, namespace },
      type: 'Opaque',
      stringData: { password: 'not-a-real-secret' },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        replicas: o.replicas ?? 2,
        ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            ...(o.unschedulable ? { nodeSelector: { 'fledge.e2e/no-such-node': 'true' } } : {}),
            containers: [
              {
                name: 'podinfod',
                image: o.image ?? IMAGE_V1,
                ports: [{ name: 'http', containerPort: 9898 }],
                env: [
                  { name: 'COLOR', valueFrom: { configMapKeyRef: { name: `${name}-config-env`, key: 'color' } } },
                  { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-secret-env`, key: 'password' } } },
                ],
                volumeMounts: [{ name: 'config', mountPath: '/etc/podinfo' }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: `${name}-config-vol` } }],
          },
        },
      },
    },
  ];
}

export function hpa(namespace: string, name = 'podinfo'): object {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 90 } } },
      ],
    },
  };
}

export interface CanaryOptions {
  readonly name?: string;
  readonly target?: string;
  readonly provider?: string;
  readonly analysis?: Record<string, unknown>;
  readonly service?: Record<string, unknown>;
  readonly spec?: Record<string, unknown>;
}

export function canary(namespace: string, o: CanaryOptions = {}): object {
  const target = o.target ?? 'podinfo';
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: o.name ?? target, namespace },
    spec: {
      ...(o.provider ? { provider: o.provider } : {}),
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      progressDeadlineSeconds: 60,
      service: { port: 9898, ...(o.service ?? {}) },
      analysis: { interval: '1s', threshold: 2, maxWeight: 60, stepWeight: 20, ...(o.analysis ?? {}) },
      ...(o.spec ?? {}),
    },
  };
}

/** A Blue/Green canary: `iterations` analysis runs, no traffic steps (the kubernetes provider's mode). */
export function blueGreenCanary(namespace: string, iterations: number, o: CanaryOptions = {}): object {
  return canary(namespace, {
    provider: 'kubernetes',
    ...o,
    analysis: { iterations, stepWeight: undefined, maxWeight: undefined, ...(o.analysis ?? {}) },
  });
}

/** A Gateway API parent for `gatewayapi:v1` canaries (no Gateway controller runs; the route is what we check). */
export const gatewayRefs = [{ name: 'gateway', namespace: 'default' }];

export async function applyAll(objects: readonly object[], namespace: string): Promise<void> {
  await apply({ apiVersion: 'v1', kind: 'List', items: objects }, { namespace });
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface CanaryState {
  metadata: { generation?: number; finalizers?: string[] };
  status?: {
    phase?: string;
    canaryWeight?: number;
    failedChecks?: number;
    iterations?: number;
    lastAppliedSpec?: string;
    lastPromotedSpec?: string;
    conditions?: Condition[];
    checks?: { name: string; passed: boolean; message?: string }[];
  };
}

export async function getCanary(namespace: string, name = 'podinfo'): Promise<CanaryState> {
  return kubectlJson<CanaryState>(['get', 'canary', name], { namespace });
}

export async function waitForPhase(
  namespace: string,
  phase: string,
  o: { name?: string; timeoutMs?: number } = {},
): Promise<CanaryState> {
  return waitFor(
    async () => {
      const c = await getCanary(namespace, o.name);
      return c.status?.phase === phase ? c : undefined;
    },
    {
      describe: `canary ${o.name ?? 'podinfo'} in ${namespace} to reach phase ${phase}`,
      timeoutMs: o.timeoutMs ?? 120_000,
      intervalMs: 200,
    },
  );
}

export function condition(c: CanaryState, type: string): Condition | undefined {
  return c.status?.conditions?.find((x) => x.type === type);
}

export interface DeploymentState {
  metadata: { annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        containers: { image: string; env?: { name: string; valueFrom?: Record<string, { name: string }> }[] }[];
        volumes?: { configMap?: { name: string } }[];
      };
    };
  };
  status?: { availableReplicas?: number; readyReplicas?: number };
}

export async function getDeployment(namespace: string, name: string): Promise<DeploymentState> {
  return kubectlJson<DeploymentState>(['get', 'deployment', name], { namespace });
}

export async function setImage(namespace: string, image: string, name = 'podinfo'): Promise<void> {
  await kubectl(['set', 'image', `deployment/${name}`, `podinfod=${image}`], { namespace });
}

/** Weights of the `<apex>-primary` and `<apex>-canary` backends of the HTTPRoute `<apex>` (first rule). */
export async function routeWeights(namespace: string, apex = 'podinfo'): Promise<{ primary: number; canary: number }> {
  const route = await kubectlJson<{ spec: { rules: { backendRefs?: { name: string; weight?: number }[] }[] } }>(
    ['get', 'httproute', apex],
    { namespace },
  );
  const refs = route.spec.rules[0]?.backendRefs ?? [];
  const weight = (n: string): number => refs.find((r) => r.name === n)?.weight ?? -1;
  return { primary: weight(`${apex}-primary`), canary: weight(`${apex}-canary`) };
}

export async function events(
  namespace: string,
): Promise<{ reason: string; message: string; type: string; source?: { component?: string } }[]> {
  const list = await kubectlJson<{
    items: { reason: string; message: string; type: string; source?: { component?: string } }[];
  }>(['get', 'events', '--field-selector', 'involvedObject.kind=Canary'], { namespace });
  return list.items;
}
