/**
 * The router of provider `gatewayapi:v1` (Flagger pkg/router/gateway_api.go GatewayAPIRouter): one
 * HTTPRoute `<apex>` (gateway.networking.k8s.io/v1) that splits traffic between the `-primary` and
 * `-canary` Services by backend weight.
 *
 * Reads come from the HTTPRoute informer of the canary's namespace; the route is the source of
 * truth for the current weights. Writes are server-side applies, made only when the desired route
 * differs from the cached one (CRD defaults taken into account), so annotations and labels other
 * controllers set are kept.
 *
 * The same class serves `gatewayapi:v1beta1` (Flagger's GatewayAPIV1Beta1Router): the same route
 * under `gateway.networking.k8s.io/v1beta1`, without rule timeouts, without the primary session
 * cookie and without the parents' Accepted check, as Flagger's v1beta1 router.
 *
 * Session affinity (`analysis.sessionAffinity`) follows Flagger: see gateway-api-session.ts.
 *
 * Left out, on purpose:
 * - `service.corsPolicy`: the CORS filter is in the experimental channel only in Gateway API
 *   v1.4.0 (the standard CRD's filter `type` enum has no `CORS`), so the API server would reject
 *   the route; the policy is skipped with a warning.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type {
  Canary,
  CanaryService,
  HeaderOperations,
  HttpMatchRequest,
  StringMatch,
} from '../apis/flagger/v1beta1/types.ts';
import { normalizeRouteSpec, parentRefWithDefaults, DEFAULT_PATH_MATCH } from '../apis/gatewayapi/v1/defaults.ts';
import { readHttpRoute, type HttpRouteView } from '../apis/gatewayapi/v1/read.ts';
import type {
  HTTPBackendRef,
  HTTPHeaderFilter,
  HTTPHeaderMatch,
  HTTPMethod,
  HTTPRoute,
  HTTPRouteFilter,
  HTTPRouteMatch,
  HTTPRouteRule,
  HTTPRouteSpec,
  HTTPRouteTimeouts,
  ParentReference,
} from '../apis/gatewayapi/v1/types.ts';
import {
  API_VERSION,
  BACKEND_GROUP_DEFAULT,
  BACKEND_KIND_DEFAULT,
  HTTP_ROUTE_KIND,
  ROUTE_CONDITION_ACCEPTED,
  V1BETA1_API_VERSION,
  httpMethods,
} from '../apis/gatewayapi/v1/types.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { OperatorError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { canaryService } from './kubernetes-services.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';
import {
  nextSessionCookies,
  randomCookieValue,
  readSessionCookies,
  sessionAffinityRules,
  sessionStatusPatch,
  type SessionCookies,
} from './gateway-api-session.ts';
import { CachedReader, controllerRef, metadataUpToDate, toolkitAnnotations } from './util.ts';

/** The weights of a new route: everything to the primary. */
export const INITIAL_WEIGHTS: Weights = { primary: 100, canary: 0, mirrored: false };

/** Flagger's message, kept verbatim. */
export const GATEWAY_REFS_REQUIRED = 'GatewayRefs must be specified when using Gateway API as a provider.';

const isHttpMethod = (m: string): m is HTTPMethod => (httpMethods as readonly string[]).includes(m);

/** Istio HTTPMatchRequest fields that have no Gateway API equivalent. */
const unsupportedMatchFields = [
  'scheme',
  'authority',
  'withoutHeaders',
  'port',
  'sourceLabels',
  'sourceNamespace',
  'gateways',
] as const satisfies readonly (keyof HttpMatchRequest)[];

function isEmptyValue(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);
}

/** `{type, value}` of an exact or regex string match (headers, query parameters). */
function exactOrRegex(m: StringMatch, path: string): { type: 'Exact' | 'RegularExpression'; value: string } {
  if (m.exact !== undefined && m.exact !== '') return { type: 'Exact', value: m.exact };
  if (m.regex !== undefined && m.regex !== '') return { type: 'RegularExpression', value: m.regex };
  throw new InvalidCanaryError(`${path}: Gateway API supports only exact and regex matches, got ${JSON.stringify(m)}`);
}

