/**
 * The router of provider `istio` (Flagger pkg/router/istio.go IstioRouter): DestinationRules
 * `<apex>-primary` and `<apex>-canary` carrying `service.trafficPolicy`, and a VirtualService
 * `<apex>` (networking.istio.io/v1beta1, the version Flagger v1.44 writes) whose routes split
 * traffic between the two by destination weight.
 *
 * Reads come from the informer caches of the canary's namespace; the VirtualService is the source
 * of truth for the weights and the session-affinity cookies. Writes are server-side applies, made
 * only when the desired object differs from the cached one, so annotations and labels other
 * controllers set are kept.
 *
 * Takeover: when the VirtualService exists and was not created for this Canary, its spec is kept in
 * the annotation `flagger.kubernetes.io/original-configuration` (unless kubectl's
 * `last-applied-configuration` is there), and `finalize` (revertOnDeletion) restores it.
 *
 * Differences from Flagger, on purpose:
 * - A/B conditions are merged into each `service.match` (headers, query parameters and source
 *   labels united) instead of replacing the service match's headers, so the A/B route never matches
 *   more than the default route.
 * - The original configuration is recorded only on takeover; Flagger also overwrites it with its
 *   own previous spec at every spec change, so a revert restored Flagger's routes.
 * - Combinations Flagger ignores silently are refused (UnsupportedError): session affinity with A/B
 *   or TCP, A/B or mirroring with TCP. A `suffix` string match (which Istio's CRD prunes, widening
 *   the match) is an InvalidCanaryError.
 * - A missing VirtualService on finalize is nothing to revert, not an error that blocks deletion.
 * - Server-side apply instead of a full-spec update: fields of a taken-over object that Fledge does
 *   not write (`exportTo`, `tls` routes, DestinationRule `subsets`) stay with their owner.
 *
 * `service.rewrite.type` is not used, as in Flagger: Istio's `rewrite.uri` replaces the matched prefix.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, HttpMatchRequest, StringMatch } from '../apis/flagger/v1beta1/types.ts';
import {
  LAST_APPLIED_CONFIGURATION_ANNOTATION,
  ORIGINAL_CONFIGURATION_ANNOTATION,
} from '../apis/flagger/v1beta1/types.ts';
import { readVirtualService, type VirtualServiceView } from '../apis/istio/v1beta1/read.ts';
import type {
  DestinationRule,
  HTTPRoute,
  HTTPRouteDestination,
  TCPRoute,
  VirtualService,
  VirtualServiceSpec,
} from '../apis/istio/v1beta1/types.ts';
import { API_VERSION, DESTINATION_RULE_KIND, MESH_GATEWAY, VIRTUAL_SERVICE_KIND } from '../apis/istio/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, OwnerReference, ResourceType } from '../kube/objects.ts';
import { FIELD_MANAGER, type KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import {
  cookieStatusPatch,
  randomCookieValue,
  resolveCookies,
  sessionRoutes,
  type SessionCookies,
} from './istio-session.ts';
import { canaryService } from './kubernetes-services.ts';
import type { Fields } from '../log/logger.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';
import { CachedReader, canaryControllerOf, controllerRef, metadataUpToDate, toolkitAnnotations } from './util.ts';

/** The weights of a new VirtualService: everything to the primary. */
export const INITIAL_WEIGHTS: Weights = { primary: 100, canary: 0, mirrored: false };

/** `service.appProtocol: tcp` (any case) switches the VirtualService to TCP routes. */
export function isTcp(canary: Canary): boolean {
  return canaryService(canary).appProtocol?.toLowerCase() === 'tcp';
}

function namespaceOf(canary: Canary): string {
  const namespace = canary.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new InvalidCanaryError(`Canary ${canary.metadata.name} has no namespace`);
  }
  return namespace;
}

function checkStringMatches(m: HttpMatchRequest, path: string): void {
  const single: Record<string, StringMatch | undefined> = {
    uri: m.uri,
    scheme: m.scheme,
    method: m.method,
    authority: m.authority,
  };
  const maps = { headers: m.headers, queryParams: m.queryParams, withoutHeaders: m.withoutHeaders };
  for (const [field, group] of Object.entries(maps)) {
    for (const [name, sm] of Object.entries(group ?? {})) single[`${field}.${name}`] = sm;
  }
  for (const [field, sm] of Object.entries(single)) {
    if (sm?.suffix !== undefined && sm.suffix !== '') {
      throw new InvalidCanaryError(`${path}.${field}: Istio has no suffix match; use a regex`);
    }
  }
}

