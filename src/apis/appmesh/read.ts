/**
 * Reads the weighted targets of the first route of a cached App Mesh VirtualRouter (v1beta2) or
 * VirtualService with an embedded router (v1beta1): the route Flagger's GetRoutes reads.
 */
import { isRecord } from '../../kube/json.ts';

/** `virtualNodeName → weight` of `routes[0].http(Route).action.weightedTargets` under `container`. */
export function firstRouteTargets(container: unknown, route: 'http' | 'httpRoute'): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  const routes = isRecord(container) ? container['routes'] : undefined;
  const first: unknown = Array.isArray(routes) ? routes[0] : undefined;
  const http = isRecord(first) ? first[route] : undefined;
  const action = isRecord(http) ? http['action'] : undefined;
  const targets = isRecord(action) ? action['weightedTargets'] : undefined;
  if (!Array.isArray(targets)) return out;
  for (const t of targets) {
    if (!isRecord(t) || typeof t['weight'] !== 'number') continue;
    const ref = t['virtualNodeRef'];
    const name = isRecord(ref) ? ref['name'] : t['virtualNodeName'];
    if (typeof name === 'string') out.set(name, t['weight']);
  }
  return out;
}
