import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../core/clock.ts';
import { KubeApiError, NotFoundError } from './errors.ts';
import { OperatorError } from '../core/errors.ts';
import { EventRecorder } from './events.ts';
import { type InformerTuning, type ListResult, WatchInformer, clientNodeWatchSource } from './informer.ts';
import { isRecord, toKubeObject } from './json.ts';
import type { KubeObject, ObjectKey, ResourceType } from './objects.ts';
import {
  type ApplyOptions,
  type EventRecord,
  FIELD_MANAGER,
  type Informer,
  type KubeClient,
  type ListOptions,
} from './port.ts';
import { Resources } from './resources.ts';
import { ServerProbe } from './probe.ts';
import { HttpTransport } from './transport.ts';

/** Options of {@link createKubeClient}. */
export interface KubeClientOptions {
  /** Path of a kubeconfig file; default: `KUBECONFIG`, `~/.kube/config`, then the in-cluster service account. */
  readonly kubeconfig?: string;
  /** Context to use instead of the kubeconfig's current-context. */
  readonly context?: string;
  readonly log: Logger;
  /** Sustained requests per second (default 100, as Flagger's `-kubeconfig-qps`). */
  readonly qps?: number;
  /** Burst above `qps` (default 250, as Flagger's `-kubeconfig-burst`). */
  readonly burst?: number;
  /** Timeout of one non-watch request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Tuning of the informers `informer()` creates. */
  readonly informer?: InformerTuning & {
    /** Server-side timeout of each watch request (default: the server's, 30–60 min). */
    readonly watchTimeoutSeconds?: number;
    /** How often informers waiting for an unreachable API server probe `/readyz` (default 1 s). */
    readonly probeIntervalMs?: number;
  };
  /** `reportingInstance` of Events (default: the host name, which is the pod name in a cluster). */
  readonly eventInstance?: string;
  readonly clock?: Clock;
  /**
   * Where namespaced informers watch. With `{}` (all namespaces) or `{ namespace }`, there is one
   * informer per type over that scope, and `informer(type, ns)` returns a view of it limited to `ns`:
   * one watch per type, however many namespaces canaries live in. Unset: one informer per namespace asked for.
   */
  readonly watchScope?: { readonly namespace?: string };
}

/** The real {@link KubeClient}, plus what only the composition root needs. */
export interface ApiKubeClient extends KubeClient {
  /** URL of the API server in use. */
  readonly server: string;
  /** Stops every informer this client started and closes pooled connections. */
  close(): void;
}

/**
 * Loads a kubeconfig and fails fast when it does not name a usable cluster: client-node's
 * `loadFromDefault()` silently falls back to an anonymous `http://localhost:8080`.
 */
export function loadKubeConfig(path?: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  const source = path ?? (process.env['KUBECONFIG'] ? `KUBECONFIG=${process.env['KUBECONFIG']}` : 'default locations');
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new OperatorError(`cannot load kubeconfig (${source})`, { cause: err });
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw new OperatorError(`kubeconfig (${source}) has no context "${context}"`);
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new OperatorError(
      `kubeconfig (${source}) has no current cluster (current-context "${String(kc.getCurrentContext())}")`,
    );
  }
  if (path === undefined && isLocalhostFallback(kc)) {
    throw new OperatorError(
      'no kubeconfig found: set KUBECONFIG, create ~/.kube/config, pass --kubeconfig or run in a pod with a service account',
    );
  }
  return kc;
}

/** The exact configuration `loadFromDefault()` invents when it finds nothing. */
function isLocalhostFallback(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  return (
    kc.getCurrentContext() === 'loaded-context' &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080' &&
    kc.getCurrentUser()?.name === 'user'
  );
}

/** Where an object (or collection, without `name`) of `type` lives on the API server. */
export interface ResourceLocation {
  readonly namespace?: string;
  readonly name?: string;
  /** e.g. `status` */
  readonly subresource?: string;
}

/**
 * The URL path of a resource: `/api/v1/…` for the core group, `/apis/<group>/<version>/…` otherwise;
 * `/namespaces/<ns>` only for namespaced types. A namespaced type without a namespace addresses all
 * namespaces (valid for list and watch only).
 */
