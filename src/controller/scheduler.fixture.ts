/**
 * Builders for the scheduler tests (cf. Flagger pkg/controller/scheduler_deployment_fixture_test.go):
 * the real Scheduler over FakeKube, with the real Deployment controller, Service and mesh routers
 * and CanaryStore, and in-memory doubles for the ports Fledge owns (checks, events, metrics).
 * Tests call `tick()` one analysis interval at a time and flip the cluster's state in between,
 * as the Deployment controller or a user would. Excluded from the build.
 */
import type { Canary, CanaryAnalysis, CanaryPhase, CanarySpec, CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import { analysisIntervalMs } from '../apis/flagger/v1beta1/defaults.ts';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import { targetFactory } from '../canary/factory.ts';
import {
  ManualClock,
  NS,
  RecordingLogger,
  newCanary,
  newConfigs,
  newCtx,
  newDeployment,
  newHpa,
  readyStatus,
} from '../canary/fixtures.fixture.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import type { Severity } from '../notifier/notifier.ts';
import { routerFactory, serviceRouterFactory } from '../router/factory.ts';
import type { Weights } from '../router/router.ts';
import { CanaryStore } from './canary-store.ts';
import type { Ctx } from '../core/context.ts';
import type { CheckOutcome, CheckResult, Checks, EventSink, GateType, Recorder } from './ports.ts';
import { Scheduler, type SchedulerOptions, type TickOutcome } from './scheduler.ts';

export { NS };

/** The Canary's key. */
export const KEY: Required<ObjectKey> = { namespace: NS, name: 'podinfo' };
const TARGET: Required<ObjectKey> = { namespace: NS, name: 'podinfo' };
const PRIMARY: Required<ObjectKey> = { namespace: NS, name: 'podinfo-primary' };

/** The image podinfo starts with. */
export const IMAGE_REPO = 'ghcr.io/stefanprodan/podinfo';
export const IMAGE_V1 = `${IMAGE_REPO}:6.0.0`;

/** The Gateway every gatewayapi:v1 fixture routes through. */
export const GATEWAY_REFS = [{ name: 'gateway', namespace: 'istio-ingress' }] as const;

// ---- checks ----------------------------------------------------------------------------------------

/** A passing outcome (optionally with the results it measured). */
export function passed(...results: CheckResult[]): CheckOutcome {
  return { passed: true, results };
}

/** A failing outcome of one metric check. */
export function failedMetric(name: string, message: string): CheckOutcome {
  return { passed: false, results: [{ name, kind: 'metric', passed: false, message }] };
}

/**
 * The Checks port, scripted: gates open or closed, per-call outcomes for pre-rollout and analysis
 * (queued outcomes first, then the default), a rollback request flag. Every call is recorded.
 */
export class ScriptedChecks implements Checks {
  /** Gates and whether they are open; all open by default. */
  readonly gates: Record<GateType, boolean> = {
    'confirm-rollout': true,
    'confirm-promotion': true,
    'confirm-traffic-increase': true,
  };
  /** Closed gates report `muted` (the webhook's muteAlert). */
  muted = false;
  /** A rollback webhook answers 2xx. */
  rollback = false;
  /** Outcomes of the next pre-rollout calls, in order; then {@link preRolloutDefault}. */
  readonly preRolloutQueue: CheckOutcome[] = [];
  preRolloutDefault: CheckOutcome = passed();
  /** Outcomes of the next analysis calls, in order; then {@link analysisDefault}. */
  readonly analysisQueue: CheckOutcome[] = [];
  analysisDefault: CheckOutcome = passed();
  /** Every call: `gate:<type>`, `preRollout`, `analysis`, `rollbackRequested`, `postRollout:<phase>`, `checkProviders`. */
  readonly calls: string[] = [];

  gate(_ctx: Ctx, _canary: Canary, type: GateType): Promise<{ open: boolean; muted: boolean }> {
    this.calls.push(`gate:${type}`);
    return Promise.resolve({ open: this.gates[type], muted: this.muted });
  }
  preRollout(_ctx: Ctx, _canary: Canary): Promise<CheckOutcome> {
    this.calls.push('preRollout');
    return Promise.resolve(this.preRolloutQueue.shift() ?? this.preRolloutDefault);
  }
  analysis(_ctx: Ctx, _canary: Canary): Promise<CheckOutcome> {
    this.calls.push('analysis');
    return Promise.resolve(this.analysisQueue.shift() ?? this.analysisDefault);
  }
  rollbackRequested(_ctx: Ctx, _canary: Canary): Promise<boolean> {
    this.calls.push('rollbackRequested');
    return Promise.resolve(this.rollback);
  }
  postRollout(_ctx: Ctx, _canary: Canary, phase: CanaryPhase): Promise<void> {
    this.calls.push(`postRollout:${phase}`);
    return Promise.resolve();
  }
  checkProviders(_ctx: Ctx, _canary: Canary): Promise<void> {
    this.calls.push('checkProviders');
    return Promise.resolve();
  }

  /** How many times `call` was made. */
  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }
}

