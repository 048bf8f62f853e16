/**
 * Helpers shared by the routers (cf. Flagger pkg/router/util.go): owner references, the Flux
 * opt-out annotations, metadata diffing and cache reads that see the router's own writes.
 */
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { API_VERSION as FLAGGER_API_VERSION, CANARY_KIND } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { OperatorError } from '../core/errors.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import type { KubeObject, ObjectKey, OwnerReference, ResourceType } from '../kube/objects.ts';
import { keyString } from '../kube/objects.ts';
import type { Informer, KubeClient } from '../kube/port.ts';
import { FIELD_MANAGER } from '../kube/port.ts';

/** Stops Flux's kustomize-controller from reverting the objects Fledge manages. */
export const KUSTOMIZE_RECONCILE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/reconcile';
/** Stops Flux's helm-controller drift detection from reverting the objects Fledge manages. */
export const HELM_DRIFT_DETECTION_ANNOTATION = 'helm.toolkit.fluxcd.io/driftDetection';
/** The value both annotations carry. */
export const TOOLKIT_DISABLED = 'disabled';

/** The Flux opt-out annotations, as a map (Flagger `filterMetadata`). */
export const toolkitAnnotations: Readonly<Record<string, string>> = {
  [KUSTOMIZE_RECONCILE_ANNOTATION]: TOOLKIT_DISABLED,
  [HELM_DRIFT_DETECTION_ANNOTATION]: TOOLKIT_DISABLED,
};

/** How long a router waits for an informer's first list before giving up on a tick. */
export const CACHE_SYNC_TIMEOUT_MS = 10_000;

/** The controller reference to `canary` that objects Fledge creates carry (garbage collection). */
export function controllerRef(canary: Canary): OwnerReference {
  const uid = canary.metadata.uid;
  if (uid === undefined || uid === '') {
    throw new OperatorError(`Canary ${canary.metadata.name} has no metadata.uid; cannot own objects`);
  }
  return {
    apiVersion: FLAGGER_API_VERSION,
    kind: CANARY_KIND,
    name: canary.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The controller reference of `obj` when its controller is a Canary (any Canary). */
export function canaryControllerOf(obj: KubeObject): OwnerReference | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller === true);
  if (ref === undefined || ref.kind !== CANARY_KIND || !ref.apiVersion.startsWith('flagger.app/')) return undefined;
  return ref;
}

