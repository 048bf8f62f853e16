import type { Watch } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.ts';
import { type Clock, type Timer, jittered, systemClock } from '../core/clock.ts';
import { KubeApiError } from './errors.ts';
import { deepFreeze, isRecord, toKubeObject } from './json.ts';
import {
  type KubeObject,
  type ObjectKey,
  type ResourceType,
  compareResourceVersions,
  keyOf,
  keyString,
} from './objects.ts';
import { FIELD_MANAGER, type Informer, type InformerEvent, type InformerHealth } from './port.ts';

/** One event of a watch stream, as the API server sends it (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`). */
export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

/** A consistent snapshot of a collection. */
export interface ListResult {
  readonly items: readonly unknown[];
  /** The collection's resourceVersion, where the next watch starts. */
  readonly resourceVersion: string;
}

/** An open watch. */
export interface WatchHandle {
  abort(): void;
}

/** Arguments of {@link ListWatchSource.watch}. */
export interface WatchRequest {
  readonly resourceVersion: string;
  readonly onEvent: (event: WatchEvent) => void;
  /** Called once when the stream ends: `null` for a normal close, else the error. */
  readonly onDone: (err: unknown) => void;
}

/** Where an informer gets its data: list and watch of one collection. Tests substitute their own. */
export interface ListWatchSource {
  list(): Promise<ListResult>;
  /** Resolves once the stream is open (or has already failed through `onDone`). */
  watch(request: WatchRequest): Promise<WatchHandle>;
}

/**
 * Tells informers when the API server answers again, so that one backing off after an outage
 * retries at once instead of sleeping out its backoff (up to 30 s). One probe serves every informer
 * of a client (see `ServerProbe`).
 */
export interface ServerReachability {
  /** Calls `onUp` once, as soon as the API server is seen answering; returns a cancel function. */
  whenReachable(onUp: () => void): () => void;
}

/** Tuning of a {@link WatchInformer}; every field has a production default. */
export interface InformerTuning {
  /** Full relist period that repairs drift from missed events; 0 disables (default 5 min). */
  readonly resyncMs?: number;
  /** First restart delay after an error (default 1 s); doubles per failure. */
  readonly backoffInitialMs?: number;
  /** Restart delay cap (default 30 s). */
  readonly backoffMaxMs?: number;
  /** A watch that ends sooner than this without an event counts as a failure (default 1 s). */
  readonly minWatchMs?: number;
}

/** Options of {@link WatchInformer}. */
export interface WatchInformerOptions extends InformerTuning {
  readonly type: ResourceType;
  /** Namespace scope; all namespaces when absent. */
  readonly namespace?: string;
  readonly source: ListWatchSource;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Random source for backoff jitter (tests pin it). */
  readonly random?: () => number;
  /** Called once by `stop()`; the client uses it to forget a shared informer. */
  readonly onStop?: () => void;
  /** Wakes the informer from a backoff when the API server answers again. */
  readonly reachability?: ServerReachability;
}

type Listener = (event: InformerEvent, obj: KubeObject) => void;

/** One list-then-watch cycle; callbacks of a superseded session are ignored. */
interface Session {
  readonly openedAt: number;
  /** The session began with a list; its watch starts from that list's resourceVersion. */
  listed: boolean;
  handle: WatchHandle | undefined;
  done: boolean;
  events: number;
  gone: boolean;
  error: unknown;
}

const isGone = (err: unknown): boolean =>
  isRecord(err) && (err['statusCode'] === 410 || err['code'] === 410 || err['status'] === 410);

const isTimeout = (err: unknown): boolean => err instanceof Error && err.name === 'TimeoutError';

/** The HTTP status of a failed list or watch (our KubeApiError or client-node's watch error), if any. */
function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  if (!isRecord(err)) return undefined;
  const code = err['statusCode'] ?? err['code'];
  // DOMException (e.g. a TimeoutError) has a small numeric `code` of its own.
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** True when `obj` is known to be newer than `resourceVersion`. */
function isNewer(obj: KubeObject, resourceVersion: string | undefined): boolean {
  return (compareResourceVersions(obj.metadata.resourceVersion, resourceVersion) ?? 0) > 0;
}