/** An A/B condition with none of the fields Istio keeps in `analysis.match` would match every request. */
function isEmptyCondition(m: HttpMatchRequest): boolean {
  return Object.values(m).every(
    (v) =>
      v === undefined ||
      v === '' ||
      (isRecord(v) && Object.keys(v).length === 0) ||
      (Array.isArray(v) && v.length === 0),
  );
}

/**
 * Refuses, before anything is written, the specs the Istio router can't honour: delegation with
 * hosts or gateways (Flagger's message), suffix matches, empty A/B conditions (InvalidCanaryError);
 * session affinity with A/B or TCP, A/B or mirroring with TCP (UnsupportedError).
 */
export function validateIstioCanary(canary: Canary): void {
  const service = canaryService(canary);
  const analysis = analysisOf(canary);
  const { apex } = serviceNames(canary);
  if (service.delegation === true && ((service.hosts ?? []).length > 0 || (service.gateways ?? []).length > 0)) {
    throw new InvalidCanaryError(
      `VirtualService ${apex}.${namespaceOf(canary)} cannot have hosts and gateways when delegation enabled`,
    );
  }
  (service.match ?? []).forEach((m, i) => checkStringMatches(m, `spec.service.match[${i}]`));
  const ab = analysis?.match ?? [];
  ab.forEach((m, i) => {
    const path = `spec.analysis.match[${i}]`;
    checkStringMatches(m, path);
    if (isEmptyCondition(m)) throw new InvalidCanaryError(`${path} has no condition: it would match every request`);
  });
  // sessionAffinity with A/B or TCP is ignored, as Flagger does: those routes carry no cookies.
  const tcp = isTcp(canary);
  if (tcp && ab.length > 0)
    throw new UnsupportedError('analysis.match (A/B testing) is not supported for TCP services');
  if (tcp && analysis?.mirror === true) throw new UnsupportedError('analysis.mirror is not supported for TCP services');
}

