/**
 * Narrows the few core/v1 fields that target controllers read from a pod template. Lenient, like
 * `apis/gatewayapi/v1/read.ts`: the object passed the API server's validation, so a field of
 * unexpected shape reads as absent, never throws.
 */
import { isRecord } from '../../../kube/json.ts';

/** A `map[string]string` field (labels, annotations, nodeSelector): string values only, `{}` when absent. */
export function stringMapOf(u: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(u)) for (const [k, v] of Object.entries(u)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A PodSpec's `nodeSelector`, `{}` when absent. */
export function nodeSelectorOf(podSpec: unknown): Record<string, string> {
  return stringMapOf(isRecord(podSpec) ? podSpec['nodeSelector'] : undefined);
}
