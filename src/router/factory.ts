/**
 * Builds the routers of a canary (Flagger pkg/router/factory.go), exhaustively: every provider of
 * the CRD enum maps to a router or to a clear "not yet supported" error, and a name outside the
 * enum is an error too. Nothing falls back silently (Flagger falls back to Istio).
 */
import { meshProviders, type Canary, type MeshProvider, type TargetKind } from '../apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import type { KubeClient } from '../kube/port.ts';
import type { ResourceType } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { meshProviderOf } from '../apis/flagger/v1beta1/providers.ts';
import { ContourRouter } from './contour.ts';
import { GatewayApiRouter, gatewayApiVersions } from './gateway-api.ts';
import { GlooRouter } from './gloo.ts';
import { IngressRouter } from './ingress.ts';
import { IstioRouter } from './istio.ts';
import { KubernetesServiceRouter, NopServiceRouter } from './kubernetes-services.ts';
import { NopRouter } from './nop.ts';
import type { Router, ServiceRouter } from './router.ts';
import { SkipperRouter } from './skipper.ts';
import { smiRouter } from './smi.ts';
import { TraefikRouter } from './traefik.ts';
import { KumaRouter } from './kuma.ts';
import { ApisixRouter } from './apisix.ts';
import { AppMeshRouter } from './appmesh.ts';
import { AppMeshV1beta2Router } from './appmesh-v1beta2.ts';
import { CachedReader } from './util.ts';

/** What the routers need from the operator. */
export interface RouterDeps {
  readonly kube: KubeClient;
  /** `-ingress-class`: `spec.ingressClassName` of Contour HTTPProxies. */
  readonly ingressClass?: string;
  /** `-ingress-annotations-prefix`: the NGINX canary annotations' prefix. */
  readonly ingressAnnotationsPrefix?: string;
  /** `-include-label-prefix`: labels copied onto Gloo Upstreams. */
  readonly includeLabelPrefix?: readonly string[];
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
  /** `provider` is the name as given (e.g. `smi:v1alpha1:istio`, whose mesh the SMI router needs). */
  readonly build: (deps: Shared, provider: string) => Router;
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
  contour: {
    writes: [Resources.httpProxy],
    build: (d) => new ContourRouter({ kube: d.kube, reader: d.reader, ingressClass: d.ingressClass }),
  },
  'gatewayapi:v1': {
    writes: [Resources.httpRoute],
    build: (d) => new GatewayApiRouter({ kube: d.kube, reader: d.reader }),
  },
  'gatewayapi:v1beta1': {
    writes: [Resources.httpRouteV1beta1],
    build: (d) => new GatewayApiRouter({ kube: d.kube, reader: d.reader, version: gatewayApiVersions.v1beta1 }),
  },
  gloo: {
    writes: [Resources.glooUpstream, Resources.glooRouteTable],
    build: (d) => new GlooRouter({ kube: d.kube, reader: d.reader, includeLabelPrefix: d.includeLabelPrefix }),
  },
  istio: {
    writes: [Resources.destinationRule, Resources.virtualService],
    build: (d) => new IstioRouter({ kube: d.kube, reader: d.reader }),
  },
  knative: UNSUPPORTED,
  kubernetes: { writes: [], build: () => new NopRouter() },
  kuma: {
    writes: [Resources.kumaTrafficRoute],
    build: (d) => new KumaRouter({ kube: d.kube, reader: d.reader }),
  },
  linkerd: {
    writes: [Resources.trafficSplitV1alpha1],
    build: smiRouter,
  },
  nginx: {
    writes: [Resources.ingress],
    build: (d) => new IngressRouter({ kube: d.kube, reader: d.reader, annotationsPrefix: d.ingressAnnotationsPrefix }),
  },
  osm: {
    writes: [Resources.trafficSplitV1alpha2],
    build: smiRouter,
  },
  skipper: { writes: [Resources.ingress], build: (d) => new SkipperRouter({ kube: d.kube, reader: d.reader }) },
  'smi:v1alpha1': {
    writes: [Resources.trafficSplitV1alpha1],
    build: smiRouter,
  },
  'smi:v1alpha2': {
    writes: [Resources.trafficSplitV1alpha2],
    build: smiRouter,
  },
  'smi:v1alpha3': {
    writes: [Resources.trafficSplitV1alpha3],
    build: smiRouter,
  },
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

/** The CRD enum member `provider` names, or an InvalidCanaryError. */
function enumProviderOf(provider: string): MeshProvider {
  const mesh = meshProviderOf(provider);
  if (mesh === undefined) throw new InvalidCanaryError(`unknown provider "${provider}"`, 'UnknownProvider');
  return mesh;
}

/** True when Fledge routes with `provider` (a CRD enum member or `smi:<version>:<mesh>`). */
export function routes(provider: string): boolean {
  try {
    return meshRouters[enumProviderOf(provider)] !== UNSUPPORTED;
  } catch {
    return false;
  }
}

/**
 * `routerFactory(deps)(canary, provider)`: the mesh router for `provider` (spec.provider, else
 * `-mesh-provider`). Throws UnsupportedError for providers of the CRD enum Fledge does not
 * implement and InvalidCanaryError for any other name.
 */
export function routerFactory(deps: RouterDeps): (canary: Canary, provider: string) => Router {
  const shared: Shared = { ...deps, reader: new CachedReader(deps.kube) };
  return (_canary, provider) => {
    const mesh = enumProviderOf(provider);
    const entry = meshRouters[mesh];
    if (entry === UNSUPPORTED) throw new UnsupportedError(`provider "${mesh}" is not yet supported by Fledge`);
    return entry.build(shared, provider);
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
