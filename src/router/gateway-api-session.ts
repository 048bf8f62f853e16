/**
 * Session affinity for the Gateway API routers (Flagger pkg/router/gateway_api.go
 * getSessionAffinityRouteRules; flagger-reference §2.15).
 *
 * While the canary gets traffic, responses from the canary backend of the weighted rule set a
 * cookie `<cookieName>=<random>`, and a "sticky" rule before it sends requests carrying that cookie
 * to the canary only; with `primaryCookieName` (v1 only) the primary backend sets its own cookie,
 * valid for one analysis interval, and a second sticky rule keeps those users on the primary. When
 * the canary weight returns to 0, a rule matching the old cookie tells clients to delete it.
 *
 * Unlike Flagger, which keeps the cookies in the Canary status only, the cookies are read back from
 * the route itself (the `Set-Cookie` values it carries): the route is the source of truth, so a
 * restart or a status cache that lags never mints a second cookie for one run. The status fields
 * are still written, for users and tools that read them.
 */
import { randomInt } from 'node:crypto';
import {
  ANALYSIS_INTERVAL_DEFAULT_MS,
  parseDuration,
  SESSION_AFFINITY_MAX_AGE_DEFAULT,
} from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryStatus, SessionAffinity } from '../apis/flagger/v1beta1/types.ts';
import type { HttpRouteView } from '../apis/gatewayapi/v1/read.ts';
import type { HTTPBackendRef, HTTPRouteFilter, HTTPRouteMatch } from '../apis/gatewayapi/v1/types.ts';

/** Request header the sticky rules match. */
export const COOKIE_HEADER = 'Cookie';
/** Response header the backends' filters add. */
export const SET_COOKIE_HEADER = 'Set-Cookie';
/** Max-Age that tells a client to delete a cookie. */
const EXPIRED = -1;

/** The cookies (`<name>=<value>`) of the current state of a route. */
export interface SessionCookies {
  /** Set by the canary backend while the canary gets traffic. */
  readonly canary?: string;
  /** Set by the primary backend while the canary gets traffic (`primaryCookieName`). */
  readonly primary?: string;
  /** The canary cookie of the last run, expired by a rule once the canary weight is 0. */
  readonly previous?: string;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ten random letters, like Flagger's `randSeq` (from a CSPRNG: the value must not be guessable). */
export function randomCookieValue(): string {
  let out = '';
  for (let i = 0; i < 10; i++) out += LETTERS[randomInt(LETTERS.length)];
  return out;
}

/** `<cookie>; Max-Age=<n>[; Domain=…][; HttpOnly][; Partitioned][; Path=…][; SameSite=…][; Secure]` (Flagger `BuildCookie`). */
export function buildCookie(sa: SessionAffinity, cookie: string, maxAge: number): string {
  const parts = [cookie, `Max-Age=${maxAge}`];
  if (sa.domain) parts.push(`Domain=${sa.domain}`);
  if (sa.httpOnly === true) parts.push('HttpOnly');
  if (sa.partitioned === true) parts.push('Partitioned');
  if (sa.path) parts.push(`Path=${sa.path}`);
  if (sa.sameSite) parts.push(`SameSite=${sa.sameSite}`);
  if (sa.secure === true) parts.push('Secure');
  return parts.join('; ');
}

/** The match on the `Cookie` header carrying `cookie` (Flagger's regex `.*<name>.*<value>.*`). */
export function cookieMatch(cookie: string): HTTPRouteMatch {
  const eq = cookie.indexOf('=');
  return {
    headers: [
      { name: COOKIE_HEADER, type: 'RegularExpression', value: `.*${cookie.slice(0, eq)}.*${cookie.slice(eq + 1)}.*` },
    ],
  };
}

/** A filter adding `Set-Cookie: <value>` to responses. */
function setCookieFilter(value: string): HTTPRouteFilter {
  return { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: SET_COOKIE_HEADER, value }] } };
}

/** The `<name>=<value>` part of a Set-Cookie value when the cookie is named `name`. */
function cookieNamed(setCookie: string, name: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  const cookie = setCookie.split(';')[0]?.trim() ?? '';
  return cookie.startsWith(`${name}=`) && cookie.length > name.length + 1 ? cookie : undefined;
}

const expires = (setCookie: string): boolean =>
  setCookie
    .split(';')
    .slice(1)
    .some((a) => a.trim() === `Max-Age=${EXPIRED}`);

/** The cookies a route carries now: on the backends of its rules, and on the rule expiring the old one. */
export function readSessionCookies(
  route: HttpRouteView,
  sa: SessionAffinity,
  names: { readonly primary: string; readonly canary: string },
): SessionCookies {
  let canary: string | undefined;
  let primary: string | undefined;
  let previous: string | undefined;
  for (const rule of route.rules) {
    for (const b of rule.backends) {
      for (const v of b.setCookies) {
        if (b.name === names.canary) canary ??= cookieNamed(v, sa.cookieName);
        if (b.name === names.primary) primary ??= cookieNamed(v, sa.primaryCookieName);
      }
    }
    for (const v of rule.setCookies) if (expires(v)) previous ??= cookieNamed(v, sa.cookieName);
  }
  return {
    ...(canary === undefined ? {} : { canary }),
    ...(primary === undefined ? {} : { primary }),
    ...(previous === undefined ? {} : { previous }),
  };
}

