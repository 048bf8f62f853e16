import type { KubeObject, ObjectKey, ResourceType } from './objects.ts';

/** Options of a server-side apply. Fledge always applies with its own field manager. */
export interface ApplyOptions {
  /** Take ownership of fields another manager set (default true: Fledge owns what it applies). */
  readonly force?: boolean;
}

/** Filters of {@link KubeClient.list}. */
export interface ListOptions {
  /** Only this namespace; all namespaces when absent (for namespaced types). */
  readonly namespace?: string;
  /** Equality- or set-based label selector, e.g. `app=podinfo,tier!=db`. */
  readonly labelSelector?: string;
}

/** A Kubernetes Event to record on an object (`involvedObject`). */
export interface EventRecord {
  readonly involved: KubeObject;
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable (`Synced`, `Promoting`…). */
  readonly reason: string;
  readonly message: string;
  /** What was done (core/v1 `action`, required with `eventTime`); defaults to `reason`. */
  readonly action?: string;
}

/** What an informer knows about its own liveness; for `/healthz`. */
export interface InformerHealth {
  /** The first list has completed. */
  readonly synced: boolean;
  /** A watch is currently open (false while backing off after an error). */
  readonly watching: boolean;
  /** Epoch ms of the last sign of life from the API server (list, watch opened, watch event). */
  readonly lastEventAt: number | undefined;
  /** Epoch ms of the last successful full list (first sync or resync). */
  readonly lastListAt: number | undefined;
  /** Failed lists or watches since the last success. */
  readonly consecutiveFailures: number;
  /** Message of the last failure, if any. */
  readonly lastError: string | undefined;
}

/** The kind of change an informer reports. */
export type InformerEvent = 'add' | 'update' | 'delete';

/**
 * A local, watch-fed cache of one resource type. Reads never touch the API server.
 * Implementations restart their watch on any error, relist on 410 and resync periodically.
 *
 * Objects handed out (by `get`, `list` and to listeners) are deeply frozen and shared with the
 * cache: `structuredClone` them before editing.
 */
export interface Informer {
  readonly type: ResourceType;
  /** Resolves once the first list has been loaded; rejects if the informer is stopped before. */
  synced(): Promise<void>;
  get(key: ObjectKey): KubeObject | undefined;
  list(namespace?: string): readonly KubeObject[];
  /**
   * Called for add, update and delete (with the last known object); returns an unsubscribe.
   * `update` fires only when the resourceVersion changed. Listener errors are logged, not rethrown.
   */
  onChange(listener: (event: InformerEvent, obj: KubeObject) => void): () => void;
  /** Liveness data for health checks. */
  health(): InformerHealth;
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
  /**
   * JSON merge patch (RFC 7386) of the main resource; for objects Fledge does not own.
   * A `metadata.resourceVersion` in the patch makes it conditional: ConflictError when stale.
   */
  mergePatch(type: ResourceType, key: ObjectKey, patch: unknown): Promise<KubeObject>;
  /**
   * JSON merge patch of the /status subresource. `status` is the new (partial) status, sent as
   * `{ status }`; `null` values delete fields.
   */
  patchStatus(type: ResourceType, key: ObjectKey, status: unknown): Promise<KubeObject>;
  /** Deletes; a missing object is not an error. */
  delete(type: ResourceType, key: ObjectKey): Promise<void>;
  /** Records a core/v1 Event with source component `fledge`; never throws (failures are logged). */
  recordEvent(event: EventRecord): Promise<void>;
  /** A started informer for the type (one per type and namespace scope; shared by callers). */
  informer(type: ResourceType, namespace?: string): Informer;
}

/** Field manager of every write (server-side apply ownership, `managedFields`). */
export const FIELD_MANAGER = 'fledge';
/** `source.component` and `reportingComponent` of the Events Fledge records. */
export const EVENT_SOURCE = 'fledge';
