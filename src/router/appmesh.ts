/**
 * The router of provider `appmesh` (Flagger pkg/router/appmesh.go AppMeshRouter), objects of
 * `appmesh.k8s.aws/v1beta1` in the mesh `service.meshName`:
 * - VirtualNodes `<apex>` (discovered as the primary), `<apex>-primary` and `<apex>-canary`;
 * - VirtualService `<apex>.<ns>` with an embedded virtual router: the weighted split (A/B: a
 *   header route to the split, then everything else to the primary);
 * - VirtualService `<apex>-canary.<ns>`: everything to the canary node.
 *
 * Also what both App Mesh routers derive from a Canary the same way (Flagger appmesh.go and
 * appmesh_v1beta2.go): listener port and protocol, route prefix, timeouts, retry policy, A/B header
 * matches and the App Mesh gateway annotations.
 */
import { firstRouteTargets } from '../apis/appmesh/read.ts';
import {
  API_VERSION as V1BETA1,
  type Route as V1beta1Route,
  type VirtualNode as V1beta1VirtualNode,
  type VirtualService as V1beta1VirtualService,
  type WeightedTarget as V1beta1WeightedTarget,
} from '../apis/appmesh/v1beta1/types.ts';
import { analysisOf, parseDuration, serviceNames, serviceTargetPort } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, HttpMatchRequest } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { namespaceOf, ownedMetadata, type Typed, WeightedObjectRouter } from './mesh-object.ts';
import type { RouterCapabilities, Weights } from './router.ts';
import { canaryService } from './kubernetes-services.ts';

/** Both App Mesh routers: weights and A/B by headers (Flagger's matrix). */
export const APP_MESH_CAPABILITIES: RouterCapabilities = {
  weights: true,
  abTesting: true,
  mirroring: false,
  sessionAffinity: false,
};

/** Canary annotation that turns on the Envoy access log of the VirtualNodes (Flagger). */
export const ACCESS_LOG_ANNOTATION = 'appmesh.flagger.app/accesslog';
export const ENABLED = 'enabled';
/** Where the access log goes when enabled. */
export const ACCESS_LOG_PATH = '/dev/stdout';
/** DNS suffix of the VirtualNodes' hostnames (Flagger's, with the trailing dot). */
export const SVC_SUFFIX = 'svc.cluster.local.';

/** Priorities of the A/B routes: the header route first, then everything else to the primary. */
export const AB_PRIORITY = 10;
export const DEFAULT_PRIORITY = 20;

/** Where the Envoy sidecar listens: `service.targetPort` when numeric, else `service.port`. */
export function containerPort(canary: Canary): number {
  const target = serviceTargetPort(canary);
  return typeof target === 'number' && target > 0 ? target : canaryService(canary).port;
}

/** `grpc` when the port name says so, `http` otherwise. */
export function protocolOf(canary: Canary): 'http' | 'grpc' {
  return (canaryService(canary).portName ?? '').includes('grpc') ? 'grpc' : 'http';
}

/** The route prefix: `service.match[0].uri.prefix`, default `/`. */
export function routePrefix(canary: Canary): string {
  const prefix = canaryService(canary).match?.[0]?.uri?.prefix;
  return prefix === undefined || prefix === '' ? '/' : prefix;
}

/** `service.timeout` in milliseconds, or undefined when unset. */
export function timeoutMs(canary: Canary): number | undefined {
  const timeout = canaryService(canary).timeout ?? '';
  return timeout === '' ? undefined : parseDuration(timeout);
}

/** Flagger's retry policy from `service.retries` (perTryTimeout 250ms, 1 attempt, gateway-error by default). */
export function retryPolicy(canary: Canary): { perTryMs: number; attempts: number; events: string[] } | undefined {
  const retries = canaryService(canary).retries;
  if (retries === undefined) return undefined;
  const perTry = retries.perTryTimeout ?? '';
  const attempts = retries.attempts ?? 0;
  const on = retries.retryOn ?? '';
  const events = on === '' ? ['gateway-error'] : on.split(',');
  return {
    perTryMs: perTry === '' ? 250 : parseDuration(perTry),
    attempts: attempts > 0 ? attempts : 1,
    events,
  };
}

/** One A/B header condition: its name and exactly the match kinds set. */
export interface HeaderCondition {
  readonly name: string;
  readonly match: { exact?: string; prefix?: string; regex?: string; suffix?: string };
}