/**
 * The cookies for a route at `canaryWeight`, given those it carries now: while the canary gets
 * traffic, the current ones (new ones at the start of a run); at 0, the run's canary cookie becomes
 * the previous one.
 */
export function nextSessionCookies(
  current: SessionCookies,
  sa: SessionAffinity,
  canaryWeight: number,
  options: { readonly primaryCookie: boolean; readonly random: () => string },
): SessionCookies {
  if (canaryWeight === 0) {
    const previous = current.canary ?? current.previous;
    return previous === undefined ? {} : { previous };
  }
  const withPrimary = options.primaryCookie && sa.primaryCookieName !== undefined && sa.primaryCookieName !== '';
  return {
    canary: current.canary ?? `${sa.cookieName}=${options.random()}`,
    ...(withPrimary ? { primary: current.primary ?? `${sa.primaryCookieName}=${options.random()}` } : {}),
  };
}

/** A weighted rule: its matches, rule filters and the two backends. */
export interface WeightedRule {
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly primary: HTTPBackendRef;
  readonly canary: HTTPBackendRef;
}

/** The pieces of a rule the session rules are built from. */
export interface SessionRule {
  readonly matches: readonly HTTPRouteMatch[];
  readonly filters: readonly HTTPRouteFilter[];
  readonly backendRefs: readonly HTTPBackendRef[];
}

/**
 * The rules that replace the weighted rule under session affinity (Flagger
 * getSessionAffinityRouteRules), in order: sticky canary rule, sticky primary rule, weighted rule
 * with the Set-Cookie backend filters; or, at canary weight 0, the rule expiring the previous
 * cookie and the plain weighted rule. `merge` combines the cookie match with the route matches.
 */
export function sessionAffinityRules(
  canary: Canary,
  rule: WeightedRule,
  cookies: SessionCookies,
  merge: (cookie: HTTPRouteMatch) => HTTPRouteMatch[],
): SessionRule[] {
  const sa = canary.spec.analysis?.sessionAffinity;
  const weighted: SessionRule = {
    matches: rule.matches,
    filters: rule.filters,
    backendRefs: [rule.primary, rule.canary],
  };
  if (sa === undefined) return [weighted];
  const withWeights = (primary: number, canaryWeight: number): HTTPBackendRef[] => [
    { ...rule.primary, weight: primary },
    { ...rule.canary, weight: canaryWeight },
  ];
  if (cookies.canary === undefined) {
    if (cookies.previous === undefined) return [weighted];
    const expire = setCookieFilter(`${cookies.previous}; Max-Age=${EXPIRED}`);
    return [
      { ...weighted, matches: merge(cookieMatch(cookies.previous)), filters: [...rule.filters, expire] },
      weighted,
    ];
  }
  const maxAge = sa.maxAge === undefined || sa.maxAge === 0 ? SESSION_AFFINITY_MAX_AGE_DEFAULT : sa.maxAge;
  const stickyCanary: SessionRule = {
    matches: merge(cookieMatch(cookies.canary)),
    filters: rule.filters,
    backendRefs: withWeights(0, 100),
  };
  const canaryBackend = { ...rule.canary, filters: [setCookieFilter(buildCookie(sa, cookies.canary, maxAge))] };
  if (cookies.primary === undefined) {
    return [stickyCanary, { ...weighted, backendRefs: [rule.primary, canaryBackend] }];
  }
  const intervalSeconds = Math.trunc(parseDuration(canary.spec.analysis?.interval ?? '') / 1000);
  const primaryMaxAge = intervalSeconds > 0 ? intervalSeconds : ANALYSIS_INTERVAL_DEFAULT_MS / 1000;
  const primaryBackend = {
    ...rule.primary,
    filters: [setCookieFilter(buildCookie(sa, cookies.primary, primaryMaxAge))],
  };
  return [
    stickyCanary,
    { matches: merge(cookieMatch(cookies.primary)), filters: rule.filters, backendRefs: withWeights(100, 0) },
    { ...weighted, backendRefs: [primaryBackend, canaryBackend] },
  ];
}

/**
 * The status fields that mirror `cookies` (Flagger's `status.sessionAffinityCookie`,
 * `primarySessionAffinityCookie`, `previousSessionAffinityCookie`) as a merge patch, or undefined
 * when the status already says so. `null` deletes a field.
 */
export function sessionStatusPatch(
  status: CanaryStatus | undefined,
  cookies: SessionCookies,
): Record<string, string | null> | undefined {
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
  const have = (status ?? {}) as Readonly<Record<string, unknown>>;
  const differs = Object.entries(want).some(([k, v]) => (have[k] ?? null) !== v);
  return differs ? want : undefined;
}
