/**
 * The subset of AWS App Mesh controller's `appmesh.k8s.aws/v1beta2` VirtualNode, VirtualRouter and
 * VirtualService that Fledge writes (cf. Flagger pkg/apis/appmesh/v1beta2). `meshRef` and `awsName`
 * are set by the App Mesh controller's webhook and never by Fledge.
 */
import type { AppMeshObject } from '../object.ts';

export const API_VERSION = 'appmesh.k8s.aws/v1beta2';
/** Fields the App Mesh controller fills in; Fledge neither writes nor compares them. */
export const CONTROLLER_FIELDS = ['awsName', 'meshRef'] as const;

export interface Duration {
  readonly unit: 'ms' | 's';
  readonly value: number;
}

export interface PortMapping {
  readonly port: number;
  readonly protocol: 'http' | 'grpc';
}

export interface HttpTimeout {
  readonly perRequest: Duration;
}

export interface Listener {
  readonly portMapping: PortMapping;
  readonly timeout?: { readonly http: HttpTimeout };
}

export interface Backend {
  readonly virtualService:
    { readonly virtualServiceRef: { readonly name: string } } | { readonly virtualServiceARN: string };
}

export interface VirtualNodeSpec {
  readonly podSelector: { readonly matchLabels: Readonly<Record<string, string>> };
  readonly listeners: readonly Listener[];
  readonly serviceDiscovery: { readonly dns: { readonly hostname: string } };
  readonly backends?: readonly Backend[];
  readonly logging?: { readonly accessLog: { readonly file: { readonly path: string } } };
}

export interface HeaderMatch {
  readonly name: string;
  readonly match: {
    readonly exact?: string;
    readonly prefix?: string;
    readonly regex?: string;
    readonly suffix?: string;
  };
}

export interface WeightedTarget {
  readonly virtualNodeRef: { readonly name: string };
  readonly weight: number;
}

export interface RetryPolicy {
  readonly perRetryTimeout: Duration;
  readonly maxRetries: number;
  readonly httpRetryEvents: readonly string[];
}

export interface Route {
  readonly name: string;
  readonly priority?: number;
  readonly httpRoute: {
    readonly match: { readonly prefix: string; readonly headers?: readonly HeaderMatch[] };
    readonly timeout?: HttpTimeout;
    readonly retryPolicy?: RetryPolicy;
    readonly action: { readonly weightedTargets: readonly WeightedTarget[] };
  };
}

export interface VirtualRouterSpec {
  readonly listeners: readonly { readonly portMapping: PortMapping }[];
  readonly routes: readonly Route[];
}

export interface VirtualServiceSpec {
  readonly provider: { readonly virtualRouter: { readonly virtualRouterRef: { readonly name: string } } };
}

export type VirtualNode = AppMeshObject<typeof API_VERSION, 'VirtualNode', VirtualNodeSpec>;
export type VirtualRouter = AppMeshObject<typeof API_VERSION, 'VirtualRouter', VirtualRouterSpec>;
export type VirtualService = AppMeshObject<typeof API_VERSION, 'VirtualService', VirtualServiceSpec>;
