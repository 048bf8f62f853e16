/**
 * The SMI routers (Flagger pkg/router/smi.go SmiRouter, smi_v1alpha2.go, smi_v1alpha3.go): one
 * TrafficSplit `<apex>` (`split.smi-spec.io`) whose backends `<apex>-canary` and `<apex>-primary`
 * carry the weights. One class serves the three versions; v1alpha1 writes the weights as quantity
 * strings, later versions as integers.
 *
 * Providers (Flagger's factory): `smi:v1alpha1[:<mesh>]` and `linkerd` use v1alpha1,
 * `smi:v1alpha2[:<mesh>]` and `osm` v1alpha2, `smi:v1alpha3[:<mesh>]` v1alpha3. With target mesh
 * `istio`, `service.gateways` goes into an annotation for Istio's SMI adapter.
 *
 * Weights only: A/B (`analysis.match`), mirroring and session affinity have no TrafficSplit
 * equivalent; Flagger ignores them silently (its A/B loop would send everyone to the canary), Fledge
 * refuses such a canary with an UnsupportedError before writing anything.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { readTrafficSplit } from '../apis/smi/read.ts';
import type { SmiVersion, TrafficSplit, TrafficSplitBackend } from '../apis/smi/types.ts';
import {
  apiVersionOf,
  ISTIO_GATEWAYS_ANNOTATION,
  SMI_PROVIDER,
  smiVersions,
  TRAFFIC_SPLIT_KIND,
} from '../apis/smi/types.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { INITIAL_WEIGHTS, namespaceOf } from './gateway-api.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';
import { CachedReader, controllerRef, metadataUpToDate } from './util.ts';

/** The resource type of each TrafficSplit version. */
export const trafficSplitTypes: Readonly<Record<SmiVersion, ResourceType>> = {
  v1alpha1: Resources.trafficSplitV1alpha1,
  v1alpha2: Resources.trafficSplitV1alpha2,
  v1alpha3: Resources.trafficSplitV1alpha3,
};

/**
 * Refuses A/B matches, naming the provider: Flagger would run the A/B iterations with all traffic on
 * the canary. Mirroring and session affinity are ignored, as Flagger does (the scheduler names them
 * in its ignored-fields Event).
 */
function checkSupported(canary: Canary, provider: string): void {
  const analysis = analysisOf(canary);
  const refuse = (what: string): never => {
    throw new UnsupportedError(
      `${what} is not supported by provider "${provider}" (SMI TrafficSplit has weights only)`,
    );
  };
  if ((analysis?.match ?? []).length > 0) refuse('A/B testing (analysis.match)');
}

/** What distinguishes the SMI routers: the version written and Flagger's target mesh. */
export interface SmiFlavour {
  readonly version: SmiVersion;
  /** Flagger's `targetMesh`: the `<mesh>` of `smi:<version>:<mesh>`, or `linkerd` / `osm`. */
  readonly mesh: string;
  /** The provider name, for messages. */
  readonly provider: string;
}

/**
 * The flavour of a provider name, as Flagger's factory maps it: `linkerd` → v1alpha1,
 * `osm` → v1alpha2, `smi:<version>[:<mesh>]` → that version and mesh. Throws InvalidCanaryError for
 * other names.
 */
export function smiFlavour(provider: string): SmiFlavour {
  if (provider === 'linkerd') return { version: 'v1alpha1', mesh: 'linkerd', provider };
  if (provider === 'osm') return { version: 'v1alpha2', mesh: 'osm', provider };
  const m = SMI_PROVIDER.exec(provider);
  const version = smiVersions.find((v) => v === m?.[1]);
  if (m === null || version === undefined) throw new InvalidCanaryError(`"${provider}" is not an SMI provider`);
  // Without `:<mesh>` Flagger's TrimPrefix leaves the whole name, which matches no mesh.
  return { version, mesh: m[2] ?? provider, provider };
}

/** The SMI router of `provider` (for the router factory). */
export function smiRouter(
  deps: { readonly kube: KubeClient; readonly reader?: CachedReader },
  provider: string,
): SmiRouter {
  return new SmiRouter({
    kube: deps.kube,
    ...(deps.reader === undefined ? {} : { reader: deps.reader }),
    flavour: smiFlavour(provider),
  });
}

/**
 * The TrafficSplit Fledge wants for `canary` at `weights` (Flagger `Reconcile` + `SetRoutes`). Pure.
 * `spec.service` is `service.hosts[0]` or the apex name; the backends are canary then primary.
 * Throws UnsupportedError for A/B, mirroring and session affinity.
 */
