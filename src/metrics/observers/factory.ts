/**
 * Picks the Observer of the builtin checks by mesh provider (Flagger pkg/metrics/observers/factory.go).
 * The table is exhaustive over MeshProvider, so adding a provider is a compile error until it is
 * listed here; providers whose queries are not ported yet throw {@link UnsupportedObserverError}
 * instead of silently using Istio's queries as Flagger's default branch does.
 */
import { type MeshProvider, isMeshProvider } from '../../apis/flagger/v1beta1/types.ts';
import { OperatorError } from '../../kube/errors.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import { HttpObserver } from './http.ts';
import type { Observer } from './observer.ts';

/** The provider has no builtin `request-success-rate` / `request-duration` queries (yet). */
export class UnsupportedObserverError extends OperatorError {}

type ObserverFactory = (client: MetricsProvider) => Observer;

const http: ObserverFactory = (client) => new HttpObserver(client);

/** `null`: known provider whose builtin queries are not implemented yet. */
const observers = {
  apisix: null,
  appmesh: null,
  'appmesh:v1beta2': null,
  contour: null,
  'gatewayapi:v1': http,
  'gatewayapi:v1beta1': http,
  gloo: null,
  istio: null,
  knative: null,
  kubernetes: http,
  kuma: null,
  linkerd: null,
  nginx: null,
  osm: null,
  skipper: null,
  'smi:v1alpha1': null,
  'smi:v1alpha2': null,
  'smi:v1alpha3': null,
  traefik: null,
} as const satisfies Record<MeshProvider, ObserverFactory | null>;

/** The observer of `provider`, querying through `client`. Throws UnsupportedObserverError. */
export function observerFor(provider: string, client: MetricsProvider): Observer {
  if (!isMeshProvider(provider)) throw new UnsupportedObserverError(`builtin metrics: unknown provider "${provider}"`);
  const make: ObserverFactory | null = observers[provider];
  if (make === null) throw new UnsupportedObserverError(`builtin metrics for provider ${provider} not yet supported`);
  return make(client);
}

/** True when `provider` has builtin queries in this version. */
export function hasObserver(provider: string): boolean {
  return isMeshProvider(provider) && observers[provider] !== null;
}
