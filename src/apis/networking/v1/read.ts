/**
 * Narrows a cached Ingress (raw JSON) to {@link IngressSpec}. The API server has validated it, so
 * only the parts the routers walk (rules, paths, service backends) are checked; a malformed part
 * is an OperatorError naming the object, never a crash.
 */
import { OperatorError } from '../../../core/errors.ts';
import { isRecord } from '../../../kube/json.ts';
import type { KubeObject } from '../../../kube/objects.ts';
import { keyOf } from '../../../kube/objects.ts';
import type { HTTPIngressPath, IngressRule, IngressSpec } from './types.ts';

function malformed(obj: KubeObject, what: string): OperatorError {
  return new OperatorError(`Ingress ${keyOf(obj)}: malformed ${what}`);
}

function path(obj: KubeObject, u: unknown): HTTPIngressPath {
  if (!isRecord(u) || typeof u['pathType'] !== 'string' || !isRecord(u['backend'])) throw malformed(obj, 'path');
  const service = u['backend']['service'];
  if (service !== undefined && (!isRecord(service) || typeof service['name'] !== 'string')) {
    throw malformed(obj, 'service backend');
  }
  return structuredClone(u) as unknown as HTTPIngressPath;
}

function rule(obj: KubeObject, u: unknown): IngressRule {
  if (!isRecord(u)) throw malformed(obj, 'rule');
  const http = u['http'];
  if (http === undefined) return structuredClone(u);
  if (!isRecord(http) || !Array.isArray(http['paths'])) throw malformed(obj, 'rule http');
  return { ...structuredClone(u), http: { ...structuredClone(http), paths: http['paths'].map((p) => path(obj, p)) } };
}

/** A deep copy of the Ingress's spec (the caller may edit it). */
export function readIngressSpec(obj: KubeObject): IngressSpec {
  const spec = obj['spec'];
  if (spec === undefined) return {};
  if (!isRecord(spec)) throw malformed(obj, 'spec');
  const rules = spec['rules'];
  if (rules !== undefined && !Array.isArray(rules)) throw malformed(obj, 'rules');
  const copy = structuredClone(spec) as IngressSpec;
  return rules === undefined ? copy : { ...copy, rules: rules.map((r) => rule(obj, r)) };
}