export function buildTrafficSplit(canary: Canary, weights: Weights, flavour: SmiFlavour): TrafficSplit {
  checkSupported(canary, flavour.provider);
  const names = serviceNames(canary);
  const host = canary.spec.service?.hosts?.[0] ?? names.apex;
  const weight = (w: number): string | number => (flavour.version === 'v1alpha1' ? String(w) : w);
  const backends: TrafficSplitBackend[] = [
    { service: names.canary, weight: weight(weights.canary) },
    { service: names.primary, weight: weight(weights.primary) },
  ];
  const gateways = canary.spec.service?.gateways ?? [];
  const annotations: Record<string, string> =
    flavour.mesh === 'istio' && gateways.length > 0 ? { [ISTIO_GATEWAYS_ANNOTATION]: JSON.stringify(gateways) } : {};
  return {
    apiVersion: apiVersionOf(flavour.version),
    kind: TRAFFIC_SPLIT_KIND,
    metadata: {
      name: names.apex,
      namespace: namespaceOf(canary),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [controllerRef(canary)],
    },
    spec: { service: host === '' ? names.apex : host, backends },
  };
}

/**
 * The weights a TrafficSplit carries (Flagger `GetRoutes`), or undefined when neither backend
 * carries a weight (Flagger's "does not contain routes" error). Never mirrored.
 */
export function splitWeights(canary: Canary, obj: KubeObject): Weights | undefined {
  const names = serviceNames(canary);
  const view = readTrafficSplit(obj);
  const of = (service: string): number => {
    const w = view.backends.find((b) => b.service === service)?.weight;
    return w === undefined || Number.isNaN(w) ? 0 : w;
  };
  const primary = of(names.primary);
  const canaryWeight = of(names.canary);
  if (primary === 0 && canaryWeight === 0) return undefined;
  return { primary, canary: canaryWeight, mirrored: false };
}

/** The spec with each weight as a number, so a quantity `"90"` and `90` compare equal. */
function comparableSpec(spec: unknown): unknown {
  if (!isRecord(spec)) return spec;
  const view = readTrafficSplit({ apiVersion: '', kind: '', metadata: { name: '' }, spec });
  return { service: view.service, backends: view.backends };
}

/** True when applying `desired` would change nothing that Fledge manages on `existing`. */
export function splitUpToDate(existing: KubeObject, desired: TrafficSplit): boolean {
  if (!jsonEqual(comparableSpec(existing['spec']), comparableSpec(desired.spec))) return false;
  return metadataUpToDate(existing, {
    labels: {},
    annotations: desired.metadata.annotations ?? {},
    ownerReferences: desired.metadata.ownerReferences ?? [],
  });
}

/** Options of {@link SmiRouter}. */
export interface SmiRouterOptions {
  readonly kube: KubeClient;
  readonly flavour: SmiFlavour;
  /** Shared by the routers of one operator so that a write is seen by the next read at once. */
  readonly reader?: CachedReader;
}

/** Splits traffic with an SMI TrafficSplit. */
export class SmiRouter implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: true,
    abTesting: false,
    mirroring: false,
    sessionAffinity: false,
  };
  readonly #kube: KubeClient;
  readonly #reader: CachedReader;
  readonly #flavour: SmiFlavour;
  readonly #type: ResourceType;

  constructor(options: SmiRouterOptions) {
    this.#kube = options.kube;
    this.#reader = options.reader ?? new CachedReader(options.kube);
    this.#flavour = options.flavour;
    this.#type = trafficSplitTypes[options.flavour.version];
  }

  /** Creates the TrafficSplit (all traffic to the primary) or updates its spec, keeping the weights. */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    const existing = await this.#reader.get(ctx, this.#type, splitKey(canary));
    const current = existing === undefined ? undefined : splitWeights(canary, existing);
    await this.#sync(ctx, canary, existing, current ?? INITIAL_WEIGHTS);
  }

  /** Writes the weights (and any spec change), unless the TrafficSplit already carries them. */
  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    const existing = await this.#reader.get(ctx, this.#type, splitKey(canary));
    await this.#sync(ctx, canary, existing, weights);
  }

  /** The weights of the cached TrafficSplit; a retriable OperatorError when it is missing or carries none. */
  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const key = splitKey(canary);
    const existing = await this.#reader.get(ctx, this.#type, key);
    if (existing === undefined) throw new OperatorError(`TrafficSplit ${key.namespace}/${key.name} not found`);
    const weights = splitWeights(canary, existing);
    if (weights === undefined) {
      const names = serviceNames(canary);
      throw new OperatorError(
        `TrafficSplit ${key.namespace}/${key.name} does not contain routes for ${names.primary} and ${names.canary}`,
      );
    }
    return weights;
  }

  /** Nothing to revert: the TrafficSplit is garbage-collected with the Canary (as Flagger). */
  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }

  async #sync(ctx: Ctx, canary: Canary, existing: KubeObject | undefined, weights: Weights): Promise<void> {
    const desired = buildTrafficSplit(canary, weights, this.#flavour);
    if (existing !== undefined && splitUpToDate(existing, desired)) return;
    const written = await this.#kube.apply(desired);
    this.#reader.wrote(this.#type, existing, written);
    ctx.log.info(existing === undefined ? 'TrafficSplit created' : 'TrafficSplit updated', {
      object: desired.metadata.name,
      apiVersion: desired.apiVersion,
      primaryWeight: weights.primary,
      canaryWeight: weights.canary,
    });
  }
}

function splitKey(canary: Canary): Required<ObjectKey> {
  return { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
}
