/**
 * Reads from informer caches and writes only what changed: the two rules every target controller
 * follows. Objects Fledge owns are server-side applied with a hash of the applied intent in an
 * annotation; when the cached object carries the same hash, nothing is sent.
 */
import { OperatorError } from '../core/errors.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { shortHash } from './hash.ts';
import { APPLIED_HASH_ANNOTATION } from './util.ts';

/** The informer of a type has not finished its first list: nothing can be decided yet (retriable). */
export class CacheNotSyncedError extends OperatorError {}

/**
 * The cached object `namespace/name` of `type`, or undefined when the cache does not hold it.
 * Throws CacheNotSyncedError while the informer has not completed its first list, so that
 * "missing from the cache" always means "missing from the cluster" (up to watch latency).
 */
export function cachedObject(
  kube: KubeClient,
  type: ResourceType,
  key: { readonly namespace: string; readonly name: string },
): KubeObject | undefined {
  const informer = kube.informer(type, key.namespace);
  if (!informer.health().synced) {
    throw new CacheNotSyncedError(`${type.plural} cache of namespace ${key.namespace} is not synced yet`);
  }
  return informer.get(key);
}

/** The hash recorded on an object applied by Fledge, if any. */
export function appliedHashOf(obj: KubeObject | undefined): string | undefined {
  return obj?.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
}

/** `desired` with the applied-hash annotation set to `hash`. */
export function withAppliedHash(desired: KubeObject, hash: string): KubeObject {
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash },
    },
  };
}

/** Options of {@link applyIfChanged}. */
export interface ApplyIfChangedOptions {
  /**
   * What the hash covers; defaults to the whole intent. Leave out fields whose applied value
   * follows the live object (e.g. replicas managed by an HPA) so that their drift causes no write.
   */
  readonly hashInput?: unknown;
}

/**
 * Server-side applies `desired` unless `cached` already carries the hash of the same intent.
 * Returns the applied object, or undefined when nothing was written.
 */
export async function applyIfChanged(
  kube: KubeClient,
  desired: KubeObject,
  cached: KubeObject | undefined,
  options: ApplyIfChangedOptions = {},
): Promise<KubeObject | undefined> {
  const hash = shortHash(options.hashInput === undefined ? desired : options.hashInput);
  if (cached !== undefined && appliedHashOf(cached) === hash) return undefined;
  return kube.apply(withAppliedHash(desired, hash), { force: true });
}
