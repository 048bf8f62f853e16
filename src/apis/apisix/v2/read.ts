/** Reads the HTTP rules of a cached ApisixRoute; rules or backends of another shape are skipped. */
import { isRecord, type JsonObject } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';

/** A backend as read: its service, port and weight (absent when the route sets none). */
export interface BackendView {
  readonly serviceName: string;
  readonly servicePort: number | string | undefined;
  readonly weight: number | undefined;
  readonly raw: JsonObject;
}

/** A rule as read: the raw JSON (to copy) and its backends. */
export interface RuleView {
  readonly name: string;
  readonly raw: JsonObject;
  readonly backends: readonly BackendView[];
}

function backend(u: unknown): BackendView[] {
  if (!isRecord(u) || typeof u['serviceName'] !== 'string') return [];
  const port = u['servicePort'];
  const weight = u['weight'];
  return [
    {
      serviceName: u['serviceName'],
      servicePort: typeof port === 'number' || typeof port === 'string' ? port : undefined,
      weight: typeof weight === 'number' ? weight : undefined,
      raw: u,
    },
  ];
}

/** `spec.http[]` of an ApisixRoute. */
export function httpRules(obj: KubeObject): RuleView[] {
  const spec = obj['spec'];
  const http = isRecord(spec) ? spec['http'] : undefined;
  if (!Array.isArray(http)) return [];
  return http.flatMap((r) => {
    if (!isRecord(r) || typeof r['name'] !== 'string') return [];
    const backends = Array.isArray(r['backends']) ? r['backends'].flatMap(backend) : [];
    return [{ name: r['name'], raw: r, backends }];
  });
}

/** The first rule with a backend on `service` (Flagger `getTargetHttpRoute`). */
export function ruleFor(obj: KubeObject, service: string): RuleView | undefined {
  return httpRules(obj).find((r) => r.backends.some((b) => b.serviceName === service));
}
