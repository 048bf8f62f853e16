/**
 * Helpers shared by the ingress routers (contour, gloo, nginx, skipper): refusing what a router
 * can't do before it writes anything, the namespace and Ingress of a canary, and writes made only
 * when the desired object differs from the cached one on what Fledge manages (an idle tick writes
 * nothing; fields other controllers set are kept).
 */
import { analysisOf } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, HttpMatchRequest } from '../apis/flagger/v1beta1/types.ts';
import { API_VERSION as INGRESS_API_VERSION, INGRESS_KIND } from '../apis/networking/v1/types.ts';
import type { Ingress, IngressSpec } from '../apis/networking/v1/types.ts';
import { filterAnnotations, filterMetadata } from '../canary/util.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../kube/objects.ts';
import { keyOf, keyString } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';
import { appliedKeys, CachedReader, controllerRef, metadataUpToDate, toolkitAnnotations } from './util.ts';

/** The canary's namespace; an InvalidCanaryError when it has none. */
export function namespaceOf(canary: Canary): string {
  const namespace = canary.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new InvalidCanaryError(`Canary ${canary.metadata.name} has no namespace`);
  }
  return namespace;
}

/** `spec.ingressRef.name`, required by the Ingress-based providers (Flagger: "ingress selector is empty"). */
export function ingressRefName(canary: Canary, provider: string): string {
  const name = canary.spec.ingressRef?.name ?? '';
  if (name === '') throw new InvalidCanaryError(`spec.ingressRef is required with provider "${provider}"`);
  return name;
}

/**
 * Throws an UnsupportedError, before anything is written, when the canary asks for A/B matches the
 * router of `provider` can't route: Flagger would run the A/B iterations with all traffic on the
 * canary. Mirroring and session affinity, which Flagger ignores harmlessly with these providers,
 * are ignored here too (and named in the scheduler's ignored-fields Event), so Flagger manifests
 * keep working.
 */
export function refuseUnsupported(canary: Canary, provider: string, capabilities: RouterCapabilities): void {
  const analysis = analysisOf(canary);
  const unsupported = (what: string): UnsupportedError =>
    new UnsupportedError(`${what} is not supported with provider "${provider}"`);
  if (!capabilities.abTesting && (analysis?.match ?? []).length > 0) {
    throw unsupported('analysis.match (A/B testing)');
  }
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);

/**
 * The `analysis.match` entries, each checked to have at least one header (or, with
 * `queryParams: true`, query parameter) condition and no other field: an ignored condition would
 * widen the match and send everyone to the canary.
 */
export function abMatches(
  canary: Canary,
  provider: string,
  allow: { readonly queryParams: boolean; readonly method?: boolean },
): readonly HttpMatchRequest[] {
  const matches = analysisOf(canary)?.match ?? [];
  matches.forEach((m, i) => {
    const path = `spec.analysis.match[${i}]`;
    // Anything but headers, query parameters (and the method) would be ignored: refuse it.
    const allowed = new Set(['name', 'headers', 'queryParams', ...(allow.method === true ? ['method'] : [])]);
    const extra = Object.entries(m).find(([k, v]: [string, unknown]) => !allowed.has(k) && !isEmpty(v));
    if (extra !== undefined)
      throw new UnsupportedError(`${path}.${extra[0]} is not supported with provider "${provider}"`);
    const queryParams = Object.keys(m.queryParams ?? {}).length;
    if (queryParams > 0 && !allow.queryParams) {
      throw new UnsupportedError(`${path}.queryParams is not supported with provider "${provider}"`);
    }
    if (Object.keys(m.headers ?? {}).length + queryParams === 0 && m.method === undefined) {
      throw new InvalidCanaryError(`${path} has no condition: it would match every request`);
    }
  });
  return matches;
}

/**
 * True when applying `desired` would change nothing Fledge manages on `existing`: every key of the
 * desired spec holds the same value, no spec key Fledge applied earlier has been dropped, and the
 * metadata is up to date. Keys only other managers set (or API defaults) are ignored.
 */
