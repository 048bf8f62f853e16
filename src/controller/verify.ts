/**
 * Checks of a Canary that need operator settings or the other Canaries, run by the scheduler's
 * `verify` hook before every tick (Flagger's verifyCanary, plus the duplicate-target check Flagger
 * only logs: "Bad things will happen! Found more than one canary with the same target").
 * Pure apart from reading the Canary cache; a returned {@link Blocker} stops the tick and becomes
 * a Stalled condition and one Warning event.
 */
import type { Canary, CanaryAnalysis } from '../apis/flagger/v1beta1/types.ts';
import { claimedNames } from '../apis/flagger/v1beta1/validate.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { Blocker } from './status.ts';

/** Reason of the blocker set on the newer of two Canaries that point at the same workload. */
export const DUPLICATE_TARGET = 'DuplicateTarget';
/** Reason of the blocker set on the newer of two Canaries that would create or drive an object of the same name. */
export const SERVICE_CONFLICT = 'ServiceConflict';
/** Reason of the blocker set with `-no-cross-namespace-refs` on a reference to another namespace. */
export const CROSS_NAMESPACE_REF = 'CrossNamespaceReference';

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** `-no-cross-namespace-refs`. */
  readonly noCrossNamespaceRefs: boolean;
  /** The cached Canaries of a namespace (the informer's `list(namespace)`), raw. */
  readonly canaries: (namespace: string) => readonly KubeObject[];
}

/** The scheduler's `verify` hook: the first blocker found, or undefined when the canary may run. */
export function createVerifier(options: VerifierOptions): (canary: Canary) => Blocker | undefined {
  return (canary) =>
    (options.noCrossNamespaceRefs ? crossNamespaceBlocker(canary) : undefined) ??
    duplicateTargetBlocker(canary, options.canaries(canary.metadata.namespace ?? '')) ??
    nameConflictBlocker(canary, options.canaries(canary.metadata.namespace ?? ''));
}

function analysisOf(canary: Canary): CanaryAnalysis | undefined {
  return canary.spec.analysis ?? canary.spec.canaryAnalysis;
}

/** A reference to a namespace other than the canary's (an empty namespace means the canary's). */
export function crossNamespaceBlocker(canary: Canary): Blocker | undefined {
  const ns = canary.metadata.namespace ?? '';
  const foreign = (refNs: string | undefined): boolean => refNs !== undefined && refNs !== '' && refNs !== ns;
  const block = (what: string, name: string, refNs: string): Blocker => ({
    reason: CROSS_NAMESPACE_REF,
    message: `can't access ${what} ${name}.${refNs}, cross-namespace references are blocked (-no-cross-namespace-refs)`,
  });
  const upstream = canary.spec.upstreamRef;
  if (upstream && foreign(upstream.namespace)) return block('gloo upstream', upstream.name, upstream.namespace ?? '');
  const analysis = analysisOf(canary);
  for (const metric of analysis?.metrics ?? []) {
    const ref = metric.templateRef;
    if (ref && foreign(ref.namespace)) return block('metric template', ref.name, ref.namespace ?? '');
  }
  for (const alert of analysis?.alerts ?? []) {
    const ref = alert.providerRef;
    if (foreign(ref.namespace)) return block('alert provider', ref.name, ref.namespace ?? '');
  }
  return undefined;
}

/** What a Canary points at, read from a raw cached object; undefined when malformed. */
interface TargetId {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

function targetOf(obj: KubeObject | Canary): TargetId | undefined {
  const spec = (obj as { spec?: unknown }).spec;
  const ref = isRecord(spec) ? spec['targetRef'] : undefined;
  if (!isRecord(ref)) return undefined;
  const { kind, name, apiVersion } = ref;
  if (typeof kind !== 'string' || typeof name !== 'string') return undefined;
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  // Deployments of apps/v1 and extensions/v1beta1 are the same object; compare the group only.
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return { group, kind, name };
}

/** Epoch ms of creation; a missing or malformed timestamp counts as newest. */
function createdAt(o: KubeObject | Canary): number {
  const t = Date.parse(o.metadata.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
}

/** Orders Canaries by age: older creationTimestamp first, then name (the older one keeps working). */
function olderThan(a: KubeObject | Canary, b: KubeObject | Canary): boolean {
  const ta = createdAt(a);
  const tb = createdAt(b);
  return ta !== tb ? ta < tb : a.metadata.name < b.metadata.name;
}

/**
 * Two Canaries driving one workload would fight over its replicas and the primary. The newer one
 * (by creationTimestamp, then name) is blocked with {@link DUPLICATE_TARGET}, naming the other; the
 * older keeps working. `others` are the cached Canaries of the same namespace (the canary itself may
 * be among them).
 */
export function duplicateTargetBlocker(canary: Canary, others: readonly KubeObject[]): Blocker | undefined {
  const mine = targetOf(canary);
  if (!mine) return undefined;
  let oldest: KubeObject | undefined;
  for (const other of others) {
    if (other.metadata.name === canary.metadata.name) continue;
    if ((other.metadata.namespace ?? '') !== (canary.metadata.namespace ?? '')) continue;
    const theirs = targetOf(other);
    if (!theirs || theirs.kind !== mine.kind || theirs.name !== mine.name || theirs.group !== mine.group) continue;
    if (!olderThan(other, canary)) continue;
    if (!oldest || olderThan(other, oldest)) oldest = other;
  }
  if (!oldest) return undefined;
  const ns = canary.metadata.namespace ?? '';
  return {
    reason: DUPLICATE_TARGET,
    message:
      `${mine.kind} ${mine.name}.${ns} is already the target of Canary ${oldest.metadata.name}.${ns}; ` +
      `this Canary is ignored until the other is deleted or one of them targets another workload`,
  };
}

/**
 * Two Canaries whose generated objects share a name (e.g. `service.name: a-primary` next to a
 * Canary whose apex is `a`) would take each other's Services, primary or route. The newer one (by
 * creationTimestamp, then name) is blocked with {@link SERVICE_CONFLICT} before it creates
 * anything, whichever is processed first; the older keeps its objects.
 */
export function nameConflictBlocker(canary: Canary, others: readonly KubeObject[]): Blocker | undefined {
  const mine = new Set(claimedNames(canary.spec));
  const ns = canary.metadata.namespace ?? '';
  let found: { other: KubeObject; name: string } | undefined;
  for (const other of others) {
    if (other.metadata.name === canary.metadata.name || (other.metadata.namespace ?? '') !== ns) continue;
    if (!olderThan(other, canary) || (found && !olderThan(other, found.other))) continue;
    const name = claimedNames((other as { spec?: unknown }).spec).find((n) => mine.has(n));
    if (name !== undefined) found = { other, name };
  }
  if (!found) return undefined;
  return {
    reason: SERVICE_CONFLICT,
    message:
      `${found.name.replace('/', ' ')}.${ns} belongs to Canary ${found.other.metadata.name}.${ns}; ` +
      `this Canary creates nothing until the other is deleted or one of them uses another service.name or target`,
  };
}
