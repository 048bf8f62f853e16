/**
 * What the routers that own whole objects (traefik, kuma, apisix, appmesh) share: refusing the
 * analysis features Flagger's router lacks, the metadata of an owned object, and the "apply only
 * on change" write through the shared {@link CachedReader}.
 */
import { analysisOf, serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { InvalidCanaryError, OperatorError, UnsupportedError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import { type KubeObject, type ObjectKey, type ObjectMeta, type ResourceType, keyString } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { canaryService } from './kubernetes-services.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';
import { type CachedReader, controllerRef, metadataUpToDate, toolkitAnnotations } from './util.ts';

/** The weights of a new routing object: everything to the primary. */
export const ALL_TO_PRIMARY: Weights = { primary: 100, canary: 0, mirrored: false };

/** The canary's namespace, or an InvalidCanaryError. */
export function namespaceOf(canary: Canary): string {
  const namespace = canary.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new InvalidCanaryError(`Canary ${canary.metadata.name} has no namespace`);
  }
  return namespace;
}

/**
 * Throws UnsupportedError when the canary asks for A/B matching or session affinity and the router
 * (as Flagger's) can't do it: running without would send everyone, not the matched users, to the
 * canary.
 */
export function refuseUnsupported(canary: Canary, provider: string, caps: RouterCapabilities): void {
  const analysis = analysisOf(canary);
  if (!caps.abTesting && (analysis?.match ?? []).length > 0) {
    throw new UnsupportedError(`analysis.match (A/B testing) is not supported with provider "${provider}"`);
  }
  if (!caps.sessionAffinity && analysis?.sessionAffinity !== undefined) {
    throw new UnsupportedError(`analysis.sessionAffinity is not supported with provider "${provider}"`);
  }
}

/** Refuses a split that sends traffic nowhere (Flagger: "no valid weights"). */
export function checkWeights(what: string, weights: Weights): void {
  if (weights.primary === 0 && weights.canary === 0) {
    throw new OperatorError(`${what} update failed: no valid weights`);
  }
}

/**
 * Metadata of a namespaced object the canary owns: labels and annotations from `service.apex`
 * plus the Flux opt-out annotations, and a controller reference (garbage collection).
 */
export function ownedMetadata(canary: Canary, name: string): ObjectMeta {
  const apex = canaryService(canary).apex;
  return {
    name,
    namespace: namespaceOf(canary),
    labels: { ...apex?.labels },
    annotations: { ...apex?.annotations, ...toolkitAnnotations },
    ownerReferences: [controllerRef(canary)],
  };
}

/**
 * True when applying `desired` changes nothing Fledge manages on `existing`: every top-level field
 * but metadata and status is equal, and the desired labels, annotations and owners are there.
 */
export function objectUpToDate(existing: KubeObject, desired: KubeObject, ignoreSpec: readonly string[] = []): boolean {
  for (const [field, value] of Object.entries(desired)) {
    if (field === 'metadata' || field === 'apiVersion' || field === 'kind' || field === 'status') continue;
    let have = existing[field];
    if (field === 'spec' && isRecord(have) && ignoreSpec.length > 0) {
      have = Object.fromEntries(Object.entries(have).filter(([k]) => !ignoreSpec.includes(k)));
    }
    if (!jsonEqual(have, value)) return false;
  }
  return metadataUpToDate(existing, {
    labels: desired.metadata.labels ?? {},
    annotations: desired.metadata.annotations ?? {},
    ownerReferences: desired.metadata.ownerReferences ?? [],
  });
}

/** Where a router writes: the cluster and the reader that must see its writes. */
export interface ObjectWriter {
  readonly kube: KubeClient;
  readonly reader: CachedReader;
}

/**
 * Server-side applies `desired` unless `existing` already matches it; logs what changed. Returns
 * whether it wrote.
 */
export async function applyIfChanged(
  ctx: Ctx,
  w: ObjectWriter,
  type: ResourceType,
  change: {
    readonly existing: KubeObject | undefined;
    readonly desired: KubeObject;
    readonly weights?: Weights;
    /** `spec` fields other controllers fill in, left out of the comparison. */
    readonly ignoreSpec?: readonly string[];
  },
): Promise<boolean> {
  const { existing, desired, weights } = change;
  if (existing !== undefined && objectUpToDate(existing, desired, change.ignoreSpec)) return false;
  const written = await w.kube.apply(desired);
  w.reader.wrote(type, existing, written);
  ctx.log.info(`${type.kind} ${existing === undefined ? 'created' : 'updated'}`, {
    object: desired.metadata.name,
    ...(weights === undefined ? {} : { primaryWeight: weights.primary, canaryWeight: weights.canary }),
  });
  return true;
}

/** `{primary, canary}` from the primary's weight alone, as Flagger's GetRoutes reads it. */
export function fromPrimaryWeight(primary: number): Weights {
  return { primary, canary: 100 - primary, mirrored: false };
}

/** An object a router writes, with its resource type. */
export interface Typed {
  readonly type: ResourceType;
  readonly obj: KubeObject;
}

/**
 * A router whose routing is one object carrying the primary/canary weights (traefik, kuma, apisix,
 * App Mesh's router), plus optional companion objects without weights (App Mesh's nodes). Subclasses
 * say where the weighted object is, how to build it and how to read its weights back. Weights only
 * unless a subclass says otherwise.
 */
export abstract class WeightedObjectRouter implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: true,
    abTesting: false,
    mirroring: false,
    sessionAffinity: false,
  };
  protected readonly w: ObjectWriter;
  protected abstract readonly provider: string;
  protected abstract readonly type: ResourceType;
  /** `spec` fields other controllers fill in, left out of every comparison. */
  protected readonly ignoreSpec: readonly string[] = [];

  constructor(w: ObjectWriter) {
    this.w = w;
  }

  /** Where the weighted object is. */
  protected abstract key(canary: Canary): ObjectKey;
  /** The split `obj` carries, or undefined when it carries none for this canary. */
  protected abstract weightsOf(canary: Canary, obj: KubeObject): Weights | undefined;
  /** The weighted object Fledge wants at `weights`. */
  protected abstract desired(ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject>;
  /** The other objects reconcile writes (none by default). */
  protected companions(_ctx: Ctx, _canary: Canary): Typed[] {
    return [];
  }

  /** The current weighted object (through the cache). */
  protected read(ctx: Ctx, canary: Canary): Promise<KubeObject | undefined> {
    return this.w.reader.get(ctx, this.type, this.key(canary));
  }

  /**
   * Creates the objects (all traffic to the primary) or updates them, keeping the weights the
   * weighted object carries. Everything is built before the first write, so an invalid spec writes
   * nothing.
   */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    refuseUnsupported(canary, this.provider, this.capabilities);
    const existing = await this.read(ctx, canary);
    const weights = (existing && this.weightsOf(canary, existing)) ?? ALL_TO_PRIMARY;
    const desired = await this.desired(ctx, canary, weights);
    for (const { type, obj } of this.companions(ctx, canary)) {
      const { name, namespace } = obj.metadata;
      const current = await this.w.reader.get(ctx, type, namespace === undefined ? { name } : { name, namespace });
      await applyIfChanged(ctx, this.w, type, { existing: current, desired: obj, ignoreSpec: this.ignoreSpec });
    }
    await this.#apply(ctx, existing, desired, weights);
  }

  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    refuseUnsupported(canary, this.provider, this.capabilities);
    checkWeights(this.#describe(canary), weights);
    const existing = await this.read(ctx, canary);
    if (existing === undefined) throw new OperatorError(`${this.#describe(canary)} not found`);
    await this.#apply(ctx, existing, await this.desired(ctx, canary, weights), weights);
  }

  /** The weights of the cached object; a retriable OperatorError when it is missing or has none. */
  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const existing = await this.read(ctx, canary);
    if (existing === undefined) throw new OperatorError(`${this.#describe(canary)} not found`);
    const weights = this.weightsOf(canary, existing);
    if (weights === undefined) {
      const names = serviceNames(canary);
      throw new OperatorError(`${this.#describe(canary)} does not route to ${names.primary} and ${names.canary}`);
    }
    return weights;
  }

  /** Nothing to revert: namespaced objects are garbage-collected with the Canary (as Flagger). */
  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }

  #describe(canary: Canary): string {
    return `${this.type.kind} ${keyString(this.key(canary))}`;
  }

  async #apply(ctx: Ctx, existing: KubeObject | undefined, desired: KubeObject, weights: Weights): Promise<void> {
    await applyIfChanged(ctx, this.w, this.type, { existing, desired, weights, ignoreSpec: this.ignoreSpec });
  }
}
