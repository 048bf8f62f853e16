/**
 * The observer of each mesh / ingress provider (Flagger pkg/metrics/observers/factory.go). The
 * mapping is exhaustive over the CRD enum and mirrors Flagger's: `appmesh*` → App Mesh, `gloo*` →
 * Gloo, `kubernetes` and `gatewayapi:*` → the HTTP observer, and the `smi:*` providers (which match
 * no case in Flagger's switch) → Istio, Flagger's default. A provider outside the enum is an error,
 * never a silent fallback.
 */
import { meshProviderOf } from '../../apis/flagger/v1beta1/providers.ts';
import type { MeshProvider } from '../../apis/flagger/v1beta1/types.ts';
import { UnsupportedError } from '../../core/errors.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import type { Observer } from './observer.ts';
import { PromQLObserver } from './promql.ts';
import type { ObserverKind } from './queries.ts';

/** The provider has no builtin `request-success-rate` / `request-duration` queries. */
export class UnsupportedObserverError extends UnsupportedError {}

/** Which builtin queries each provider uses. */
export const observerKindOf = {
  apisix: 'apisix',
  appmesh: 'appmesh',
  'appmesh:v1beta2': 'appmesh',
  contour: 'contour',
  'gatewayapi:v1': 'http',
  'gatewayapi:v1beta1': 'http',
  gloo: 'gloo',
  istio: 'istio',
  knative: 'knative',
  kubernetes: 'http',
  kuma: 'kuma',
  linkerd: 'linkerd',
  nginx: 'nginx',
  osm: 'osm',
  skipper: 'skipper',
  'smi:v1alpha1': 'istio',
  'smi:v1alpha2': 'istio',
  'smi:v1alpha3': 'istio',
  traefik: 'traefik',
} as const satisfies Record<MeshProvider, ObserverKind>;

/** The observer of `provider`, querying through `client`. Throws UnsupportedObserverError. */
export function observerFor(provider: string, client: MetricsProvider): Observer {
  const mesh = meshProviderOf(provider);
  if (mesh === undefined) throw new UnsupportedObserverError(`builtin metrics: unknown provider "${provider}"`);
  return new PromQLObserver(observerKindOf[mesh], client);
}

/** True when `provider` has builtin queries. */
export function hasObserver(provider: string): boolean {
  return meshProviderOf(provider) !== undefined;
}
