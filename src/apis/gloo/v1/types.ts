/**
 * The subset of Gloo Edge's objects that Fledge writes and reads (cf. Flagger pkg/apis/gloo/v1 and
 * pkg/apis/gloogateway/v1): the Upstream (`gloo.solo.io/v1`) of a Kubernetes Service, and the
 * RouteTable (`gateway.solo.io/v1`) that splits traffic between two Upstreams. The Upstream fields
 * Fledge copies from `spec.upstreamRef` are kept as raw JSON: Fledge never looks into them.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const UPSTREAM_API_VERSION = 'gloo.solo.io/v1';
export const UPSTREAM_KIND = 'Upstream';
export const ROUTE_TABLE_API_VERSION = 'gateway.solo.io/v1';
export const ROUTE_TABLE_KIND = 'RouteTable';

/**
 * The Upstream settings copied from the `upstreamRef` Upstream (Flagger
 * `getGlooUpstreamKubeService`), by their JSON names. Flagger also copies `labels` into the spec,
 * a field the Gloo CRD does not have (the API server prunes it); Fledge puts them on the metadata.
 */
export const upstreamConfigFields = [
  'sslConfig',
  'circuitBreakers',
  'connectionConfig',
  'loadBalancerConfig',
  'useHttp2',
  'initialStreamWindowSize',
  'initialConnectionWindowSize',
  'httpProxyHostname',
] as const;
export type UpstreamConfigField = (typeof upstreamConfigFields)[number];

/** A Kubernetes Service as an upstream. */
export interface KubeUpstream {
  readonly serviceName: string;
  readonly serviceNamespace: string;
  readonly servicePort: number;
  readonly selector?: Readonly<Record<string, string>>;
}

export type UpstreamSpec = { readonly kube: KubeUpstream } & {
  readonly [K in UpstreamConfigField]?: unknown;
};

/** An Upstream. Assignable to `KubeObject`. */
export type Upstream = {
  readonly apiVersion: typeof UPSTREAM_API_VERSION;
  readonly kind: typeof UPSTREAM_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: UpstreamSpec;
};

export interface ResourceRef {
  readonly name: string;
  readonly namespace: string;
}

export interface HeaderMatcher {
  readonly name: string;
  /** Empty: the header must be present. */
  readonly value?: string;
  /** `value` is a regular expression (full match). */
  readonly regex?: boolean;
}

export interface QueryParameterMatcher {
  readonly name: string;
  readonly value?: string;
  readonly regex?: boolean;
}

/** All conditions of a matcher must hold; a route matches when any of its matchers does. */
export interface Matcher {
  readonly headers?: readonly HeaderMatcher[];
  readonly queryParameters?: readonly QueryParameterMatcher[];
  readonly methods?: readonly string[];
}

export interface WeightedDestination {
  readonly destination: { readonly upstream: ResourceRef };
  readonly weight: number;
}

export interface Route {
  readonly matchers?: readonly Matcher[];
  readonly routeAction: { readonly multi: { readonly destinations: readonly WeightedDestination[] } };
  /** The route also matches the path prefix of the route that delegates to the table. */
  readonly inheritablePathMatchers?: boolean;
}

export interface RouteTableSpec {
  readonly routes: readonly Route[];
}

/** A RouteTable. Assignable to `KubeObject`. */
export type RouteTable = {
  readonly apiVersion: typeof ROUTE_TABLE_API_VERSION;
  readonly kind: typeof ROUTE_TABLE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: RouteTableSpec;
};
