/** Minimal, client-independent shapes of Kubernetes objects as Fledge reads and writes them. */

/** `metadata.ownerReferences[]`: ties an object's lifetime to its owner (garbage collection). */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** The `metadata` Fledge reads and writes; timestamps are RFC 3339 strings, never `Date`s. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly finalizers?: readonly string[];
}

/** Any Kubernetes object. Fields beyond metadata stay `unknown` until a parser narrows them. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** Identifies a resource type: group/version plus kind (and its plural, used in URLs). */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Identifies one object. */
export interface ObjectKey {
  readonly namespace?: string;
  readonly name: string;
}

/** `namespace/name` (or `name` for cluster-scoped objects) of an object: the cache and queue key. */
export const keyOf = (o: { metadata: { namespace?: string; name: string } }): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

/** `namespace/name` (or `name` for cluster-scoped objects), the same format as {@link keyOf}. */
export const keyString = (k: ObjectKey): string => (k.namespace ? `${k.namespace}/${k.name}` : k.name);

/**
 * Orders two resourceVersions: negative when `a` is older than `b`, 0 when equal, positive when
 * newer; undefined when either is not a decimal integer. The API server's are etcd revisions,
 * which Kubernetes documents as comparable integers (KEP-5504); anything else stays opaque.
 */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
