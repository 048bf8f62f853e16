/**
 * The `<target>-primary` Deployment as Fledge wants it (Flagger deployment_controller.go
 * createPrimaryDeployment / Promote). Pure: tested by value; the controller applies it.
 */
import { FLAGGER_ID_ANNOTATION } from '../apis/flagger/v1beta1/types.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import { rewriteConfigRefs } from './config-tracker.ts';
import { deterministicId } from './hash.ts';
import {
  type JsonObject,
  asArray,
  asNumber,
  asRecord,
  asStringMap,
  canaryOwnerRef,
  filterAnnotations,
  filterMetadata,
  includeLabelsByPrefix,
  makePrimaryLabels,
  podTemplateOf,
  primaryName,
} from './util.ts';

/** Inputs of a primary workload's builder besides the Canary and its target. */
export interface PrimaryWorkloadOptions {
  /** The selector label (first of the selector labels in the target's matchLabels). */
  readonly labelKey: string;
  /** Its value on the target; the primary uses `<labelValue>-primary`. */
  readonly labelValue: string;
  /** Parsed `-include-label-prefix` (see `parseIncludeLabelPrefix`). */
  readonly includeLabelPrefix: readonly string[];
  /** Keys (`configmap/<name>`, `secret/<name>`) of the tracked configs to point at `-primary` copies. */
  readonly configRefs: ReadonlySet<string>;
  /** Value of the pod annotation `flagger-id`; see {@link flaggerIdFor}. */
  readonly flaggerId: string;
}

/** Inputs of {@link buildPrimaryDeployment} besides the Canary and its target. */
export interface PrimaryDeploymentOptions extends PrimaryWorkloadOptions {
  /** `spec.replicas` of the existing primary; undefined when it is to be created. */
  readonly primaryReplicas?: number | undefined;
}

/** Fields of the target's Deployment spec copied as they are. */
const COPIED_SPEC_FIELDS = ['progressDeadlineSeconds', 'minReadySeconds', 'revisionHistoryLimit', 'strategy'] as const;

/**
 * The `flagger-id` pod annotation for a promoted revision. Flagger writes a random UUID on every
 * promotion; Fledge derives it from the Canary's uid and the revision hash, so that repeating a
 * promotion (after a crash, or a retried tick) does not roll the primary a second time, while
 * every new revision (template or config data) still rolls it.
 */
export function flaggerIdFor(canary: Canary, revisionHash: string): string {
  return deterministicId(canary.metadata.uid ?? '', revisionHash);
}

/**
 * The replicas of the primary: on creation the target's (1 when unset or 0, as Flagger); later
 * the target's only without an autoscaler (an HPA owns them otherwise), and never 0 — a target
 * caught at 0 keeps the primary's current count instead of taking production down.
 */
export function primaryReplicasFor(canary: Canary, target: KubeObject, primaryReplicas: number | undefined): number {
  const targetReplicas = asNumber(asRecord(target['spec'])?.['replicas']);
  const fromTarget = targetReplicas !== undefined && targetReplicas > 0 ? targetReplicas : undefined;
  if (primaryReplicas === undefined) return fromTarget ?? 1;
  if (canary.spec.autoscalerRef !== undefined) return primaryReplicas;
  return fromTarget ?? primaryReplicas;
}

/**
 * Rewrites, in place, the label selectors of `podAntiAffinity` (required and preferred terms) and
 * of `topologySpreadConstraints` so that terms selecting the target's pods by the selector label
 * select the primary's pods instead (`value` → `value-primary`).
 */
