/**
 * The router of provider `gloo` (Flagger pkg/router/gloo.go GlooRouter): two Upstreams
 * (`gloo.solo.io/v1`) for the `<apex>-primary` and `<apex>-canary` Services, named
 * `<ns>-<apex>-primaryupstream-<port>` and `<ns>-<apex>-canaryupstream-<port>` (so the Gloo
 * observer's `envoy_cluster_name` pattern finds them), and a RouteTable `<apex>`
 * (`gateway.solo.io/v1`) whose route splits traffic between them by weight. The Upstreams copy the
 * settings of `spec.upstreamRef` (load balancing, TLS, circuit breakers, …) when set; their labels
 * are that Upstream's labels filtered by `-include-label-prefix` (Flagger reads `spec.labels`, a
 * field the Gloo CRD prunes, so its Upstreams never get any).
 *
 * A/B (`analysis.match`): the weighted route has one matcher per match entry (headers, query
 * parameters), followed by a default route sending everything else to the primary. Differences
 * from Flagger: Flagger writes only the matching route, so with A/B every other request finds no
 * route in the table; it puts the headers of every entry into one matcher (ANDing entries that mean
 * OR); header prefix/suffix matches become anchored regexes where Flagger writes an empty value
 * (which matches any value); the Upstreams are kept up to date as a whole, not only their load
 * balancer settings; Reconcile keeps the current weights. Mirroring and session affinity are
 * refused.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, StringMatch } from '../apis/flagger/v1beta1/types.ts';
import type {
  HeaderMatcher,
  Matcher,
  QueryParameterMatcher,
  Route,
  RouteTable,
  Upstream,
  UpstreamSpec,
  WeightedDestination,
} from '../apis/gloo/v1/types.ts';
import {
  ROUTE_TABLE_API_VERSION,
  ROUTE_TABLE_KIND,
  UPSTREAM_API_VERSION,
  UPSTREAM_KIND,
  upstreamConfigFields,
} from '../apis/gloo/v1/types.ts';
import { includeLabelsByPrefix } from '../canary/util.ts';
import type { Ctx } from '../core/context.ts';
import { OperatorError, UnsupportedError } from '../core/errors.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../kube/objects.ts';
import { keyString } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  abMatches,
  applyIfChanged,
  namespaceOf,
  RoutingObjectRouter,
  type RoutingObjectRouterOptions,
  splitWeights,
} from './ingress-common.ts';
import { canaryService } from './kubernetes-services.ts';
import type { Weights } from './router.ts';
import { CachedReader, controllerRef, toolkitAnnotations } from './util.ts';

const PROVIDER = 'gloo';

/** `<ns>-<apex>-primaryupstream-<port>` and `<ns>-<apex>-canaryupstream-<port>`. */
export function upstreamNames(canary: Canary): { readonly primary: string; readonly canary: string } {
  const base = `${namespaceOf(canary)}-${serviceNames(canary).apex}`;
  const port = canaryService(canary).port;
  return { primary: `${base}-primaryupstream-${port}`, canary: `${base}-canaryupstream-${port}` };
}

/** `s` as a regular expression matching itself (RE2 syntax). */
function quoteRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A header or query parameter condition as a Gloo matcher value (Gloo regexes match the whole value). */
function matcherValue(m: StringMatch, path: string): { value: string; regex?: true } {
  if (m.exact !== undefined && m.exact !== '') return { value: m.exact };
  if (m.regex !== undefined && m.regex !== '') return { value: m.regex, regex: true };
  if (m.prefix !== undefined && m.prefix !== '') return { value: `${quoteRegex(m.prefix)}.*`, regex: true };
  if (m.suffix !== undefined && m.suffix !== '') return { value: `.*${quoteRegex(m.suffix)}`, regex: true };
  throw new UnsupportedError(`${path}: an empty match is not supported with provider "${PROVIDER}"`);
}

/**
 * One matcher per `analysis.match` entry (Flagger `getMatchers`): its headers and query parameters
 * sorted by name, and its method.
 */
export function glooMatchers(canary: Canary): Matcher[] {
  return abMatches(canary, PROVIDER, { queryParams: true, method: true }).map((m, i) => {
    const byName = <T>(r: Readonly<Record<string, T>> | undefined): [string, T][] =>
      Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const path = `spec.analysis.match[${i}]`;
    const headers: HeaderMatcher[] = byName(m.headers).map(([name, sm]) => ({
      name,
      ...matcherValue(sm, `${path}.headers.${name}`),
    }));
    const queryParameters: QueryParameterMatcher[] = byName(m.queryParams).map(([name, sm]) => ({
      name,
      ...matcherValue(sm, `${path}.queryParams.${name}`),
    }));
    const method = m.method?.exact ?? '';
    return {
      ...(headers.length > 0 ? { headers } : {}),
      ...(queryParameters.length > 0 ? { queryParameters } : {}),
      ...(method === '' ? {} : { methods: [method] }),
    };
  });
}