export function specUpToDate(existing: KubeObject, desired: KubeObject): boolean {
  const have = isRecord(existing['spec']) ? existing['spec'] : {};
  const want = isRecord(desired['spec']) ? desired['spec'] : {};
  if (!Object.entries(want).every(([k, v]) => jsonEqual(have[k], v))) return false;
  for (const k of appliedKeys(existing, ['spec'])) if (!(k in want)) return false;
  return metadataUpToDate(existing, {
    labels: desired.metadata.labels ?? {},
    annotations: desired.metadata.annotations ?? {},
    ownerReferences: desired.metadata.ownerReferences ?? [],
  });
}

/** What {@link applyIfChanged} writes. */
export interface DesiredObject {
  readonly object: KubeObject;
  readonly type: ResourceType;
  /** Extra fields of the log line. */
  readonly fields?: Record<string, unknown>;
  /**
   * Annotations only Fledge may set on the object: one of them that the desired object lacks is
   * removed explicitly, since an apply removes only what Fledge itself applied before (not what
   * Flagger wrote before Fledge took over).
   */
  readonly ownedAnnotation?: (key: string) => boolean;
}

/**
 * Applies `desired` unless `existing` (as read through `reader`) is already up to date, then
 * removes stale owned annotations (a merge patch), and tells the reader about the write. Logs
 * `<Kind> created` / `<Kind> updated`. Returns whether it wrote.
 */
export async function applyIfChanged(
  ctx: Ctx,
  reader: CachedReader,
  existing: KubeObject | undefined,
  desired: DesiredObject,
): Promise<boolean> {
  const owned = desired.ownedAnnotation ?? ((): boolean => false);
  const want = desired.object.metadata.annotations ?? {};
  const stale = Object.keys(existing?.metadata.annotations ?? {}).filter((k) => owned(k) && !(k in want));
  if (existing !== undefined && stale.length === 0 && specUpToDate(existing, desired.object)) return false;
  let written = await reader.kube.apply(desired.object);
  if (stale.length > 0) {
    const removal = { metadata: { annotations: Object.fromEntries(stale.map((k) => [k, null])) } };
    written = await reader.kube.mergePatch(desired.type, written.metadata, removal);
  }
  reader.wrote(desired.type, existing, written);
  ctx.log.info(`${desired.type.kind} ${existing === undefined ? 'created' : 'updated'}`, {
    object: desired.object.metadata.name,
    ...desired.fields,
  });
  return true;
}

/** The weights of a new routing object: everything to the primary. */
export const INITIAL_WEIGHTS: Weights = { primary: 100, canary: 0, mirrored: false };

/**
 * The copy Fledge owns of the user's Ingress `source`, named `name`, with `spec` and extra
 * `annotations`: the user's labels (without Flux's) and annotations (without Flux's, kubectl's
 * last-applied configuration and those `dropAnnotation` rejects), the Flux opt-out annotations and
 * a controller reference to the Canary. Pure.
 */
export function ingressCopy(
  canary: Canary,
  source: KubeObject,
  copy: {
    readonly name: string;
    readonly spec: IngressSpec;
    readonly annotations: Readonly<Record<string, string>>;
    readonly dropAnnotation: (key: string) => boolean;
  },
): Ingress {
  const kept = Object.entries(filterAnnotations(source.metadata.annotations)).filter(([k]) => !copy.dropAnnotation(k));
  return {
    apiVersion: INGRESS_API_VERSION,
    kind: INGRESS_KIND,
    metadata: {
      name: copy.name,
      namespace: namespaceOf(canary),
      labels: filterMetadata(source.metadata.labels),
      annotations: { ...Object.fromEntries(kept), ...toolkitAnnotations, ...copy.annotations },
      ownerReferences: [controllerRef(canary)],
    },
    spec: copy.spec,
  };
}

