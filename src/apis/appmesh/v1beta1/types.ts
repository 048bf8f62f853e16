/**
 * The subset of the `appmesh.k8s.aws/v1beta1` VirtualNode and VirtualService (with its embedded
 * virtual router and routes) that Fledge writes for provider `appmesh` (cf. Flagger
 * pkg/apis/appmesh/v1beta1). App Mesh controller v1.0 replaced this API with v1beta2.
 */
import type { AppMeshObject } from '../object.ts';

export const API_VERSION = 'appmesh.k8s.aws/v1beta1';

export interface PortMapping {
  readonly port: number;
  readonly protocol: 'http' | 'grpc';
}

export interface VirtualNodeSpec {
  readonly meshName: string;
  readonly listeners: readonly { readonly portMapping: PortMapping }[];
  readonly serviceDiscovery: { readonly dns: { readonly hostName: string } };
  readonly backends?: readonly { readonly virtualService: { readonly virtualServiceName: string } }[];
  readonly logging?: { readonly accessLog: { readonly file: { readonly path: string } } };
}

export interface WeightedTarget {
  readonly virtualNodeName: string;
  readonly weight: number;
}

export interface Route {
  readonly name: string;
  readonly priority?: number;
  readonly http: {
    readonly match: {
      readonly prefix: string;
      readonly headers?: readonly { readonly name: string; readonly match: Readonly<Record<string, string>> }[];
    };
    readonly retryPolicy?: {
      readonly perRetryTimeoutMillis: number;
      readonly maxRetries: number;
      readonly httpRetryEvents: readonly string[];
    };
    readonly action: { readonly weightedTargets: readonly WeightedTarget[] };
  };
}

export interface VirtualServiceSpec {
  readonly meshName: string;
  readonly virtualRouter: {
    readonly name: string;
    readonly listeners: readonly { readonly portMapping: PortMapping }[];
  };
  readonly routes: readonly Route[];
}

export type VirtualNode = AppMeshObject<typeof API_VERSION, 'VirtualNode', VirtualNodeSpec>;
export type VirtualService = AppMeshObject<typeof API_VERSION, 'VirtualService', VirtualServiceSpec>;