export function resourcePath(type: ResourceType, at: ResourceLocation = {}): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = type.namespaced && at.namespace !== undefined ? `/namespaces/${encodeURIComponent(at.namespace)}` : '';
  const name = at.name === undefined ? '' : `/${encodeURIComponent(at.name)}`;
  const sub = at.subresource === undefined ? '' : `/${at.subresource}`;
  return `${base}${ns}/${type.plural}${name}${sub}`;
}

/**
 * Creates the {@link KubeClient} over `@kubernetes/client-node` 2.0.1: kubeconfig loading and
 * auth from client-node, requests as raw JSON through its undici stack (no typed models, so no
 * `Date`s and no dropped fields), explicit Content-Types, errors mapped to `errors.ts`.
 * Throws {@link OperatorError} at once when the kubeconfig names no cluster.
 */
export function createKubeClient(options: KubeClientOptions): ApiKubeClient {
  return new ClientNodeKube(loadKubeConfig(options.kubeconfig, options.context), options);
}

const PAGE_SIZE = 500;

class ClientNodeKube implements ApiKubeClient {
  readonly server: string;
  readonly #transport: HttpTransport;
  readonly #watch: Watch;
  readonly #log: Logger;
  readonly #options: KubeClientOptions;
  readonly #recorder: EventRecorder;
  /** `apiVersion|kind` → type: the known Resources, plus what discovery or callers taught us. */
  readonly #types = new Map<string, ResourceType>();
  readonly #informers = new Map<string, WatchInformer>();
  readonly #views = new Map<string, Informer>();
  readonly #probe: ServerProbe;

  constructor(kc: KubeConfig, options: KubeClientOptions) {
    this.#options = options;
    this.#log = options.log.child({ logger: 'kube' });
    this.#transport = new HttpTransport({
      kubeConfig: kc,
      log: this.#log,
      ...(options.qps === undefined ? {} : { qps: options.qps }),
      ...(options.burst === undefined ? {} : { burst: options.burst }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.server = this.#transport.server;
    this.#watch = new Watch(kc);
    const probeIntervalMs = options.informer?.probeIntervalMs ?? 1_000;
    this.#probe = new ServerProbe({
      ready: () => this.#transport.ping('/readyz', Math.max(1_000, 5 * probeIntervalMs)),
      intervalMs: probeIntervalMs,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.#recorder = new EventRecorder({
      kube: this,
      log: this.#log,
      ...(options.eventInstance === undefined ? {} : { instance: options.eventInstance }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    for (const t of Object.values(Resources)) this.#learn(t);
  }

  async get(type: ResourceType, key: ObjectKey): Promise<KubeObject | undefined> {
    this.#learn(type);
    try {
      const res = await this.#transport.request({ method: 'GET', path: this.#objectPath(type, key) });
      return this.#toObject(res, type);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async list(type: ResourceType, options: ListOptions = {}): Promise<KubeObject[]> {
    this.#learn(type);
    const { items } = await this.#listRaw(type, options);
    return items.map((item) => this.#toObject(item, type));
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const type = await this.#typeOf(obj);
    const namespace = this.#namespaceOf(type, obj);
    const res = await this.#transport.request({
      method: 'POST',
      path: resourcePath(type, namespace === undefined ? {} : { namespace }),
      query: { fieldManager: FIELD_MANAGER },
      body: obj,
      contentType: 'application/json',
    });
    return this.#written(res, type);
  }

  async apply(obj: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    const type = await this.#typeOf(obj);
    const namespace = this.#namespaceOf(type, obj);
    // The server rejects an apply that carries managedFields (e.g. an object read back from it).
    const { managedFields: _managed, ...metadata } = obj.metadata as KubeObject['metadata'] & {
      managedFields?: unknown;
    };
    const res = await this.#transport.request({
      method: 'PATCH',
      path: resourcePath(type, { ...(namespace === undefined ? {} : { namespace }), name: obj.metadata.name }),
      query: { fieldManager: FIELD_MANAGER, force: options.force ?? true },
      body: { ...obj, metadata },
      contentType: 'application/apply-patch+yaml',
    });
    return this.#written(res, type);
  }

