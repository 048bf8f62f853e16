/** Builders for the loop, events and canary-store tests. Excluded from the build. */
import type { CanaryAnalysis, CanarySpec } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import { type Logger, createLogger } from '../log/logger.ts';

export interface CanaryFixture {
  readonly name?: string;
  readonly namespace?: string;
  readonly target?: string;
  readonly interval?: string;
  /** Merged over the default analysis; `undefined` removes a default field. */
  readonly analysis?: { readonly [K in keyof CanaryAnalysis]?: CanaryAnalysis[K] | undefined };
  readonly spec?: Partial<CanarySpec>;
  readonly status?: Record<string, unknown>;
  readonly creationTimestamp?: string;
}

/** A valid Canary object (as the API server would return it, without server-set fields). */
export function newCanaryObject(f: CanaryFixture = {}): KubeObject {
  // Through JSON: drops the `undefined` fields, as the API server would never send them.
  return JSON.parse(JSON.stringify(canaryLiteral(f))) as KubeObject;
}

function canaryLiteral(f: CanaryFixture): KubeObject {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: {
      name: f.name ?? 'podinfo',
      namespace: f.namespace ?? 'apps',
      ...(f.creationTimestamp ? { creationTimestamp: f.creationTimestamp } : {}),
    },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: f.target ?? f.name ?? 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: f.interval ?? '30s', threshold: 5, stepWeight: 10, maxWeight: 50, ...f.analysis },
      ...f.spec,
    },
    ...(f.status ? { status: f.status } : {}),
  };
}

/** A Deployment whose pod template references `configMaps` and `secrets` (by volume and envFrom). */
export function newDeployment(
  name: string,
  opts: { namespace?: string; image?: string; configMaps?: string[]; secrets?: string[]; replicas?: number } = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: opts.namespace ?? 'apps' },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: opts.image ?? 'podinfo:1',
              envFrom: (opts.secrets ?? []).map((s) => ({ secretRef: { name: s } })),
            },
          ],
          volumes: (opts.configMaps ?? []).map((c) => ({ name: c, configMap: { name: c } })),
        },
      },
    },
  };
}

export function newConfigMap(name: string, data: Record<string, string>, namespace = 'apps'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

export function newSecret(name: string, data: Record<string, string>, namespace = 'apps'): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: encoded };
}

/** A logger that keeps its lines for assertions. */
export function memoryLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}
