/**
 * The subset of APISIX's `apisix.apache.org/v2` ApisixRoute that Fledge reads and writes (cf.
 * Flagger pkg/apis/apisix/v2). An HTTP rule is copied from the user's route as JSON, so every field
 * Fledge does not touch (match, plugins, timeouts, …) survives unchanged; only `priority` and the
 * backends are typed.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const API_VERSION = 'apisix.apache.org/v2';
export const APISIX_ROUTE_KIND = 'ApisixRoute';
/** The priority of the canary rule, above any rule of the user's route (Flagger `maxPriority`). */
export const MAX_PRIORITY = 10000;

export interface HttpBackend {
  readonly serviceName: string;
  readonly servicePort: number | string;
  readonly resolveGranularity?: string;
  readonly weight: number;
  readonly subset?: string;
}

/** One `spec.http[]` rule: its name, priority and backends, and any other field as the user wrote it. */
export interface HttpRule {
  readonly name: string;
  readonly priority?: number;
  readonly backends: readonly HttpBackend[];
  readonly [field: string]: unknown;
}

export interface ApisixRoute {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof APISIX_ROUTE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: { readonly http: readonly HttpRule[] };
  readonly [field: string]: unknown;
}