/** Every key/value of `want` is in `have`. */
export function isSubset(
  want: Readonly<Record<string, string>>,
  have: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

/**
 * The keys of the object at `path` (e.g. `['spec']`) that Fledge's server-side applies own, read
 * from `metadata.managedFields` (empty when the object carries none, e.g. in FakeKube).
 */
export function appliedKeys(obj: KubeObject, path: readonly string[]): ReadonlySet<string> {
  const keys = new Set<string>();
  const meta: unknown = obj.metadata;
  const entries = isRecord(meta) ? meta['managedFields'] : undefined;
  if (!Array.isArray(entries)) return keys;
  for (const entry of entries) {
    if (!isRecord(entry) || entry['manager'] !== FIELD_MANAGER || entry['operation'] !== 'Apply') continue;
    let owned: unknown = entry['fieldsV1'];
    for (const p of path) owned = isRecord(owned) ? owned[`f:${p}`] : undefined;
    if (!isRecord(owned)) continue;
    for (const k of Object.keys(owned)) if (k.startsWith('f:')) keys.add(k.slice(2));
  }
  return keys;
}

/** The `metadata.labels` / `metadata.annotations` keys that Fledge's server-side applies own. */
export function appliedMetadataKeys(obj: KubeObject, field: 'labels' | 'annotations'): ReadonlySet<string> {
  return appliedKeys(obj, ['metadata', field]);
}

/** The labels and annotations (and owner) Fledge wants on an object it applies. */
export interface DesiredMetadata {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ownerReferences: readonly OwnerReference[];
}

/**
 * True when a server-side apply of `desired` would not change `existing`'s metadata: every desired
 * label and annotation is there, no label or annotation Fledge applied earlier has been dropped from
 * the desired set, and the owner references are present. Keys other managers set are ignored; an
 * apply leaves them alone.
 */
export function metadataUpToDate(existing: KubeObject, desired: DesiredMetadata): boolean {
  const meta = existing.metadata;
  if (!isSubset(desired.labels, meta.labels) || !isSubset(desired.annotations, meta.annotations)) return false;
  for (const k of appliedMetadataKeys(existing, 'labels')) if (!(k in desired.labels)) return false;
  for (const k of appliedMetadataKeys(existing, 'annotations')) if (!(k in desired.annotations)) return false;
  return desired.ownerReferences.every((want) =>
    (meta.ownerReferences ?? []).some((have) => jsonEqual({ ...have }, { ...want })),
  );
}

/** Waits for an informer's first list: bounded, and cut short when the tick is cancelled. */
export async function cacheSynced(ctx: Ctx, informer: Informer, timeoutMs = CACHE_SYNC_TIMEOUT_MS): Promise<void> {
  if (informer.health().synced) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    const fail = (why: string): void => {
      const lastError = informer.health().lastError;
      const detail = lastError === undefined ? '' : `: ${lastError}`;
      reject(new OperatorError(`${informer.type.kind} cache not synced (${why})${detail}`));
    };
    timer = setTimeout(() => fail(`after ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    onAbort = () => fail('cancelled');
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([informer.synced(), gaveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  }
}

interface Pending {
  /** resourceVersions the write superseded (undefined: the object was absent). */
  readonly superseded: ReadonlySet<string | undefined>;
  readonly written: KubeObject;
  readonly at: number;
}

/** A remembered write is dropped after this long even when the cache never caught up (e.g. deleted since). */
const PENDING_TTL_MS = 60_000;

/**
 * Reads objects from the informer cache while seeing the router's own writes at once: the cache
 * lags a write by one watch event, and two writes in one tick must not compare against the state
 * before the first. A write is remembered until the cache shows a version it did not supersede.
 */
export class CachedReader {
  readonly #kube: KubeClient;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();

  constructor(kube: KubeClient, now: () => number = Date.now) {
    this.#kube = kube;
    this.#now = now;
  }

  get kube(): KubeClient {
    return this.#kube;
  }

  /**
   * The current object: from the cache (synced first), or the router's newer write; when the cache
   * has none, one GET to the API server makes sure it really is absent (a cache that lags must never
   * make a router create over an object it has not seen).
   */
  async get(ctx: Ctx, type: ResourceType, key: ObjectKey): Promise<KubeObject | undefined> {
    const id = this.#id(type, key);
    const informer = this.#kube.informer(type, key.namespace);
    await cacheSynced(ctx, informer);
    const cached = informer.get(key);
    const pending = this.#pending.get(id);
    if (pending !== undefined) {
      const fresh = this.#now() - pending.at < PENDING_TTL_MS;
      if (fresh && pending.superseded.has(cached?.metadata.resourceVersion)) return pending.written;
      this.#pending.delete(id);
    }
    if (cached !== undefined) return cached;
    return this.#kube.get(type, key);
  }

  /** Remembers the API server's answer to a write that replaced `before` (as last read through `get`). */
  wrote(type: ResourceType, before: KubeObject | undefined, written: KubeObject): void {
    const { name, namespace } = written.metadata;
    const id = this.#id(type, namespace === undefined ? { name } : { name, namespace });
    const superseded = new Set(this.#pending.get(id)?.superseded);
    superseded.add(before?.metadata.resourceVersion);
    superseded.delete(written.metadata.resourceVersion);
    this.#pending.set(id, { superseded, written, at: this.#now() });
  }

  /** Forgets the writes to an object the router has just deleted, so that no read returns them. */
  deleted(type: ResourceType, key: ObjectKey): void {
    this.#pending.delete(this.#id(type, key));
  }

  #id(type: ResourceType, key: ObjectKey): string {
    return `${type.apiVersion}/${type.kind}/${keyString(key)}`;
  }
}