export function rewriteSelectorsForPrimary(podSpec: JsonObject, labelKey: string, labelValue: string): void {
  const rewrite = (selector: unknown): void => {
    const s = asRecord(selector);
    if (!s) return;
    const matchLabels = asRecord(s['matchLabels']);
    if (matchLabels && matchLabels[labelKey] === labelValue) matchLabels[labelKey] = primaryName(labelValue);
    for (const expr of asArray(s['matchExpressions'])) {
      const e = asRecord(expr);
      if (!e || e['key'] !== labelKey || !Array.isArray(e['values'])) continue;
      e['values'] = e['values'].map((v: unknown) => (v === labelValue ? primaryName(labelValue) : v));
    }
  };
  for (const constraint of asArray(podSpec['topologySpreadConstraints']))
    rewrite(asRecord(constraint)?.['labelSelector']);
  const antiAffinity = asRecord(asRecord(podSpec['affinity'])?.['podAntiAffinity']);
  if (antiAffinity) {
    for (const term of asArray(antiAffinity['requiredDuringSchedulingIgnoredDuringExecution'])) {
      rewrite(asRecord(term)?.['labelSelector']);
    }
    for (const weighted of asArray(antiAffinity['preferredDuringSchedulingIgnoredDuringExecution'])) {
      rewrite(asRecord(asRecord(weighted)?.['podAffinityTerm'])?.['labelSelector']);
    }
  }
}

/**
 * The desired `<target>-primary` Deployment, as an apply intent (apiVersion, kind, metadata and
 * spec; no status):
 * - selector `{<labelKey>: <labelValue>-primary}`, the same label rewritten in the pod labels;
 * - labels: the target's filtered by `includeLabelPrefix`, plus the selector label; annotations:
 *   the target's minus Flux's and kubectl's bookkeeping;
 * - replicas per {@link primaryReplicasFor}; progressDeadlineSeconds, minReadySeconds,
 *   revisionHistoryLimit and strategy copied;
 * - pod annotations plus `flagger-id`; pod spec with config references renamed to the `-primary`
 *   copies and anti-affinity / topology spread selectors rewritten;
 * - controlled by the Canary.
 */
export function buildPrimaryDeployment(
  canary: Canary,
  target: KubeObject,
  options: PrimaryDeploymentOptions,
): KubeObject {
  const targetSpec = asRecord(target['spec']) ?? {};
  const spec: Record<string, unknown> = {
    replicas: primaryReplicasFor(canary, target, options.primaryReplicas),
    selector: { matchLabels: { [options.labelKey]: primaryName(options.labelValue) } },
  };
  for (const field of COPIED_SPEC_FIELDS) {
    if (targetSpec[field] !== undefined) spec[field] = structuredClone(targetSpec[field]);
  }
  spec['template'] = primaryPodTemplate(podTemplateOf(target), options);
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: primaryObjectMeta(canary, target, options), spec };
}

/**
 * The pod template of a primary workload: the target's pod labels with the selector label set to
 * `<labelValue>-primary`, its annotations plus `flagger-id`, and its pod spec with config
 * references renamed to the `-primary` copies and anti-affinity / topology spread selectors rewritten.
 */
export function primaryPodTemplate(template: JsonObject, options: PrimaryWorkloadOptions): JsonObject {
  const { labelKey, labelValue } = options;
  const templateMeta = asRecord(template['metadata']) ?? {};
  const podSpec = rewriteConfigRefs(template['spec'], options.configRefs);
  rewriteSelectorsForPrimary(podSpec, labelKey, labelValue);

  const podAnnotations = filterMetadata(asStringMap(templateMeta['annotations']));
  delete podAnnotations[FLAGGER_ID_ANNOTATION];
  podAnnotations[FLAGGER_ID_ANNOTATION] = options.flaggerId;
  return {
    metadata: {
      labels: makePrimaryLabels(asStringMap(templateMeta['labels']), labelKey, primaryName(labelValue)),
      annotations: podAnnotations,
    },
    spec: podSpec,
  };
}

/**
 * The metadata of a primary workload: `<target>-primary`, the target's labels filtered by
 * `includeLabelPrefix` plus the selector label, its annotations minus Flux's and kubectl's
 * bookkeeping, controlled by the Canary.
 */
export function primaryObjectMeta(
  canary: Canary,
  target: KubeObject,
  options: PrimaryWorkloadOptions,
): KubeObject['metadata'] {
  const annotations = filterAnnotations(target.metadata.annotations);
  return {
    name: primaryName(target.metadata.name),
    namespace: target.metadata.namespace ?? canary.metadata.namespace ?? '',
    labels: makePrimaryLabels(
      includeLabelsByPrefix(target.metadata.labels, options.includeLabelPrefix),
      options.labelKey,
      primaryName(options.labelValue),
    ),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [canaryOwnerRef(canary)],
  };
}
