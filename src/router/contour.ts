/**
 * The router of provider `contour` (Flagger pkg/router/contour.go ContourRouter): one HTTPProxy
 * `<apex>` (projectcontour.io/v1) whose route splits traffic between the `<apex>-primary` and
 * `<apex>-canary` Services by weight. Each Service sets `l5d-dst-override` to its cluster DNS
 * name (so Linkerd sees the right destination); the route carries the path prefix of
 * `service.match[0].uri.prefix` (default `/`), `service.timeout` (response timeout, idle 5m) and
 * `service.retries`; `spec.ingressClassName` is `-ingress-class` when set. The proxy has no
 * virtual host: a root HTTPProxy of the user includes it.
 *
 * A/B (`analysis.match`): one weighted route per match entry, its header conditions ANDed with the
 * prefix, followed by a default route sending everything to the primary. Differences from Flagger:
 * Flagger puts the headers of every entry into one route (ANDing entries that mean OR) and repeats
 * the prefix in each condition, which Contour rejects with two headers; a regex header is refused
 * (Contour has no regex header match) where Flagger writes an empty exact match; Reconcile keeps
 * the current weights where Flagger resets them to 100/0 when the spec changed. Header `prefix`
 * and `suffix` become `contains`, as in Flagger. Mirroring and session affinity are refused.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryService, StringMatch } from '../apis/flagger/v1beta1/types.ts';
import type { HeaderMatchCondition, HTTPProxy, MatchCondition, Route, Service } from '../apis/contour/v1/types.ts';
import { API_VERSION, HTTP_PROXY_KIND } from '../apis/contour/v1/types.ts';
import { UnsupportedError } from '../core/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  abMatches,
  namespaceOf,
  RoutingObjectRouter,
  type RoutingObjectRouterOptions,
  splitWeights,
} from './ingress-common.ts';
import { canaryService } from './kubernetes-services.ts';
import type { Weights } from './router.ts';
import { controllerRef, toolkitAnnotations } from './util.ts';

const PROVIDER = 'contour';

/** Header Linkerd reads to pick the destination service (Flagger `makeLinkerdHeaderValue`). */
export const LINKERD_DST_OVERRIDE = 'l5d-dst-override';

/** Idle timeout that goes with `service.timeout` (Flagger's constant). */
export const IDLE_TIMEOUT = '5m';

/** `service.match[0].uri.prefix`, else `/` (Flagger `makePrefix`). */
export function pathPrefix(service: CanaryService): string {
  const prefix = service.match?.[0]?.uri?.prefix ?? '';
  return prefix === '' ? '/' : prefix;
}

function headerCondition(name: string, m: StringMatch, path: string): HeaderMatchCondition {
  if (m.exact !== undefined && m.exact !== '') return { name, exact: m.exact };
  // Contour has no prefix/suffix header match: Flagger approximates both with `contains`.
  if (m.prefix !== undefined && m.prefix !== '') return { name, contains: m.prefix };
  if (m.suffix !== undefined && m.suffix !== '') return { name, contains: m.suffix };
  throw new UnsupportedError(`${path}: provider "${PROVIDER}" supports only exact, prefix and suffix header matches`);
}

/**
 * The conditions of each A/B route (Flagger `makeConditions`): the path prefix, then one header
 * condition per header of the match entry, sorted by name. One list per `analysis.match` entry.
 */
export function abConditions(canary: Canary, prefix: string): MatchCondition[][] {
  return abMatches(canary, PROVIDER, { queryParams: false }).map((m, i) => {
    const headers = Object.entries(m.headers ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, sm]) => headerCondition(name, sm, `spec.analysis.match[${i}].headers.${name}`));
    const [first, ...rest] = headers;
    return first === undefined ? [{ prefix }] : [{ prefix, header: first }, ...rest.map((header) => ({ header }))];
  });
}