/**
 * One Istio-style match as a Gateway API HTTPRouteMatch (Flagger `mapRouteMatches`): uri → path
 * (regex, exact or prefix), method (exact), headers and query parameters (exact or regex), each
 * sorted by name. Fields Gateway API can't express are an InvalidCanaryError, never ignored: an
 * ignored condition would widen the match (for A/B, send everyone to the canary).
 */
export function mapMatch(m: HttpMatchRequest, path: string): HTTPRouteMatch {
  for (const field of unsupportedMatchFields) {
    if (!isEmptyValue(m[field])) throw new InvalidCanaryError(`${path}.${field} is not supported by Gateway API`);
  }
  if (m.ignoreUriCase === true) throw new InvalidCanaryError(`${path}.ignoreUriCase is not supported by Gateway API`);
  let pathMatch: HTTPRouteMatch['path'];
  if (m.uri !== undefined) {
    if (m.uri.regex) pathMatch = { type: 'RegularExpression', value: m.uri.regex };
    else if (m.uri.exact) pathMatch = { type: 'Exact', value: m.uri.exact };
    else if (m.uri.prefix) pathMatch = { type: 'PathPrefix', value: m.uri.prefix };
    else throw new InvalidCanaryError(`${path}.uri: Gateway API supports only exact, prefix and regex path matches`);
  }
  let method: HTTPMethod | undefined;
  if (m.method !== undefined) {
    const exact = m.method.exact ?? '';
    if (!isHttpMethod(exact)) {
      throw new InvalidCanaryError(`${path}.method: Gateway API needs an exact method of ${httpMethods.join(', ')}`);
    }
    method = exact;
  }
  const byName = <T>(r: Readonly<Record<string, T>> | undefined): [string, T][] =>
    Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const headers = byName(m.headers).map(([name, v]) => ({ name, ...exactOrRegex(v, `${path}.headers.${name}`) }));
  const queryParams = byName(m.queryParams).map(([name, v]) => ({
    name,
    ...exactOrRegex(v, `${path}.queryParams.${name}`),
  }));
  return {
    ...(pathMatch === undefined ? {} : { path: pathMatch }),
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParams.length > 0 ? { queryParams } : {}),
    ...(method === undefined ? {} : { method }),
  };
}

/**
 * Merges the A/B conditions into each route match (Flagger `mergeMatchConditions`): for every
 * analysis match × service match, the service match with the analysis headers and query
 * parameters added. Unlike Flagger, which replaces the service match's headers, the lists are
 * united (an analysis condition wins over a service condition on the same name), so the A/B rule
 * never matches more than the default rule.
 */
export function mergeMatches(
  analysis: readonly HTTPRouteMatch[],
  service: readonly HTTPRouteMatch[],
): HTTPRouteMatch[] {
  if (analysis.length === 0) return [...service];
  if (service.length === 0) return [...analysis];
  const union = <T extends { name: string }>(base: readonly T[] | undefined, extra: readonly T[] | undefined): T[] => {
    const names = new Set((extra ?? []).map((e) => e.name));
    return [...(base ?? []).filter((b) => !names.has(b.name)), ...(extra ?? [])].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
  };
  return analysis.flatMap((a) =>
    service.map((s): HTTPRouteMatch => {
      const headers: HTTPHeaderMatch[] = union(s.headers, a.headers);
      const queryParams = union(s.queryParams, a.queryParams);
      const method = s.method ?? a.method;
      return {
        ...(s.path === undefined ? (a.path === undefined ? {} : { path: a.path }) : { path: s.path }),
        ...(headers.length > 0 ? { headers } : {}),
        ...(queryParams.length > 0 ? { queryParams } : {}),
        ...(method === undefined ? {} : { method }),
      };
    }),
  );
}