/**
 * True when a failure says the API server is down or overloaded (no answer, 5xx, 429), so that
 * retrying is worth it as soon as it answers again; a 4xx such as 403 is not cured by that.
 */
function waitsForServer(err: unknown): boolean {
  const status = httpStatusOf(err);
  return status === undefined || status >= 500 || status === 429;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * An {@link Informer} built on our own list + watch loop, so that every failure path is ours:
 *
 * - any list or watch error restarts the loop after a jittered exponential backoff (1 s → 30 s,
 *   reset by the next event or successful list); client-node's `ListWatch` stops for good on a
 *   non-410 error and resolves `start()` even when its list fails;
 * - 410 Gone (on open or as an `ERROR` event) relists at once; objects missing from the new list
 *   are reported as deleted;
 * - a periodic full relist (resync) reports drift as update/delete events;
 * - objects are normalized to plain JSON (client-node's typed lists return `Date`s, its watch
 *   raw strings), stamped with apiVersion/kind, and deeply frozen before they enter the cache.
 *
 * Only one step (list or watch) runs at a time and only one restart timer exists, so a flapping
 * connection cannot start a storm of watches.
 */
export class WatchInformer implements Informer {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly #source: ListWatchSource;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #resyncMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #minWatchMs: number;
  readonly #onStop: (() => void) | undefined;
  readonly #reachability: ServerReachability | undefined;

  readonly #objects = new Map<string, KubeObject>();
  readonly #listeners = new Set<Listener>();
  #resourceVersion = '';
  #session: Session | undefined;
  #timer: Timer | undefined;
  /** Whether the pending `#timer` step relists. */
  #timerRelists = false;
  /** Cancels the pending wake-up registration while backing off. */
  #cancelWake: (() => void) | undefined;
  #resyncTimer: Timer | undefined;
  #started = false;
  #stopped = false;
  #failures = 0;
  #lastError: string | undefined;
  #lastEventAt: number | undefined;
  #lastListAt: number | undefined;
  #synced = false;
  readonly #syncedPromise: Promise<void>;
  #resolveSynced: () => void = () => undefined;
  #rejectSynced: (err: Error) => void = () => undefined;

  constructor(options: WatchInformerOptions) {
    this.type = options.type;
    this.namespace = options.namespace;
    this.#source = options.source;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#resyncMs = options.resyncMs ?? 5 * 60_000;
    this.#backoffInitialMs = options.backoffInitialMs ?? 1_000;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.#minWatchMs = options.minWatchMs ?? 1_000;
    this.#onStop = options.onStop;
    this.#reachability = options.reachability;
    this.#log = options.log.child({
      informer: options.type.plural,
      apiVersion: options.type.apiVersion,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    });
    this.#syncedPromise = new Promise<void>((resolve, reject) => {
      this.#resolveSynced = resolve;
      this.#rejectSynced = reject;
    });
    // Nobody may ever await synced(); a rejection on stop() must not become an unhandled one.
    this.#syncedPromise.catch(() => undefined);
  }

  /** Starts listing and watching. Idempotent; a stopped informer cannot be restarted. */
  start(): this {
    if (this.#started || this.#stopped) return this;
    this.#started = true;
    this.#schedule(true, 0);
    this.#armResync();
    return this;
  }

  synced(): Promise<void> {
    return this.#syncedPromise;
  }

  get(key: ObjectKey): KubeObject | undefined {
    const namespace = this.type.namespaced ? (key.namespace ?? this.namespace) : undefined;
    return this.#objects.get(keyString(namespace === undefined ? { name: key.name } : { namespace, name: key.name }));
  }

  list(namespace?: string): readonly KubeObject[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  onChange(listener: Listener): () => void {
    // Wrap so the same function can be registered twice and unsubscribed independently.
    const entry: Listener = (event, obj) => listener(event, obj);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Write-through: puts an object as the API server answered a write into the cache, unless the
   * cache already holds that version or a newer one, and reports it to listeners like a watch
   * event. Reads after Fledge's own write therefore never see an older object, even while the watch
   * lags or is down (e.g. backing off after an API server restart); later watch events and lists
   * older than it are ignored for that object. Objects out of this informer's scope are ignored.
   */
  observe(written: unknown): void {
    if (this.#stopped) return;
    const obj = this.#normalize(written);
    if (!obj || (this.namespace !== undefined && obj.metadata.namespace !== this.namespace)) return;
    // A deleted object whose last finalizer this write removed is gone from the server already.
    const gone = obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers?.length ?? 0) === 0;
    if (gone) this.#remove(keyOf(obj), obj);
    else this.#upsert(obj);
  }

  health(): InformerHealth {
    return {
      synced: this.#synced,
      watching: this.#session?.handle !== undefined && !this.#session.done,
      lastEventAt: this.#lastEventAt,
      lastListAt: this.#lastListAt,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
    };
  }

  /** Forces a full relist now (as the periodic resync does). */
  resync(): void {
    if (this.#started && !this.#stopped) this.#schedule(true, 0);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#resyncTimer?.cancel();
    this.#stopWaiting();
    this.#closeSession();
    if (!this.#synced) this.#rejectSynced(new Error(`informer for ${this.type.plural} stopped before it synced`));
    this.#onStop?.();
  }

  #armResync(): void {
    if (this.#resyncMs <= 0) return;
    this.#resyncTimer = this.#clock.setTimeout(
      () => {
        if (this.#stopped) return;
        this.#log.debug('periodic resync');
        this.#schedule(true, 0);
        this.#armResync();
      },
      jittered(this.#resyncMs, 0.2, this.#random),
    );
  }

  /** Replaces any pending restart with one step after `delayMs`. */
  #schedule(relist: boolean, delayMs: number): void {
    this.#timer?.cancel();
    this.#timerRelists = relist;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#step(relist);
    }, delayMs);
  }

  #closeSession(): void {
    const session = this.#session;
    this.#session = undefined;
    if (session && !session.done) {
      session.done = true;
      session.handle?.abort();
    }
  }

  #backoff(): number {
    const base = Math.min(this.#backoffMaxMs, this.#backoffInitialMs * 2 ** Math.max(0, this.#failures - 1));
    return Math.min(this.#backoffMaxMs, jittered(base, 0.4, this.#random));
  }

  /**
   * Counts a failed list or watch and schedules the next attempt: after the exponential backoff,
   * except that a 429 (e.g. "storage is (re)initializing" while the API server's watch cache
   * starts) is retried after the initial delay, as the server asks. A failure that says the server
   * is down or overloaded also waits for it to answer again, which cuts the backoff short.
   */
  #retryAfterFailure(what: string, err: unknown, relist: boolean): void {
    this.#failures++;
    this.#lastError = `${what}: ${errorMessage(err)}`;
    const delayMs = httpStatusOf(err) === 429 ? jittered(this.#backoffInitialMs, 0.4, this.#random) : this.#backoff();
    this.#log.warn(`${what} failed; retrying`, {
      error: err,
      failures: this.#failures,
      retryInMs: Math.round(delayMs),
    });
    this.#schedule(relist, delayMs);
    if (this.#reachability && this.#cancelWake === undefined && waitsForServer(err)) {
      this.#cancelWake = this.#reachability.whenReachable(() => this.#wake());
    }
  }

  /** The API server answers again: a pending backoff becomes an immediate retry, counted afresh. */
  #wake(): void {
    this.#cancelWake = undefined;
    if (this.#stopped || this.#timer === undefined || this.#failures === 0) return;
    this.#log.info('API server answers again; retrying now', { failures: this.#failures });
    this.#failures = 0;
    this.#schedule(this.#timerRelists, 0);
  }

  /** A list or watch event succeeded: failures are over. */
  #recovered(): void {
    this.#failures = 0;
    this.#stopWaiting();
  }

  #stopWaiting(): void {
    this.#cancelWake?.();
    this.#cancelWake = undefined;
  }

  async #step(relist: boolean): Promise<void> {
    if (this.#stopped) return;
    this.#closeSession();
    const session: Session = {
      openedAt: this.#clock.now(),
      listed: false,
      handle: undefined,
      done: false,
      events: 0,
      gone: false,
      error: undefined,
    };
    this.#session = session;
    const current = (): boolean => this.#session === session && !this.#stopped;
    if (relist || this.#resourceVersion === '') {
      try {
        const result = await this.#source.list();
        if (!current()) return;
        this.#replaceAll(result);
        session.listed = true;
      } catch (err) {
        if (!current()) return;
        this.#retryAfterFailure('list', err, true);
        return;
      }
    }
    await this.#openWatch(session, current);
  }

  async #openWatch(session: Session, current: () => boolean): Promise<void> {
    try {
      const handle = await this.#source.watch({
        resourceVersion: this.#resourceVersion,
        onEvent: (event) => {
          if (current() && !session.done) this.#onEvent(session, event);
        },
        onDone: (err) => {
          if (current() && !session.done) this.#onWatchEnd(session, err);
        },
      });
      if (!current() || session.done) {
        handle.abort();
        return;
      }
      session.handle = handle;
      this.#lastEventAt = this.#clock.now();
    } catch (err) {
      if (current() && !session.done) this.#onWatchEnd(session, err);
    }
  }

  #onEvent(session: Session, event: WatchEvent): void {
    if (event.type === 'ERROR') {
      // The server sends a Status and then closes; end the session now rather than trusting it to.
      const status = isRecord(event.object) ? event.object : {};
      if (status['code'] === 410) session.gone = true;
      else {
        const code = typeof status['code'] === 'number' ? status['code'] : 500;
        const reason = typeof status['reason'] === 'string' ? status['reason'] : '';
        const message = typeof status['message'] === 'string' ? status['message'] : 'watch ERROR event';
        session.error = new KubeApiError(message, code, reason);
      }
      this.#onWatchEnd(session, session.error ?? null);
      return;
    }
    session.events++;
    this.#lastEventAt = this.#clock.now();
    this.#recovered();
    if (event.type === 'BOOKMARK') {
      const meta = isRecord(event.object) ? event.object['metadata'] : undefined;
      const rv = isRecord(meta) ? meta['resourceVersion'] : undefined;
      if (typeof rv === 'string' && rv !== '') this.#resourceVersion = rv;
      return;
    }
    const obj = this.#normalize(event.object);
    if (!obj) return;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#upsert(obj);
    else if (event.type === 'DELETED') this.#remove(keyOf(obj), obj);
    else this.#log.debug('ignoring watch event', { type: event.type });
    if (obj.metadata.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
  }

  #onWatchEnd(session: Session, err: unknown): void {
    session.done = true;
    session.handle?.abort();
    const healthy = session.events > 0 || this.#clock.now() - session.openedAt >= this.#minWatchMs;
    if (session.gone || isGone(err)) {
      this.#resourceVersion = '';
      if (session.listed && !healthy) {
        // The list just made is already too old for the watch: the API server's watch cache
        // started after it (e.g. it restarted and served the list from etcd). Relist shortly.
        this.#retryAfterFailure('watch', new Error('410 Gone right after listing'), true);
      } else {
        // A watch resumed from an older resourceVersion expired, as it does after any API server
        // restart or a long disconnection: relisting is the cure, not a failure to back off from.
        this.#log.info('watch expired (410 Gone); relisting');
        this.#schedule(true, 0);
      }
    } else if (err === null || err === undefined || isTimeout(err)) {
      // A normal close (server timeout, or client-node's 30 s inactivity timeout): resume from the last RV.
      if (healthy) this.#schedule(false, 0);
      else this.#retryAfterFailure('watch', new Error('watch closed immediately'), false);
    } else {
      this.#retryAfterFailure('watch', err, false);
    }
  }

  #normalize(u: unknown): KubeObject | undefined {
    const obj = toKubeObject(u, this.type);
    if (!obj) {
      this.#log.warn('ignoring an object without metadata.name');
      return undefined;
    }
    return deepFreeze(withOwnManagedFields(obj));
  }

  #replaceAll(result: ListResult): void {
    const fresh = new Map<string, KubeObject>();
    for (const item of result.items) {
      const obj = this.#normalize(item);
      if (obj) fresh.set(keyOf(obj), obj);
    }
    for (const [key, old] of [...this.#objects]) {
      // Kept when Fledge wrote it after the list's snapshot (created meanwhile).
      if (!fresh.has(key) && !isNewer(old, result.resourceVersion)) this.#remove(key, old);
    }
    for (const obj of fresh.values()) this.#upsert(obj);
    this.#resourceVersion = result.resourceVersion;
    const now = this.#clock.now();
    this.#lastListAt = now;
    this.#lastEventAt = now;
    this.#recovered();
    this.#lastError = undefined;
    if (!this.#synced) {
      this.#synced = true;
      this.#log.debug('synced', { objects: this.#objects.size });
      this.#resolveSynced();
    }
  }

  /** Stores `obj` unless the cache already holds this or a newer version (e.g. Fledge's own write). */
  #upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.#objects.get(key);
    if (
      old &&
      (old.metadata.resourceVersion === obj.metadata.resourceVersion || isNewer(old, obj.metadata.resourceVersion))
    )
      return;
    this.#objects.set(key, obj);
    this.#emit(old ? 'update' : 'add', obj);
  }

  /** Removes `key`, unless the cached object is newer than the deletion (recreated by Fledge since). */
  #remove(key: string, last: KubeObject): void {
    const cached = this.#objects.get(key);
    if (!cached || isNewer(cached, last.metadata.resourceVersion)) return;
    this.#objects.delete(key);
    this.#emit('delete', last);
  }

  #emit(event: InformerEvent, obj: KubeObject): void {
    for (const listener of [...this.#listeners]) {
      try {
        const result: unknown = listener(event, obj);
        // Guard async listeners too: their rejections would otherwise be unhandled.
        if (result instanceof Promise) {
          result.catch((err: unknown) => this.#log.error('informer listener failed', { error: err, event }));
        }
      } catch (err) {
        this.#log.error('informer listener failed', { error: err, event });
      }
    }
  }
}

