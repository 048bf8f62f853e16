/**
 * The primary's HorizontalPodAutoscaler (Flagger pkg/canary/hpa_reconciler.go, autoscaling/v2
 * only): `<hpa>-primary` scales `<target>-primary` with the target HPA's bounds, metrics and
 * behaviour. KEDA ScaledObjects are not supported yet.
 */
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { UnsupportedError } from '../core/errors.ts';
import { NotFoundError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { applyIfChanged, cachedObject } from './apply.ts';
import { asRecord, canaryOwnerRef, dotted, filterAnnotations, filterMetadata, primaryName } from './util.ts';

/**
 * The desired `<hpa>-primary` as an apply intent: scaleTargetRef → `<target>-primary`; min/max,
 * metrics and behavior copied from `source`; `autoscalerRef.primaryScalerReplicas` overrides
 * min/max; labels and annotations copied (minus Flux's and kubectl's bookkeeping); owned by the Canary.
 */
export function buildPrimaryHpa(canary: Canary, source: KubeObject): KubeObject {
  const spec = asRecord(source['spec']) ?? {};
  const ref = asRecord(spec['scaleTargetRef']) ?? {};
  const overrides = canary.spec.autoscalerRef?.primaryScalerReplicas;
  const out: Record<string, unknown> = {
    scaleTargetRef: {
      apiVersion: ref['apiVersion'] ?? 'apps/v1',
      kind: ref['kind'] ?? 'Deployment',
      name: primaryName(canary.spec.targetRef.name),
    },
  };
  const minReplicas = overrides?.minReplicas ?? spec['minReplicas'];
  const maxReplicas = overrides?.maxReplicas ?? spec['maxReplicas'];
  if (minReplicas !== undefined) out['minReplicas'] = minReplicas;
  if (maxReplicas !== undefined) out['maxReplicas'] = maxReplicas;
  for (const field of ['metrics', 'behavior']) {
    if (spec[field] !== undefined) out[field] = structuredClone(spec[field]);
  }
  const labels = filterMetadata(source.metadata.labels);
  const annotations = filterAnnotations(source.metadata.annotations);
  return {
    apiVersion: Resources.hpa.apiVersion,
    kind: Resources.hpa.kind,
    metadata: {
      name: primaryName(source.metadata.name),
      namespace: canary.metadata.namespace ?? source.metadata.namespace ?? '',
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [canaryOwnerRef(canary)],
    },
    spec: out,
  };
}

/** Keeps `<hpa>-primary` in line with the target's HPA; reads from the informer cache. */
export class HpaReconciler {
  readonly #kube: KubeClient;

  constructor(options: { readonly kube: KubeClient }) {
    this.#kube = options.kube;
  }

  /**
   * With `init`, creates `<hpa>-primary` when missing; otherwise (at promotion) also brings an
   * existing one up to date. Writes only when the desired object differs from the applied one.
   * Throws UnsupportedError for ScaledObjects and NotFoundError when the target's HPA is missing.
   */
  async reconcile(ctx: Ctx, canary: Canary, init: boolean): Promise<void> {
    const ref = canary.spec.autoscalerRef;
    if (ref === undefined) return;
    if (ref.kind !== 'HorizontalPodAutoscaler') {
      throw new UnsupportedError(`${ref.kind} autoscalers are not supported yet`);
    }
    const namespace = canary.metadata.namespace ?? '';
    const source = cachedObject(this.#kube, Resources.hpa, { namespace, name: ref.name });
    if (source === undefined) {
      throw new NotFoundError(`HorizontalPodAutoscaler ${dotted(ref.name, namespace)} not found`, 404, 'NotFound');
    }
    const desired = buildPrimaryHpa(canary, source);
    const cached = cachedObject(this.#kube, Resources.hpa, { namespace, name: desired.metadata.name });
    if (cached !== undefined && init) return;
    const applied = await applyIfChanged(this.#kube, desired, cached);
    if (applied) {
      ctx.log.info(
        `HorizontalPodAutoscaler ${dotted(desired.metadata.name, namespace)} ${cached ? 'updated' : 'created'}`,
        {
          object: desired.metadata.name,
        },
      );
    }
  }
}