/** Unites two string maps; `extra` wins on a shared key. Undefined when both are empty. */
function unite<T>(
  base: Readonly<Record<string, T>> | undefined,
  extra: Readonly<Record<string, T>> | undefined,
): Readonly<Record<string, T>> | undefined {
  const merged = { ...base, ...extra };
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/**
 * Merges conditions into the service matches (Flagger `mergeMatchConditions`): for every condition ×
 * service match, the service match with the condition's headers, query parameters and source labels
 * added. No service match: the conditions as they are.
 */
export function mergeMatches(
  conditions: readonly HttpMatchRequest[],
  service: readonly HttpMatchRequest[],
): HttpMatchRequest[] {
  if (service.length === 0) return [...conditions];
  return conditions.flatMap((c) =>
    service.map((s): HttpMatchRequest => {
      const headers = unite(s.headers, c.headers);
      const queryParams = unite(s.queryParams, c.queryParams);
      const sourceLabels = unite(s.sourceLabels, c.sourceLabels);
      return {
        ...s,
        ...(headers === undefined ? {} : { headers }),
        ...(queryParams === undefined ? {} : { queryParams }),
        ...(sourceLabels === undefined ? {} : { sourceLabels }),
      };
    }),
  );
}

/** A destination: host and weight, plus the service port behind an ingress gateway or a delegate (Flagger `makeDestination`). */
function destinationMaker(canary: Canary): (host: string, weight: number) => HTTPRouteDestination {
  const service = canaryService(canary);
  const gateways = service.gateways ?? [];
  const withPort =
    service.portDiscovery === true &&
    ((gateways.length > 0 && gateways[0] !== MESH_GATEWAY) || service.delegation === true);
  return (host, weight) => ({
    destination: withPort ? { host, port: { number: service.port } } : { host },
    weight,
  });
}

/** The VirtualService's hosts: `service.hosts` plus the apex, unless there or `*`. */
function hostsOf(canary: Canary): string[] {
  const hosts = [...(canaryService(canary).hosts ?? [])];
  const { apex } = serviceNames(canary);
  if (!hosts.some((h) => h === apex || h === '*')) hosts.push(apex);
  return hosts;
}

/** How a VirtualService write relates to what is in the cluster. */
export interface VirtualServiceContext {
  /** The cookies to route with (session affinity); see `resolveCookies`. */
  readonly cookies?: SessionCookies;
  /** The VirtualService in the cluster, if any: for the takeover annotation and the owner reference. */
  readonly existing?: KubeObject;
}

/** The owner reference Fledge sets: on what it creates, or on what is already this Canary's. */
function ownerReferences(canary: Canary, existing: KubeObject | undefined): OwnerReference[] {
  if (existing === undefined) return [controllerRef(canary)];
  const owner = canaryControllerOf(existing);
  return owner !== undefined && owner.uid === canary.metadata.uid ? [controllerRef(canary)] : [];
}

/** `ownerReferences`, left out when empty (an apply must not claim the field). */
function owned(canary: Canary, existing: KubeObject | undefined): { ownerReferences?: OwnerReference[] } {
  const refs = ownerReferences(canary, existing);
  return refs.length > 0 ? { ownerReferences: refs } : {};
}

/** The takeover annotation the VirtualService carries after this write (see the file comment). */
function originalConfiguration(canary: Canary, existing: KubeObject | undefined): Record<string, string> {
  if (existing === undefined) return {};
  const annotations = existing.metadata.annotations ?? {};
  const kept = annotations[ORIGINAL_CONFIGURATION_ANNOTATION];
  if (kept !== undefined) return { [ORIGINAL_CONFIGURATION_ANNOTATION]: kept };
  if (LAST_APPLIED_CONFIGURATION_ANNOTATION in annotations) return {};
  if (ownerReferences(canary, existing).length > 0) return {};
  return { [ORIGINAL_CONFIGURATION_ANNOTATION]: JSON.stringify(existing['spec'] ?? {}) };
}

/**
 * The VirtualService Fledge wants for `canary` at `weights` (Flagger `Reconcile` + `SetRoutes`).
 * Pure. Throws what {@link validateIstioCanary} throws.
 *
 * - hosts = `service.hosts` + apex, gateways = `service.gateways` or `mesh`; both empty with
 *   `service.delegation`;
 * - TCP (`appProtocol: tcp`): one TCP route matching the `service.match` ports;
 * - HTTP: one weighted route with `service.match`, rewrite, timeout, retries, CORS and headers;
 *   mirroring adds `mirror` (+ `mirrorPercentage` from `analysis.mirrorWeight`);
 * - A/B (`analysis.match`): the weighted route matches the conditions, then a default route sends
 *   everything else to the primary;
 * - session affinity: the cookie routes of `sessionRoutes` around the weighted route.
 */
export function buildVirtualService(
  canary: Canary,
  weights: Weights,
  vctx: VirtualServiceContext = {},
): VirtualService {
  validateIstioCanary(canary);
  const service = canaryService(canary);
  const names = serviceNames(canary);
  const destination = destinationMaker(canary);
  const split = [destination(names.primary, weights.primary), destination(names.canary, weights.canary)];
  const delegate = service.delegation === true;
  const gateways = [...(service.gateways ?? [])];
  let spec: VirtualServiceSpec = delegate
    ? {}
    : { hosts: hostsOf(canary), gateways: gateways.length > 0 ? gateways : [MESH_GATEWAY] };

  if (isTcp(canary)) {
    const ports = (service.match ?? []).flatMap((m) => (m.port === undefined ? [] : [{ port: m.port }]));
    const tcp: TCPRoute = { ...(ports.length > 0 ? { match: ports } : {}), route: split };
    spec = { ...spec, tcp: [tcp] };
  } else {
    spec = { ...spec, http: httpRoutes(canary, weights, split, vctx) };
  }

  return {
    apiVersion: API_VERSION,
    kind: VIRTUAL_SERVICE_KIND,
    metadata: {
      name: names.apex,
      namespace: namespaceOf(canary),
      labels: { ...service.apex?.labels },
      annotations: {
        ...service.apex?.annotations,
        ...toolkitAnnotations,
        ...originalConfiguration(canary, vctx.existing),
      },
      ...owned(canary, vctx.existing),
    },
    spec,
  };
}

/** The HTTP routes of the VirtualService: the weighted route (or A/B pair) with the service's options. Pure. */
function httpRoutes(
  canary: Canary,
  weights: Weights,
  split: HTTPRoute['route'],
  vctx: VirtualServiceContext,
): HTTPRoute[] {
  const service = canaryService(canary);
  const analysis = analysisOf(canary);
  const names = serviceNames(canary);
  const destination = destinationMaker(canary);
  const serviceMatch = service.match ?? [];
  const common: Omit<HTTPRoute, 'route'> = {
    ...(service.rewrite === undefined
      ? {}
      : {
          rewrite: {
            ...(service.rewrite.uri ? { uri: service.rewrite.uri } : {}),
            ...(service.rewrite.authority ? { authority: service.rewrite.authority } : {}),
          },
        }),
    ...(service.timeout ? { timeout: service.timeout } : {}),
    ...(service.retries === undefined ? {} : { retries: service.retries }),
    ...(service.corsPolicy === undefined ? {} : { corsPolicy: service.corsPolicy }),
    ...(service.headers === undefined ? {} : { headers: service.headers }),
  };
  const withMatch = (match: readonly HttpMatchRequest[]): Omit<HTTPRoute, 'route'> =>
    match.length > 0 ? { match, ...common } : common;
  const mirrorWeight = analysis?.mirrorWeight ?? 0;
  const mirror: Pick<HTTPRoute, 'mirror' | 'mirrorPercentage'> = weights.mirrored
    ? { mirror: { host: names.canary }, ...(mirrorWeight > 0 ? { mirrorPercentage: { value: mirrorWeight } } : {}) }
    : {};
  const ab = analysis?.match ?? [];
  if (ab.length > 0) {
    return [
      { ...withMatch(mergeMatches(ab, serviceMatch)), route: split, ...mirror },
      { ...withMatch(serviceMatch), route: [destination(names.primary, 100)] },
    ];
  } else {
    const weighted: HTTPRoute = { ...withMatch(serviceMatch), route: split, ...mirror };
    return sessionRoutes(canary, vctx.cookies ?? {}, {
      hosts: names,
      weighted,
      merge: (extra) => mergeMatches([extra], serviceMatch),
      destination,
    });
  }
}

/** The DestinationRule `name` (`<apex>-primary` or `<apex>-canary`): host = name, `service.trafficPolicy`. Pure. */
export function buildDestinationRule(canary: Canary, name: string, existing?: KubeObject): DestinationRule {
  const trafficPolicy = canaryService(canary).trafficPolicy;
  return {
    apiVersion: API_VERSION,
    kind: DESTINATION_RULE_KIND,
    metadata: { name, namespace: namespaceOf(canary), ...owned(canary, existing) },
    spec: { host: name, ...(trafficPolicy === undefined ? {} : { trafficPolicy }) },
  };
}

/**
 * The weights a VirtualService carries (Flagger `GetRoutes`): those of the last route (TCP routes
 * for a TCP service) with a `<apex>-canary` destination; mirrored when that route mirrors. With
 * session affinity the sticky routes come first, so the last one is the weighted route. Undefined
 * when no route has the canary, or both weights are 0.
 */
export function virtualServiceWeights(canary: Canary, view: VirtualServiceView): Weights | undefined {
  const names = serviceNames(canary);
  const routes = isTcp(canary) ? view.tcp : view.http;
  const route = routes.findLast((r) => r.destinations.some((d) => d.host === names.canary));
  if (route === undefined) return undefined;
  const weight = (host: string): number => route.destinations.find((d) => d.host === host)?.weight ?? 0;
  const primary = weight(names.primary);
  const canaryWeight = weight(names.canary);
  if (primary === 0 && canaryWeight === 0) return undefined;
  return { primary, canary: canaryWeight, mirrored: !isTcp(canary) && route.mirror !== undefined };
}

/** Drops what the API server does not keep or a reader can't tell from absent: undefined, null, `[]`, `{}`. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(compact).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (isRecord(value)) {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, compact(v)] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return value === null ? undefined : value;
}

/** True when applying `desired` would change none of `fields` of the spec nor the managed metadata. */
/**
 * The spec fields another manager set that Fledge's applies never claimed (from `managedFields`).
 * An apply leaves them alone, so comparing them would make every tick write again.
 */
function foreignSpecFields(obj: KubeObject): ReadonlySet<string> {
  const foreign = new Set<string>();
  const meta: unknown = obj.metadata;
  const entries = isRecord(meta) ? meta['managedFields'] : undefined;
  if (!Array.isArray(entries)) return foreign;
  const owned = (mine: boolean): string[] =>
    entries.flatMap((e: unknown) => {
      if (!isRecord(e) || (e['manager'] === FIELD_MANAGER && e['operation'] === 'Apply') !== mine) return [];
      const spec = isRecord(e['fieldsV1']) ? e['fieldsV1']['f:spec'] : undefined;
      return isRecord(spec)
        ? Object.keys(spec)
            .filter((k) => k.startsWith('f:'))
            .map((k) => k.slice(2))
        : [];
    });
  const ours = new Set(owned(true));
  for (const f of owned(false)) if (!ours.has(f)) foreign.add(f);
  return foreign;
}

function upToDate(existing: KubeObject, desired: KubeObject & { spec: object }, fields: readonly string[]): boolean {
  const have = isRecord(existing['spec']) ? existing['spec'] : {};
  const want: Record<string, unknown> = { ...desired.spec };
  const foreign = foreignSpecFields(existing);
  for (const f of fields) {
    if (want[f] === undefined && foreign.has(f)) continue;
    if (!jsonEqual(compact(have[f]), compact(want[f]))) return false;
  }
  return metadataUpToDate(existing, {
    labels: desired.metadata.labels ?? {},
    annotations: desired.metadata.annotations ?? {},
    ownerReferences: desired.metadata.ownerReferences ?? [],
  });
}

const VS_FIELDS = ['hosts', 'gateways', 'http', 'tcp'] as const;
const DR_FIELDS = ['host', 'trafficPolicy'] as const;

/** Options of {@link IstioRouter}. */
export interface IstioRouterOptions {
  readonly kube: KubeClient;
  /** Shared by the routers of one operator so that a write is seen by the next read at once. */
  readonly reader?: CachedReader;
  /** Draws a session-affinity cookie value (tests pass a fixed one). */
  readonly cookieValue?: () => string;
}

/** Splits traffic with Istio DestinationRules and a VirtualService. */
export class IstioRouter implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: true,
    abTesting: true,
    mirroring: true,
    sessionAffinity: true,
  };
  readonly #kube: KubeClient;
  readonly #reader: CachedReader;
  readonly #cookieValue: () => string;
  /** The last cookie status patch sent, by canary (`namespace/name`). */
  readonly #recorded = new Map<string, string>();

  constructor(options: IstioRouterOptions) {
    this.#kube = options.kube;
    this.#reader = options.reader ?? new CachedReader(options.kube);
    this.#cookieValue = options.cookieValue ?? randomCookieValue;
  }

  /**
   * Creates or updates the DestinationRules and the VirtualService (all traffic to the primary when
   * new), keeping the weights, mirroring and cookies the VirtualService carries.
   */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    validateIstioCanary(canary);
    const names = serviceNames(canary);
    for (const name of [names.canary, names.primary]) {
      const key = { namespace: namespaceOf(canary), name };
      const existing = await this.#reader.get(ctx, Resources.destinationRule, key);
      const desired = buildDestinationRule(canary, name, existing);
      if (existing !== undefined && upToDate(existing, desired, DR_FIELDS)) continue;
      await this.#apply(ctx, Resources.destinationRule, { existing, desired });
    }
    const existing = await this.#reader.get(ctx, Resources.virtualService, vsKey(canary));
    const current = existing === undefined ? undefined : virtualServiceWeights(canary, readVirtualService(existing));
    await this.#sync(ctx, canary, existing, current ?? INITIAL_WEIGHTS);
  }

  /** Writes the weights (and any spec change), unless the VirtualService already carries them. */
  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    validateIstioCanary(canary);
    const key = vsKey(canary);
    const existing = await this.#reader.get(ctx, Resources.virtualService, key);
    if (existing === undefined) throw new OperatorError(`VirtualService ${key.namespace}/${key.name} not found`);
    await this.#sync(ctx, canary, existing, weights);
  }

  /** The weights of the cached VirtualService; a retriable OperatorError when missing or without a split. */
  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const key = vsKey(canary);
    const existing = await this.#reader.get(ctx, Resources.virtualService, key);
    if (existing === undefined) throw new OperatorError(`VirtualService ${key.namespace}/${key.name} not found`);
    const weights = virtualServiceWeights(canary, readVirtualService(existing));
    if (weights === undefined) {
      const names = serviceNames(canary);
      throw new OperatorError(
        `VirtualService ${key.namespace}/${key.name} does not contain routes for ${names.primary} and ${names.canary}`,
      );
    }
    return weights;
  }

  /**
   * Restores the spec the VirtualService had before Fledge took it over, from kubectl's
   * last-applied configuration or the original-configuration annotation; without either (Fledge
   * created it), nothing to do: it is garbage-collected with the Canary.
   */
  async finalize(ctx: Ctx, canary: Canary): Promise<void> {
    const key = vsKey(canary);
    const existing = await this.#reader.get(ctx, Resources.virtualService, key);
    if (existing === undefined) {
      ctx.log.info('VirtualService not found, nothing to revert', { object: key.name });
      return;
    }
    const spec = storedSpec(existing, key);
    if (spec === undefined) {
      ctx.log.warn('VirtualService original configuration not found, unable to revert', { object: key.name });
      return;
    }
    const reverted: KubeObject = {
      apiVersion: API_VERSION,
      kind: VIRTUAL_SERVICE_KIND,
      metadata: { name: key.name, namespace: key.namespace },
      spec,
    };
    const written = await this.#kube.apply(reverted);
    this.#reader.wrote(Resources.virtualService, existing, written);
    ctx.log.info('VirtualService reverted to its original configuration', { object: key.name });
  }

  async #sync(ctx: Ctx, canary: Canary, existing: KubeObject | undefined, weights: Weights): Promise<void> {
    const view = existing === undefined ? undefined : readVirtualService(existing);
    const cookies = resolveCookies(canary, view, weights, this.#cookieValue);
    const desired = buildVirtualService(canary, weights, { cookies, ...(existing === undefined ? {} : { existing }) });
    if (existing === undefined || !upToDate(existing, desired, VS_FIELDS)) {
      await this.#apply(
        ctx,
        Resources.virtualService,
        { existing, desired },
        {
          primaryWeight: weights.primary,
          canaryWeight: weights.canary,
          mirrored: weights.mirrored,
        },
      );
    }
    await this.#recordCookies(ctx, canary, cookies);
  }

  /**
   * Copies the cookies into the Canary status, as Flagger does. The VirtualService keeps them, so a
   * failure is only logged; a patch already sent for this canary is not sent again while the
   * caller's Canary lags behind it.
   */
  async #recordCookies(ctx: Ctx, canary: Canary, cookies: SessionCookies): Promise<void> {
    const patch = cookieStatusPatch(canary, cookies);
    const key = { namespace: namespaceOf(canary), name: canary.metadata.name };
    const id = `${key.namespace}/${key.name}`;
    const body = JSON.stringify(patch);
    if (patch === undefined || this.#recorded.get(id) === body) return;
    try {
      await this.#kube.patchStatus(Resources.canary, key, patch);
      this.#recorded.set(id, body);
    } catch (e: unknown) {
      ctx.log.warn('could not record the session affinity cookies in the Canary status', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  async #apply(
    ctx: Ctx,
    type: ResourceType,
    change: { readonly existing: KubeObject | undefined; readonly desired: KubeObject },
    fields: Fields = {},
  ): Promise<void> {
    const written = await this.#kube.apply(change.desired);
    this.#reader.wrote(type, change.existing, written);
    const verb = change.existing === undefined ? 'created' : 'updated';
    ctx.log.info(`${type.kind} ${verb}`, { object: change.desired.metadata.name, ...fields });
  }
}

/** The spec to restore from the annotations of a taken-over VirtualService (kubectl's first, as Flagger). */
function storedSpec(vs: KubeObject, key: Required<ObjectKey>): Record<string, unknown> | undefined {
  const annotations = vs.metadata.annotations ?? {};
  const parse = (annotation: string, pick: (u: unknown) => unknown): Record<string, unknown> => {
    let spec: unknown;
    try {
      spec = pick(JSON.parse(annotations[annotation] ?? ''));
    } catch (e: unknown) {
      throw new OperatorError(`VirtualService ${key.namespace}/${key.name}: annotation ${annotation} is not JSON`, {
        cause: e,
      });
    }
    if (!isRecord(spec)) {
      throw new OperatorError(`VirtualService ${key.namespace}/${key.name}: annotation ${annotation} holds no spec`);
    }
    return spec;
  };
  if (LAST_APPLIED_CONFIGURATION_ANNOTATION in annotations) {
    return parse(LAST_APPLIED_CONFIGURATION_ANNOTATION, (u) => (isRecord(u) ? u['spec'] : undefined));
  }
  if (ORIGINAL_CONFIGURATION_ANNOTATION in annotations) return parse(ORIGINAL_CONFIGURATION_ANNOTATION, (u) => u);
  return undefined;
}

function vsKey(canary: Canary): Required<ObjectKey> {
  return { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
}
