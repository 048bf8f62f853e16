/**
 * The runtime that drives `Scheduler.advance` (Flagger's controller.go + job.go, reworked):
 *
 * - **One job per Canary**, ticking every `analysisIntervalMs(canary)`. The first tick after
 *   startup is spread at random over `min(interval, startupSpreadMs)` so a thousand canaries don't
 *   all tick in the same second; a Canary created later ticks at once. The job follows interval
 *   changes and stops when the Canary is deleted.
 * - **A bounded worker pool** (`-threadiness`) with **per-canary serialization**: a canary never has
 *   two ticks at once; triggers that arrive while it is queued are coalesced, and one arriving while
 *   it runs causes exactly one more tick right after.
 * - **Immediate triggers**: a change of one of the canary's dependencies (as its target controller
 *   names them: the target's pod template, the data of a ConfigMap/Secret it references, its HPA's
 *   spec) or of the Canary's spec (generation) enqueues
 *   the canary within milliseconds instead of at the next tick, so a new revision is detected in
 *   well under a second. A trigger never makes an analysis advance early: changes that don't start
 *   a new revision (Canary spec, HPA) tick at once only while the canary is not analysing, and a new
 *   revision ticks at once unless the canary is promoting (where it isn't acted on until Succeeded).
 * - **Backoff**: after a tick that returned `ok: false` the next one comes after 1 s, doubling, and
 *   never later than the interval.
 * - **No API reads**: every read is from informer caches; the per-namespace caches the tick uses are
 *   synced before the canary's first tick (outside the worker pool). An idle canary's tick sends
 *   no request at all, as long as the scheduler writes only on change.
 * - A periodic sweep (`-control-loop-interval`) reconciles the job set with the Canary cache (a
 *   repair path for missed events) and sets `flagger_canary_total{namespace}`.
 *
 * `stop()` aborts every tick's signal and resolves once in-flight ticks have returned.
 */
