/**
 * Small pure helpers shared by the target controllers (cf. Flagger pkg/canary/util.go): narrowing
 * of untyped Kubernetes JSON, metadata filtering, primary names and owner references.
 */
import { API_VERSION, CANARY_KIND, LAST_APPLIED_CONFIGURATION_ANNOTATION } from '../apis/flagger/v1beta1/types.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { OperatorError } from '../core/errors.ts';
import { type JsonObject, isRecord } from '../kube/json.ts';
import type { OwnerReference } from '../kube/objects.ts';

export type { JsonObject };

/** Keys containing this are Flux's bookkeeping and are never copied to objects Fledge owns. */
export const TOOLKIT_MARKER = 'toolkit.fluxcd.io';
/** Annotation on objects Fledge applies: hash of the applied intent, to skip writes that change nothing. */
export const APPLIED_HASH_ANNOTATION = 'fledge.app/applied-hash';
/** Annotations the Deployment controller keeps on every Deployment; copying them would fight it. */
const DEPLOYMENT_CONTROLLER_PREFIX = 'deployment.kubernetes.io/';

/** `u` as an object, or undefined. */
export function asRecord(u: unknown): JsonObject | undefined {
  return isRecord(u) ? u : undefined;
}

/** `u` as an array, or an empty one. */
export function asArray(u: unknown): readonly unknown[] {
  return Array.isArray(u) ? u : [];
}

/** `u` as a string, or undefined. */
export function asString(u: unknown): string | undefined {
  return typeof u === 'string' ? u : undefined;
}

/** `u` as a finite number, or undefined. */
export function asNumber(u: unknown): number | undefined {
  return typeof u === 'number' && Number.isFinite(u) ? u : undefined;
}

/** `u` as a string map (non-string values dropped), or an empty one. */
export function asStringMap(u: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const rec = asRecord(u);
  if (rec) for (const [k, v] of Object.entries(rec)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `<name>-primary`. */
export function primaryName(name: string): string {
  return `${name}-primary`;
}

/** `<name>.<namespace>`, as Flagger names objects in its messages. */
export function dotted(name: string, namespace: string | undefined): string {
  return `${name}.${namespace ?? ''}`;
}

/** Flagger's `filterMetadata`: every entry except Flux's own (keys containing `toolkit.fluxcd.io`). */
export function filterMetadata(meta: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta ?? {})) if (!k.includes(TOOLKIT_MARKER)) out[k] = v;
  return out;
}

/**
 * Annotations worth copying from a user's object to the copy Fledge owns: all but Flux's,
 * kubectl's `last-applied-configuration` (it describes the user's object, and for a Secret holds
 * its data), the Deployment controller's `deployment.kubernetes.io/*` and Fledge's applied hash.
 */
export function filterAnnotations(annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filterMetadata(annotations))) {
    if (k === LAST_APPLIED_CONFIGURATION_ANNOTATION || k === APPLIED_HASH_ANNOTATION) continue;
    if (k.startsWith(DEPLOYMENT_CONTROLLER_PREFIX)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Parses `-include-label-prefix`: a comma-separated list (or a list) of key prefixes; `*` means
 * every key; empty means none.
 */
export function parseIncludeLabelPrefix(input: string | readonly string[] | undefined): string[] {
  const items = typeof input === 'string' ? input.split(',') : [...(input ?? [])];
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** Flagger's `includeLabelsByPrefix`: the entries whose key starts with one of `prefixes` (`*` = all), minus Flux's. */
export function includeLabelsByPrefix(
  labels: Readonly<Record<string, string>> | undefined,
  prefixes: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filterMetadata(labels))) {
    if (prefixes.some((p) => p === '*' || k.startsWith(p))) out[k] = v;
  }
  return out;
}

/** Flagger's `makePrimaryLabels`: `labels` minus Flux's, with `key` set to `value`. */
export function makePrimaryLabels(
  labels: Readonly<Record<string, string>> | undefined,
  key: string,
  value: string,
): Record<string, string> {
  return { ...filterMetadata(labels), [key]: value };
}

/** The owner reference that makes an object part of a Canary (garbage-collected with it). */
export function canaryOwnerRef(canary: Canary): OwnerReference {
  const uid = canary.metadata.uid;
  if (uid === undefined || uid === '') {
    throw new OperatorError(`Canary ${dotted(canary.metadata.name, canary.metadata.namespace)} has no metadata.uid`);
  }
  return {
    apiVersion: API_VERSION,
    kind: CANARY_KIND,
    name: canary.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The pod template of a workload (`spec.template`), or an empty object. */
export function podTemplateOf(workload: unknown): JsonObject {
  return asRecord(asRecord(asRecord(workload)?.['spec'])?.['template']) ?? {};
}

/** The pod spec of a workload (`spec.template.spec`), or an empty object. */
export function podSpecOf(workload: unknown): JsonObject {
  return asRecord(podTemplateOf(workload)['spec']) ?? {};
}
