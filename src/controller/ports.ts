/** The seams the scheduler drives; each has one implementation per concern plus in-memory test doubles. */
import type { Canary, CanaryPhase, CanaryStatus, WebhookType } from '../apis/flagger/v1beta1/types.ts';
import type { TargetController } from '../canary/target.ts';
import type { Router, ServiceRouter } from '../router/router.ts';
import type { Severity } from '../notifier/notifier.ts';
import type { Ctx } from '../core/context.ts';

/** One measured check (metric or webhook), as kept in `status.checks` (Fledge extension). */
export interface CheckResult {
  readonly name: string;
  readonly kind: 'metric' | 'webhook';
  readonly passed: boolean;
  readonly message: string;
  readonly value?: number;
  readonly min?: number;
  readonly max?: number;
  /** Metric checks: the query as rendered (truncated), for explanations. */
  readonly query?: string;
}

/** The outcome of running a group of checks; `results` feed status and alerts. */
export interface CheckOutcome {
  readonly passed: boolean;
  readonly results: readonly CheckResult[];
}

/** Gate webhooks (confirm-*) answer open/closed; they never count as failed checks. */
export type GateType = Extract<WebhookType, 'confirm-rollout' | 'confirm-promotion' | 'confirm-traffic-increase'>;

/** Runs webhooks and metric checks for the scheduler (Flagger scheduler_hooks.go + scheduler_metrics.go). */
export interface Checks {
  /** True when every gate of this type is open (or none is configured). Records its own events. */
  gate(ctx: Ctx, canary: Canary, type: GateType): Promise<{ open: boolean; muted: boolean }>;
  /** pre-rollout webhooks, at the first step. */
  preRollout(ctx: Ctx, canary: Canary): Promise<CheckOutcome>;
  /** rollout webhooks, then builtin and template metrics: every analysis tick. */
  analysis(ctx: Ctx, canary: Canary): Promise<CheckOutcome>;
  /** True when a rollback webhook answers 2xx: roll back now. */
  rollbackRequested(ctx: Ctx, canary: Canary): Promise<boolean>;
  /** post-rollout webhooks, after Succeeded or Failed; failures are events only. */
  postRollout(ctx: Ctx, canary: Canary, phase: CanaryPhase): Promise<void>;
  /** Checks the metric providers answer (initialization only); reports through events. */
  checkProviders(ctx: Ctx, canary: Canary): Promise<void>;
}

/** Everything a user sees happen: log line, Kubernetes Event, event webhook, alerts. */
export interface EventSink {
  event(ctx: Ctx, canary: Canary, type: 'Normal' | 'Warning', message: string): Promise<void>;
  /** Alerts go to the canary's AlertProviders (or the global notifier), filtered by severity. */
  alert(ctx: Ctx, canary: Canary, alert: { message: string; severity: Severity; metadata: boolean }): Promise<void>;
}

/** Flagger's own Prometheus metrics (flagger_canary_*). */
export interface Recorder {
  setStatus(canary: Canary, phase: CanaryPhase): void;
  setWeight(canary: Canary, primary: number, canaryWeight: number): void;
  setDuration(canary: Canary, seconds: number): void;
  incResult(canary: Canary, result: 'success' | 'failure', analysisStatus: 'completed' | 'skipped'): void;
  setMetricValue(canary: Canary, metric: string, value: number): void;
}

/** The Canary's status writer: merge patch on /status, remembering the result for the next read. */
export interface CanaryStatusWriter {
  patchStatus(ctx: Ctx, canary: Canary, status: Partial<CanaryStatus>): Promise<Canary>;
  /** Adds or removes Fledge's finalizer (optimistic concurrency on resourceVersion). */
  setFinalizer(ctx: Ctx, canary: Canary, present: boolean): Promise<Canary>;
}

/** Builds the per-provider and per-kind implementations; unsupported ones throw UnsupportedError. */
export interface Factories {
  target(canary: Canary): TargetController;
  services(canary: Canary): ServiceRouter;
  router(canary: Canary, provider: string): Router;
}