import { analysisIntervalMs } from '../apis/flagger/v1beta1/defaults.ts';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Dependency, TargetController } from '../canary/target.ts';
import { type Clock, type Timer, systemClock } from '../core/clock.ts';
import { isRecord, jsonEqual } from '../kube/json.ts';
import { type KubeObject, type ObjectKey, type ResourceType, keyOf } from '../kube/objects.ts';
import type { Informer, InformerEvent, KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import type { Logger } from '../log/logger.ts';
import type { Ctx } from '../core/context.ts';
import type { TickOutcome } from './scheduler.ts';

/** Fledge's default `-threadiness`; see {@link ControlLoopOptions.threadiness}. */
export const DEFAULT_THREADINESS = 4;
/** First retry delay after a failed tick; doubles per failure up to the canary's interval. */
export const BACKOFF_INITIAL_MS = 1_000;
/** Interval of a Canary whose spec does not parse (the scheduler reports why on each tick). */
const FALLBACK_INTERVAL_MS = 60_000;

/** Phases in which every tick may move the analysis forward. */
const ANALYSING = new Set(['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising']);
/** Phases in which a new revision is not acted on until the canary has finished. */
const PROMOTING = new Set(['Promoting', 'Finalising']);

/** Why a canary is enqueued ahead of its schedule. */
export type TriggerCause =
  /** Created (after startup) or marked for deletion: always at once. */
  | 'new'
  /** Target pod template or tracked config data changed: a new revision. */
  | 'revision'
  /** Canary spec (generation) or HPA spec changed: reconciled, not a new revision. */
  | 'spec';

/** Options of {@link ControlLoop}. */
export interface ControlLoopOptions {
  readonly kube: Pick<KubeClient, 'informer'>;
  /** One tick (the scheduler's `advance`); expected never to throw, but a throw is logged. */
  readonly advance: (ctx: Ctx, canary: KubeObject) => Promise<TickOutcome>;
  /**
   * The target controller of a Canary (the scheduler's target factory): it names the objects whose
   * changes tick the canary at once. A Canary it throws for has no such dependencies.
   */
  readonly targets: (canary: Canary) => Pick<TargetController, 'dependencies'>;
  /**
   * Reads the Canary for a tick (default: the informer cache). Main passes `CanaryStore.latest`,
   * which overlays Fledge's own not-yet-delivered status writes.
   */
  readonly read?: (key: ObjectKey) => KubeObject | undefined;
  readonly log: Logger;
  /** `-namespace`: watch only this namespace; undefined = all. */
  readonly namespace?: string;
  /**
   * `-threadiness`: ticks running at once (default 4). Ticks are I/O bound (webhooks with 10 s
   * timeouts, metric queries), and a Node worker costs nothing while it waits, so 4 keeps a couple
   * of slow webhooks from stalling every other canary without bursting the API server, Prometheus
   * and webhook receivers at startup. Flagger's 2 bounds only its sync queue; its per-canary
   * goroutines run unbounded.
   */
  readonly threadiness?: number;
  /** `-control-loop-interval`: period of the repair sweep (default 10 s). */
  readonly controlLoopIntervalMs?: number;
  /** `-min-analysis-interval`: floor of `analysis.interval` (default 10 s, as Flagger). */
  readonly minAnalysisIntervalMs?: number;
  /** Upper bound of the random delay of first ticks at startup (default 10 s). */
  readonly startupSpreadMs?: number;
  /** Longest wait for a namespace's caches before ticking anyway (default 30 s). */
  readonly cacheSyncTimeoutMs?: number;
  /**
   * Types read from per-namespace caches during a tick (they are synced before a canary's first
   * tick). Default: Deployments, DaemonSets, ConfigMaps, Secrets, HPAs and Services. A dependency of
   * another type gets its cache when a canary first names it.
   */
  readonly namespacedTypes?: readonly ResourceType[];
  /** Sets `flagger_canary_total{namespace}`. */
  readonly setCanaryTotal?: (namespace: string, total: number) => void;
  /** Called with the last known object when a Canary is gone (e.g. to drop its metric series). */
  readonly onCanaryDeleted?: (canary: KubeObject) => void;
  readonly clock?: Clock;
  /** Random source of the startup jitter (tests pin it). */
  readonly random?: () => number;
}

interface Job {
  readonly key: string;
  readonly ref: { readonly namespace: string; readonly name: string };
  intervalMs: number;
  generation: number | undefined;
  deleting: boolean;
  timer: Timer | undefined;
  state: 'idle' | 'waiting' | 'queued' | 'running';
  /** A trigger arrived while running: tick again right after. */
  rerun: boolean;
  failures: number;
  lastStartAt: number | undefined;
  removed: boolean;
}

/** Per-namespace caches of the types a tick reads, and our subscriptions to them. */
interface NamespaceCaches {
  readonly informers: Map<string, Informer>;
  /** Types whose changes we follow (those some canary depends on). */
  readonly watched: Set<string>;
  readonly unsubscribe: (() => void)[];
  synced: boolean;
  readonly ready: Promise<void>;
}

/** What a referenced object looked like last time, to tell real changes from status noise. */
const MISSING = Symbol('missing');
type Fingerprint = unknown;

/** A referenced object: `<Kind>/<namespace>/<name>`. */
const refKey = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

const str = (u: unknown): string | undefined => (typeof u === 'string' && u !== '' ? u : undefined);

/** The raw spec field of an object, if it is a record. */
function field(obj: KubeObject | undefined, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) cur = isRecord(cur) ? cur[p] : undefined;
  return cur;
}

function phaseOf(obj: KubeObject | undefined): string {
  return str(field(obj, 'status', 'phase')) ?? '';
}

function intervalOf(obj: KubeObject, minMs?: number): number {
  try {
    return analysisIntervalMs(parseCanary(obj), minMs);
  } catch {
    return FALLBACK_INTERVAL_MS;
  }
}

/** Drives one tick per canary per interval, plus immediate ticks on relevant changes. */
export class ControlLoop {
  readonly #o: ControlLoopOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #threadiness: number;
  readonly #abort = new AbortController();
  readonly #jobs = new Map<string, Job>();
  readonly #queue: Job[] = [];
  readonly #inflight = new Set<Promise<void>>();
  readonly #namespaces = new Map<string, NamespaceCaches>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #refsByCanary = new Map<string, Set<string>>();
  readonly #canariesByRef = new Map<string, Set<string>>();
  /** How to read each referenced object (type, fingerprint, role), as the target controller said. */
  readonly #deps = new Map<string, Dependency>();
  readonly #seen = new Map<string, Fingerprint>();
  readonly #reportedNamespaces = new Set<string>();
  #canaries: Informer | undefined;
  #cluster: Informer[] = [];
  #sweepTimer: Timer | undefined;
  #started = false;
  #synced = false;
  #active = 0;

  constructor(options: ControlLoopOptions) {
    this.#o = options;
    this.#log = options.log.child({ logger: 'controller' });
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#threadiness = Math.max(1, options.threadiness ?? DEFAULT_THREADINESS);
  }