  async mergePatch(type: ResourceType, key: ObjectKey, patch: unknown): Promise<KubeObject> {
    this.#learn(type);
    const res = await this.#transport.request({
      method: 'PATCH',
      path: this.#objectPath(type, key),
      query: { fieldManager: FIELD_MANAGER },
      body: patch,
      contentType: 'application/merge-patch+json',
    });
    return this.#written(res, type);
  }

  async patchStatus(type: ResourceType, key: ObjectKey, status: unknown): Promise<KubeObject> {
    this.#learn(type);
    const res = await this.#transport.request({
      method: 'PATCH',
      path: this.#objectPath(type, key, 'status'),
      query: { fieldManager: FIELD_MANAGER },
      body: { status },
      contentType: 'application/merge-patch+json',
    });
    return this.#written(res, type);
  }

  async delete(type: ResourceType, key: ObjectKey): Promise<void> {
    this.#learn(type);
    try {
      await this.#transport.request({
        method: 'DELETE',
        path: this.#objectPath(type, key),
        query: { propagationPolicy: 'Background' },
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async recordEvent(event: EventRecord): Promise<void> {
    try {
      await this.#recorder.record(event);
    } catch (err) {
      this.#log.warn('could not record event', { error: err, reason: event.reason });
    }
  }

  informer(type: ResourceType, namespace?: string): Informer {
    const shared = this.#options.watchScope;
    if (!shared || !type.namespaced) return this.#informer(type, namespace);
    const base = this.#informer(type, shared.namespace);
    if (namespace === undefined || namespace === shared.namespace) return base;
    const key = `${type.apiVersion}/${type.plural}/${shared.namespace ?? ''}>${namespace}`;
    let view = this.#views.get(key);
    if (!view) {
      view = new NamespaceView(base, namespace);
      this.#views.set(key, view);
    }
    return view;
  }

  #informer(type: ResourceType, namespace?: string): Informer {
    this.#learn(type);
    const scope = type.namespaced ? namespace : undefined;
    const key = `${type.apiVersion}/${type.plural}/${scope ?? ''}`;
    const existing = this.#informers.get(key);
    if (existing) return existing;
    const at = scope === undefined ? {} : { namespace: scope };
    const { probeIntervalMs: _probe, watchTimeoutSeconds, ...tuning } = this.#options.informer ?? {};
    const informer: WatchInformer = new WatchInformer({
      ...tuning,
      type,
      ...at,
      log: this.#log,
      reachability: this.#probe,
      ...(this.#options.clock === undefined ? {} : { clock: this.#options.clock }),
      source: clientNodeWatchSource({
        watch: this.#watch,
        path: resourcePath(type, at),
        list: () => this.#listRaw(type, at),
        ...(watchTimeoutSeconds === undefined ? {} : { timeoutSeconds: watchTimeoutSeconds }),
      }),
      onStop: () => {
        if (this.#informers.get(key) === informer) this.#informers.delete(key);
      },
    });
    this.#informers.set(key, informer);
    return informer.start();
  }

  close(): void {
    for (const informer of [...this.#informers.values()]) informer.stop();
    this.#probe.stop();
    this.#transport.close();
  }

  /** Lists page by page; the informer needs the collection's resourceVersion, so items stay raw. */
  async #listRaw(type: ResourceType, options: ListOptions): Promise<ListResult> {
    const path = resourcePath(type, options.namespace === undefined ? {} : { namespace: options.namespace });
    const items: unknown[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    let paginate = true;
    do {
      let page: unknown;
      try {
        page = await this.#transport.request({
          method: 'GET',
          path,
          query: { labelSelector: options.labelSelector, limit: paginate ? PAGE_SIZE : undefined, continue: cont },
        });
      } catch (err) {
        // The continue token expired mid-way (410): start over with one unpaginated list.
        if (cont === undefined || !(err instanceof KubeApiError) || err.status !== 410) throw err;
        items.length = 0;
        cont = undefined;
        paginate = false;
        continue;
      }
      if (!isRecord(page) || !Array.isArray(page['items'])) throw new OperatorError(`GET ${path}: not a list`);
      items.push(...(page['items'] as unknown[]));
      const meta = isRecord(page['metadata']) ? page['metadata'] : {};
      resourceVersion = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '';
      cont = typeof meta['continue'] === 'string' && meta['continue'] !== '' ? meta['continue'] : undefined;
    } while (cont !== undefined);
    return { items, resourceVersion };
  }

  #objectPath(type: ResourceType, key: ObjectKey, subresource?: string): string {
    if (type.namespaced && !key.namespace) {
      throw new OperatorError(`${type.kind} "${key.name}": a namespace is required`);
    }
    return resourcePath(type, {
      ...(type.namespaced && key.namespace ? { namespace: key.namespace } : {}),
      name: key.name,
      ...(subresource === undefined ? {} : { subresource }),
    });
  }

  #namespaceOf(type: ResourceType, obj: KubeObject): string | undefined {
    if (!type.namespaced) return undefined;
    if (!obj.metadata.namespace) throw new OperatorError(`${obj.kind} "${obj.metadata.name}": a namespace is required`);
    return obj.metadata.namespace;
  }

  /**
   * The object a write returned, also written through into the informers of its type that cover
   * it: a read after Fledge's own write never sees an older object, even while a watch lags or is
   * down (the informer ignores older events and lists for it afterwards).
   */
  #written(u: unknown, type: ResourceType): KubeObject {
    const obj = this.#toObject(u, type);
    for (const informer of this.#informers.values()) {
      if (informer.type.apiVersion === type.apiVersion && informer.type.plural === type.plural) informer.observe(obj);
    }
    return obj;
  }

  #toObject(u: unknown, type: ResourceType): KubeObject {
    const obj = toKubeObject(u, type);
    if (!obj) throw new OperatorError(`unexpected response for ${type.kind}: not an object with metadata.name`);
    return obj;
  }

  #learn(type: ResourceType): void {
    const key = `${type.apiVersion}|${type.kind}`;
    if (!this.#types.has(key)) this.#types.set(key, type);
  }

  /** The type of `obj` for create/apply, which only carry apiVersion and kind: asks discovery once. */
  async #typeOf(obj: KubeObject): Promise<ResourceType> {
    const key = `${obj.apiVersion}|${obj.kind}`;
    const known = this.#types.get(key);
    if (known) return known;
    const path = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    const res = await this.#transport.request({ method: 'GET', path });
    const resources = isRecord(res) && Array.isArray(res['resources']) ? (res['resources'] as unknown[]) : [];
    for (const r of resources) {
      if (!isRecord(r)) continue;
      const { name, kind, namespaced } = r;
      // Subresources (`deployments/status`) repeat the kind; only the plain plural addresses objects.
      if (typeof name !== 'string' || name.includes('/') || typeof kind !== 'string') continue;
      this.#learn({ apiVersion: obj.apiVersion, kind, plural: name, namespaced: namespaced === true });
    }
    const found = this.#types.get(key);
    if (!found) throw new OperatorError(`the API server does not serve kind ${obj.kind} in ${obj.apiVersion}`);
    return found;
  }
}

/** One namespace of a wider informer: same cache and watch, filtered reads and events; stop is a no-op. */
class NamespaceView implements Informer {
  readonly #base: Informer;
  readonly #namespace: string;
  constructor(base: Informer, namespace: string) {
    this.#base = base;
    this.#namespace = namespace;
  }
  get type(): ResourceType {
    return this.#base.type;
  }
  synced(): Promise<void> {
    return this.#base.synced();
  }
  get(key: ObjectKey): KubeObject | undefined {
    return this.#base.get({ ...key, namespace: key.namespace ?? this.#namespace });
  }
  list(namespace?: string): readonly KubeObject[] {
    return this.#base.list(namespace ?? this.#namespace);
  }
  onChange(listener: Parameters<Informer['onChange']>[0]): () => void {
    return this.#base.onChange((event, obj) => {
      if (obj.metadata.namespace === this.#namespace) listener(event, obj);
    });
  }
  health(): ReturnType<Informer['health']> {
    return this.#base.health();
  }
  stop(): void {
    // Shared with other namespaces: the client stops the base informer on close().
  }
}
