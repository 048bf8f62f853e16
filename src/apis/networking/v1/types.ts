/**
 * The subset of `networking.k8s.io/v1` Ingress that the nginx and skipper routers read and write:
 * the rules' service backends are rewritten, everything else of the user's spec is copied as is
 * (so fields are typed loosely where Fledge never looks into them).
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

export const API_VERSION = 'networking.k8s.io/v1';
export const INGRESS_KIND = 'Ingress';

/** A port of a Service backend: by number or by name. */
export interface ServiceBackendPort {
  readonly name?: string;
  readonly number?: number;
}

export interface IngressServiceBackend {
  readonly name: string;
  readonly port?: ServiceBackendPort;
}

/** Exactly one of `service` and `resource` is set. */
export interface IngressBackend {
  readonly service?: IngressServiceBackend;
  readonly resource?: Readonly<Record<string, unknown>>;
}

export interface HTTPIngressPath {
  readonly path?: string;
  /** `Exact`, `Prefix` or `ImplementationSpecific`; required. */
  readonly pathType: string;
  readonly backend: IngressBackend;
}

export interface HTTPIngressRuleValue {
  readonly paths: readonly HTTPIngressPath[];
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: HTTPIngressRuleValue;
}

export interface IngressSpec {
  readonly ingressClassName?: string;
  readonly defaultBackend?: IngressBackend;
  readonly tls?: readonly Readonly<Record<string, unknown>>[];
  readonly rules?: readonly IngressRule[];
}

/** An Ingress. Assignable to `KubeObject`. */
export type Ingress = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof INGRESS_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: IngressSpec;
};
