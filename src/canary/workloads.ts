/**
 * What the workload targets (Deployment, DaemonSet) share: the selector label, and the objects
 * whose changes tick a canary at once (the target, the configs its pods use, its HPA) with the part
 * of each that matters. Pure apart from informer-cache reads.
 */
import { readWorkload } from '../apis/apps/v1/read.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { CacheNotSyncedError, cachedObject } from './apply.ts';
import { findConfigRefs, isTrackedSecretType, isTrackingDisabled } from './config-tracker.ts';
import type { Dependency } from './target.ts';
import { NotFoundError } from '../kube/errors.ts';
import { dotted, primaryName } from './util.ts';

/** Fingerprint of a config excluded from tracking: its changes never tick. */
export const IGNORED: unique symbol = Symbol('ignored');

/** The selector label of a workload. */
export interface Selector {
  readonly labelKey: string;
  readonly labelValue: string;
}

/**
 * The first of `selectorLabels` present in the workload's `spec.selector.matchLabels` (Flagger
 * `getSelectorLabel`); InvalidCanaryError when none is.
 */
export function selectorOf(workload: KubeObject, selectorLabels: readonly string[]): Selector {
  const { matchLabels } = readWorkload(workload);
  for (const labelKey of selectorLabels) {
    const labelValue = matchLabels[labelKey];
    if (labelValue !== undefined) return { labelKey, labelValue };
  }
  throw new InvalidCanaryError(
    `${workload.kind} ${dotted(workload.metadata.name, workload.metadata.namespace)} spec.selector.matchLabels must contain one of [${selectorLabels.join(' ')}]`,
  );
}

/** The data of a tracked ConfigMap/Secret; {@link IGNORED} when tracking is disabled for it. */
export function configFingerprint(obj: KubeObject): unknown {
  if (isTrackingDisabled(obj)) return IGNORED;
  if (obj.kind === 'Secret') {
    if (!isTrackedSecretType(obj['type'])) return IGNORED;
    return [obj['data'] ?? null, obj['stringData'] ?? null];
  }
  return [obj['data'] ?? null, obj['binaryData'] ?? null];
}

/** An HPA's spec (its status changes all the time). */
function autoscalerFingerprint(obj: KubeObject): unknown {
  return obj['spec'] ?? null;
}

/** Options of {@link workloadDependencies}. */
export interface WorkloadDependencyOptions {
  /** The target's type (Deployment, DaemonSet). */
  readonly type: ResourceType;
  /** The part of the target whose change is a new revision (its pod template, as hashed). */
  readonly fingerprint: (target: KubeObject) => unknown;
  /** `-enable-config-tracking`. */
  readonly configTracking: boolean;
  /** Whether the target kind takes a HorizontalPodAutoscaler (`spec.autoscalerRef`). */
  readonly autoscaler: boolean;
}

/**
 * The target, the ConfigMaps/Secrets its cached pod template references (with config tracking)
 * and its HPA. A target not in the cache yet (or a cache not synced) has no config dependencies
 * until it appears: its appearance is a change of the target, which re-reads them.
 */
export function workloadDependencies(kube: KubeClient, canary: Canary, o: WorkloadDependencyOptions): Dependency[] {
  const namespace = canary.metadata.namespace ?? '';
  const name = canary.spec.targetRef.name;
  const deps: Dependency[] = [{ type: o.type, name, role: 'target', fingerprint: o.fingerprint }];
  if (o.configTracking) {
    const target = cachedOrUndefined(kube, o.type, { namespace, name });
    for (const ref of target ? findConfigRefs(readWorkload(target).podSpec) : []) {
      const type = ref.kind === 'configmap' ? Resources.configMap : Resources.secret;
      deps.push({ type, name: ref.name, role: 'config', fingerprint: configFingerprint });
    }
  }
  const autoscaler = canary.spec.autoscalerRef;
  if (o.autoscaler && autoscaler?.kind === 'HorizontalPodAutoscaler' && autoscaler.name !== '') {
    deps.push({ type: Resources.hpa, name: autoscaler.name, role: 'autoscaler', fingerprint: autoscalerFingerprint });
  }
  return deps;
}

/** The canary's target of `type` from the informer cache, or undefined. */
export function cachedTarget(kube: KubeClient, type: ResourceType, canary: Canary): KubeObject | undefined {
  return cachedObject(kube, type, { namespace: canary.metadata.namespace ?? '', name: canary.spec.targetRef.name });
}

/** The canary's target of `type` from the informer cache; NotFoundError when missing. */
export function requireTarget(kube: KubeClient, type: ResourceType, canary: Canary): KubeObject {
  const target = cachedTarget(kube, type, canary);
  if (target !== undefined) return target;
  const name = dotted(canary.spec.targetRef.name, canary.metadata.namespace);
  throw new NotFoundError(`${type.kind} ${name} not found`, 404, 'NotFound');
}

/** The canary's `<target>-primary` of `type` from the informer cache, or undefined. */
export function cachedPrimary(kube: KubeClient, type: ResourceType, canary: Canary): KubeObject | undefined {
  const namespace = canary.metadata.namespace ?? '';
  return cachedObject(kube, type, { namespace, name: primaryName(canary.spec.targetRef.name) });
}

function cachedOrUndefined(
  kube: KubeClient,
  type: ResourceType,
  key: { readonly namespace: string; readonly name: string },
): KubeObject | undefined {
  try {
    return cachedObject(kube, type, key);
  } catch (err) {
    if (err instanceof CacheNotSyncedError) return undefined;
    throw err;
  }
}
