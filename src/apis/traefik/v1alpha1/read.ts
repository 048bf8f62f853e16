/** Reads back the weighted services of a cached TraefikService; entries of another shape are skipped. */
import { isRecord } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';

/** `name → weight` of `spec.weighted.services` (a missing weight counts as Traefik's default, 1). */
export function weightedServices(obj: KubeObject): ReadonlyMap<string, number> {
  const spec = obj['spec'];
  const weighted = isRecord(spec) ? spec['weighted'] : undefined;
  const services = isRecord(weighted) ? weighted['services'] : undefined;
  const out = new Map<string, number>();
  if (!Array.isArray(services)) return out;
  for (const s of services) {
    if (!isRecord(s) || typeof s['name'] !== 'string') continue;
    out.set(s['name'], typeof s['weight'] === 'number' ? s['weight'] : 1);
  }
  return out;
}
