/**
 * The defaults the API server fills into an HTTPRoute (from the v1.4.0 CRD's OpenAPI `default`s),
 * applied to raw JSON, so that a spec as Fledge writes it and as the cache returns it compare equal.
 * Pure; never throws; values of unexpected shape are left as they are.
 */
import {
  BACKEND_GROUP_DEFAULT,
  BACKEND_KIND_DEFAULT,
  BACKEND_WEIGHT_DEFAULT,
  PARENT_GROUP_DEFAULT,
  PARENT_KIND_DEFAULT,
} from './types.ts';

type Json = Record<string, unknown>;

function isObject(u: unknown): u is Json {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/** `defaults` overlaid with `value`'s own fields (an OpenAPI default applies only to absent fields). */
function withDefaults(value: unknown, defaults: Json): unknown {
  return isObject(value) ? { ...defaults, ...value } : value;
}

function mapArray(u: unknown, fn: (item: unknown) => unknown): unknown {
  return Array.isArray(u) ? u.map(fn) : u;
}

/** Sets `out[key]` to `fn(out[key])` when the key is present. */
function update(out: Json, key: string, fn: (value: unknown) => unknown): void {
  if (key in out) out[key] = fn(out[key]);
}

/** The match every rule has when it lists none: path prefix `/`. */
export const DEFAULT_PATH_MATCH = { type: 'PathPrefix', value: '/' } as const;

/** A ParentReference with its defaults (group `gateway.networking.k8s.io`, kind `Gateway`). */
export function parentRefWithDefaults(ref: unknown): unknown {
  return withDefaults(ref, { group: PARENT_GROUP_DEFAULT, kind: PARENT_KIND_DEFAULT });
}

function backendObjectWithDefaults(ref: unknown): unknown {
  return withDefaults(ref, { group: BACKEND_GROUP_DEFAULT, kind: BACKEND_KIND_DEFAULT });
}

function filterWithDefaults(filter: unknown): unknown {
  if (!isObject(filter)) return filter;
  const out: Json = { ...filter };
  update(out, 'requestMirror', (m) => {
    if (!isObject(m)) return m;
    const mirror: Json = { ...m };
    update(mirror, 'backendRef', backendObjectWithDefaults);
    update(mirror, 'fraction', (f) => withDefaults(f, { denominator: 100 }));
    return mirror;
  });
  update(out, 'requestRedirect', (r) => withDefaults(r, { statusCode: 302 }));
  return out;
}

function matchWithDefaults(match: unknown): unknown {
  if (!isObject(match)) return match;
  const out: Json = { ...match, path: withDefaults(match['path'] ?? {}, DEFAULT_PATH_MATCH) };
  const typed = (item: unknown): unknown => withDefaults(item, { type: 'Exact' });
  update(out, 'headers', (h) => mapArray(h, typed));
  update(out, 'queryParams', (q) => mapArray(q, typed));
  return out;
}

function backendRefWithDefaults(ref: unknown): unknown {
  if (!isObject(ref)) return ref;
  const out = withDefaults(ref, {
    group: BACKEND_GROUP_DEFAULT,
    kind: BACKEND_KIND_DEFAULT,
    weight: BACKEND_WEIGHT_DEFAULT,
  });
  if (isObject(out)) update(out, 'filters', (f) => mapArray(f, filterWithDefaults));
  return out;
}

function ruleWithDefaults(rule: unknown): unknown {
  if (!isObject(rule)) return rule;
  const out: Json = { ...rule };
  const matches = out['matches'];
  out['matches'] = Array.isArray(matches) && matches.length > 0 ? matches : [{ path: DEFAULT_PATH_MATCH }];
  update(out, 'matches', (m) => mapArray(m, matchWithDefaults));
  update(out, 'filters', (f) => mapArray(f, filterWithDefaults));
  update(out, 'backendRefs', (b) => mapArray(b, backendRefWithDefaults));
  return out;
}

/** Removes empty arrays everywhere (an absent list and an empty one mean the same). */
function dropEmptyLists(u: unknown): unknown {
  if (Array.isArray(u)) return u.map(dropEmptyLists);
  if (!isObject(u)) return u;
  const out: Json = {};
  for (const [k, v] of Object.entries(u)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = dropEmptyLists(v);
  }
  return out;
}

/**
 * An HTTPRoute spec (raw JSON) with the CRD defaults filled in and empty lists removed: parentRefs'
 * group/kind, each rule's default match, matches' path and header/query match type, backendRefs'
 * group/kind/weight, mirror backendRefs' group/kind, mirror fraction denominator, redirect status.
 */
export function normalizeRouteSpec(spec: unknown): unknown {
  if (!isObject(spec)) return spec;
  const out: Json = { ...spec };
  update(out, 'parentRefs', (p) => mapArray(p, parentRefWithDefaults));
  update(out, 'rules', (r) => mapArray(r, ruleWithDefaults));
  return dropEmptyLists(out);
}