/** What distinguishes the routers that split traffic with one routing object. */
export interface RoutingObjectFlavor {
  /** The provider name, for messages. */
  readonly provider: string;
  readonly capabilities: RouterCapabilities;
  /** The kind of the routing object. */
  readonly type: ResourceType;
  /** Where the routing object lives. */
  key(canary: Canary): Required<ObjectKey>;
  /**
   * The routing object at `weights`. May read what it is built from (through `reader`) and write
   * what it depends on first (Gloo's Upstreams).
   */
  desired(ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject>;
  /** The weights the routing object carries; an OperatorError when it carries none. */
  weights(canary: Canary, obj: KubeObject): Weights;
  /** See {@link DesiredObject.ownedAnnotation}. */
  readonly ownedAnnotation?: (key: string) => boolean;
  /** Reverts what the router changed (revertOnDeletion); nothing when absent. */
  finalize?(ctx: Ctx, canary: Canary): Promise<void>;
}

/** Options of the routers built on {@link RoutingObjectRouter}. */
export interface RoutingObjectRouterOptions {
  readonly kube: KubeClient;
  /** Shared by the routers of one operator so that a write is seen by the next read at once. */
  readonly reader?: CachedReader;
}

/**
 * A router whose weights live in one object Fledge owns (an HTTPProxy, a RouteTable, a canary
 * Ingress). Reads come from the informer cache; the object is the source of truth for the
 * weights; writes are server-side applies made only on change.
 */
export class RoutingObjectRouter implements Router {
  readonly capabilities: RouterCapabilities;
  readonly #flavor: RoutingObjectFlavor;
  protected readonly reader: CachedReader;

  constructor(flavor: RoutingObjectFlavor, options: RoutingObjectRouterOptions) {
    this.#flavor = flavor;
    this.capabilities = flavor.capabilities;
    this.reader = options.reader ?? new CachedReader(options.kube);
  }

