/**
 * Session affinity for the Istio router (Flagger pkg/router/istio.go getSessionAffinityRouteRules,
 * flagger-reference §2.15): while the canary gets traffic, responses from it set a cookie and a
 * "sticky" route ahead of the weighted one sends requests carrying that cookie to the canary; with
 * `primaryCookieName`, the same for the primary. When the canary's weight returns to 0, a route
 * matching the old cookie expires it (`Max-Age=-1`).
 *
 * Flagger keeps the cookies only in the Canary status, which its router mutates. Fledge reads them
 * back from the VirtualService first (what is actually served), then from the status, and only then
 * draws a new one, so a repeated or retried `setRoutes` never changes a cookie users already hold.
 */
import { randomInt } from 'node:crypto';
import {
  analysisIntervalMs,
  analysisOf,
  serviceNames,
  sessionAffinityMaxAge,
} from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, HttpMatchRequest, SessionAffinity } from '../apis/flagger/v1beta1/types.ts';
import { SET_COOKIE_HEADER, type VirtualServiceView } from '../apis/istio/v1beta1/read.ts';
import type { HTTPRoute, HTTPRouteDestination } from '../apis/istio/v1beta1/types.ts';
import type { Weights } from './router.ts';

/** The request header the sticky routes match. */
export const COOKIE_HEADER = 'Cookie';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A random cookie value: 10 letters, as Flagger's `randSeq`. */
export function randomCookieValue(): string {
  let value = '';
  for (let i = 0; i < 10; i++) value += LETTERS[randomInt(LETTERS.length)];
  return value;
}

/** The cookies one VirtualService write uses, each `<name>=<value>`. */
export interface SessionCookies {
  /** The canary cookie of the current run (canary weight > 0). */
  readonly canary?: string;
  /** The primary cookie (only with `primaryCookieName`). */
  readonly primary?: string;
  /** The canary cookie of the finished run, expired by a route while the canary weight is 0. */
  readonly previous?: string;
}

/** Flagger's `SessionAffinity.BuildCookie`: the `Set-Cookie` value for `cookie` (`name=value`). */
export function buildSetCookie(sa: SessionAffinity, cookie: string, maxAge: number): string {
  let value = `${cookie}; Max-Age=${maxAge}`;
  if (sa.domain) value += `; Domain=${sa.domain}`;
  if (sa.httpOnly === true) value += '; HttpOnly';
  if (sa.partitioned === true) value += '; Partitioned';
  if (sa.path) value += `; Path=${sa.path}`;
  if (sa.sameSite) value += `; SameSite=${sa.sameSite}`;
  if (sa.secure === true) value += '; Secure';
  return value;
}

/** `name=value` of a `Set-Cookie` value, when the cookie is called `name`. */
function cookieNamed(setCookie: string | undefined, name: string | undefined): string | undefined {
  if (setCookie === undefined || name === undefined || name === '') return undefined;
  const cookie = setCookie.split(';', 1)[0]?.trim() ?? '';
  return cookie.startsWith(`${name}=`) && cookie.length > name.length + 1 ? cookie : undefined;
}

/**
 * The cookies for a write at `weights`: reused from the VirtualService `view` (the weighted route's
 * destinations and the expiring route), then from the Canary status, else drawn with `draw`.
 */
export function resolveCookies(
  canary: Canary,
  view: VirtualServiceView | undefined,
  weights: Weights,
  draw: () => string = randomCookieValue,
): SessionCookies {
  const sa = analysisOf(canary)?.sessionAffinity;
  if (sa === undefined) return {};
  const hosts = serviceNames(canary);
  const status = canary.status ?? {};
  const dests = (view?.http ?? []).flatMap((r) => r.destinations);
  const fromDest = (host: string, name: string | undefined): string | undefined =>
    dests.map((d) => (d.host === host ? cookieNamed(d.setCookie, name) : undefined)).find((c) => c !== undefined);
  const current = fromDest(hosts.canary, sa.cookieName) ?? cookieNamed(status.sessionAffinityCookie, sa.cookieName);
  if (weights.canary === 0) {
    const expiring = (view?.http ?? []).map((r) => cookieNamed(r.setCookie, sa.cookieName)).find((c) => c);
    const previous = current ?? expiring ?? cookieNamed(status.previousSessionAffinityCookie, sa.cookieName);
    return previous === undefined ? {} : { previous };
  }
  const primaryName = sa.primaryCookieName;
  const primary =
    primaryName === undefined || primaryName === ''
      ? undefined
      : (fromDest(hosts.primary, primaryName) ??
        cookieNamed(status.primarySessionAffinityCookie, primaryName) ??
        `${primaryName}=${draw()}`);
  return {
    canary: current ?? `${sa.cookieName}=${draw()}`,
    ...(primary === undefined ? {} : { primary }),
  };
}

