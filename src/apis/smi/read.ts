/**
 * Narrows a cached TrafficSplit (raw JSON) to what a router reads back: the apex service and each
 * backend's weight as a number. Lenient: a backend of unexpected shape is skipped, never thrown on.
 */
import { isRecord } from '../../kube/json.ts';
import type { KubeObject } from '../../kube/objects.ts';

/** One backend as read back; `weight` is NaN when it is not a whole number. */
export interface BackendView {
  readonly service: string;
  readonly weight: number;
}

export interface TrafficSplitView {
  readonly service: string | undefined;
  readonly backends: readonly BackendView[];
}

/**
 * A weight as a number: an integer, or (v1alpha1) a quantity string holding a whole number, as
 * Go's `Quantity.AsInt64` reads it (`"90"`, `"+90"`); fractions and suffixed quantities are NaN.
 */
export function weightOf(u: unknown): number {
  if (typeof u === 'number') return Number.isInteger(u) ? u : Number.NaN;
  if (typeof u === 'string' && /^[+-]?\d+$/.test(u.trim())) return Number.parseInt(u.trim(), 10);
  return Number.NaN;
}

/** The router-relevant view of a TrafficSplit object. */
export function readTrafficSplit(obj: KubeObject): TrafficSplitView {
  const spec = isRecord(obj['spec']) ? obj['spec'] : {};
  const raw = Array.isArray(spec['backends']) ? (spec['backends'] as unknown[]) : [];
  const backends = raw.flatMap((b): BackendView[] =>
    isRecord(b) && typeof b['service'] === 'string' ? [{ service: b['service'], weight: weightOf(b['weight']) }] : [],
  );
  return { service: typeof spec['service'] === 'string' ? spec['service'] : undefined, backends };
}