  /**
   * Creates the routing object (all traffic to the primary) or brings it up to date with the
   * Canary, keeping the weights it carries (unreadable weights start over at 100/0).
   */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    refuseUnsupported(canary, this.#flavor.provider, this.capabilities);
    const existing = await this.reader.get(ctx, this.#flavor.type, this.#flavor.key(canary));
    let current = INITIAL_WEIGHTS;
    if (existing !== undefined) {
      try {
        current = this.#flavor.weights(canary, existing);
      } catch (e) {
        if (!(e instanceof OperatorError)) throw e;
        ctx.log.warn(`${this.#flavor.type.kind} weights unreadable; routing all traffic to the primary`, {
          object: existing.metadata.name,
          error: e.message,
        });
      }
    }
    await this.#sync(ctx, canary, existing, current);
  }

  /** Writes the weights (and any spec change), unless the routing object already carries them. */
  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    refuseUnsupported(canary, this.#flavor.provider, this.capabilities);
    const existing = await this.reader.get(ctx, this.#flavor.type, this.#flavor.key(canary));
    await this.#sync(ctx, canary, existing, weights);
  }

  /** The weights of the cached routing object; a retriable OperatorError when it is missing or unreadable. */
  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const key = this.#flavor.key(canary);
    const existing = await this.reader.get(ctx, this.#flavor.type, key);
    if (existing === undefined) throw new OperatorError(`${this.#flavor.type.kind} ${keyString(key)} not found`);
    return this.#flavor.weights(canary, existing);
  }

  /** The flavor's revert; by default nothing: the object is garbage-collected with the Canary. */
  async finalize(ctx: Ctx, canary: Canary): Promise<void> {
    await this.#flavor.finalize?.(ctx, canary);
  }

  async #sync(ctx: Ctx, canary: Canary, existing: KubeObject | undefined, weights: Weights): Promise<void> {
    const desired = await this.#flavor.desired(ctx, canary, weights);
    await applyIfChanged(ctx, this.reader, existing, {
      object: desired,
      type: this.#flavor.type,
      fields: { primary: weights.primary, canary: weights.canary },
      ...(this.#flavor.ownedAnnotation === undefined ? {} : { ownedAnnotation: this.#flavor.ownedAnnotation }),
    });
  }
}

/** What distinguishes the routers that split traffic with a copy of the user's Ingress. */
export interface CanaryIngressFlavor {
  readonly provider: string;
  readonly capabilities: RouterCapabilities;
  /** The canary Ingress at `weights`, built from the user's Ingress `source`. Pure. */
  build(canary: Canary, source: KubeObject, weights: Weights): Ingress;
  /** The weights the canary Ingress carries; an OperatorError when it carries none. */
  weights(canary: Canary, canaryIngress: KubeObject): Weights;
  /** See {@link DesiredObject.ownedAnnotation}. */
  readonly ownedAnnotation?: (key: string) => boolean;
}

/**
 * Splits traffic with `<ingressRef>-canary`, a copy of the user's Ingress (`spec.ingressRef`) that
 * Fledge owns; the user's Ingress is only read. Finalize deletes the copy.
 */
export class CanaryIngressRouter extends RoutingObjectRouter {
  constructor(flavor: CanaryIngressFlavor, options: RoutingObjectRouterOptions) {
    const reader = options.reader ?? new CachedReader(options.kube);
    const key = (canary: Canary): Required<ObjectKey> => ({
      namespace: namespaceOf(canary),
      name: canaryIngressName(ingressRefName(canary, flavor.provider)),
    });
    super(
      {
        provider: flavor.provider,
        capabilities: flavor.capabilities,
        type: Resources.ingress,
        key,
        desired: async (ctx, canary, weights) => {
          const sourceKey = { namespace: namespaceOf(canary), name: ingressRefName(canary, flavor.provider) };
          const source = await reader.get(ctx, Resources.ingress, sourceKey);
          if (source === undefined) throw new OperatorError(`Ingress ${keyString(sourceKey)} not found`);
          return flavor.build(canary, source, weights);
        },
        weights: (canary, obj) => flavor.weights(canary, obj),
        ...(flavor.ownedAnnotation === undefined ? {} : { ownedAnnotation: flavor.ownedAnnotation }),
        finalize: async (ctx, canary) => {
          const k = key(canary);
          await reader.kube.delete(Resources.ingress, k);
          ctx.log.info('Ingress deleted', { object: k.name });
        },
      },
      { ...options, reader },
    );
  }
}

/** `<ingress>-canary`: the Ingress Fledge owns next to the user's. */
export function canaryIngressName(ingress: string): string {
  return `${ingress}-canary`;
}

/** The value at `path` in `u` (object keys and array indexes), or undefined. */
export function valueAt(u: unknown, path: readonly (string | number)[]): unknown {
  let v = u;
  for (const p of path) {
    if (typeof p === 'number') v = Array.isArray(v) ? (v[p] as unknown) : undefined;
    else v = isRecord(v) ? v[p] : undefined;
  }
  return v;
}

/**
 * The weights of the entries named `names.primary` and `names.canary` in the list at `path` of
 * `obj` (`nameAt` locates an entry's name); an absent weight counts as 0, as Flagger omits zero
 * weights. Throws an OperatorError when either entry is missing.
 */
export function splitWeights(
  obj: KubeObject,
  list: { readonly path: readonly (string | number)[]; readonly nameAt: readonly string[]; readonly what: string },
  names: { readonly primary: string; readonly canary: string },
): Weights {
  const entries = valueAt(obj, list.path);
  const weightOf = (name: string): number => {
    const entry: unknown = Array.isArray(entries) ? entries.find((e) => valueAt(e, list.nameAt) === name) : undefined;
    if (!isRecord(entry)) throw new OperatorError(`${obj.kind} ${keyOf(obj)}: ${list.what} ${name} not found`);
    const w = entry['weight'];
    return typeof w === 'number' && Number.isInteger(w) ? w : 0;
  };
  return { primary: weightOf(names.primary), canary: weightOf(names.canary), mirrored: false };
}
