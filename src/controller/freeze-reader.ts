/**
 * Reads the `fledge-freeze` ConfigMaps that hold a canary (see release-windows.ts): its namespace's
 * and, with `-freeze-namespace`, the cluster-wide one. Reads come from the ConfigMap informer once
 * it has synced. With `-namespace`, the informers watch only that namespace (a view of any other is
 * empty), so a freeze namespace outside it is read with one GET shared by every canary and reused
 * for a few seconds: a constant few requests a minute, however many canaries.
 */
import type { Clock } from '../core/clock.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { cacheSynced } from '../router/util.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { FREEZE_CONFIGMAP, type Freeze, freezeFor } from './release-windows.ts';

/** How long one GET of a freeze ConfigMap outside the watched namespace is reused. */
export const OUTSIDE_SCOPE_TTL_MS = 5_000;

export interface FreezeReaderOptions {
  readonly kube: Pick<KubeClient, 'get' | 'informer'>;
  /** `-namespace`; undefined = all namespaces. */
  readonly scope: string | undefined;
  /** `-freeze-namespace`; undefined = no cluster-wide freeze. */
  readonly freezeNamespace: string | undefined;
  readonly clock: Clock;
}

/** The scheduler's `freeze` port. */
export function freezeReader(o: FreezeReaderOptions): (ctx: Ctx, canary: Canary) => Promise<Freeze | undefined> {
  let outside: { readonly at: number; readonly object: Promise<KubeObject | undefined> } | undefined;
  const readOutside = (namespace: string): Promise<KubeObject | undefined> => {
    const now = o.clock.now();
    if (outside === undefined || now - outside.at >= OUTSIDE_SCOPE_TTL_MS) {
      const object = o.kube.get(Resources.configMap, { namespace, name: FREEZE_CONFIGMAP });
      outside = { at: now, object };
      // A failed read is not reused: the next tick asks again.
      object.catch(() => {
        if (outside?.object === object) outside = undefined;
      });
    }
    return outside.object;
  };
  const readCached = async (ctx: Ctx, namespace: string): Promise<KubeObject | undefined> => {
    const informer = o.kube.informer(Resources.configMap, o.scope ?? namespace);
    await cacheSynced(ctx, informer);
    return informer.get({ namespace, name: FREEZE_CONFIGMAP });
  };
  return (ctx, canary) =>
    freezeFor(canary.metadata.namespace ?? '', o.freezeNamespace, (namespace) =>
      o.scope !== undefined && namespace !== o.scope ? readOutside(namespace) : readCached(ctx, namespace),
    );
}
