/**
 * Builds the routers of a canary (Flagger pkg/router/factory.go), exhaustively: every provider of
 * the CRD enum maps to a router or to a clear "not yet supported" error, and a name outside the
 * enum is an error too. Nothing falls back silently (Flagger falls back to Istio).
 */
import {
  isMeshProvider,
  meshProviders,
  type Canary,
  type MeshProvider,
  type TargetKind,
} from '../apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import type { KubeClient } from '../kube/port.ts';
import type { ResourceType } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { GatewayApiRouter } from './gateway-api.ts';
import { KubernetesServiceRouter, NopServiceRouter } from './kubernetes-services.ts';
import { NopRouter } from './nop.ts';
import type { Router, ServiceRouter } from './router.ts';
import { TraefikRouter } from './traefik.ts';
import { KumaRouter } from './kuma.ts';
import { ApisixRouter } from './apisix.ts';
import { AppMeshRouter } from './appmesh.ts';
import { AppMeshV1beta2Router } from './appmesh-v1beta2.ts';
import { CachedReader } from './util.ts';

/** What the routers need from the operator. */
export interface RouterDeps {
  readonly kube: KubeClient;
  /** The TargetController's `metadata` (selector label); App Mesh selects pods by it. */
  readonly metadata?: (ctx: Ctx, canary: Canary) => TargetMetadata;
}

/** What the Service routers need: the cluster and the target's selector label and ports. */
export interface ServiceRouterDeps extends RouterDeps {
  /** The TargetController's `metadata` for the canary's target. */
  readonly metadata: (ctx: Ctx, canary: Canary) => TargetMetadata;
}

/** Shared state of the routers one factory builds. */
interface Shared extends RouterDeps {
  readonly reader: CachedReader;
}

/** The target metadata of `d`; without it (a wiring error) every App Mesh tick fails with a clear error. */
function metadataOf(d: Shared): (ctx: Ctx, canary: Canary) => TargetMetadata {
  return (
    d.metadata ??
    (() => {
      throw new OperatorError('App Mesh routers need the target metadata (RouterDeps.metadata)');
    })
  );
}

/** Marks a provider of the CRD enum that Fledge does not route yet. */
const UNSUPPORTED = 'unsupported';

/** How to build a provider's router, and the kinds it writes (checked against RBAC by a test). */
interface RouterEntry {
  readonly writes: readonly ResourceType[];
  readonly build: (deps: Shared) => Router;
}

const meshRouters = {
  apisix: {
    writes: [Resources.apisixRoute],
    build: (d) => new ApisixRouter({ kube: d.kube, reader: d.reader }),
  },
  appmesh: {
    writes: [Resources.appMeshV1beta1VirtualNode, Resources.appMeshV1beta1VirtualService],
    build: (d) => new AppMeshRouter({ kube: d.kube, reader: d.reader }),
  },
  'appmesh:v1beta2': {
    writes: [Resources.appMeshVirtualNode, Resources.appMeshVirtualRouter, Resources.appMeshVirtualService],
    build: (d) => new AppMeshV1beta2Router({ kube: d.kube, reader: d.reader, metadata: metadataOf(d) }),
  },
  contour: UNSUPPORTED,
  'gatewayapi:v1': {
    writes: [Resources.httpRoute],
    build: (d) => new GatewayApiRouter({ kube: d.kube, reader: d.reader }),
  },
  'gatewayapi:v1beta1': UNSUPPORTED,
  gloo: UNSUPPORTED,
  istio: UNSUPPORTED,
  knative: UNSUPPORTED,
  kubernetes: { writes: [], build: () => new NopRouter() },
  kuma: {
    writes: [Resources.kumaTrafficRoute],
    build: (d) => new KumaRouter({ kube: d.kube, reader: d.reader }),
  },
  linkerd: UNSUPPORTED,
  nginx: UNSUPPORTED,
  osm: UNSUPPORTED,
  skipper: UNSUPPORTED,
  'smi:v1alpha1': UNSUPPORTED,
  'smi:v1alpha2': UNSUPPORTED,
  'smi:v1alpha3': UNSUPPORTED,
  traefik: {
    writes: [Resources.traefikService],
    build: (d) => new TraefikRouter({ kube: d.kube, reader: d.reader }),
  },
} satisfies Record<MeshProvider, RouterEntry | typeof UNSUPPORTED>;

/** The providers Fledge routes with, in the CRD's order: every list of them (flags, logs, docs) derives from this. */
export const routedProviders: readonly MeshProvider[] = meshProviders.filter((p) => meshRouters[p] !== UNSUPPORTED);

/** Every kind the routers write (the Service routers' Services included). */
export function routerWrites(): readonly ResourceType[] {
  const kinds = new Map<string, ResourceType>([
    [`${Resources.service.apiVersion}/${Resources.service.kind}`, Resources.service],
  ]);
  for (const entry of Object.values(meshRouters)) {
    if (entry === UNSUPPORTED) continue;
    for (const type of entry.writes) kinds.set(`${type.apiVersion}/${type.kind}`, type);
  }
  return [...kinds.values()];
}

/** `smi:<version>:<mesh>`, the form Flagger documents for `-mesh-provider` with SMI. */
const smiWithMesh = /^(smi:v1alpha[123]):[^:]+$/;

/** The CRD enum member `provider` names, or an InvalidCanaryError. */
function meshProviderOf(provider: string): MeshProvider {
  if (isMeshProvider(provider)) return provider;
  const smi = smiWithMesh.exec(provider)?.[1];
  if (smi !== undefined && isMeshProvider(smi)) return smi;
  throw new InvalidCanaryError(`unknown provider "${provider}"`, 'UnknownProvider');
}

/**
 * `routerFactory(deps)(canary, provider)`: the mesh router for `provider` (spec.provider, else
 * `-mesh-provider`). Throws UnsupportedError for providers of the CRD enum Fledge does not
 * implement and InvalidCanaryError for any other name.
 */
export function routerFactory(deps: RouterDeps): (canary: Canary, provider: string) => Router {
  const shared: Shared = { ...deps, reader: new CachedReader(deps.kube) };
  return (_canary, provider) => {
    const mesh = meshProviderOf(provider);
    const entry = meshRouters[mesh];
    if (entry === UNSUPPORTED) throw new UnsupportedError(`provider "${mesh}" is not yet supported by Fledge`);
    return entry.build(shared);
  };
}

const serviceRouters = {
  Deployment: (d) => new KubernetesServiceRouter({ kube: d.kube, metadata: d.metadata, reader: d.reader }),
  DaemonSet: (d) => new KubernetesServiceRouter({ kube: d.kube, metadata: d.metadata, reader: d.reader }),
  // A Service target (plain or Knative) is its own Service (Flagger's KubernetesNoopRouter).
  Service: () => new NopServiceRouter(),
} satisfies Record<TargetKind, (deps: ServiceRouterDeps & Shared) => ServiceRouter>;

/** `serviceRouterFactory(deps)(canary)`: the router of the canary's ClusterIP Services, by target kind. */
export function serviceRouterFactory(deps: ServiceRouterDeps): (canary: Canary) => ServiceRouter {
  const shared = { ...deps, reader: new CachedReader(deps.kube) };
  return (canary) => serviceRouters[canary.spec.targetRef.kind](shared);
}