function headerFilter(ops: HeaderOperations): HTTPHeaderFilter {
  const headers = (r: Readonly<Record<string, string>> | undefined): { name: string; value: string }[] =>
    Object.entries(r ?? {})
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.value.localeCompare(b.value));
  const set = headers(ops.set);
  const add = headers(ops.add);
  const remove = [...(ops.remove ?? [])];
  return {
    ...(set.length > 0 ? { set } : {}),
    ...(add.length > 0 ? { add } : {}),
    ...(remove.length > 0 ? { remove } : {}),
  };
}

/**
 * The rule-level filters of `spec.service` (Flagger `makeFilters`): request and response header
 * modifiers, URL rewrite and the static request mirrors. `corsPolicy` is not mapped: CORS is an
 * experimental-channel filter in Gateway API v1.4.0 (see the file comment).
 */
export function serviceFilters(service: CanaryService): HTTPRouteFilter[] {
  const filters: HTTPRouteFilter[] = [];
  if (service.headers?.request !== undefined) {
    filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: headerFilter(service.headers.request) });
  }
  if (service.headers?.response !== undefined) {
    filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: headerFilter(service.headers.response) });
  }
  const rewrite = service.rewrite;
  if (rewrite !== undefined) {
    const uri = rewrite.uri ?? '';
    const prefix = rewrite.type === 'ReplacePrefixMatch';
    filters.push({
      type: 'URLRewrite',
      urlRewrite: {
        ...(rewrite.authority ? { hostname: rewrite.authority } : {}),
        ...(uri === ''
          ? {}
          : {
              path: prefix
                ? { type: 'ReplacePrefixMatch', replacePrefixMatch: uri }
                : { type: 'ReplaceFullPath', replaceFullPath: uri },
            }),
      },
    });
  }
  for (const mirror of service.mirror ?? []) {
    const ref = mirror.backendRef;
    filters.push({
      type: 'RequestMirror',
      requestMirror: {
        backendRef: {
          ...(ref.group === undefined ? {} : { group: ref.group }),
          ...(ref.kind === undefined ? {} : { kind: ref.kind }),
          name: ref.name,
          ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
          ...(ref.port === undefined ? {} : { port: ref.port }),
        },
      },
    });
  }
  return filters;
}

function timeouts(service: CanaryService): HTTPRouteTimeouts | undefined {
  const request = service.timeout ?? '';
  const backendRequest = service.backendTimeout ?? '';
  if (request === '' && backendRequest === '') return undefined;
  return {
    ...(request === '' ? {} : { request }),
    ...(backendRequest === '' ? {} : { backendRequest }),
  };
}

function backendRef(name: string, port: number, weight: number): HTTPBackendRef {
  return { group: BACKEND_GROUP_DEFAULT, kind: BACKEND_KIND_DEFAULT, name, port, weight };
}

function parentRefs(refs: readonly ParentReference[]): ParentReference[] {
  return refs.map((r) => ({
    ...(r.group === undefined ? {} : { group: r.group }),
    ...(r.kind === undefined ? {} : { kind: r.kind }),
    ...(r.namespace === undefined ? {} : { namespace: r.namespace }),
    name: r.name,
    ...(r.sectionName === undefined ? {} : { sectionName: r.sectionName }),
    ...(r.port === undefined ? {} : { port: r.port }),
  }));
}

/** The Canary's namespace, where the routing objects live; an InvalidCanaryError when it has none. */
export function namespaceOf(canary: Canary): string {
  const namespace = canary.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new InvalidCanaryError(`Canary ${canary.metadata.name} has no namespace`);
  }
  return namespace;
}

