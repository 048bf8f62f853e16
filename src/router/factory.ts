/**
 * Builds the routers of a canary (Flagger pkg/router/factory.go), exhaustively: every provider of
 * the CRD enum maps to a router or to a clear "not yet supported" error, and a name outside the
 * enum is an error too. Nothing falls back silently (Flagger falls back to Istio).
 */
import { isMeshProvider, type Canary, type MeshProvider, type TargetKind } from '../apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../controller/context.ts';
import { InvalidCanaryError, UnsupportedError } from '../controller/scheduler.ts';
import type { KubeClient } from '../kube/port.ts';
import { GatewayApiRouter } from './gateway-api.ts';
import { KubernetesServiceRouter, NopServiceRouter } from './kubernetes-services.ts';
import { NopRouter } from './nop.ts';
import type { Router, ServiceRouter } from './router.ts';
import { CachedReader } from './util.ts';

/** What the routers need from the operator. */
export interface RouterDeps {
  readonly kube: KubeClient;
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

/** A factory for a provider Fledge does not implement yet: throws UnsupportedError when used. */
function unsupported(provider: MeshProvider): () => never {
  return () => {
    throw new UnsupportedError(`provider "${provider}" is not yet supported by Fledge`);
  };
}

const meshRouters = {
  apisix: unsupported('apisix'),
  appmesh: unsupported('appmesh'),
  'appmesh:v1beta2': unsupported('appmesh:v1beta2'),
  contour: unsupported('contour'),
  'gatewayapi:v1': (d) => new GatewayApiRouter({ kube: d.kube, reader: d.reader }),
  'gatewayapi:v1beta1': unsupported('gatewayapi:v1beta1'),
  gloo: unsupported('gloo'),
  istio: unsupported('istio'),
  knative: unsupported('knative'),
  kubernetes: () => new NopRouter(),
  kuma: unsupported('kuma'),
  linkerd: unsupported('linkerd'),
  nginx: unsupported('nginx'),
  osm: unsupported('osm'),
  skipper: unsupported('skipper'),
  'smi:v1alpha1': unsupported('smi:v1alpha1'),
  'smi:v1alpha2': unsupported('smi:v1alpha2'),
  'smi:v1alpha3': unsupported('smi:v1alpha3'),
  traefik: unsupported('traefik'),
} satisfies Record<MeshProvider, (deps: Shared) => Router>;

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
  return (_canary, provider) => meshRouters[meshProviderOf(provider)](shared);
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
