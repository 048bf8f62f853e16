/**
 * The subset of Istio's `networking.istio.io/v1beta1` VirtualService and DestinationRule that Fledge
 * writes (cf. Flagger pkg/apis/istio/v1beta1, the version Flagger v1.44 writes). Field names follow
 * Istio's CRDs; the shapes shared with the Canary's `spec.service` (matches, retries, headers, CORS,
 * traffic policy) are the Canary's own types, which Flagger copied from Istio.
 */
import type { CorsPolicy, Headers, HttpMatchRequest, HttpRetry, TrafficPolicy } from '../../flagger/v1beta1/types.ts';
import type { ObjectMeta } from '../../../kube/objects.ts';

/** API group of Istio's networking objects. */
export const GROUP = 'networking.istio.io';
/** `apiVersion` Fledge writes: the one Flagger v1.44 writes, still served by Istio's CRDs. */
export const API_VERSION = 'networking.istio.io/v1beta1';
export const VIRTUAL_SERVICE_KIND = 'VirtualService';
export const DESTINATION_RULE_KIND = 'DestinationRule';
/** The gateway name that means "every sidecar in the mesh". */
export const MESH_GATEWAY = 'mesh';

/** `destination.port`. */
export interface PortSelector {
  readonly number: number;
}

/** A Service (by host name) that receives traffic. */
export interface Destination {
  readonly host: string;
  readonly port?: PortSelector;
}

/** One weighted destination of a route, with its own header operations (session-affinity cookies). */
export interface HTTPRouteDestination {
  readonly destination: Destination;
  readonly weight: number;
  readonly headers?: Headers;
}

/** `http[].rewrite`. */
export interface HTTPRewrite {
  readonly uri?: string;
  readonly authority?: string;
}

/** `http[].mirrorPercentage`. */
export interface Percent {
  readonly value: number;
}

/** One HTTP route of a VirtualService. */
export interface HTTPRoute {
  readonly match?: readonly HttpMatchRequest[];
  readonly rewrite?: HTTPRewrite;
  readonly timeout?: string;
  readonly retries?: HttpRetry;
  readonly corsPolicy?: CorsPolicy;
  readonly headers?: Headers;
  readonly route: readonly HTTPRouteDestination[];
  readonly mirror?: Destination;
  readonly mirrorPercentage?: Percent;
}

/** `tcp[].match[]`. */
export interface L4MatchAttributes {
  readonly port?: number;
}

/** One TCP route of a VirtualService. */
export interface TCPRoute {
  readonly match?: readonly L4MatchAttributes[];
  readonly route: readonly HTTPRouteDestination[];
}

export interface VirtualServiceSpec {
  readonly hosts?: readonly string[];
  readonly gateways?: readonly string[];
  readonly http?: readonly HTTPRoute[];
  readonly tcp?: readonly TCPRoute[];
}

/** A type alias, not an interface, so that it is assignable to `KubeObject`. */
export type VirtualService = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof VIRTUAL_SERVICE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: VirtualServiceSpec;
};

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
}

export type DestinationRule = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof DESTINATION_RULE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: DestinationRuleSpec;
};