/** What differs between the `gatewayapi:v1` and `gatewayapi:v1beta1` routers (as in Flagger). */
export interface GatewayApiVersion {
  readonly provider: 'gatewayapi:v1' | 'gatewayapi:v1beta1';
  readonly apiVersion: HTTPRoute['apiVersion'];
  readonly type: ResourceType;
  /** Writes `service.timeout` / `service.backendTimeout` as rule timeouts. */
  readonly timeouts: boolean;
  /** Sets the primary session cookie (`sessionAffinity.primaryCookieName`). */
  readonly primaryCookie: boolean;
  /** getRoutes waits until the Gateway controllers accepted the current generation. */
  readonly checkAccepted: boolean;
}

/** The two Gateway API routers of Flagger. */
export const gatewayApiVersions = {
  v1: {
    provider: 'gatewayapi:v1',
    apiVersion: API_VERSION,
    type: Resources.httpRoute,
    timeouts: true,
    primaryCookie: true,
    checkAccepted: true,
  },
  v1beta1: {
    provider: 'gatewayapi:v1beta1',
    apiVersion: V1BETA1_API_VERSION,
    type: Resources.httpRouteV1beta1,
    timeouts: false,
    primaryCookie: false,
    checkAccepted: false,
  },
} as const satisfies Record<string, GatewayApiVersion>;

/** Options of {@link buildHttpRoute}. */
export interface BuildOptions {
  /** Default v1. */
  readonly version?: GatewayApiVersion;
  /** The session cookies the route carries (session affinity only). */
  readonly cookies?: SessionCookies;
}

/**
 * The HTTPRoute Fledge wants for `canary` at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure.
 *
 * - parentRefs = `service.gatewayRefs` (required), hostnames = `service.hosts`;
 * - one weighted rule: matches from `service.match` (default: path prefix `/`), the service
 *   filters, backends `<apex>-primary` / `<apex>-canary` on `service.port` with the weights, and
 *   `timeouts` from `service.timeout` / `service.backendTimeout`;
 * - Blue/Green mirroring (`weights.mirrored` with `analysis.iterations > 0`): a RequestMirror filter
 *   to `<apex>-canary` on the weighted rule;
 * - A/B (`analysis.match`): the weighted rule matches the analysis conditions merged into the route
 *   matches, followed by a default rule sending everything else to the primary;
 * - session affinity: the sticky rules and Set-Cookie filters of `options.cookies`
 *   ({@link sessionAffinityRules});
 * - labels and annotations from `service.apex` plus the Flux opt-out annotations; a controller
 *   reference to the Canary.
 *
 * Throws InvalidCanaryError for specs Gateway API can't express and UnsupportedError for session
 * affinity combined with A/B.
 */
