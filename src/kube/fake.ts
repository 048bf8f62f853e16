import { type Clock, systemClock } from '../core/clock.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.ts';
import { applyMergePatch, deepFreeze, formatTime, isRecord, jsonEqual, toKubeObject } from './json.ts';
import { type KubeObject, type ObjectKey, type ObjectMeta, type ResourceType, keyOf, keyString } from './objects.ts';
import type {
  ApplyOptions,
  EventRecord,
  Informer,
  InformerEvent,
  InformerHealth,
  KubeClient,
  ListOptions,
} from './port.ts';
import { Resources } from './resources.ts';
import { parseLabelSelector } from './selector.ts';

/** Write verbs FakeKube records. */
export type FakeWriteVerb = 'create' | 'apply' | 'patch' | 'patchStatus' | 'delete';

/** One write request made through the {@link KubeClient} port. */
export interface FakeAction {
  readonly verb: FakeWriteVerb;
  /** The object's kind, e.g. `Deployment`. */
  readonly type: string;
  readonly apiVersion: string;
  /** `namespace/name` (or `name`). */
  readonly key: string;
  /** What the caller sent: the object, the merge patch, `{ status }`, or undefined for delete. */
  readonly body: unknown;
}

/** Selects the calls {@link FakeKube.failOn} breaks; absent fields match anything. */
export interface FakeFailureMatch {
  readonly verb?: FakeWriteVerb | 'get' | 'list';
  readonly kind?: string;
  readonly key?: string;
}

/** Options of {@link FakeKube}. */
export interface FakeKubeOptions {
  /** Source of creation/deletion timestamps (default: the system clock). */
  readonly clock?: Clock;
}

interface FailureRule {
  readonly match: FakeFailureMatch;
  readonly error: Error;
  remaining: number;
}

type Listener = (event: InformerEvent, obj: KubeObject) => void;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const typeKeyOf = (t: { apiVersion: string; kind: string }): string => `${t.apiVersion}|${t.kind}`;

/** `deployments.apps` / `services`, as the API server names resources in its messages. */
function describe(apiVersion: string, kind: string): string {
  const known = Object.values(Resources).find((r) => r.apiVersion === apiVersion && r.kind === kind);
  const plural = known?.plural ?? `${kind.toLowerCase()}s`;
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : undefined;
  return group ? `${plural}.${group}` : plural;
}

/** Top-level fields that make up the "spec" for generation purposes (everything but metadata and status). */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = ({ metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest }: KubeObject): unknown => rest;
  return !jsonEqual(strip(a), strip(b));
}

/**
 * An in-memory {@link KubeClient} for unit tests, in the spirit of client-go's fake clientset.
 *
 * Semantics it shares with the API server: resourceVersion bumps on every effective write (no-op
 * writes keep it); generation starts at 1 and bumps only when something other than metadata or
 * status changes; `create` of an existing object throws AlreadyExistsError; `get` of a missing one
 * returns undefined, patches of a missing one throw NotFoundError; a `metadata.resourceVersion`
 * in a patch or apply is a precondition (ConflictError); writes to the main resource never change
 * `status` (as with a status subresource) and `patchStatus` changes only `status`; deleting an
 * object with finalizers only sets `deletionTimestamp`, and it goes away when the last finalizer is
 * patched out.
 *
 * Simplifications: `apply` replaces each top-level field it carries (labels and annotations are
 * merged) instead of tracking field managers; `recordEvent` appends to {@link events} and creates
 * no Event object.
 *
 * Test helpers ({@link upsert}, {@link setStatus}, {@link failOn}) act like other controllers or
 * the user and are not recorded in {@link actions}.
 */
export class FakeKube implements KubeClient {
  /** Every write made through the port, in order (failed ones included). */
  readonly actions: FakeAction[] = [];
  /** Every Event recorded through the port, in order. */
  readonly events: EventRecord[] = [];

  readonly #clock: Clock;
  readonly #store = new Map<string, Map<string, KubeObject>>();
  readonly #informers = new Map<string, FakeInformer>();
  readonly #failures: FailureRule[] = [];
  #resourceVersion = 0;
  #uid = 0;
  #paused = false;