function weightedServices(canary: Canary, weights: Weights): Service[] {
  const names = serviceNames(canary);
  const namespace = namespaceOf(canary);
  const port = canaryService(canary).port;
  const service = (name: string, weight: number): Service => ({
    name,
    port,
    weight,
    requestHeadersPolicy: {
      set: [{ name: LINKERD_DST_OVERRIDE, value: `${name}.${namespace}.svc.cluster.local:${port}` }],
    },
  });
  return [service(names.primary, weights.primary), service(names.canary, weights.canary)];
}

function routePolicies(service: CanaryService): Pick<Route, 'timeoutPolicy' | 'retryPolicy'> {
  const timeout = service.timeout ?? '';
  const retries = service.retries;
  const retryOn = (retries?.retryOn ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const perTryTimeout = retries?.perTryTimeout ?? '';
  return {
    ...(timeout === '' ? {} : { timeoutPolicy: { response: timeout, idle: IDLE_TIMEOUT } }),
    ...(retries === undefined
      ? {}
      : {
          retryPolicy: {
            count: retries.attempts ?? 0,
            ...(perTryTimeout === '' ? {} : { perTryTimeout }),
            ...(retryOn.length > 0 ? { retryOn } : {}),
          },
        }),
  };
}

/**
 * The HTTPProxy Fledge wants for `canary` at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure.
 * Throws UnsupportedError for A/B conditions Contour can't express.
 */
export function buildHttpProxy(canary: Canary, weights: Weights, ingressClass = ''): HTTPProxy {
  const service = canaryService(canary);
  const prefix = pathPrefix(service);
  const policies = routePolicies(service);
  const route = (conditions: readonly MatchCondition[], w: Weights): Route => ({
    conditions,
    ...policies,
    services: weightedServices(canary, w),
  });
  const ab = (analysisOf(canary)?.match ?? []).length > 0 ? abConditions(canary, prefix) : [];
  const routes =
    ab.length > 0
      ? [...ab.map((c) => route(c, weights)), route([{ prefix }], { primary: 100, canary: 0, mirrored: false })]
      : [route([{ prefix }], weights)];
  return {
    apiVersion: API_VERSION,
    kind: HTTP_PROXY_KIND,
    metadata: {
      name: serviceNames(canary).apex,
      namespace: namespaceOf(canary),
      labels: { ...service.apex?.labels },
      annotations: { ...service.apex?.annotations, ...toolkitAnnotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec: { routes, ...(ingressClass === '' ? {} : { ingressClassName: ingressClass }) },
  };
}

/**
 * The weights of an HTTPProxy (Flagger `GetRoutes`): those of the primary and canary Services of
 * its first route, an absent weight counting as 0 (Flagger omits zero weights). Throws an
 * OperatorError when the first route lacks either Service.
 */
export function httpProxyWeights(canary: Canary, obj: KubeObject): Weights {
  const list = { path: ['spec', 'routes', 0, 'services'], nameAt: ['name'], what: 'first route service' };
  return splitWeights(obj, list, serviceNames(canary));
}

/** Options of {@link ContourRouter}. */
export interface ContourRouterOptions extends RoutingObjectRouterOptions {
  /** `-ingress-class`: the HTTPProxy's `spec.ingressClassName` when not empty. */
  readonly ingressClass?: string | undefined;
}

/** Splits traffic with a Contour HTTPProxy. */
export class ContourRouter extends RoutingObjectRouter {
  constructor(options: ContourRouterOptions) {
    super(
      {
        provider: PROVIDER,
        capabilities: { weights: true, abTesting: true, mirroring: false, sessionAffinity: false },
        type: Resources.httpProxy,
        key: (canary) => ({ namespace: namespaceOf(canary), name: serviceNames(canary).apex }),
        desired: (_ctx, canary, weights) => Promise.resolve(buildHttpProxy(canary, weights, options.ingressClass)),
        weights: httpProxyWeights,
      },
      options,
    );
  }
}