export function buildHttpRoute(canary: Canary, weights: Weights, options: BuildOptions = {}): HTTPRoute {
  const version = options.version ?? gatewayApiVersions.v1;
  const service = canaryService(canary);
  const gatewayRefs = service.gatewayRefs ?? [];
  if (gatewayRefs.length === 0) throw new InvalidCanaryError(GATEWAY_REFS_REQUIRED);
  const analysis = analysisOf(canary);
  if (analysis?.sessionAffinity !== undefined && (analysis.match ?? []).length > 0) {
    throw new UnsupportedError(
      'analysis.sessionAffinity cannot be combined with analysis.match: the sticky rules would override the A/B rules',
    );
  }
  const names = serviceNames(canary);
  const serviceMatches = (service.match ?? [])
    .map((m, i) => mapMatch(m, `spec.service.match[${i}]`))
    .filter((m) => Object.keys(m).length > 0);
  const routeMatches: HTTPRouteMatch[] = serviceMatches.length > 0 ? serviceMatches : [{ path: DEFAULT_PATH_MATCH }];
  const filters = serviceFilters(service);
  const ruleTimeouts = version.timeouts ? timeouts(service) : undefined;
  const withTimeouts = ruleTimeouts === undefined ? {} : { timeouts: ruleTimeouts };

  const mirror: HTTPRouteFilter[] =
    weights.mirrored && (analysis?.iterations ?? 0) > 0
      ? [
          {
            type: 'RequestMirror',
            requestMirror: {
              backendRef: {
                group: BACKEND_GROUP_DEFAULT,
                kind: BACKEND_KIND_DEFAULT,
                name: names.canary,
                port: service.port,
              },
            },
          },
        ]
      : [];
  const weightedFilters = [...filters, ...mirror];
  const weighted = (matches: readonly HTTPRouteMatch[]): HTTPRouteRule => ({
    matches,
    ...(weightedFilters.length > 0 ? { filters: weightedFilters } : {}),
    backendRefs: [
      backendRef(names.primary, service.port, weights.primary),
      backendRef(names.canary, service.port, weights.canary),
    ],
    ...withTimeouts,
  });

  let rules: HTTPRouteRule[];
  const abMatches = analysis?.match ?? [];
  if (abMatches.length > 0) {
    const conditions = abMatches.map((m, i) => {
      const path = `spec.analysis.match[${i}]`;
      const match = mapMatch(m, path);
      if (Object.keys(match).length === 0) {
        throw new InvalidCanaryError(
          `${path} has no header or query parameter condition: it would match every request`,
        );
      }
      return match;
    });
    rules = [
      weighted(mergeMatches(conditions, routeMatches)),
      {
        matches: routeMatches,
        ...(filters.length > 0 ? { filters } : {}),
        backendRefs: [backendRef(names.primary, service.port, 100)],
        ...withTimeouts,
      },
    ];
  } else {
    const rule = weighted(routeMatches);
    const [primary, canaryBackend] = rule.backendRefs ?? [];
    rules =
      analysis?.sessionAffinity === undefined || primary === undefined || canaryBackend === undefined
        ? [rule]
        : sessionAffinityRules(
            canary,
            { matches: routeMatches, filters: weightedFilters, primary, canary: canaryBackend },
            options.cookies ?? {},
            (cookie) => mergeMatches([cookie], routeMatches),
          ).map((r) => ({
            matches: r.matches,
            ...(r.filters.length > 0 ? { filters: r.filters } : {}),
            backendRefs: r.backendRefs,
            ...withTimeouts,
          }));
  }

  const hostnames = [...(service.hosts ?? [])];
  const spec: HTTPRouteSpec = {
    parentRefs: parentRefs(gatewayRefs),
    ...(hostnames.length > 0 ? { hostnames } : {}),
    rules,
  };
  return {
    apiVersion: version.apiVersion,
    kind: HTTP_ROUTE_KIND,
    metadata: {
      name: names.apex,
      namespace: namespaceOf(canary),
      labels: { ...service.apex?.labels },
      annotations: { ...service.apex?.annotations, ...toolkitAnnotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec,
  };
}

/**
 * The weights an HTTPRoute carries (Flagger `GetRoutes`): those of the last rule with exactly the
 * two backends `<apex>-primary` and `<apex>-canary`; mirrored when a rule mirrors to
 * `<apex>-canary`. Undefined when no rule splits between the two.
 */
export function routeWeights(canary: Canary, route: HttpRouteView): Weights | undefined {
  const names = serviceNames(canary);
  let found: { primary: number; canary: number } | undefined;
  for (const rule of route.rules) {
    if (rule.backends.length !== 2) continue;
    const primary = rule.backends.find((b) => b.name === names.primary);
    const canaryBackend = rule.backends.find((b) => b.name === names.canary);
    if (primary !== undefined && canaryBackend !== undefined) {
      found = { primary: primary.weight, canary: canaryBackend.weight };
    }
  }
  if (found === undefined) return undefined;
  const mirrored = route.rules.some((r) => r.mirrors.includes(names.canary));
  return { ...found, mirrored };
}

function sameParent(a: ParentReference, b: ParentReference, namespace: string): boolean {
  const norm = (r: ParentReference): unknown => {
    const withDefaults = parentRefWithDefaults(r);
    return isRecord(withDefaults) ? { ...withDefaults, namespace: r.namespace ?? namespace } : withDefaults;
  };
  return jsonEqual(norm(a), norm(b));
}

/**
 * Throws a (retriable) OperatorError when a Gateway controller reports that it has not accepted
 * the route's current generation for one of its parents (Accepted not True, or observed for an
 * older generation). A route without status, or without a status entry for a parent, passes: with
 * no Gateway controller (as in the test clusters) nothing would ever accept it.
 */
export function checkAccepted(route: HttpRouteView, key: Required<ObjectKey>): void {
  for (const ref of route.parentRefs) {
    for (const parent of route.parents) {
      if (!sameParent(parent.parentRef, ref, key.namespace)) continue;
      for (const c of parent.conditions) {
        if (c.type !== ROUTE_CONDITION_ACCEPTED) continue;
        const stale =
          route.generation !== undefined &&
          c.observedGeneration !== undefined &&
          c.observedGeneration < route.generation;
        if (c.status !== 'True' || stale) {
          throw new OperatorError(
            `HTTPRoute ${key.namespace}/${key.name} parent ${ref.name} is not ready (status: ${c.status}, ` +
              `observed generation: ${c.observedGeneration ?? 'unknown'}, current generation: ${route.generation ?? 'unknown'})`,
          );
        }
      }
    }
  }
}

/** True when applying `desired` would change nothing that Fledge manages on `existing`. */
export function routeUpToDate(existing: KubeObject, desired: HTTPRoute): boolean {
  const spec = isRecord(existing['spec']) ? existing['spec'] : {};
  const managed = { parentRefs: spec['parentRefs'], hostnames: spec['hostnames'], rules: spec['rules'] };
  if (!jsonEqual(normalizeRouteSpec(managed), normalizeRouteSpec(desired.spec))) return false;
  return metadataUpToDate(existing, {
    labels: desired.metadata.labels ?? {},
    annotations: desired.metadata.annotations ?? {},
    ownerReferences: desired.metadata.ownerReferences ?? [],
  });
}

/** Options of {@link GatewayApiRouter}. */
export interface GatewayApiRouterOptions {
  readonly kube: KubeClient;
  /** Shared by the routers of one operator so that a write is seen by the next read at once. */
  readonly reader?: CachedReader;
  /** Default v1. */
  readonly version?: GatewayApiVersion;
  /** The value part of new session cookies (tests fix it). */
  readonly cookieValue?: () => string;
}

/** Splits traffic with a Gateway API HTTPRoute (v1 or v1beta1). */
export class GatewayApiRouter implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: true,
    abTesting: true,
    mirroring: true,
    sessionAffinity: true,
  };
  readonly #kube: KubeClient;
  readonly #reader: CachedReader;
  readonly #version: GatewayApiVersion;
  readonly #cookieValue: () => string;

  constructor(options: GatewayApiRouterOptions) {
    this.#kube = options.kube;
    this.#reader = options.reader ?? new CachedReader(options.kube);
    this.#version = options.version ?? gatewayApiVersions.v1;
    this.#cookieValue = options.cookieValue ?? randomCookieValue;
  }

  /**
   * Creates the HTTPRoute (all traffic to the primary) or brings an existing one up to date with
   * the spec, keeping the weights, mirroring and session cookies it carries.
   */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    const existing = await this.#reader.get(ctx, this.#version.type, routeKey(canary));
    const current = existing === undefined ? undefined : routeWeights(canary, readHttpRoute(existing));
    await this.#sync(ctx, canary, existing, current ?? INITIAL_WEIGHTS);
  }

  /** Writes the weights (and any spec change), unless the route already carries them. */
  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    const existing = await this.#reader.get(ctx, this.#version.type, routeKey(canary));
    await this.#sync(ctx, canary, existing, weights);
  }

  /**
   * The weights of the cached HTTPRoute. Throws a retriable OperatorError when the route is
   * missing, carries no primary/canary split, or (v1) a Gateway controller has not accepted it.
   */
  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const key = routeKey(canary);
    const existing = await this.#reader.get(ctx, this.#version.type, key);
    if (existing === undefined) throw new OperatorError(`HTTPRoute ${key.namespace}/${key.name} not found`);
    const view = readHttpRoute(existing);
    if (this.#version.checkAccepted) checkAccepted(view, key);
    const weights = routeWeights(canary, view);
    if (weights === undefined) {
      const names = serviceNames(canary);
      throw new OperatorError(
        `HTTPRoute ${key.namespace}/${key.name} has no rule splitting between ${names.primary} and ${names.canary}`,
      );
    }
    return weights;
  }

  /** Nothing to revert: the HTTPRoute is garbage-collected with the Canary (as Flagger). */
  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }

  async #sync(ctx: Ctx, canary: Canary, existing: KubeObject | undefined, weights: Weights): Promise<void> {
    const sa = analysisOf(canary)?.sessionAffinity;
    const cookies =
      sa === undefined
        ? undefined
        : nextSessionCookies(
            existing === undefined ? {} : readSessionCookies(readHttpRoute(existing), sa, serviceNames(canary)),
            sa,
            weights.canary,
            { primaryCookie: this.#version.primaryCookie, random: this.#cookieValue },
          );
    const desired = buildHttpRoute(canary, weights, {
      version: this.#version,
      ...(cookies === undefined ? {} : { cookies }),
    });
    if (existing === undefined || !routeUpToDate(existing, desired)) {
      this.#warnIgnored(ctx, canary, desired.metadata.name);
      const written = await this.#kube.apply(desired);
      this.#reader.wrote(this.#version.type, existing, written);
      ctx.log.info(existing === undefined ? 'HTTPRoute created' : 'HTTPRoute updated', {
        object: desired.metadata.name,
        primaryWeight: weights.primary,
        canaryWeight: weights.canary,
        mirrored: weights.mirrored,
      });
    }
    if (cookies !== undefined) await this.#recordCookies(ctx, canary, cookies);
  }

  /** Mirrors the session cookies into the Canary status; the route stays the source of truth, so a failure only warns. */
  async #recordCookies(ctx: Ctx, canary: Canary, cookies: SessionCookies): Promise<void> {
    const patch = sessionStatusPatch(canary.status, cookies);
    if (patch === undefined) return;
    try {
      await this.#kube.patchStatus(
        Resources.canary,
        { namespace: namespaceOf(canary), name: canary.metadata.name },
        patch,
      );
    } catch (e) {
      ctx.log.warn('session affinity cookies not recorded in the Canary status', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** Warns about spec fields this provider does not write (Flagger ignores them silently). */
  #warnIgnored(ctx: Ctx, canary: Canary, object: string): void {
    const service = canary.spec.service;
    const provider = `provider "${this.#version.provider}" does not write it`;
    const ignored: [boolean, string][] = [
      [
        service?.corsPolicy !== undefined,
        'service.corsPolicy is not applied: the CORS filter is not in the Gateway API standard channel',
      ],
      [
        !this.#version.timeouts && Boolean(service?.timeout || service?.backendTimeout),
        `service.timeout/backendTimeout is not applied: ${provider}`,
      ],
      [
        !this.#version.primaryCookie && Boolean(analysisOf(canary)?.sessionAffinity?.primaryCookieName),
        `analysis.sessionAffinity.primaryCookieName is not applied: ${provider}`,
      ],
    ];
    for (const [applies, msg] of ignored) if (applies) ctx.log.warn(msg, { object });
  }
}

function routeKey(canary: Canary): Required<ObjectKey> {
  return { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
}
