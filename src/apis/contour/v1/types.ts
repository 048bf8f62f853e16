/**
 * The subset of Contour's `projectcontour.io/v1` HTTPProxy that Fledge writes and reads (cf.
 * Flagger pkg/apis/projectcontour/v1). Field names follow Contour's CRD; only what the contour
 * router sets is here.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const API_VERSION = 'projectcontour.io/v1';
export const HTTP_PROXY_KIND = 'HTTPProxy';

/** A header condition; Fledge sets `exact` or `contains`. */
export interface HeaderMatchCondition {
  readonly name: string;
  readonly present?: boolean;
  readonly notpresent?: boolean;
  readonly contains?: string;
  readonly notcontains?: string;
  readonly exact?: string;
  readonly notexact?: string;
}

/** All conditions of a route must hold; at most one of them may carry a path `prefix`. */
export interface MatchCondition {
  readonly prefix?: string;
  readonly header?: HeaderMatchCondition;
}

export interface HeaderValue {
  readonly name: string;
  readonly value: string;
}

export interface HeadersPolicy {
  readonly set?: readonly HeaderValue[];
  readonly remove?: readonly string[];
}

/** A weighted upstream Service of a route. */
export interface Service {
  readonly name: string;
  readonly port: number;
  /** Share of the route's traffic; when every weight is absent the split is even. */
  readonly weight?: number;
  readonly requestHeadersPolicy?: HeadersPolicy;
}

export interface TimeoutPolicy {
  readonly response?: string;
  readonly idle?: string;
}

export interface RetryPolicy {
  readonly count?: number;
  readonly perTryTimeout?: string;
  readonly retryOn?: readonly string[];
}

export interface Route {
  readonly conditions?: readonly MatchCondition[];
  readonly services?: readonly Service[];
  readonly timeoutPolicy?: TimeoutPolicy;
  readonly retryPolicy?: RetryPolicy;
}

export interface HTTPProxySpec {
  readonly routes?: readonly Route[];
  readonly ingressClassName?: string;
}

/** An HTTPProxy. Assignable to `KubeObject`. */
export type HTTPProxy = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof HTTP_PROXY_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: HTTPProxySpec;
};
