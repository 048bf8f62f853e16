/**
 * The subset of Traefik's `traefik.io/v1alpha1` TraefikService that Fledge writes (cf. Flagger
 * pkg/apis/traefik/v1alpha1): a weighted round robin over Kubernetes Services.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const API_VERSION = 'traefik.io/v1alpha1';
export const TRAEFIK_SERVICE_KIND = 'TraefikService';

/** One Service of a weighted round robin. */
export interface WeightedService {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  readonly weight: number;
}

export interface TraefikService {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof TRAEFIK_SERVICE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: { readonly weighted: { readonly services: readonly WeightedService[] } };
  readonly [field: string]: unknown;
}