/** The RouteTable Fledge wants for `canary` at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure. */
export function buildRouteTable(canary: Canary, weights: Weights): RouteTable {
  const namespace = namespaceOf(canary);
  const upstreams = upstreamNames(canary);
  const service = canaryService(canary);
  const destination = (name: string, weight: number): WeightedDestination => ({
    destination: { upstream: { name, namespace } },
    weight,
  });
  const route = (w: Weights, matchers: readonly Matcher[] = []): Route => ({
    ...(matchers.length > 0 ? { matchers } : {}),
    routeAction: {
      multi: { destinations: [destination(upstreams.primary, w.primary), destination(upstreams.canary, w.canary)] },
    },
    inheritablePathMatchers: true,
  });
  const matchers = (analysisOf(canary)?.match ?? []).length > 0 ? glooMatchers(canary) : [];
  const routes =
    matchers.length > 0
      ? [route(weights, matchers), route({ primary: 100, canary: 0, mirrored: false })]
      : [route(weights)];
  return {
    apiVersion: ROUTE_TABLE_API_VERSION,
    kind: ROUTE_TABLE_KIND,
    metadata: {
      name: serviceNames(canary).apex,
      namespace,
      labels: { ...service.apex?.labels },
      annotations: { ...service.apex?.annotations, ...toolkitAnnotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec: { routes },
  };
}

/**
 * The Upstream `name` of the Service `service` (Flagger `getGlooUpstreamKubeService`): the
 * settings of `config` (the `upstreamRef` Upstream) and a `kube` upstream with the Service's name,
 * the canary's port and the Service's selector. Pure.
 */
export function buildUpstream(
  canary: Canary,
  input: {
    readonly name: string;
    readonly service: KubeObject;
    readonly config?: KubeObject;
    readonly includeLabelPrefix: readonly string[];
  },
): Upstream {
  const namespace = namespaceOf(canary);
  const configSpec = input.config !== undefined && isRecord(input.config['spec']) ? input.config['spec'] : {};
  const copied = Object.fromEntries(
    upstreamConfigFields.flatMap((f) => (configSpec[f] === undefined ? [] : [[f, structuredClone(configSpec[f])]])),
  );
  const serviceSpec = input.service['spec'];
  const rawSelector = isRecord(serviceSpec) && isRecord(serviceSpec['selector']) ? serviceSpec['selector'] : {};
  const selector = Object.fromEntries(
    Object.entries(rawSelector).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const spec: UpstreamSpec = {
    ...copied,
    kube: {
      serviceName: input.service.metadata.name,
      serviceNamespace: namespace,
      servicePort: canaryService(canary).port,
      ...(Object.keys(selector).length > 0 ? { selector } : {}),
    },
  };
  return {
    apiVersion: UPSTREAM_API_VERSION,
    kind: UPSTREAM_KIND,
    metadata: {
      name: input.name,
      namespace,
      labels: includeLabelsByPrefix(input.config?.metadata.labels, input.includeLabelPrefix),
      ownerReferences: [controllerRef(canary)],
    },
    spec,
  };
}

/**
 * The weights of a RouteTable (Flagger `GetRoutes`): those of the two Upstreams in its first
 * route, an absent weight counting as 0. Throws an OperatorError when either is missing.
 */
export function routeTableWeights(canary: Canary, obj: KubeObject): Weights {
  const path = ['spec', 'routes', 0, 'routeAction', 'multi', 'destinations'];
  return splitWeights(
    obj,
    { path, nameAt: ['destination', 'upstream', 'name'], what: 'first route upstream' },
    upstreamNames(canary),
  );
}

/** Options of {@link GlooRouter}. */
export interface GlooRouterOptions extends RoutingObjectRouterOptions {
  /** `-include-label-prefix`: which labels of the `upstreamRef` Upstream's `spec.labels` the Upstreams carry. */
  readonly includeLabelPrefix?: readonly string[] | undefined;
}

/** Splits traffic with a Gloo Edge RouteTable between two Upstreams. */
export class GlooRouter extends RoutingObjectRouter {
  constructor(options: GlooRouterOptions) {
    const reader = options.reader ?? new CachedReader(options.kube);
    const includeLabelPrefix = options.includeLabelPrefix ?? [];
    super(
      {
        provider: PROVIDER,
        capabilities: { weights: true, abTesting: true, mirroring: false, sessionAffinity: false },
        type: Resources.glooRouteTable,
        key: (canary) => ({ namespace: namespaceOf(canary), name: serviceNames(canary).apex }),
        desired: async (ctx, canary, weights) => {
          const table = buildRouteTable(canary, weights);
          await syncUpstreams(ctx, reader, canary, includeLabelPrefix);
          return table;
        },
        weights: routeTableWeights,
      },
      { ...options, reader },
    );
  }
}

/** Creates or updates both Upstreams; a retriable OperatorError while a Service or the config Upstream is missing. */
async function syncUpstreams(
  ctx: Ctx,
  reader: CachedReader,
  canary: Canary,
  includeLabelPrefix: readonly string[],
): Promise<void> {
  const namespace = namespaceOf(canary);
  const mustGet = async (type: ResourceType, key: Required<ObjectKey>, what: string): Promise<KubeObject> => {
    const obj = await reader.get(ctx, type, key);
    if (obj === undefined) throw new OperatorError(`${what} ${keyString(key)} not found`);
    return obj;
  };
  const ref = canary.spec.upstreamRef;
  const config =
    ref === undefined
      ? undefined
      : await mustGet(
          Resources.glooUpstream,
          {
            namespace: ref.namespace === undefined || ref.namespace === '' ? namespace : ref.namespace,
            name: ref.name,
          },
          'config Upstream',
        );
  const services = serviceNames(canary);
  const upstreams = upstreamNames(canary);
  for (const side of ['primary', 'canary'] as const) {
    const service = await mustGet(Resources.service, { namespace, name: services[side] }, 'Service');
    const desired = buildUpstream(canary, {
      name: upstreams[side],
      service,
      ...(config === undefined ? {} : { config }),
      includeLabelPrefix,
    });
    const existing = await reader.get(ctx, Resources.glooUpstream, { namespace, name: upstreams[side] });
    await applyIfChanged(ctx, reader, existing, { object: desired, type: Resources.glooUpstream });
  }
}