/**
 * The Canary status patch that records `cookies` (Flagger keeps them in the status), or undefined
 * when the status already shows them. `null` deletes a field (JSON merge patch).
 */
export function cookieStatusPatch(canary: Canary, cookies: SessionCookies): Record<string, string | null> | undefined {
  if (analysisOf(canary)?.sessionAffinity === undefined) return undefined;
  const want: Record<string, string | null> =
    cookies.canary === undefined
      ? {
          sessionAffinityCookie: null,
          ...(cookies.previous === undefined ? {} : { previousSessionAffinityCookie: cookies.previous }),
        }
      : {
          sessionAffinityCookie: cookies.canary,
          ...(cookies.primary === undefined ? {} : { primarySessionAffinityCookie: cookies.primary }),
        };
  const status: Readonly<Record<string, unknown>> = { ...canary.status };
  const changed = Object.entries(want).some(([k, v]) => (status[k] ?? null) !== v);
  return changed ? want : undefined;
}

/** A header match on the `Cookie` request header for `cookie` (`name=value`), as Flagger's regex. */
function cookieMatch(cookie: string): HttpMatchRequest {
  const [name = '', value = ''] = cookie.split('=', 2);
  return { headers: { [COOKIE_HEADER]: { regex: `.*${name}.*${value}.*` } } };
}

/** Adds a `Set-Cookie` response header to a destination or route. */
function withSetCookie<T extends { readonly headers?: HTTPRoute['headers'] }>(owner: T, value: string): T {
  const response = owner.headers?.response;
  return {
    ...owner,
    headers: {
      ...owner.headers,
      response: { ...response, add: { ...response?.add, [SET_COOKIE_HEADER]: value } },
    },
  };
}

/** What {@link sessionRoutes} needs from the router's builder. */
export interface SessionRouteParts {
  readonly hosts: { readonly primary: string; readonly canary: string };
  /** The weighted route (destinations primary, canary) without cookies. */
  readonly weighted: HTTPRoute;
  /** Merges a match into the service matches (the router's `mergeMatches`). */
  readonly merge: (extra: HttpMatchRequest) => HttpMatchRequest[];
  /** A destination at a weight. */
  readonly destination: (host: string, weight: number) => HTTPRouteDestination;
}

/**
 * The HTTP routes of a canary with session affinity: the sticky canary route (and primary route),
 * then the weighted route with the cookies set by its destinations; at canary weight 0, a route
 * expiring the previous cookie (when there is one), then the weighted route.
 */
export function sessionRoutes(canary: Canary, cookies: SessionCookies, p: SessionRouteParts): HTTPRoute[] {
  const sa = analysisOf(canary)?.sessionAffinity;
  if (sa === undefined) return [p.weighted];
  // The cookie routes never mirror: only the weighted route does.
  const { mirror: _mirror, mirrorPercentage: _percentage, ...base } = p.weighted;
  if (cookies.canary === undefined) {
    if (cookies.previous === undefined) return [p.weighted];
    const expire = withSetCookie(
      { ...base, match: p.merge(cookieMatch(cookies.previous)) },
      `${cookies.previous}; Max-Age=-1`,
    );
    return [expire, p.weighted];
  }
  const primaryCookie = cookies.primary;
  const weighted: HTTPRoute = {
    ...p.weighted,
    route: p.weighted.route.map((d) => {
      if (d.destination.host === p.hosts.canary) {
        return withSetCookie(d, buildSetCookie(sa, cookies.canary ?? '', sessionAffinityMaxAge(sa)));
      }
      if (d.destination.host === p.hosts.primary && primaryCookie !== undefined) {
        // The primary cookie lives one analysis interval, as in Flagger.
        const maxAge = Math.floor(analysisIntervalMs(canary, 0) / 1000);
        return withSetCookie(d, buildSetCookie(sa, primaryCookie, maxAge));
      }
      return d;
    }),
  };
  const sticky = (cookie: string, primary: number, canaryWeight: number): HTTPRoute => ({
    ...base,
    match: p.merge(cookieMatch(cookie)),
    route: [p.destination(p.hosts.primary, primary), p.destination(p.hosts.canary, canaryWeight)],
  });
  return [
    sticky(cookies.canary, 0, 100),
    ...(primaryCookie === undefined ? [] : [sticky(primaryCookie, 100, 0)]),
    weighted,
  ];
}