/**
 * The header conditions of `analysis.match` (Flagger `makeHeaders`), sorted by name. Any other kind
 * of condition is an InvalidCanaryError: App Mesh routes match headers only, and dropping a
 * condition would send more users to the canary.
 */
export function abHeaders(canary: Canary): HeaderCondition[] {
  const matches = analysisOf(canary)?.match ?? [];
  return matches.flatMap((m: HttpMatchRequest, i) => {
    const path = `spec.analysis.match[${i}]`;
    const other = Object.entries(m)
      .filter(([k, v]) => k !== 'headers' && v !== undefined)
      .map(([k]) => k);
    if (other.length > 0)
      throw new InvalidCanaryError(`${path}: App Mesh matches only headers, not ${other.join(', ')}`);
    const headers = Object.entries(m.headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (headers.length === 0)
      throw new InvalidCanaryError(`${path} has no header condition: it would match every request`);
    return headers.map(([name, v]) => {
      const match: HeaderCondition['match'] = {};
      for (const kind of ['exact', 'prefix', 'regex', 'suffix'] as const) {
        const value = v[kind];
        if (value !== undefined && value !== '') match[kind] = value;
      }
      return { name, match };
    });
  });
}

/**
 * App Mesh gateway annotations of the apex virtual service when `service.hosts` is set (Flagger
 * `gatewayAnnotations`; the domain list keeps Flagger's trailing comma).
 */
export function gatewayAnnotations(canary: Canary): Record<string, string> {
  const service = canaryService(canary);
  const hosts = service.hosts ?? [];
  if (hosts.length === 0) return {};
  const attempts = service.retries?.attempts ?? 0;
  return {
    'gateway.appmesh.k8s.aws/expose': 'true',
    'gateway.appmesh.k8s.aws/domain': hosts.map((h) => `${h},`).join(''),
    ...(service.timeout ? { 'gateway.appmesh.k8s.aws/timeout': service.timeout } : {}),
    ...(attempts > 0 ? { 'gateway.appmesh.k8s.aws/retries': String(attempts) } : {}),
  };
}

/** The hostname of a Service for App Mesh DNS discovery. */
export function dnsHostname(canary: Canary, service: string): string {
  return `${service}.${canary.metadata.namespace ?? ''}.${SVC_SUFFIX}`;
}

/** True when the canary asks for the Envoy access log. */
export function accessLogEnabled(canary: Canary): boolean {
  return canary.metadata.annotations?.[ACCESS_LOG_ANNOTATION] === ENABLED;
}

/** The mesh of an `appmesh` canary: `service.meshName`, required. */
function meshName(canary: Canary): string {
  const mesh = canaryService(canary).meshName ?? '';
  if (mesh === '') throw new InvalidCanaryError('service.meshName is required with provider "appmesh"');
  return mesh;
}

/** A v1beta1 VirtualNode `name` discovered as `host` (Flagger `reconcileVirtualNode`). Pure. */
export function buildV1beta1VirtualNode(canary: Canary, name: string, host: string): V1beta1VirtualNode {
  const backends = (canaryService(canary).backends ?? []).map((b) => ({ virtualService: { virtualServiceName: b } }));
  return {
    apiVersion: V1BETA1,
    kind: 'VirtualNode',
    metadata: ownedMetadata(canary, name),
    spec: {
      meshName: meshName(canary),
      listeners: [{ portMapping: { port: canaryService(canary).port, protocol: protocolOf(canary) } }],
      serviceDiscovery: { dns: { hostName: `${host}.${namespaceOf(canary)}` } },
      ...(backends.length > 0 ? { backends } : {}),
      ...(accessLogEnabled(canary) ? { logging: { accessLog: { file: { path: ACCESS_LOG_PATH } } } } : {}),
    },
  };
}

/**
 * The v1beta1 VirtualService `<apex>.<ns>` (at `weights`) or `<apex>-canary.<ns>` (everything to the
 * canary), as Flagger's `reconcileVirtualService` + `SetRoutes` write them. Pure.
 */
export function buildV1beta1VirtualService(
  canary: Canary,
  which: 'apex' | 'canary',
  weights: Weights,
): V1beta1VirtualService {
  const names = serviceNames(canary);
  const router = names[which];
  const retries = retryPolicy(canary);
  const http = (targets: readonly V1beta1WeightedTarget[], headers?: HeaderCondition[]): V1beta1Route['http'] => ({
    match: { prefix: routePrefix(canary), ...(headers === undefined ? {} : { headers }) },
    ...(retries === undefined
      ? {}
      : {
          retryPolicy: {
            perRetryTimeoutMillis: retries.perTryMs,
            maxRetries: retries.attempts,
            httpRetryEvents: retries.events,
          },
        }),
    action: { weightedTargets: targets },
  });
  const split: V1beta1WeightedTarget[] = [
    { virtualNodeName: names.canary, weight: weights.canary },
    { virtualNodeName: names.primary, weight: weights.primary },
  ];
  const headers = which === 'apex' ? abHeaders(canary) : [];
  const routes: V1beta1Route[] =
    headers.length > 0
      ? [
          { name: `${names.apex}-a`, priority: AB_PRIORITY, http: http(split, headers) },
          {
            name: `${names.apex}-b`,
            priority: DEFAULT_PRIORITY,
            http: http([{ virtualNodeName: names.primary, weight: 100 }]),
          },
        ]
      : [{ name: router, http: http(split) }];
  const meta = ownedMetadata(canary, `${router}.${namespaceOf(canary)}`);
  const gateway = which === 'apex' ? gatewayAnnotations(canary) : {};
  return {
    apiVersion: V1BETA1,
    kind: 'VirtualService',
    metadata: { ...meta, annotations: { ...meta.annotations, ...gateway } },
    spec: {
      meshName: meshName(canary),
      virtualRouter: {
        name: router,
        listeners: [{ portMapping: { port: canaryService(canary).port, protocol: protocolOf(canary) } }],
      },
      routes,
    },
  };
}

/** The split of the first route of VirtualService `<apex>.<ns>` (Flagger GetRoutes): both targets needed. */
export function v1beta1Weights(canary: Canary, obj: KubeObject): Weights | undefined {
  return twoTargetWeights(canary, firstRouteTargets(obj['spec'], 'http'));
}

/**
 * `{primary, canary}` from the weighted targets of a route that must have exactly the primary and
 * canary nodes, not both at 0 (Flagger GetRoutes of both App Mesh routers).
 */
export function twoTargetWeights(canary: Canary, targets: ReadonlyMap<string, number>): Weights | undefined {
  const names = serviceNames(canary);
  const primary = targets.get(names.primary);
  const canaryWeight = targets.get(names.canary);
  if (targets.size !== 2 || primary === undefined || canaryWeight === undefined) return undefined;
  if (primary === 0 && canaryWeight === 0) return undefined;
  return { primary, canary: canaryWeight, mirrored: false };
}

/** Splits traffic with App Mesh v1beta1 VirtualNodes and VirtualServices. */
export class AppMeshRouter extends WeightedObjectRouter {
  override readonly capabilities: RouterCapabilities = APP_MESH_CAPABILITIES;
  protected readonly provider = 'appmesh';
  protected readonly type = Resources.appMeshV1beta1VirtualService;

  protected key(canary: Canary): ObjectKey {
    const namespace = namespaceOf(canary);
    return { namespace, name: `${serviceNames(canary).apex}.${namespace}` };
  }

  protected weightsOf(canary: Canary, obj: KubeObject): Weights | undefined {
    return v1beta1Weights(canary, obj);
  }

  protected desired(_ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject> {
    return Promise.resolve(buildV1beta1VirtualService(canary, 'apex', weights));
  }

  /** The three nodes and the canary's virtual service. */
  protected override companions(_ctx: Ctx, canary: Canary): Typed[] {
    const names = serviceNames(canary);
    const node = Resources.appMeshV1beta1VirtualNode;
    const toCanary = { primary: 0, canary: 100, mirrored: false };
    return [
      { type: node, obj: buildV1beta1VirtualNode(canary, names.apex, names.primary) },
      { type: node, obj: buildV1beta1VirtualNode(canary, names.primary, names.primary) },
      { type: node, obj: buildV1beta1VirtualNode(canary, names.canary, names.canary) },
      {
        type: Resources.appMeshV1beta1VirtualService,
        obj: buildV1beta1VirtualService(canary, 'canary', toCanary),
      },
    ];
  }
}