  /**
   * Opens the Canary, MetricTemplate and AlertProvider informers, waits for the Canary cache and
   * creates a job per Canary. Resolves once running (or rejects if stopped before the cache synced).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const scope = this.#o.namespace;
    const canaries = this.#o.kube.informer(Resources.canary, scope);
    this.#canaries = canaries;
    this.#cluster = [
      canaries,
      this.#o.kube.informer(Resources.metricTemplate, scope),
      this.#o.kube.informer(Resources.alertProvider, scope),
    ];
    this.#unsubscribe.push(canaries.onChange((event, obj) => this.#onCanary(event, obj)));
    await this.#untilAborted(canaries.synced());
    if (this.#abort.signal.aborted) return;
    this.#synced = true;
    for (const obj of canaries.list()) this.#ensureJob(obj, 'startup');
    this.#reportTotals();
    this.#armSweep();
    this.#log.info('control loop started', {
      canaries: this.#jobs.size,
      threadiness: this.#threadiness,
      ...(scope === undefined ? {} : { namespace: scope }),
    });
  }

  /** Aborts every tick and waits for in-flight ones to return. Idempotent. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#sweepTimer?.cancel();
    for (const job of this.#jobs.values()) job.timer?.cancel();
    this.#queue.length = 0;
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const ns of this.#namespaces.values()) for (const off of ns.unsubscribe.splice(0)) off();
    await Promise.allSettled([...this.#inflight]);
  }

  /** True once the Canary cache synced and the cluster-scoped informers report synced. */
  ready(): boolean {
    return this.#synced && !this.#abort.signal.aborted && this.#cluster.every((i) => i.health().synced);
  }

