/**
 * Narrows a cached VirtualService (raw JSON) to what the Istio router reads back: each route's
 * destinations and weights, its mirror, and the `Set-Cookie` values it adds (where the session
 * affinity cookies live). Lenient: an entry of unexpected shape is skipped, never thrown on, since
 * the object passed the API server's validation and users may edit it.
 */
import { isRecord } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';

/** The response header that carries session-affinity cookies. */
export const SET_COOKIE_HEADER = 'Set-Cookie';

/** One destination of a route. */
export interface DestinationView {
  readonly host: string;
  /** 0 when absent (Istio: a destination without weight among several gets none). */
  readonly weight: number;
  /** The `Set-Cookie` value the destination adds to responses, if any. */
  readonly setCookie: string | undefined;
}

/** One HTTP or TCP route. */
export interface RouteView {
  readonly destinations: readonly DestinationView[];
  /** `mirror.host`, if the route mirrors. */
  readonly mirror: string | undefined;
  /** The `Set-Cookie` value the route (not a destination) adds to responses, if any. */
  readonly setCookie: string | undefined;
}

export interface VirtualServiceView {
  readonly http: readonly RouteView[];
  readonly tcp: readonly RouteView[];
}

function records(u: unknown): Record<string, unknown>[] {
  return Array.isArray(u) ? u.filter(isRecord) : [];
}

/** `headers.response.add["Set-Cookie"]` of a route or destination. */
function setCookieOf(owner: Record<string, unknown>): string | undefined {
  const headers = owner['headers'];
  const response = isRecord(headers) ? headers['response'] : undefined;
  const add = isRecord(response) ? response['add'] : undefined;
  const value = isRecord(add) ? add[SET_COOKIE_HEADER] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function readRoute(r: Record<string, unknown>): RouteView {
  const destinations: DestinationView[] = [];
  for (const d of records(r['route'])) {
    const dest = d['destination'];
    const host = isRecord(dest) ? dest['host'] : undefined;
    if (typeof host !== 'string') continue;
    const weight = d['weight'];
    destinations.push({ host, weight: typeof weight === 'number' ? weight : 0, setCookie: setCookieOf(d) });
  }
  const mirror = r['mirror'];
  const mirrorHost = isRecord(mirror) ? mirror['host'] : undefined;
  return {
    destinations,
    mirror: typeof mirrorHost === 'string' && mirrorHost !== '' ? mirrorHost : undefined,
    setCookie: setCookieOf(r),
  };
}

/** The routes of a VirtualService as the router reads them. */
export function readVirtualService(obj: KubeObject): VirtualServiceView {
  const spec = isRecord(obj['spec']) ? obj['spec'] : {};
  return { http: records(spec['http']).map(readRoute), tcp: records(spec['tcp']).map(readRoute) };
}
