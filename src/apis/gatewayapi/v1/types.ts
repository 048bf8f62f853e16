/**
 * The subset of the Gateway API `gateway.networking.k8s.io/v1` HTTPRoute that Fledge writes and
 * reads (cf. Flagger pkg/apis/gatewayapi/v1). Field names, enums and defaults follow the v1.4.0
 * standard-channel CRD (`config/crd/standard/gateway.networking.k8s.io_httproutes.yaml`); fields of
 * the experimental channel (CORS filter, retries, session persistence, …) are deliberately absent
 * because the standard CRD rejects or prunes them.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

/** API group of the Gateway API. */
export const GROUP = 'gateway.networking.k8s.io';
/** `apiVersion` of the v1 objects. */
export const API_VERSION = 'gateway.networking.k8s.io/v1';
/**
 * `apiVersion` of the v1beta1 HTTPRoute (provider `gatewayapi:v1beta1`). The CRD serves v1beta1
 * with the same schema as v1, so the types below describe both.
 */
export const V1BETA1_API_VERSION = 'gateway.networking.k8s.io/v1beta1';
export const HTTP_ROUTE_KIND = 'HTTPRoute';

/** Default `group` of a ParentReference (CRD default). */
export const PARENT_GROUP_DEFAULT = GROUP;
/** Default `kind` of a ParentReference (CRD default). */
export const PARENT_KIND_DEFAULT = 'Gateway';
/** Default `group` of a BackendObjectReference: the core group (CRD default). */
export const BACKEND_GROUP_DEFAULT = '';
/** Default `kind` of a BackendObjectReference (CRD default). */
export const BACKEND_KIND_DEFAULT = 'Service';
/** Default `weight` of an HTTPBackendRef (CRD default). */
export const BACKEND_WEIGHT_DEFAULT = 1;
/** Route condition a Gateway controller sets on each parent it evaluated. */
export const ROUTE_CONDITION_ACCEPTED = 'Accepted';

/** A reference to the Gateway (or, for GAMMA, the Service) a route attaches to. */
export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export const pathMatchTypes = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
export type PathMatchType = (typeof pathMatchTypes)[number];

export interface HTTPPathMatch {
  /** Default `PathPrefix`. */
  readonly type?: PathMatchType;
  /** Default `/`. */
  readonly value?: string;
}

export const headerMatchTypes = ['Exact', 'RegularExpression'] as const;
/** Match type of a header or query parameter. */
export type HeaderMatchType = (typeof headerMatchTypes)[number];

export interface HTTPHeaderMatch {
  /** Default `Exact`. */
  readonly type?: HeaderMatchType;
  readonly name: string;
  readonly value: string;
}

export interface HTTPQueryParamMatch {
  /** Default `Exact`. */
  readonly type?: HeaderMatchType;
  readonly name: string;
  readonly value: string;
}

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export type HTTPMethod = (typeof httpMethods)[number];

/** All conditions of one match must hold; a rule matches when any of its matches does. */
export interface HTTPRouteMatch {
  readonly path?: HTTPPathMatch;
  readonly headers?: readonly HTTPHeaderMatch[];
  readonly queryParams?: readonly HTTPQueryParamMatch[];
  readonly method?: HTTPMethod;
}

export interface HTTPHeader {
  readonly name: string;
  readonly value: string;
}

/** RequestHeaderModifier / ResponseHeaderModifier. */
export interface HTTPHeaderFilter {
  readonly set?: readonly HTTPHeader[];
  readonly add?: readonly HTTPHeader[];
  readonly remove?: readonly string[];
}

export interface BackendObjectReference {
  /** Default `""` (core). */
  readonly group?: string;
  /** Default `Service`. */
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  /** Required when the backend is a Service. */
  readonly port?: number;
}

export interface Fraction {
  readonly numerator: number;
  /** Default 100. */
  readonly denominator?: number;
}

export interface HTTPRequestMirrorFilter {
  readonly backendRef: BackendObjectReference;
  /** At most one of `percent` and `fraction`. */
  readonly percent?: number;
  readonly fraction?: Fraction;
}

export const pathModifierTypes = ['ReplaceFullPath', 'ReplacePrefixMatch'] as const;
export type HTTPPathModifierType = (typeof pathModifierTypes)[number];

export interface HTTPPathModifier {
  readonly type: HTTPPathModifierType;
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HTTPURLRewriteFilter {
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
}

export interface HTTPRequestRedirectFilter {
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
  readonly port?: number;
  /** Default 302. */
  readonly statusCode?: 301 | 302;
}

export interface LocalObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

/** Filter types of the standard channel (`CORS` and `ExternalAuth` are experimental in v1.4.0). */
export const httpRouteFilterTypes = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestMirror',
  'RequestRedirect',
  'URLRewrite',
  'ExtensionRef',
] as const;
export type HTTPRouteFilterType = (typeof httpRouteFilterTypes)[number];

/** Exactly the field named by `type` is set. */
export interface HTTPRouteFilter {
  readonly type: HTTPRouteFilterType;
  readonly requestHeaderModifier?: HTTPHeaderFilter;
  readonly responseHeaderModifier?: HTTPHeaderFilter;
  readonly requestMirror?: HTTPRequestMirrorFilter;
  readonly requestRedirect?: HTTPRequestRedirectFilter;
  readonly urlRewrite?: HTTPURLRewriteFilter;
  readonly extensionRef?: LocalObjectReference;
}

export interface HTTPBackendRef extends BackendObjectReference {
  /** Proportion of the rule's traffic; default 1, 0 sends none. */
  readonly weight?: number;
  readonly filters?: readonly HTTPRouteFilter[];
}

/** Gateway API durations: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`. */
export interface HTTPRouteTimeouts {
  readonly request?: string;
  readonly backendRequest?: string;
}

export interface HTTPRouteRule {
  readonly name?: string;
  /** Default: one match on path prefix `/`. */
  readonly matches?: readonly HTTPRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly HTTPBackendRef[];
  readonly timeouts?: HTTPRouteTimeouts;
}

export interface HTTPRouteSpec {
  readonly parentRefs?: readonly ParentReference[];
  readonly hostnames?: readonly string[];
  readonly rules?: readonly HTTPRouteRule[];
}

/** A metav1.Condition. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** What one controller says about the route's attachment to one parent. */
export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface HTTPRouteStatus {
  readonly parents: readonly RouteParentStatus[];
}

/** An HTTPRoute. Assignable to `KubeObject`. */
export type HTTPRoute = {
  readonly apiVersion: typeof API_VERSION | typeof V1BETA1_API_VERSION;
  readonly kind: typeof HTTP_ROUTE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: HTTPRouteSpec;
  readonly status?: HTTPRouteStatus;
};