// ---- events and metrics ---------------------------------------------------------------------------

export interface RecordedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly message: string;
  /** The Canary's phase as the scheduler passed it. */
  readonly phase: CanaryPhase | undefined;
}

export interface RecordedAlert {
  readonly message: string;
  readonly severity: Severity;
  readonly metadata: boolean;
}

/** An EventSink that keeps what it was given. */
export class RecordingEvents implements EventSink {
  readonly events: RecordedEvent[] = [];
  readonly alerts: RecordedAlert[] = [];

  event(_ctx: Ctx, canary: Canary, type: 'Normal' | 'Warning', message: string): Promise<void> {
    this.events.push({ type, message, phase: canary.status?.phase });
    return Promise.resolve();
  }
  alert(_ctx: Ctx, _canary: Canary, alert: { message: string; severity: Severity; metadata: boolean }): Promise<void> {
    this.alerts.push({ ...alert });
    return Promise.resolve();
  }
  clear(): void {
    this.events.length = 0;
    this.alerts.length = 0;
  }
}

/** A Recorder that keeps every call. */
export class RecordingRecorder implements Recorder {
  readonly statuses: CanaryPhase[] = [];
  readonly weights: { primary: number; canary: number }[] = [];
  readonly results: string[] = [];
  readonly durations: number[] = [];

  setStatus(_canary: Canary, phase: CanaryPhase): void {
    this.statuses.push(phase);
  }
  setWeight(_canary: Canary, primary: number, canaryWeight: number): void {
    this.weights.push({ primary, canary: canaryWeight });
  }
  setDuration(_canary: Canary, seconds: number): void {
    this.durations.push(seconds);
  }
  incResult(_canary: Canary, result: 'success' | 'failure', analysisStatus: 'completed' | 'skipped'): void {
    this.results.push(`${result}/${analysisStatus}`);
  }
  setMetricValue(_canary: Canary, _metric: string, _value: number): void {
    // Metric values come from the Checks implementation, which is scripted here.
  }
}

// ---- the fixture --------------------------------------------------------------------------------------

/** An analysis override: merged over the default, `undefined` removes a default field. */
export type AnalysisOverrides = { readonly [K in keyof CanaryAnalysis]?: CanaryAnalysis[K] | undefined };

export interface FixtureOptions {
  /** Merged over the podinfo Canary's spec (provider `gatewayapi:v1` with a Gateway by default). */
  readonly spec?: Partial<CanarySpec>;
  /** Merged over the default analysis: interval 1m, threshold 5, stepWeight 10, maxWeight 50. */
  readonly analysis?: AnalysisOverrides;
  /** Seeds podinfo's HPA and points `autoscalerRef` at it. */
  readonly hpa?: boolean;
  /** More objects to seed (e.g. a user-owned apex Service). */
  readonly objects?: readonly KubeObject[];
  /** `-mesh-provider` (default `kubernetes`). */
  readonly meshProvider?: string;
  /** The namespace freeze lookup (none by default). */
  readonly freeze?: SchedulerOptions['freeze'];
}

