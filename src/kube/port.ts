import type { KubeObject, ObjectKey, ResourceType } from './objects.ts';

/** Options of a server-side apply. Fledge always applies with its own field manager. */
export interface ApplyOptions {
  /** Take ownership of fields another manager set (default true: Fledge owns what it applies). */
  readonly force?: boolean;
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
}

/** A Kubernetes Event to record on an object (`involvedObject`). */
export interface EventRecord {
  readonly involved: KubeObject;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * A local, watch-fed cache of one resource type. Reads never touch the API server.
 * Implementations restart their watch on any error, relist on 410 and resync periodically.
 */
export interface Informer {
  readonly type: ResourceType;
  /** Resolves once the first list has been loaded. */
  synced(): Promise<void>;
  get(key: ObjectKey): KubeObject | undefined;
  list(namespace?: string): readonly KubeObject[];
  /** Called for add, update and delete (with the last known object); returns an unsubscribe. */
  onChange(listener: (event: 'add' | 'update' | 'delete', obj: KubeObject) => void): () => void;
  stop(): void;
}

/**
 * The port through which all Kubernetes I/O goes. `src/kube/client.ts` implements it over
 * `@kubernetes/client-node`; `src/kube/fake.ts` implements it in memory for unit tests.
 *
 * Errors are the typed classes of `src/kube/errors.ts` (NotFoundError, ConflictError, …).
 * Objects returned are plain JSON (string timestamps), never shared with a cache: callers may mutate them.
 */
export interface KubeClient {
  /** GET from the API server; undefined when the object does not exist. */
  get(type: ResourceType, key: ObjectKey): Promise<KubeObject | undefined>;
  list(type: ResourceType, options?: ListOptions): Promise<KubeObject[]>;
  create(obj: KubeObject): Promise<KubeObject>;
  /** Server-side apply with field manager `fledge`. `obj` must carry apiVersion, kind and metadata.name. */
  apply(obj: KubeObject, options?: ApplyOptions): Promise<KubeObject>;
  /** JSON merge patch (RFC 7386) of the main resource; for objects Fledge does not own. */
  mergePatch(type: ResourceType, key: ObjectKey, patch: unknown): Promise<KubeObject>;
  /** JSON merge patch of the /status subresource. */
  patchStatus(type: ResourceType, key: ObjectKey, status: unknown): Promise<KubeObject>;
  /** Deletes; a missing object is not an error. */
  delete(type: ResourceType, key: ObjectKey): Promise<void>;
  /** Records a core/v1 Event with source component `fledge`; never throws (failures are logged). */
  recordEvent(event: EventRecord): Promise<void>;
  /** A started informer for the type (one per type and namespace scope; shared by callers). */
  informer(type: ResourceType, namespace?: string): Informer;
}

export const FIELD_MANAGER = 'fledge';
export const EVENT_SOURCE = 'fledge';
