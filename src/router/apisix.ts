/**
 * The router of provider `apisix` (Flagger pkg/router/apisix.go ApisixRouter): the HTTP rule of the
 * `routeRef` ApisixRoute that sends traffic to the apex Service is copied into an ApisixRoute
 * `<route>-<apex>-canary` (apisix.apache.org/v2) with the highest priority and two weighted
 * backends, `-primary` and `-canary`. The user's route is never modified. Weights only (Flagger's
 * matrix).
 *
 * Unlike Flagger, the copy carries only the target HTTP rule (Flagger also copies `spec.stream`,
 * duplicating the user's stream routes) and follows later changes of the user's rule and metadata.
 */
import { serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { ruleFor, type RuleView } from '../apis/apisix/v2/read.ts';
import {
  API_VERSION,
  APISIX_ROUTE_KIND,
  type ApisixRoute,
  type HttpBackend,
  MAX_PRIORITY,
} from '../apis/apisix/v2/types.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError } from '../core/errors.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { fromPrimaryWeight, namespaceOf, WeightedObjectRouter } from './mesh-object.ts';
import type { Weights } from './router.ts';
import { controllerRef, toolkitAnnotations } from './util.ts';

/** Annotation kubectl keeps the user's manifest in: it describes the user's route, not the copy. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The user's route (`spec.routeRef`) and the canary route Fledge writes. */
export function apisixRouteNames(canary: Canary): { readonly route: string; readonly canaryRoute: string } {
  const route = canary.spec.routeRef?.name ?? '';
  if (route === '') throw new InvalidCanaryError('spec.routeRef (an ApisixRoute) is required with provider "apisix"');
  return { route, canaryRoute: `${route}-${serviceNames(canary).apex}-canary` };
}

function targetRule(canary: Canary, route: KubeObject): RuleView {
  const apex = serviceNames(canary).apex;
  const where = `ApisixRoute ${namespaceOf(canary)}/${route.metadata.name}`;
  const rule = ruleFor(route, apex);
  if (rule === undefined) throw new OperatorError(`${where} has no HTTP rule with backend ${apex}`);
  if (rule.backends.length !== 1) {
    throw new OperatorError(`${where}: HTTP rule ${rule.name} must have exactly one backend (${apex})`);
  }
  return rule;
}

/**
 * The canary ApisixRoute for the user's `route` at `weights` (Flagger Reconcile + SetRoutes). Pure.
 * Labels and annotations are the user route's (as Flagger), plus the Flux opt-outs.
 */
export function buildCanaryRoute(canary: Canary, route: KubeObject, weights: Weights): ApisixRoute {
  const names = serviceNames(canary);
  const rule = targetRule(canary, route);
  const [apex] = rule.backends;
  if (apex?.servicePort === undefined) {
    throw new OperatorError(`ApisixRoute ${route.metadata.name}: backend ${names.apex} has no servicePort`);
  }
  const { raw: apexRaw } = apex;
  const backends: HttpBackend[] = [
    { ...apexRaw, serviceName: names.primary, servicePort: apex.servicePort, weight: weights.primary },
    {
      serviceName: names.canary,
      servicePort: apex.servicePort,
      ...(typeof apexRaw['resolveGranularity'] === 'string'
        ? { resolveGranularity: apexRaw['resolveGranularity'] }
        : {}),
      weight: weights.canary,
      ...(typeof apexRaw['subset'] === 'string' ? { subset: apexRaw['subset'] } : {}),
    },
  ];
  const { [LAST_APPLIED]: _lastApplied, ...annotations } = route.metadata.annotations ?? {};
  return {
    apiVersion: API_VERSION,
    kind: APISIX_ROUTE_KIND,
    metadata: {
      name: apisixRouteNames(canary).canaryRoute,
      namespace: namespaceOf(canary),
      labels: { ...route.metadata.labels },
      annotations: { ...annotations, ...toolkitAnnotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec: { http: [{ ...rule.raw, name: rule.name, priority: MAX_PRIORITY, backends }] },
  };
}

/** The split the canary route carries: the primary backend's weight (Flagger GetRoutes). */
export function canaryRouteWeights(canary: Canary, obj: KubeObject): Weights | undefined {
  const primary = serviceNames(canary).primary;
  const weight = ruleFor(obj, primary)?.backends.find((b) => b.serviceName === primary)?.weight;
  return weight === undefined ? undefined : fromPrimaryWeight(weight);
}

/** Splits traffic with a canary copy of the user's ApisixRoute. */
export class ApisixRouter extends WeightedObjectRouter {
  protected readonly provider = 'apisix';
  protected readonly type = Resources.apisixRoute;

  protected key(canary: Canary): ObjectKey {
    return { namespace: namespaceOf(canary), name: apisixRouteNames(canary).canaryRoute };
  }

  protected weightsOf(canary: Canary, obj: KubeObject): Weights | undefined {
    return canaryRouteWeights(canary, obj);
  }

  /** Built from the user's route as it is now, so its later changes reach the canary route. */
  protected async desired(ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject> {
    const key = { namespace: namespaceOf(canary), name: apisixRouteNames(canary).route };
    const route = await this.w.reader.get(ctx, Resources.apisixRoute, key);
    if (route === undefined) throw new OperatorError(`ApisixRoute ${key.namespace}/${key.name} not found`);
    return buildCanaryRoute(canary, route, weights);
  }
}
