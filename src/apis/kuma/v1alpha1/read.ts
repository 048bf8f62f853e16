/** Reads back a cached TrafficRoute; entries of another shape are skipped. */
import { isRecord } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';
import { SERVICE_TAG } from './types.ts';

function spec(obj: KubeObject): Record<string, unknown> {
  return isRecord(obj['spec']) ? obj['spec'] : {};
}

/** `kuma.io/service` of each `spec.conf.split[]` entry → its weight. */
export function splitWeights(obj: KubeObject): ReadonlyMap<string, number> {
  const conf = spec(obj)['conf'];
  const split = isRecord(conf) ? conf['split'] : undefined;
  const out = new Map<string, number>();
  if (!Array.isArray(split)) return out;
  for (const s of split) {
    if (!isRecord(s) || !isRecord(s['destination'])) continue;
    const service = s['destination'][SERVICE_TAG];
    if (typeof service === 'string') out.set(service, typeof s['weight'] === 'number' ? s['weight'] : 0);
  }
  return out;
}

/** `kuma.io/service` of every `spec.destinations[].match`. */
export function destinationServices(obj: KubeObject): string[] {
  const destinations = spec(obj)['destinations'];
  if (!Array.isArray(destinations)) return [];
  return destinations.flatMap((d) => {
    const service = isRecord(d) && isRecord(d['match']) ? d['match'][SERVICE_TAG] : undefined;
    return typeof service === 'string' ? [service] : [];
  });
}
