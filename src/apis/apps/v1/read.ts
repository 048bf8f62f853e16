/**
 * Narrows cached apps/v1 workloads (raw JSON) to the fields target controllers read: the selector
 * labels, the pod template, the fields copied to a primary and the DaemonSet rollout status.
 * Lenient, like `apis/gatewayapi/v1/read.ts`: the object passed the API server's validation, so a
 * field of unexpected shape reads as absent, never throws.
 */
import { type JsonObject, isRecord } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';
import { stringMapOf } from '../../core/v1/read.ts';

/** What every workload target (Deployment, DaemonSet) has. */
export interface WorkloadView {
  /** `spec.selector.matchLabels` (string values only). */
  readonly matchLabels: Readonly<Record<string, string>>;
  /** `spec.template` as it is (frozen when it comes from a cache); `{}` when absent. */
  readonly template: JsonObject;
  /** `spec.template.metadata.annotations` (string values only). */
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** `spec.template.spec`; `{}` when absent. */
  readonly podSpec: JsonObject;
}

/** The rollout status of a DaemonSet (zeros when not reported yet). */
export interface DaemonSetStatusView {
  readonly observedGeneration: number;
  readonly desiredNumberScheduled: number;
  readonly updatedNumberScheduled: number;
  readonly numberAvailable: number;
}

/** A DaemonSet target. */
export interface DaemonSetView extends WorkloadView {
  readonly generation: number;
  /** `spec.updateStrategy.type`; undefined when unset (the API server defaults it to RollingUpdate). */
  readonly updateStrategyType: string | undefined;
  /** `minReadySeconds`, `revisionHistoryLimit` and `updateStrategy`, those that are set. */
  readonly copiedSpec: Readonly<JsonObject>;
  readonly status: DaemonSetStatusView;
}

/** Fields of a DaemonSet spec a primary copies as they are (Flagger's createPrimaryDaemonSet). */
const DAEMONSET_COPIED_FIELDS = ['minReadySeconds', 'revisionHistoryLimit', 'updateStrategy'] as const;

const record = (u: unknown): JsonObject => (isRecord(u) ? u : {});
const count = (u: unknown): number => (typeof u === 'number' && Number.isFinite(u) ? u : 0);

/** The selector labels and pod template of a Deployment or DaemonSet. */
export function readWorkload(obj: KubeObject): WorkloadView {
  const spec = record(obj['spec']);
  const template = record(spec['template']);
  return {
    matchLabels: stringMapOf(record(spec['selector'])['matchLabels']),
    template,
    podAnnotations: stringMapOf(record(template['metadata'])['annotations']),
    podSpec: record(template['spec']),
  };
}

/** A DaemonSet as a {@link DaemonSetView}. */
export function readDaemonSet(obj: KubeObject): DaemonSetView {
  const spec = record(obj['spec']);
  const status = record(obj['status']);
  const strategyType = record(spec['updateStrategy'])['type'];
  const copiedSpec: JsonObject = {};
  for (const field of DAEMONSET_COPIED_FIELDS) if (spec[field] !== undefined) copiedSpec[field] = spec[field];
  return {
    ...readWorkload(obj),
    generation: obj.metadata.generation ?? 0,
    updateStrategyType: typeof strategyType === 'string' && strategyType !== '' ? strategyType : undefined,
    copiedSpec,
    status: {
      observedGeneration: count(status['observedGeneration']),
      desiredNumberScheduled: count(status['desiredNumberScheduled']),
      updatedNumberScheduled: count(status['updatedNumberScheduled']),
      numberAvailable: count(status['numberAvailable']),
    },
  };
}
