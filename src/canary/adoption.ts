/**
 * Taking over canaries that Flagger handled last. Flagger's status records its own revision hash
 * (FNV over Go's spew output), which Fledge cannot compute, so "has the target changed?" is answered
 * by comparing the target with what the `-primary` workload runs, after undoing the rewrites
 * Flagger (or Fledge) applies when it copies the target (pkg/canary/deployment_controller.go). Pure.
 */
import type { CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import { FLAGGER_ID_ANNOTATION } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import { type ConfigLookup, configChecksum, configKey, findConfigRefs, rewriteConfigRefs } from './config-tracker.ts';
import { canonicalJson } from './hash.ts';
import { rewriteSelectorsForPrimary } from './primary-deployment.ts';
import {
  type JsonObject,
  asRecord,
  asStringMap,
  filterMetadata,
  podSpecOf,
  podTemplateOf,
  primaryName,
} from './util.ts';

/** Phases whose status was written by a running operator, not by initialization or deletion. */
const ADOPTABLE_PHASES: ReadonlySet<string> = new Set([
  'Initialized',
  'Succeeded',
  'Failed',
  'Progressing',
  'Waiting',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
]);

/**
 * True when the status was written by Flagger: a phase past initialization but no
 * `lastTrackedRevision`, which Fledge writes with every revision it records (at initialization,
 * at the start of every analysis, and when adopting).
 */
export function isFlaggerStatus(status: CanaryStatus | undefined): boolean {
  if (status === undefined || !ADOPTABLE_PHASES.has(status.phase ?? '')) return false;
  return (status.lastTrackedRevision ?? '') === '';
}

/** What {@link comparePrimary} needs: the two workloads, the selector and the configs. */
export interface PrimaryComparisonInput {
  readonly target: KubeObject;
  readonly primary: KubeObject | undefined;
  /** The target's selector label and its value (the primary's is `<value>-primary`). */
  readonly labelKey: string;
  readonly labelValue: string;
  /** `-selector-labels`: Flagger suffixes anti-affinity and topology terms on any of them equal to the target's name. */
  readonly selectorLabels: readonly string[];
  /** Keys (`configmap/<name>`, `secret/<name>`) of the configs Fledge tracks for the target. */
  readonly trackedKeys: ReadonlySet<string>;
  /** ConfigMaps and Secrets of the canary's namespace, by kind and name. */
  readonly lookup: ConfigLookup;
}

/** Whether the primary runs the target's revision; when not, why (names only, never config data). */
export type PrimaryComparison = { readonly same: true } | { readonly same: false; readonly reason: string };

/**
 * Compares the target's pod template and configs with the primary's. The primary's copy differs
 * from the target's template only by what the copy rewrites:
 * - the selector label's value (`<value>-primary`) in the pod labels, Flux's labels and annotations
 *   dropped, the `flagger-id` pod annotation (random per promotion in Flagger);
 * - ConfigMap/Secret references renamed to their `-primary` copies;
 * - anti-affinity and topology-spread selectors suffixed with `-primary` (Flagger: any selector
 *   label whose value is the target's name; Fledge: the selector label's value).
 * Both templates are brought to the same normal form (every such rewrite applied) and compared;
 * then every config the primary reads through a `-primary` copy must hold the same data as the
 * target's. Deployment-level fields (replicas, strategy) are not part of a revision.
 */
export function comparePrimary(input: PrimaryComparisonInput): PrimaryComparison {
  const { target, primary } = input;
  if (primary === undefined)
    return { same: false, reason: `${target.kind ?? 'workload'} ${primaryName(target.metadata.name)} not found` };
  const copied = copiedConfigs(target, primary);
  const rewritten = new Set([...input.trackedKeys, ...copied.map((c) => configKey(c.kind, c.name))]);
  const want = normalTemplate(podTemplateOf(target), input, rewritten);
  const have = normalTemplate(podTemplateOf(primary), input, rewritten);
  const fields = differingFields(want, have);
  if (fields.length > 0) {
    return { same: false, reason: `the pod template differs from the primary's in ${fields.join(', ')}` };
  }
  for (const { kind, name } of copied) {
    const source = input.lookup(kind, name);
    const copy = input.lookup(kind, primaryName(name));
    if (copy === undefined) return { same: false, reason: `${kind} ${primaryName(name)} not found` };
    if (source === undefined || configChecksum(source) !== configChecksum(copy)) {
      return { same: false, reason: `${kind} ${name} differs from ${kind} ${primaryName(name)}` };
    }
  }
  return { same: true };
}

/** The configs the target references whose `-primary` copy the primary references instead. */
function copiedConfigs(target: KubeObject, primary: KubeObject): ReturnType<typeof findConfigRefs> {
  const primaryRefs = new Set(findConfigRefs(podSpecOf(primary)).map((r) => configKey(r.kind, r.name)));
  return findConfigRefs(podSpecOf(target)).filter((r) => primaryRefs.has(configKey(r.kind, primaryName(r.name))));
}

/** A pod template with every rewrite of the primary's copy applied (idempotent: a primary's stays as it is). */
function normalTemplate(
  template: JsonObject,
  input: PrimaryComparisonInput,
  configKeys: ReadonlySet<string>,
): JsonObject {
  const meta = asRecord(template['metadata']) ?? {};
  const labels = filterMetadata(asStringMap(meta['labels']));
  labels[input.labelKey] = primaryName(input.labelValue);
  const annotations = filterMetadata(asStringMap(meta['annotations']));
  delete annotations[FLAGGER_ID_ANNOTATION];
  const spec = rewriteConfigRefs(template['spec'], configKeys);
  rewriteSelectorsForPrimary(spec, input.labelKey, input.labelValue);
  for (const key of input.selectorLabels) rewriteSelectorsForPrimary(spec, key, input.target.metadata.name);
  return { labels, annotations, spec };
}

/** `metadata.labels`, `metadata.annotations` and the `spec.<field>`s whose values differ. */
function differingFields(a: JsonObject, b: JsonObject): string[] {
  const out: string[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) out.push(`metadata.${field}`);
  }
  const specA = asRecord(a['spec']) ?? {};
  const specB = asRecord(b['spec']) ?? {};
  for (const field of [...new Set([...Object.keys(specA), ...Object.keys(specB)])].sort()) {
    if (canonicalJson(specA[field]) !== canonicalJson(specB[field])) out.push(`spec.${field}`);
  }
  return out;
}
