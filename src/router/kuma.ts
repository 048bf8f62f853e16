/**
 * The router of provider `kuma` (Flagger pkg/router/kuma.go KumaRouter): one cluster-scoped
 * TrafficRoute `<apex>` (kuma.io/v1alpha1) in the mesh of the Canary's `kuma.io/mesh` annotation,
 * routing every source's traffic for `<apex>_<ns>_svc_<port>` to the `-primary` and `-canary`
 * services by weight. Weights only (Flagger's matrix).
 *
 * A cluster-scoped object can't have a namespaced owner, so garbage collection never removes it:
 * `finalize` and `cleanup` delete it, and the scheduler must call `cleanup` on every deletion of
 * the Canary (see {@link Router.cleanup}). Unlike Flagger, a TrafficRoute `<apex>` that routes a
 * same-named service of another namespace is never overwritten.
 */
import { serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { destinationServices, splitWeights } from '../apis/kuma/v1alpha1/read.ts';
import {
  API_VERSION,
  DEFAULT_MESH,
  MESH_ANNOTATION,
  SERVICE_TAG,
  TRAFFIC_ROUTE_KIND,
  type TrafficRoute,
  kumaServiceName,
} from '../apis/kuma/v1alpha1/types.ts';
import type { Ctx } from '../core/context.ts';
import { OperatorError } from '../core/errors.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { canaryService } from './kubernetes-services.ts';
import { fromPrimaryWeight, namespaceOf, WeightedObjectRouter } from './mesh-object.ts';
import type { Weights } from './router.ts';
import { toolkitAnnotations } from './util.ts';

function kumaNames(canary: Canary): { apex: string; primary: string; canary: string } {
  const names = serviceNames(canary);
  const namespace = namespaceOf(canary);
  const port = canaryService(canary).port;
  return {
    apex: kumaServiceName(names.apex, namespace, port),
    primary: kumaServiceName(names.primary, namespace, port),
    canary: kumaServiceName(names.canary, namespace, port),
  };
}

/** The TrafficRoute Fledge wants for `canary` at `weights` (Flagger Reconcile + SetRoutes). Pure. */
export function buildTrafficRoute(canary: Canary, weights: Weights): TrafficRoute {
  const kuma = kumaNames(canary);
  const apex = canaryService(canary).apex;
  return {
    apiVersion: API_VERSION,
    kind: TRAFFIC_ROUTE_KIND,
    // Cluster-scoped: no namespace and no owner reference.
    metadata: {
      name: serviceNames(canary).apex,
      labels: { ...apex?.labels },
      annotations: { ...apex?.annotations, ...toolkitAnnotations },
    },
    mesh: canary.metadata.annotations?.[MESH_ANNOTATION] ?? DEFAULT_MESH,
    spec: {
      sources: [{ match: { [SERVICE_TAG]: '*' } }],
      destinations: [{ match: { [SERVICE_TAG]: kuma.apex } }],
      conf: {
        split: [
          { weight: weights.primary, destination: { [SERVICE_TAG]: kuma.primary } },
          { weight: weights.canary, destination: { [SERVICE_TAG]: kuma.canary } },
        ],
      },
    },
  };
}

/** The split a TrafficRoute carries: the primary's weight, the rest to the canary (Flagger GetRoutes). */
export function trafficRouteWeights(canary: Canary, obj: KubeObject): Weights | undefined {
  const primary = splitWeights(obj).get(kumaNames(canary).primary);
  return primary === undefined ? undefined : fromPrimaryWeight(primary);
}

/** True when `obj` routes this canary's apex service (and not a same-named one of another namespace). */
export function routesCanary(canary: Canary, obj: KubeObject): boolean {
  const prefix = `${serviceNames(canary).apex}_${namespaceOf(canary)}_svc_`;
  return destinationServices(obj).every((s) => s.startsWith(prefix));
}

/** Splits traffic with a Kuma TrafficRoute. */
export class KumaRouter extends WeightedObjectRouter {
  protected readonly provider = 'kuma';
  protected readonly type = Resources.kumaTrafficRoute;

  protected key(canary: Canary): ObjectKey {
    return { name: serviceNames(canary).apex };
  }

  protected weightsOf(canary: Canary, obj: KubeObject): Weights | undefined {
    return trafficRouteWeights(canary, obj);
  }

  protected desired(_ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject> {
    return Promise.resolve(buildTrafficRoute(canary, weights));
  }

  /** The canary's TrafficRoute; an OperatorError when `<apex>` routes another namespace's service. */
  protected override async read(ctx: Ctx, canary: Canary): Promise<KubeObject | undefined> {
    const existing = await super.read(ctx, canary);
    if (existing !== undefined && !routesCanary(canary, existing)) {
      throw new OperatorError(
        `TrafficRoute ${existing.metadata.name} routes ${destinationServices(existing).join(', ')}, ` +
          `not ${kumaNames(canary).apex}: another Canary named ${existing.metadata.name} owns it`,
      );
    }
    return existing;
  }

  /** revertOnDeletion: deletes the TrafficRoute, which would otherwise route to a deleted primary. */
  override finalize(ctx: Ctx, canary: Canary): Promise<void> {
    return this.cleanup(ctx, canary);
  }

  /** Deletes the canary's TrafficRoute (garbage collection can't: it is cluster-scoped). */
  async cleanup(ctx: Ctx, canary: Canary): Promise<void> {
    const key = this.key(canary);
    const existing = await super.read(ctx, canary);
    if (existing === undefined || !routesCanary(canary, existing)) return;
    await this.w.kube.delete(this.type, key);
    this.w.reader.deleted(this.type, key);
    ctx.log.info('TrafficRoute deleted', { object: key.name });
  }
}