/** The podinfo Canary object the API server would hold, before any status. */
export function newCanaryObject(o: FixtureOptions = {}): KubeObject {
  const base = newCanary({
    spec: {
      provider: 'gatewayapi:v1',
      service: { port: 9898, gatewayRefs: [...GATEWAY_REFS] },
      ...(o.hpa
        ? { autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' } }
        : {}),
      ...o.spec,
    },
  });
  const analysis = o.spec?.analysis ?? { ...base.spec.analysis, ...o.analysis };
  // Through JSON: `undefined` fields disappear, as the API server never sends them.
  return JSON.parse(JSON.stringify({ ...base, spec: { ...base.spec, analysis } })) as KubeObject;
}

type DeploymentShape = KubeObject & {
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
};

/** The real Scheduler over FakeKube, one tick at a time. */
export class SchedulerFixture {
  readonly clock = new ManualClock();
  readonly kube: FakeKube;
  readonly log = new RecordingLogger();
  readonly ctx: Ctx = newCtx(this.log);
  readonly checks = new ScriptedChecks();
  readonly sink = new RecordingEvents();
  readonly recorder = new RecordingRecorder();
  readonly store: CanaryStore;
  readonly scheduler: Scheduler;

  constructor(o: FixtureOptions = {}) {
    this.kube = new FakeKube(
      [newCanaryObject(o), newDeployment(), ...newConfigs(), ...(o.hpa ? [newHpa()] : []), ...(o.objects ?? [])],
      { clock: this.clock },
    );
    this.store = new CanaryStore({ kube: this.kube, cache: this.kube.informer(Resources.canary), clock: this.clock });
    const target = targetFactory({ kube: this.kube, clock: this.clock });
    this.scheduler = new Scheduler({
      meshProvider: o.meshProvider ?? 'kubernetes',
      clock: this.clock,
      factories: {
        target,
        services: serviceRouterFactory({ kube: this.kube, metadata: (ctx, c) => target(c).metadata(ctx, c) }),
        router: routerFactory({ kube: this.kube }),
      },
      checks: this.checks,
      events: this.sink,
      recorder: this.recorder,
      status: this.store,
      ...(o.freeze === undefined ? {} : { freeze: o.freeze }),
    });
  }

  // ---- driving ----

  /** One analysis interval passes, then the scheduler runs one tick on the stored Canary. */
  async tick(): Promise<TickOutcome> {
    const obj = this.canaryObject();
    let interval = 60_000;
    try {
      interval = analysisIntervalMs(parseCanary(obj));
    } catch {
      // An invalid Canary still ticks (and gets reported); the default interval will do.
    }
    this.clock.advance(interval);
    return this.scheduler.advance(this.ctx, obj);
  }

  /** `n` ticks; returns the phase after each. */
  async ticks(n: number): Promise<(CanaryPhase | undefined)[]> {
    const phases: (CanaryPhase | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      await this.tick();
      phases.push(this.phase());
    }
    return phases;
  }

  /** Ticks until the phase is `phase` (at most `max` ticks); throws otherwise. */
  async tickUntil(phase: CanaryPhase, max = 20): Promise<number> {
    for (let i = 1; i <= max; i++) {
      await this.tick();
      if (this.phase() === phase) return i;
    }
    throw new Error(`phase ${phase} not reached in ${max} ticks (now ${String(this.phase())})`);
  }

  /** Init: Initializing, primary ready, Initialized; then the journal is cleared. */
  async initialize(): Promise<void> {
    await this.tick();
    this.makePrimaryReady();
    await this.tick();
    if (this.phase() !== 'Initialized') throw new Error(`initialization failed: phase ${String(this.phase())}`);
    this.clear();
  }

  /** A new image, detected, canary scaled up and ready: the next tick starts the analysis. */
  async startRevision(tag = '6.0.1'): Promise<void> {
    this.setImage(tag);
    await this.tick();
    if (this.phase() !== 'Progressing') throw new Error(`new revision not detected: phase ${String(this.phase())}`);
    this.makeCanaryReady();
  }

  /** Forgets the recorded writes, events, alerts and check calls. */
  clear(): void {
    this.kube.clearActions();
    this.sink.clear();
    this.checks.calls.length = 0;
  }

  // ---- acting as the Deployment controller or the user ----

  /** The primary Deployment has rolled out its current spec. */
  makePrimaryReady(): void {
    this.#ready(PRIMARY);
  }

  /** The target Deployment has rolled out its current spec. */
  makeCanaryReady(): void {
    this.#ready(TARGET);
  }

  /** The primary's rollout is stuck; with `deadlineExceeded`, Kubernetes has given up on it. */
  makePrimaryNotReady(deadlineExceeded: boolean): void {
    this.#notReady(PRIMARY, deadlineExceeded);
  }

  /** The target's rollout is stuck; with `deadlineExceeded`, Kubernetes has given up on it. */
  makeCanaryNotReady(deadlineExceeded: boolean): void {
    this.#notReady(TARGET, deadlineExceeded);
  }

  /** The user changes podinfo's image to `<repo>:<tag>`. */
  setImage(tag: string): void {
    const next = structuredClone(this.deployment('podinfo'));
    const container = next.spec.template.spec.containers[0];
    if (!container) throw new Error('podinfo has no container');
    container.image = `${IMAGE_REPO}:${tag}`;
    this.kube.upsert(next);
  }

  /** The user changes a ConfigMap's data. */
  setConfigData(name: string, data: Record<string, string>): void {
    const cm = this.kube.peek(Resources.configMap, { namespace: NS, name });
    if (!cm) throw new Error(`no configmap ${name}`);
    this.kube.upsert({ ...structuredClone(cm), data });
  }

  /** The user edits the Canary (spec or metadata); the status is kept. */
  updateCanary(edit: (c: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void): void {
    const copy = structuredClone(this.canaryObject()) as unknown as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    edit(copy);
    this.kube.upsert(copy as unknown as KubeObject);
  }

  // ---- reading ----

  canaryObject(): KubeObject {
    const obj = this.kube.peek(Resources.canary, KEY);
    if (!obj) throw new Error('the Canary is gone');
    return obj;
  }

  phase(): CanaryPhase | undefined {
    return this.status().phase;
  }

  status(): CanaryStatus {
    const status = this.kube.peek(Resources.canary, KEY)?.['status'];
    return isRecord(status) ? status : {};
  }

  condition(type: string): { status: string; reason: string; message?: string } | undefined {
    return this.status().conditions?.find((c) => c.type === type);
  }

  deployment(name: string): DeploymentShape {
    const obj = this.kube.peek(Resources.deployment, { namespace: NS, name });
    if (!obj) throw new Error(`no deployment ${name}`);
    return obj as DeploymentShape;
  }

  replicas(name: string): number | undefined {
    return this.deployment(name).spec.replicas;
  }

  image(name: string): string | undefined {
    return this.deployment(name).spec.template.spec.containers[0]?.image;
  }

  /** `flagger-id` of the primary's pod template. */
  flaggerId(): string | undefined {
    const template = (this.deployment('podinfo-primary').spec as { template: { metadata?: KubeObject['metadata'] } })
      .template;
    return template.metadata?.annotations?.['flagger-id'];
  }

  service(name: string): (KubeObject & { spec: { selector?: Record<string, string> } }) | undefined {
    return this.kube.peek(Resources.service, { namespace: NS, name }) as
      (KubeObject & { spec: { selector?: Record<string, string> } }) | undefined;
  }

  /** The stored HTTPRoute `podinfo` (gatewayapi:v1). */
  route(): KubeObject & { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } } {
    const route = this.kube.peek(Resources.httpRoute, KEY);
    if (!route) throw new Error('no HTTPRoute');
    return route as KubeObject & { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
  }

  /** Primary and canary weights of the HTTPRoute's weighted (first) rule. */
  routeWeights(): Omit<Weights, 'mirrored'> {
    const backends = this.route().spec.rules[0]?.backendRefs ?? [];
    const weightOf = (name: string): number => backends.find((b) => b.name === name)?.weight ?? -1;
    return { primary: weightOf('podinfo-primary'), canary: weightOf('podinfo-canary') };
  }

  /** Messages of the recorded events, in order. */
  events(type?: 'Normal' | 'Warning'): string[] {
    return this.sink.events.filter((e) => type === undefined || e.type === type).map((e) => e.message);
  }

  /** Writes of the Canary's status since the last clear. */
  statusWrites(): number {
    return this.kube.writes({ verb: 'patchStatus', type: 'Canary' }).length;
  }

  #ready(key: Required<ObjectKey>): void {
    const obj = this.deployment(key.name);
    this.kube.setStatus(Resources.deployment, key, readyStatus(obj.spec.replicas ?? 1, obj.metadata.generation ?? 1));
  }

  #notReady(key: Required<ObjectKey>, deadlineExceeded: boolean): void {
    const obj = this.deployment(key.name);
    const replicas = obj.spec.replicas ?? 1;
    this.kube.setStatus(Resources.deployment, key, {
      observedGeneration: obj.metadata.generation ?? 1,
      replicas: replicas + 1,
      updatedReplicas: Math.max(0, replicas - 1),
      readyReplicas: 0,
      availableReplicas: 0,
      conditions: [
        { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
        deadlineExceeded
          ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
      ],
    });
  }
}

/** A fixture seeded with podinfo, its configs and the Canary built from `o`. */
export function newFixture(o: FixtureOptions = {}): SchedulerFixture {
  return new SchedulerFixture(o);
}

/** A user-created apex Service `podinfo` selecting the target's pods (taken over at init). */
export function newUserApexService(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'podinfo', namespace: NS, labels: { app: 'podinfo' } },
    spec: {
      type: 'ClusterIP',
      selector: { app: 'podinfo' },
      ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }],
    },
  };
}
