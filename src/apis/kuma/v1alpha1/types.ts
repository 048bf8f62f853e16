/**
 * The subset of Kuma's cluster-scoped `kuma.io/v1alpha1` TrafficRoute that Fledge writes (cf.
 * Flagger pkg/apis/kuma/v1alpha1). Kuma names a Kubernetes Service `<name>_<namespace>_svc_<port>`
 * in its `kuma.io/service` tag.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const API_VERSION = 'kuma.io/v1alpha1';
export const TRAFFIC_ROUTE_KIND = 'TrafficRoute';
/** The tag Kuma identifies a service by. */
export const SERVICE_TAG = 'kuma.io/service';
/** Canary annotation naming the mesh (Flagger); `default` when absent. */
export const MESH_ANNOTATION = 'kuma.io/mesh';
export const DEFAULT_MESH = 'default';

export type Tags = Readonly<Record<string, string>>;

export interface Selector {
  readonly match: Tags;
}

export interface Split {
  readonly weight: number;
  readonly destination: Tags;
}

export interface TrafficRoute {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof TRAFFIC_ROUTE_KIND;
  readonly metadata: ObjectMeta;
  readonly mesh: string;
  readonly spec: {
    readonly sources: readonly Selector[];
    readonly destinations: readonly Selector[];
    readonly conf: { readonly split: readonly Split[] };
  };
  readonly [field: string]: unknown;
}

/** Kuma's `kuma.io/service` tag of a Kubernetes Service port. */
export function kumaServiceName(service: string, namespace: string, port: number): string {
  return `${service}_${namespace}_svc_${port}`;
}
