/**
 * The Canary's writer and reader for the control loop. Writes are merge patches on `/status`
 * (status) and on the object with a `metadata.resourceVersion` precondition (finalizers). Reads
 * come from the informer cache, overlaid with Fledge's own last write of each Canary until the
 * cache has caught up: right after a status write the watch event is still in flight, and a tick
 * that read the stale cached object would advance the same step twice.
 */
import { type Canary, type CanaryStatus, FINALIZER } from '../apis/flagger/v1beta1/types.ts';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { deepFreeze } from '../kube/json.ts';
import { type KubeObject, type ObjectKey, keyString } from '../kube/objects.ts';
import type { Informer, KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { retryOnConflict } from '../kube/retry.ts';
import type { Ctx } from '../core/context.ts';
import type { CanaryStatusWriter } from './ports.ts';

/** Options of {@link CanaryStore}. */
export interface CanaryStoreOptions {
  readonly kube: Pick<KubeClient, 'patchStatus' | 'mergePatch' | 'get'>;
  /** The Canary informer. */
  readonly cache: Pick<Informer, 'get'>;
  /**
   * An own write the cache has not confirmed after this long is dropped (default 5 min). Only a
   * broken watch gets there; it bounds how long a lost event could pin an old object.
   */
  readonly ownWriteTtlMs?: number;
  readonly clock?: Pick<Clock, 'now'>;
}

interface OwnWrite {
  readonly obj: KubeObject;
  readonly at: number;
}

/** True when resourceVersion `a` is known to be newer than `b` (both etcd revisions, i.e. integers). */
function newerVersion(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}

/** {@link CanaryStatusWriter} over the API, plus {@link CanaryStore.latest} for the loop's reads. */
export class CanaryStore implements CanaryStatusWriter {
  readonly #kube: CanaryStoreOptions['kube'];
  readonly #cache: CanaryStoreOptions['cache'];
  readonly #ttlMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #own = new Map<string, OwnWrite>();

  constructor(options: CanaryStoreOptions) {
    this.#kube = options.kube;
    this.#cache = options.cache;
    this.#ttlMs = options.ownWriteTtlMs ?? 5 * 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * The newest known version of a Canary: the cached object, unless Fledge wrote a newer one that
   * the watch has not delivered yet. Watch events arrive in order, so until the cache holds the
   * written resourceVersion, any other cached version is older than the write. Undefined when the
   * Canary is not in the cache (deleted).
   */
  latest(key: ObjectKey): KubeObject | undefined {
    const k = keyString(key);
    const cached = this.#cache.get(key);
    const own = this.#own.get(k);
    if (!own) return cached;
    if (!cached || this.#caughtUp(cached, own)) {
      this.#own.delete(k);
      return cached;
    }
    return own.obj;
  }

  /** Number of writes not yet confirmed by the cache (for tests and debugging). */
  get pendingWrites(): number {
    return this.#own.size;
  }

  /** Drops the own write of a Canary (the loop calls it when the Canary is deleted). */
  forget(key: ObjectKey): void {
    this.#own.delete(keyString(key));
  }

  #caughtUp(cached: KubeObject, own: OwnWrite): boolean {
    const c = cached.metadata;
    const o = own.obj.metadata;
    if (c.uid !== undefined && o.uid !== undefined && c.uid !== o.uid) return true; // deleted and recreated
    const cv = c.resourceVersion ?? '';
    const ov = o.resourceVersion ?? '';
    if (cv === ov || newerVersion(cv, ov)) return true;
    return this.#clock.now() - own.at > this.#ttlMs;
  }

  #remember(obj: KubeObject): void {
    this.#own.set(
      keyString({
        ...(obj.metadata.namespace === undefined ? {} : { namespace: obj.metadata.namespace }),
        name: obj.metadata.name,
      }),
      {
        obj: deepFreeze(obj),
        at: this.#clock.now(),
      },
    );
  }

  /** The written object as a Canary, with the spec the caller worked with (the tick stays consistent). */
  #merge(canary: Canary, obj: KubeObject): Canary {
    const parsed = parseCanary(obj);
    const { status: _old, ...rest } = canary;
    return parsed.status === undefined
      ? { ...rest, metadata: parsed.metadata }
      : { ...rest, metadata: parsed.metadata, status: parsed.status };
  }

  /** Merge-patches `/status` with `status` (null values delete fields) and remembers the result. */
  async patchStatus(_ctx: Ctx, canary: Canary, status: Partial<CanaryStatus>): Promise<Canary> {
    const obj = await this.#kube.patchStatus(Resources.canary, keyOf(canary), status);
    this.#remember(obj);
    return this.#merge(canary, obj);
  }

  /**
   * Adds or removes `finalizer.flagger.app`. The finalizer list is replaced as a whole, so the patch
   * carries the resourceVersion it was computed from; on a conflict the Canary is re-read from the
   * API and the change recomputed (other controllers' finalizers are kept).
   */
  async setFinalizer(ctx: Ctx, canary: Canary, present: boolean): Promise<Canary> {
    const key = keyOf(canary);
    let result: KubeObject | undefined;
    await retryOnConflict(
      async (attempt) => {
        const current: KubeObject | undefined = attempt === 1 ? canary : await this.#kube.get(Resources.canary, key);
        if (!current) return; // deleted meanwhile: nothing left to do
        const finalizers = current.metadata.finalizers ?? [];
        if (finalizers.includes(FINALIZER) === present) {
          result = current;
          return;
        }
        const next = present ? [...finalizers, FINALIZER] : finalizers.filter((f) => f !== FINALIZER);
        const rv = current.metadata.resourceVersion;
        result = await this.#kube.mergePatch(Resources.canary, key, {
          metadata: { ...(rv === undefined ? {} : { resourceVersion: rv }), finalizers: next.length > 0 ? next : null },
        });
        this.#remember(result);
      },
      { signal: ctx.signal },
    );
    return result ? this.#merge(canary, result) : canary;
  }
}

function keyOf(canary: Canary): ObjectKey {
  return canary.metadata.namespace === undefined
    ? { name: canary.metadata.name }
    : { namespace: canary.metadata.namespace, name: canary.metadata.name };
}
