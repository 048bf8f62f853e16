/**
 * Narrows a cached HTTPRoute (raw JSON) to the few fields a router reads back: parent references,
 * the backends and mirror filters of each rule, and the parents' conditions. Lenient: an entry of
 * unexpected shape is skipped, never thrown on, because the object has passed the API server's
 * validation and other controllers own its status.
 */
import type { KubeObject } from '../../../kube/objects.ts';
import { parentRefWithDefaults } from './defaults.ts';
import type { ParentReference } from './types.ts';
import { BACKEND_WEIGHT_DEFAULT } from './types.ts';

type Json = Record<string, unknown>;

function isObject(u: unknown): u is Json {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

function objects(u: unknown): Json[] {
  return Array.isArray(u) ? u.filter(isObject) : [];
}

const str = (u: unknown): string | undefined => (typeof u === 'string' ? u : undefined);
const int = (u: unknown): number | undefined => (typeof u === 'number' && Number.isInteger(u) ? u : undefined);

/** One backend of a rule. */
export interface BackendView {
  readonly name: string;
  /** With the CRD default (1) when absent. */
  readonly weight: number;
  /** Number of backend-level filters. */
  readonly filters: number;
  /** Values of the `Set-Cookie` headers its ResponseHeaderModifier filters add (session affinity). */
  readonly setCookies: readonly string[];
}

/** One rule: its backends and the names of the backends its RequestMirror filters target. */
export interface RuleView {
  readonly backends: readonly BackendView[];
  readonly mirrors: readonly string[];
  /** Values of the `Set-Cookie` headers the rule's ResponseHeaderModifier filters add. */
  readonly setCookies: readonly string[];
}

/** One condition of a parent's status. */
export interface ConditionView {
  readonly type: string;
  readonly status: string;
  readonly observedGeneration?: number;
}

/** One `status.parents[]` entry. */
export interface ParentStatusView {
  /** With the CRD defaults filled in. */
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly ConditionView[];
}

/** What routers read back from an HTTPRoute. */
export interface HttpRouteView {
  readonly generation: number | undefined;
  /** With the CRD defaults filled in. */
  readonly parentRefs: readonly ParentReference[];
  readonly rules: readonly RuleView[];
  readonly parents: readonly ParentStatusView[];
}

function parentRef(u: unknown): ParentReference | undefined {
  const ref = parentRefWithDefaults(u);
  if (!isObject(ref)) return undefined;
  const name = str(ref['name']);
  if (name === undefined) return undefined;
  const group = str(ref['group']);
  const kind = str(ref['kind']);
  const namespace = str(ref['namespace']);
  const sectionName = str(ref['sectionName']);
  const port = int(ref['port']);
  return {
    name,
    ...(group === undefined ? {} : { group }),
    ...(kind === undefined ? {} : { kind }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(sectionName === undefined ? {} : { sectionName }),
    ...(port === undefined ? {} : { port }),
  };
}

/** The values of the `Set-Cookie` headers that the ResponseHeaderModifier filters among `filters` add. */
function setCookies(filters: unknown): string[] {
  return objects(filters).flatMap((f) => {
    const modifier = f['type'] === 'ResponseHeaderModifier' ? f['responseHeaderModifier'] : undefined;
    if (!isObject(modifier)) return [];
    return objects(modifier['add']).flatMap((h) => {
      const name = str(h['name']);
      const value = str(h['value']);
      return name?.toLowerCase() === 'set-cookie' && value !== undefined ? [value] : [];
    });
  });
}

function rule(u: Json): RuleView {
  const backends = objects(u['backendRefs']).flatMap((b): BackendView[] => {
    const name = str(b['name']);
    if (name === undefined) return [];
    const weight = int(b['weight']) ?? BACKEND_WEIGHT_DEFAULT;
    return [{ name, weight, filters: objects(b['filters']).length, setCookies: setCookies(b['filters']) }];
  });
  const mirrors = objects(u['filters']).flatMap((f) => {
    if (f['type'] !== 'RequestMirror') return [];
    const mirror = f['requestMirror'];
    const name = isObject(mirror) && isObject(mirror['backendRef']) ? str(mirror['backendRef']['name']) : undefined;
    return name === undefined ? [] : [name];
  });
  return { backends, mirrors, setCookies: setCookies(u['filters']) };
}

function parentStatus(u: Json): ParentStatusView[] {
  const ref = parentRef(u['parentRef']);
  if (ref === undefined) return [];
  const conditions = objects(u['conditions']).flatMap((c): ConditionView[] => {
    const type = str(c['type']);
    const status = str(c['status']);
    if (type === undefined || status === undefined) return [];
    const observedGeneration = int(c['observedGeneration']);
    return [{ type, status, ...(observedGeneration === undefined ? {} : { observedGeneration }) }];
  });
  return [{ parentRef: ref, controllerName: str(u['controllerName']) ?? '', conditions }];
}

/** The router-relevant view of an HTTPRoute object. */
export function readHttpRoute(obj: KubeObject): HttpRouteView {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const status = isObject(obj['status']) ? obj['status'] : {};
  return {
    generation: obj.metadata.generation,
    parentRefs: (Array.isArray(spec['parentRefs']) ? spec['parentRefs'] : []).flatMap((p: unknown) => {
      const ref = parentRef(p);
      return ref === undefined ? [] : [ref];
    }),
    rules: objects(spec['rules']).map(rule),
    parents: objects(status['parents']).flatMap(parentStatus),
  };
}
