/**
 * What the App Mesh routers of both API versions derive from a Canary the same way (Flagger
 * appmesh.go and appmesh_v1beta2.go): listener port and protocol, route prefix, timeouts, retry
 * policy, A/B header matches and the App Mesh gateway annotations.
 */
import { analysisOf, parseDuration, serviceTargetPort } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, HttpMatchRequest } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import { canaryService } from './kubernetes-services.ts';

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