/** Options of {@link clientNodeWatchSource}. */
export interface ClientNodeSourceOptions {
  readonly watch: Watch;
  /** Collection path, e.g. `/apis/apps/v1/namespaces/default/deployments`. */
  readonly path: string;
  /** Lists the collection (the client's paginated raw-JSON list). */
  readonly list: () => Promise<ListResult>;
  readonly labelSelector?: string;
  /** Server-side watch timeout; the API server closes the stream normally after it. */
  readonly timeoutSeconds?: number;
}

/**
 * A {@link ListWatchSource} over client-node's `Watch` (undici, TLS and auth from the KubeConfig).
 * Its watch `JSON.parse`s each line and swallows exceptions thrown by the callback, which is why
 * {@link WatchInformer} catches listener errors itself.
 */
export function clientNodeWatchSource(options: ClientNodeSourceOptions): ListWatchSource {
  return {
    list: options.list,
    async watch(request) {
      const params: Record<string, string | number | boolean | undefined> = {
        allowWatchBookmarks: true,
        resourceVersion: request.resourceVersion,
        labelSelector: options.labelSelector,
        timeoutSeconds: options.timeoutSeconds,
      };
      const controller = await options.watch.watch(
        options.path,
        params,
        (type: string, object: unknown) => request.onEvent({ type, object }),
        (err: unknown) => request.onDone(err ?? null),
      );
      return { abort: () => controller.abort() };
    },
  };
}

/**
 * Keeps only Fledge's own `managedFields` entries in the cache: the others (controllers' status
 * updates, kubectl's) are often half an object's size and nothing reads them.
 */
function withOwnManagedFields(obj: KubeObject): KubeObject {
  const entries: unknown = (obj.metadata as { managedFields?: unknown }).managedFields;
  if (!Array.isArray(entries)) return obj;
  const own = entries.filter((e: unknown) => isRecord(e) && e['manager'] === FIELD_MANAGER);
  if (own.length === entries.length) return obj;
  const { managedFields: _all, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  return { ...obj, metadata: own.length > 0 ? { ...metadata, managedFields: own } : metadata } as KubeObject;
}