  /** Counters for tests and debugging. */
  stats(): { readonly jobs: number; readonly running: number; readonly queued: number } {
    return { jobs: this.#jobs.size, running: this.#active, queued: this.#queue.length };
  }

  /** The canaries (`namespace/name`) whose ticks a change of `<kind>/<namespace>/<name>` triggers. */
  dependents(kind: string, namespace: string, name: string): readonly string[] {
    return [...(this.#canariesByRef.get(refKey(kind, namespace, name)) ?? [])].sort();
  }

  /** Enqueues a canary now (subject to per-canary serialization); false when it has no job. */
  trigger(key: string): boolean {
    const job = this.#jobs.get(key);
    if (!job) return false;
    this.#enqueue(job);
    return true;
  }

  // ---- jobs ---------------------------------------------------------------------------------------

  #ensureJob(obj: KubeObject, when: 'startup' | 'runtime'): Job {
    const key = keyOf(obj);
    const existing = this.#jobs.get(key);
    if (existing) return existing;
    const job: Job = {
      key,
      ref: { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name },
      intervalMs: intervalOf(obj, this.#o.minAnalysisIntervalMs),
      generation: obj.metadata.generation,
      deleting: obj.metadata.deletionTimestamp !== undefined,
      timer: undefined,
      state: 'idle',
      rerun: false,
      failures: 0,
      lastStartAt: undefined,
      removed: false,
    };
    this.#jobs.set(key, job);
    this.#caches(job.ref.namespace);
    this.#reindex(key, obj);
    if (when === 'startup') {
      const spread = Math.min(job.intervalMs, this.#o.startupSpreadMs ?? 10_000);
      this.#schedule(job, Math.floor(this.#random() * spread));
    } else {
      this.#enqueue(job);
    }
    this.#log.debug('canary job started', {
      canary: job.ref.name,
      namespace: job.ref.namespace,
      intervalMs: job.intervalMs,
    });
    return job;
  }

  #removeJob(key: string, last: KubeObject | undefined): void {
    const job = this.#jobs.get(key);
    if (!job) return;
    job.removed = true;
    job.timer?.cancel();
    this.#jobs.delete(key);
    const i = this.#queue.indexOf(job);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#reindex(key, undefined);
    if (last) {
      try {
        this.#o.onCanaryDeleted?.(last);
      } catch (err) {
        this.#log.warn('onCanaryDeleted failed', { error: err });
      }
    }
    this.#log.debug('canary job stopped', { canary: job.ref.name, namespace: job.ref.namespace });
  }

  #schedule(job: Job, delayMs: number): void {
    job.timer?.cancel();
    job.timer = this.#clock.setTimeout(
      () => {
        job.timer = undefined;
        this.#enqueue(job);
      },
      Math.max(0, delayMs),
    );
  }

  /** Puts the job in the queue unless it is already queued (coalesced) or running (rerun after). */
  #enqueue(job: Job): void {
    if (job.removed || this.#abort.signal.aborted) return;
    if (job.state === 'running') {
      job.rerun = true;
      return;
    }
    if (job.state !== 'idle') return;
    job.timer?.cancel();
    job.timer = undefined;
    const caches = this.#caches(job.ref.namespace);
    if (!caches.synced) {
      // Wait for the namespace's caches outside the pool: a slow list must not hold a worker.
      job.state = 'waiting';
      void caches.ready.then(() => {
        job.state = 'idle';
        this.#enqueue(job);
      });
      return;
    }
    job.state = 'queued';
    this.#queue.push(job);
    this.#pump();
  }

  #pump(): void {
    while (this.#active < this.#threadiness && !this.#abort.signal.aborted) {
      const job = this.#queue.shift();
      if (!job) return;
      if (job.removed) continue;
      this.#active++;
      job.state = 'running';
      const run: Promise<void> = this.#run(job).then((outcome) => {
        this.#inflight.delete(run);
        this.#active--;
        this.#afterTick(job, outcome);
        this.#pump();
      });
      this.#inflight.add(run);
    }
  }

  /** One tick of a job. Never rejects. */
  async #run(job: Job): Promise<TickOutcome> {
    job.lastStartAt = this.#clock.now();
    const log = this.#log.child({ canary: job.ref.name, namespace: job.ref.namespace });
    try {
      const obj = this.#read(job);
      if (!obj) return { ok: true }; // deleted; the informer's delete event removes the job
      return await this.#o.advance({ signal: this.#abort.signal, log }, obj);
    } catch (err) {
      log.error('canary tick threw', { error: err });
      return { ok: false };
    }
  }

  #afterTick(job: Job, outcome: TickOutcome): void {
    job.state = 'idle';
    if (job.removed || this.#abort.signal.aborted) return;
    let delay: number;
    if (outcome.ok) {
      job.failures = 0;
      // Measured from the tick's start, as Flagger's ticker: a slow tick doesn't stretch the period.
      delay = (job.lastStartAt ?? this.#clock.now()) + job.intervalMs - this.#clock.now();
    } else {
      job.failures++;
      delay = Math.min(job.intervalMs, BACKOFF_INITIAL_MS * 2 ** Math.min(30, job.failures - 1));
    }
    if (job.rerun) {
      job.rerun = false;
      this.#enqueue(job);
    } else {
      this.#schedule(job, delay);
    }
  }

  /** Enqueues now unless ticking now could advance an analysis early (see the module comment). */
  #triggerFor(key: string, cause: TriggerCause): void {
    const job = this.#jobs.get(key);
    if (!job) return;
    const phase = phaseOf(this.#read(job));
    if (cause === 'spec' && ANALYSING.has(phase)) return;
    if (cause === 'revision' && PROMOTING.has(phase)) return;
    this.#log.debug('canary triggered', { canary: job.ref.name, namespace: job.ref.namespace, cause });
    this.#enqueue(job);
  }

  #read(job: Job): KubeObject | undefined {
    return this.#o.read ? this.#o.read(job.ref) : this.#canaries?.get(job.ref);
  }

  // ---- Canary events ------------------------------------------------------------------------------

  #onCanary(event: InformerEvent, obj: KubeObject): void {
    // The initial list is handled by start(), with jitter.
    if (!this.#synced || this.#abort.signal.aborted) return;
    const key = keyOf(obj);
    if (event === 'delete') {
      this.#removeJob(key, obj);
      this.#reportTotals();
      return;
    }
    const job = this.#jobs.get(key);
    if (!job) {
      this.#ensureJob(obj, 'runtime');
      this.#reportTotals();
      return;
    }
    if (obj.metadata.generation !== job.generation) {
      job.generation = obj.metadata.generation;
      this.#reindex(key, obj);
      const interval = intervalOf(obj, this.#o.minAnalysisIntervalMs);
      if (interval !== job.intervalMs) {
        job.intervalMs = interval;
        // Restart the schedule with the new period, counted from the last tick.
        if (job.state === 'idle' && job.timer && job.lastStartAt !== undefined) {
          this.#schedule(job, job.lastStartAt + interval - this.#clock.now());
        }
      }
      this.#triggerFor(key, 'spec');
    }
    if (obj.metadata.deletionTimestamp !== undefined && !job.deleting) {
      job.deleting = true;
      this.#triggerFor(key, 'new');
    }
  }

  // ---- dependency index -----------------------------------------------------------------------------

  /** The objects a canary's ticks depend on, by ref key, as its target controller names them. */
  #refsOf(obj: KubeObject): Map<string, Dependency> {
    const ns = obj.metadata.namespace ?? '';
    const refs = new Map<string, Dependency>();
    let deps: readonly Dependency[];
    try {
      const canary = parseCanary(obj);
      deps = this.#o.targets(canary).dependencies(canary);
    } catch {
      // An invalid or unsupported Canary: the scheduler reports why; only its own changes tick it.
      return refs;
    }
    for (const dep of deps) refs.set(refKey(dep.type.kind, ns, dep.name), dep);
    return refs;
  }

  /** Recomputes a canary's references (none when `canary` is undefined); new ones are seeded silently. */
  #reindex(key: string, canary: KubeObject | undefined): void {
    const next = canary ? this.#refsOf(canary) : new Map<string, Dependency>();
    const prev = this.#refsByCanary.get(key) ?? new Set<string>();
    for (const ref of prev) {
      if (next.has(ref)) continue;
      const set = this.#canariesByRef.get(ref);
      set?.delete(key);
      if (set?.size === 0) {
        this.#canariesByRef.delete(ref);
        this.#deps.delete(ref);
        this.#seen.delete(ref);
      }
    }
    const ns = canary?.metadata.namespace ?? '';
    for (const [ref, dep] of next) {
      this.#deps.set(ref, dep);
      this.#watch(ns, dep.type);
      if (prev.has(ref)) continue;
      let set = this.#canariesByRef.get(ref);
      if (!set) {
        set = new Set();
        this.#canariesByRef.set(ref, set);
      }
      set.add(key);
      if (!this.#seen.has(ref)) this.#seen.set(ref, this.#fingerprintOf(ref));
    }
    if (next.size === 0) this.#refsByCanary.delete(key);
    else this.#refsByCanary.set(key, new Set(next.keys()));
  }

  /** The fingerprint of a referenced object as the cache holds it now. */
  #fingerprintOf(ref: string): Fingerprint {
    const dep = this.#deps.get(ref);
    const ns = ref.split('/')[1] ?? '';
    const obj = dep && this.#cachedIn(ns, dep.type)?.get({ namespace: ns, name: dep.name });
    return dep && obj ? dep.fingerprint(obj) : MISSING;
  }

  /** The per-namespace informer of a type, when the loop opened it. */
  #cachedIn(namespace: string, type: ResourceType): Informer | undefined {
    return this.#namespaces.get(namespace)?.informers.get(typeId(type));
  }

  #onDependency(informer: Informer, event: InformerEvent, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const caches = this.#namespaces.get(ns);
    // Until the caches synced, their initial lists are not changes (reseeded on sync).
    if (!caches?.synced || !informer.health().synced || this.#abort.signal.aborted) return;
    const ref = refKey(informer.type.kind, ns, obj.metadata.name);
    const dependents = this.#canariesByRef.get(ref);
    const dep = this.#deps.get(ref);
    if (!dependents || dependents.size === 0 || !dep) return;
    const prev = this.#seen.get(ref);
    const next = event === 'delete' ? MISSING : dep.fingerprint(obj);
    this.#seen.set(ref, next);
    const keys = [...dependents];
    if (dep.role === 'target') {
      // The target's pod template decides which configs the canary depends on.
      for (const key of keys) this.#reindex(key, this.#canaries?.get(keyToRef(key)));
    }
    if (sameFingerprint(prev, next)) return;
    const cause: TriggerCause = dep.role === 'autoscaler' ? 'spec' : 'revision';
    for (const key of keys) this.#triggerFor(key, cause);
  }

  /**
   * Follows changes of `type` in `namespace` (once), opening its cache if the namespace's set of
   * types lacks it; such a late cache's initial list is the baseline, not a change.
   */
  #watch(namespace: string, type: ResourceType): void {
    const caches = this.#caches(namespace);
    const id = typeId(type);
    if (caches.watched.has(id)) return;
    caches.watched.add(id);
    let informer = caches.informers.get(id);
    if (!informer) {
      const late = this.#o.kube.informer(type, namespace);
      informer = late;
      caches.informers.set(id, late);
      void late.synced().then(
        () => this.#reseed(namespace, type.kind),
        () => undefined,
      );
    }
    const watched = informer;
    caches.unsubscribe.push(watched.onChange((event, obj) => this.#onDependency(watched, event, obj)));
  }

  /** Takes what the caches hold now as the baseline of the refs of `kind` (all kinds when undefined) in `namespace`. */
  #reseed(namespace: string, kind?: string): void {
    for (const ref of this.#canariesByRef.keys()) {
      const [refKind, refNs] = ref.split('/');
      if (refNs === namespace && (kind === undefined || refKind === kind))
        this.#seen.set(ref, this.#fingerprintOf(ref));
    }
  }

  /** Opens (once) the per-namespace caches a tick reads and subscribes to the dependency types. */
  #caches(namespace: string): NamespaceCaches {
    const existing = this.#namespaces.get(namespace);
    if (existing) return existing;
    const types = this.#o.namespacedTypes ?? [
      Resources.deployment,
      Resources.daemonSet,
      Resources.configMap,
      Resources.secret,
      Resources.hpa,
      Resources.service,
    ];
    const informers = new Map<string, Informer>();
    for (const type of types) informers.set(typeId(type), this.#o.kube.informer(type, namespace));
    const entry: NamespaceCaches = {
      informers,
      watched: new Set(),
      unsubscribe: [],
      synced: false,
      ready: this.#syncNamespace(namespace, [...informers.values()]),
    };
    this.#namespaces.set(namespace, entry);
    return entry;
  }

  async #syncNamespace(namespace: string, informers: readonly Informer[]): Promise<void> {
    const timeoutMs = this.#o.cacheSyncTimeoutMs ?? 30_000;
    let timer: Timer | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const all = Promise.all(informers.map((i) => i.synced())).then(
      () => 'synced' as const,
      () => 'stopped' as const,
    );
    const result = await this.#untilAborted(Promise.race([all, timeout]));
    timer?.cancel();
    const caches = this.#namespaces.get(namespace);
    if (!caches || this.#abort.signal.aborted) return;
    if (result !== 'synced') {
      const lagging = informers
        .filter((i) => !i.health().synced)
        .map((i) => `${i.type.plural}: ${i.health().lastError ?? 'no answer'}`);
      this.#log.warn('namespace caches not synced; ticking anyway', { namespace, lagging });
    }
    caches.synced = true;
    // What the caches hold now is the baseline: later changes trigger, the initial list does not.
    for (const [key, job] of this.#jobs) {
      if (job.ref.namespace !== namespace) continue;
      this.#reindex(key, this.#canaries?.get(job.ref));
    }
    this.#reseed(namespace);
  }

  // ---- sweep and metrics --------------------------------------------------------------------------

  #armSweep(): void {
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweep();
      if (!this.#abort.signal.aborted) this.#armSweep();
    }, this.#o.controlLoopIntervalMs ?? 10_000);
  }

  /** Reconciles jobs with the cache: repairs missed add/delete events. Cache reads only. */
  #sweep(): void {
    const canaries = this.#canaries;
    if (!canaries || this.#abort.signal.aborted) return;
    const present = new Set<string>();
    for (const obj of canaries.list()) {
      const key = keyOf(obj);
      present.add(key);
      if (!this.#jobs.has(key)) {
        this.#log.info('canary without a job found by the sweep', {
          canary: obj.metadata.name,
          namespace: obj.metadata.namespace,
        });
        this.#ensureJob(obj, 'runtime');
      }
    }
    for (const key of [...this.#jobs.keys()]) if (!present.has(key)) this.#removeJob(key, undefined);
    this.#reportTotals();
  }

  #reportTotals(): void {
    const set = this.#o.setCanaryTotal;
    if (!set) return;
    const counts = new Map<string, number>();
    for (const job of this.#jobs.values()) counts.set(job.ref.namespace, (counts.get(job.ref.namespace) ?? 0) + 1);
    for (const ns of this.#reportedNamespaces) if (!counts.has(ns)) counts.set(ns, 0);
    for (const [ns, n] of counts) {
      set(ns, n);
      this.#reportedNamespaces.add(ns);
    }
  }

  /** Resolves with `p`'s value, or undefined as soon as the loop is stopped. */
  #untilAborted<T>(p: Promise<T>): Promise<T | undefined> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbort = (): void => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

const typeId = (t: ResourceType): string => `${t.apiVersion}/${t.plural}`;

function keyToRef(key: string): ObjectKey {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  if (a === b) return true;
  if (typeof a === 'symbol' || typeof b === 'symbol') return false;
  return jsonEqual(a, b);
}