  constructor(objects: readonly KubeObject[] = [], options: FakeKubeOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    for (const o of objects) this.upsert(o);
  }

  // ---- KubeClient ----

  get(type: ResourceType, key: ObjectKey): Promise<KubeObject | undefined> {
    return this.#run(() => {
      this.#maybeFail('get', type.kind, this.#key(type, key));
      const obj = this.#find(type, key);
      return obj === undefined ? undefined : structuredClone(obj);
    });
  }

  list(type: ResourceType, options: ListOptions = {}): Promise<KubeObject[]> {
    return this.#run(() => {
      this.#maybeFail('list', type.kind, options.namespace ?? '');
      const matches = parseLabelSelector(options.labelSelector ?? '');
      return this.#all(type)
        .filter(
          (o) => !type.namespaced || options.namespace === undefined || o.metadata.namespace === options.namespace,
        )
        .filter((o) => matches(o.metadata.labels))
        .map((o) => structuredClone(o));
    });
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.#run(() => {
      const key = keyOf(obj);
      this.#record('create', obj, key, obj);
      if (this.#store.get(typeKeyOf(obj))?.has(key)) {
        throw new AlreadyExistsError(
          `POST ${obj.kind} ${key}: ${describe(obj.apiVersion, obj.kind)} "${obj.metadata.name}" already exists`,
          409,
          'AlreadyExists',
        );
      }
      const { status: _ignored, ...rest } = structuredClone(obj);
      return structuredClone(this.#commit(this.#created(rest, false), undefined));
    });
  }

  apply(obj: KubeObject, _options?: ApplyOptions): Promise<KubeObject> {
    return this.#run(() => {
      const key = keyOf(obj);
      this.#record('apply', obj, key, obj);
      const prev = this.#store.get(typeKeyOf(obj))?.get(key);
      const { status: _ignored, metadata, ...fields } = structuredClone(obj);
      if (!prev) {
        return structuredClone(this.#commit(this.#created({ ...fields, metadata }, false), undefined));
      }
      this.#precondition(prev, metadata.resourceVersion);
      const next: KubeObject = {
        ...prev,
        ...fields,
        metadata: {
          ...prev.metadata,
          ...metadata,
          labels: { ...prev.metadata.labels, ...metadata.labels },
          annotations: { ...prev.metadata.annotations, ...metadata.annotations },
        },
      };
      return structuredClone(this.#update(prev, next));
    });
  }

  mergePatch(type: ResourceType, key: ObjectKey, patch: unknown): Promise<KubeObject> {
    return this.#run(() => {
      this.#record('patch', type, this.#key(type, key), patch);
      const prev = this.#mustFind(type, key, 'PATCH');
      const meta = isRecord(patch) && isRecord(patch['metadata']) ? patch['metadata'] : {};
      this.#precondition(prev, meta['resourceVersion']);
      const patched = toKubeObject(applyMergePatch(prev, patch), type);
      if (!patched) throw new Error('FakeKube: the patch removed metadata.name');
      // Status belongs to the /status subresource; the main resource ignores changes to it.
      const { status: _ignored, ...rest } = patched;
      const next: KubeObject = { ...rest, ...(prev['status'] === undefined ? {} : { status: prev['status'] }) };
      return structuredClone(this.#update(prev, next));
    });
  }

  patchStatus(type: ResourceType, key: ObjectKey, status: unknown): Promise<KubeObject> {
    return this.#run(() => {
      this.#record('patchStatus', type, this.#key(type, key), { status });
      const prev = this.#mustFind(type, key, 'PATCH');
      const merged = applyMergePatch(prev['status'] ?? {}, status);
      return structuredClone(this.#update(prev, { ...prev, status: merged }));
    });
  }

  delete(type: ResourceType, key: ObjectKey): Promise<void> {
    return this.#run(() => {
      this.#record('delete', type, this.#key(type, key), undefined);
      const prev = this.#find(type, key);
      if (!prev) return;
      if ((prev.metadata.finalizers?.length ?? 0) === 0) {
        this.#commit(undefined, prev);
      } else if (prev.metadata.deletionTimestamp === undefined) {
        this.#update(prev, {
          ...prev,
          metadata: { ...prev.metadata, deletionTimestamp: formatTime(this.#clock.now()) },
        });
      }
    });
  }

  recordEvent(event: EventRecord): Promise<void> {
    this.events.push(structuredClone(event));
    return Promise.resolve();
  }

  informer(type: ResourceType, namespace?: string): Informer {
    const scope = type.namespaced ? namespace : undefined;
    const id = `${typeKeyOf(type)}|${scope ?? ''}`;
    let informer = this.#informers.get(id);
    if (!informer) {
      informer = new FakeInformer({
        type,
        scope,
        all: () => this.#all(type),
        now: () => this.#clock.now(),
        onStop: () => this.#informers.delete(id),
      });
      this.#informers.set(id, informer);
      if (this.#paused) informer.pause();
    }
    return informer;
  }

  // ---- test helpers ----

  /**
   * Creates or replaces an object as another actor would (status included); bumps resourceVersion
   * and, when the spec changed, generation; notifies informers. Not recorded in {@link actions}.
   */
  upsert(obj: KubeObject): KubeObject {
    const prev = this.#store.get(typeKeyOf(obj))?.get(keyOf(obj));
    const copy = structuredClone(obj);
    if (!prev) return structuredClone(this.#commit(this.#created(copy, true), undefined, false));
    const next: KubeObject = {
      ...copy,
      metadata: {
        ...copy.metadata,
        ...(prev.metadata.uid === undefined ? {} : { uid: prev.metadata.uid }),
        ...(prev.metadata.creationTimestamp === undefined
          ? {}
          : { creationTimestamp: prev.metadata.creationTimestamp }),
      },
    };
    return structuredClone(this.#update(prev, next, true));
  }

  /** Replaces the status of an existing object (e.g. to make a Deployment ready); not recorded. */
  setStatus(type: ResourceType, key: ObjectKey, status: unknown): KubeObject {
    const prev = this.#mustFind(type, key, 'setStatus');
    return structuredClone(this.#update(prev, { ...prev, status: structuredClone(status) }, true));
  }

  /** The stored object (frozen), without recording anything; undefined when absent. */
  peek(type: ResourceType, key: ObjectKey): KubeObject | undefined {
    return this.#find(type, key);
  }

  /**
   * Makes every informer lag as a watch that is down does (e.g. backing off after an API server
   * restart): they keep serving what they held, plus Fledge's own writes through the port (the
   * real client writes those through into its caches), but no change made by others
   * ({@link upsert}, {@link setStatus}) until {@link resumeWatches}.
   */
  pauseWatches(): void {
    this.#paused = true;
    for (const informer of this.#informers.values()) informer.pause();
  }

  /** Ends {@link pauseWatches}: informers catch up, reporting what changed meanwhile. */
  resumeWatches(): void {
    this.#paused = false;
    for (const informer of this.#informers.values()) informer.resume();
  }

  /** Makes the next `times` matching calls throw `error` (before they change anything). */
  failOn(match: FakeFailureMatch, error: Error, times = 1): void {
    this.#failures.push({ match, error, remaining: times });
  }

  /** The recorded writes, optionally only those of one verb and/or kind. */
  writes(filter: { verb?: FakeWriteVerb; type?: string } = {}): FakeAction[] {
    return this.actions.filter(
      (a) =>
        (filter.verb === undefined || a.verb === filter.verb) && (filter.type === undefined || a.type === filter.type),
    );
  }

  /** Forgets recorded actions and events (e.g. after a test's setup phase). */
  clearActions(): void {
    this.actions.length = 0;
    this.events.length = 0;
  }

  // ---- internals ----

  /** Runs synchronously, but answers like the real client: a promise, rejected on error. */
  #run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #key(type: ResourceType, key: ObjectKey): string {
    return type.namespaced ? keyString(key) : key.name;
  }

  #find(type: ResourceType, key: ObjectKey): KubeObject | undefined {
    return this.#store.get(typeKeyOf(type))?.get(this.#key(type, key));
  }

  #mustFind(type: ResourceType, key: ObjectKey, verb: string): KubeObject {
    const obj = this.#find(type, key);
    if (!obj) {
      throw new NotFoundError(
        `${verb} ${type.kind} ${this.#key(type, key)}: ${describe(type.apiVersion, type.kind)} "${key.name}" not found`,
        404,
        'NotFound',
      );
    }
    return obj;
  }

  #all(type: { apiVersion: string; kind: string }): KubeObject[] {
    return [...(this.#store.get(typeKeyOf(type))?.values() ?? [])];
  }

  #record(verb: FakeWriteVerb, type: { apiVersion: string; kind: string }, key: string, body: unknown): void {
    this.actions.push({ verb, type: type.kind, apiVersion: type.apiVersion, key, body: structuredClone(body) });
    this.#maybeFail(verb, type.kind, key);
  }

  #maybeFail(verb: FakeWriteVerb | 'get' | 'list', kind: string, key: string): void {
    const rule = this.#failures.find(
      (r) =>
        r.remaining > 0 &&
        (r.match.verb === undefined || r.match.verb === verb) &&
        (r.match.kind === undefined || r.match.kind === kind) &&
        (r.match.key === undefined || r.match.key === key),
    );
    if (!rule) return;
    rule.remaining--;
    throw rule.error;
  }

  #precondition(prev: KubeObject, resourceVersion: unknown): void {
    if (typeof resourceVersion === 'string' && resourceVersion !== prev.metadata.resourceVersion) {
      throw new ConflictError(
        `${prev.kind} ${keyOf(prev)}: Operation cannot be fulfilled on ${describe(prev.apiVersion, prev.kind)} ` +
          `"${prev.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        409,
        'Conflict',
      );
    }
  }

  #nextResourceVersion(): string {
    return String(++this.#resourceVersion);
  }

  /** Stamps identity fields on a new object; seeds (`keepIdentity`) may bring their own uid and timestamps. */
  #created(obj: KubeObject, keepIdentity: boolean): KubeObject {
    const n = ++this.#uid;
    const meta: Mutable<ObjectMeta> = { ...obj.metadata };
    if (!keepIdentity) {
      delete meta.uid;
      delete meta.creationTimestamp;
      delete meta.deletionTimestamp;
    }
    meta.uid ??= `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    meta.creationTimestamp ??= formatTime(this.#clock.now());
    meta.generation = 1;
    meta.resourceVersion = this.#nextResourceVersion();
    return { ...obj, metadata: meta };
  }

  /**
   * Stores `next` in place of `prev` unless nothing changed. Identity fields are kept from `prev`
   * unless `trusted` (test helpers may set them); the last finalizer removed from a deleted object
   * removes the object.
   */
  #update(prev: KubeObject, next: KubeObject, trusted = false): KubeObject {
    const meta: Mutable<ObjectMeta> = { ...next.metadata };
    if (!trusted) {
      meta.name = prev.metadata.name;
      if (prev.metadata.namespace === undefined) delete meta.namespace;
      else meta.namespace = prev.metadata.namespace;
      if (prev.metadata.uid !== undefined) meta.uid = prev.metadata.uid;
      if (prev.metadata.creationTimestamp !== undefined) meta.creationTimestamp = prev.metadata.creationTimestamp;
      if (prev.metadata.deletionTimestamp !== undefined) meta.deletionTimestamp = prev.metadata.deletionTimestamp;
    }
    for (const k of ['labels', 'annotations'] as const) if (Object.keys(meta[k] ?? {}).length === 0) delete meta[k];
    meta.resourceVersion = prev.metadata.resourceVersion ?? '';
    meta.generation = prev.metadata.generation ?? 1;
    const candidate: KubeObject = { ...next, apiVersion: prev.apiVersion, kind: prev.kind, metadata: meta };
    if (jsonEqual(candidate, prev)) return prev;
    if (specChanged(prev, candidate)) meta.generation = (prev.metadata.generation ?? 0) + 1;
    meta.resourceVersion = this.#nextResourceVersion();
    if (meta.deletionTimestamp !== undefined && (meta.finalizers?.length ?? 0) === 0) {
      this.#commit(undefined, prev, !trusted);
      return candidate;
    }
    return this.#commit(candidate, prev, !trusted);
  }

  /**
   * Stores (or with `next` undefined, removes) and notifies informers synchronously. `own` marks a
   * write through the port, which paused informers still see (write-through, as the real client).
   */
  #commit(next: KubeObject | undefined, prev: KubeObject | undefined, own = true): KubeObject {
    const obj = next ?? prev;
    if (!obj) throw new Error('FakeKube: nothing to commit');
    const typeKey = typeKeyOf(obj);
    const key = keyOf(obj);
    let objects = this.#store.get(typeKey);
    if (!objects) {
      objects = new Map();
      this.#store.set(typeKey, objects);
    }
    const frozen = deepFreeze(structuredClone(obj));
    if (next) objects.set(key, frozen);
    else objects.delete(key);
    const event: InformerEvent = !next ? 'delete' : prev ? 'update' : 'add';
    for (const informer of [...this.#informers.values()]) {
      if (typeKeyOf(informer.type) === typeKey) informer.notify(event, frozen, own);
    }
    return frozen;
  }
}

interface FakeInformerOptions {
  readonly type: ResourceType;
  readonly scope: string | undefined;
  readonly all: () => KubeObject[];
  readonly now: () => number;
  readonly onStop: () => void;
}

/**
 * An informer over FakeKube's store: always synced, notified synchronously on every write. While
 * paused it serves its own copy, which only writes through the port reach.
 */
class FakeInformer implements Informer {
  readonly type: ResourceType;
  readonly #options: FakeInformerOptions;
  readonly #listeners = new Set<Listener>();
  #stopped = false;
  #lastEventAt: number;
  #held: Map<string, KubeObject> | undefined;

  constructor(options: FakeInformerOptions) {
    this.type = options.type;
    this.#options = options;
    this.#lastEventAt = options.now();
  }

  synced(): Promise<void> {
    return Promise.resolve();
  }

  get(key: ObjectKey): KubeObject | undefined {
    const namespace = this.type.namespaced ? (key.namespace ?? this.#options.scope) : undefined;
    return this.#visible().find((o) => o.metadata.name === key.name && o.metadata.namespace === namespace);
  }

  list(namespace?: string): readonly KubeObject[] {
    return this.#visible().filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }

  onChange(listener: Listener): () => void {
    const entry: Listener = (event, obj) => listener(event, obj);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  health(): InformerHealth {
    return {
      synced: true,
      watching: !this.#stopped,
      lastEventAt: this.#lastEventAt,
      lastListAt: this.#lastEventAt,
      consecutiveFailures: 0,
      lastError: undefined,
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#options.onStop();
  }

  /** Called by FakeKube after each write of this type; `own` when made through the port. */
  notify(event: InformerEvent, obj: KubeObject, own: boolean): void {
    if (this.#stopped || !this.#inScope(obj)) return;
    if (this.#held) {
      if (!own) return;
      if (event === 'delete') this.#held.delete(keyOf(obj));
      else this.#held.set(keyOf(obj), obj);
    }
    this.#emit(event, obj);
  }

  pause(): void {
    this.#held ??= new Map(this.#live().map((o) => [keyOf(o), o]));
  }

  resume(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    const live = new Map(this.#live().map((o) => [keyOf(o), o]));
    for (const [key, old] of held) if (!live.has(key)) this.#emit('delete', old);
    for (const [key, obj] of live) {
      const old = held.get(key);
      if (old?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emit(old ? 'update' : 'add', obj);
    }
  }

  #emit(event: InformerEvent, obj: KubeObject): void {
    this.#lastEventAt = this.#options.now();
    for (const listener of [...this.#listeners]) {
      try {
        listener(event, obj);
      } catch (err) {
        // The write itself succeeded; surface the listener's bug as an uncaught error in the test run.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  #inScope(o: KubeObject): boolean {
    return this.#options.scope === undefined || o.metadata.namespace === this.#options.scope;
  }

  #visible(): KubeObject[] {
    return this.#held ? [...this.#held.values()] : this.#live();
  }

  #live(): KubeObject[] {
    return this.#options.all().filter((o) => this.#inScope(o));
  }
}
