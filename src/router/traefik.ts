/**
 * The router of provider `traefik` (Flagger pkg/router/traefik.go TraefikRouter): one
 * TraefikService `<apex>` (traefik.io/v1alpha1) whose weighted round robin splits traffic between
 * the `-primary` and `-canary` Services. The user's IngressRoute references it. The canary entry is
 * there only while its weight is above 0, as Flagger writes it. Weights only: no A/B, mirroring or
 * session affinity (Flagger's matrix).
 */
import { serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { weightedServices } from '../apis/traefik/v1alpha1/read.ts';
import {
  API_VERSION,
  TRAEFIK_SERVICE_KIND,
  type TraefikService,
  type WeightedService,
} from '../apis/traefik/v1alpha1/types.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { canaryService } from './kubernetes-services.ts';
import { fromPrimaryWeight, namespaceOf, ownedMetadata, WeightedObjectRouter } from './mesh-object.ts';
import type { Weights } from './router.ts';

/** The TraefikService Fledge wants for `canary` at `weights` (Flagger Reconcile + SetRoutes). Pure. */
export function buildTraefikService(canary: Canary, weights: Weights): TraefikService {
  const names = serviceNames(canary);
  const namespace = namespaceOf(canary);
  const port = canaryService(canary).port;
  const services: WeightedService[] = [{ name: names.primary, namespace, port, weight: weights.primary }];
  if (weights.canary > 0) services.push({ name: names.canary, namespace, port, weight: weights.canary });
  return {
    apiVersion: API_VERSION,
    kind: TRAEFIK_SERVICE_KIND,
    metadata: ownedMetadata(canary, names.apex),
    spec: { weighted: { services } },
  };
}

/** The split a TraefikService carries: the primary's weight, the rest to the canary (Flagger GetRoutes). */
export function traefikWeights(canary: Canary, obj: KubeObject): Weights | undefined {
  const primary = weightedServices(obj).get(serviceNames(canary).primary);
  return primary === undefined ? undefined : fromPrimaryWeight(primary);
}

/** Splits traffic with a Traefik weighted TraefikService. */
export class TraefikRouter extends WeightedObjectRouter {
  protected readonly provider = 'traefik';
  protected readonly type = Resources.traefikService;

  protected key(canary: Canary): ObjectKey {
    return { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
  }

  protected weightsOf(canary: Canary, obj: KubeObject): Weights | undefined {
    return traefikWeights(canary, obj);
  }

  protected desired(_ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject> {
    return Promise.resolve(buildTraefikService(canary, weights));
  }
}
