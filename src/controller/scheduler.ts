/**
 * The canary state machine: one call of `advance` is one tick of one canary (Flagger's
 * advanceCanary). Every decision is taken from the Canary's status and the router's weights, so a
 * restart at any point resumes where the last completed write left off; every side effect before a
 * status write is idempotent for the same revision, so repeating a tick never double-promotes.
 */
import type { Canary, CanaryPhase, CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import {
  analysisOf,
  deploymentStrategy,
  providerOf,
  skipAnalysis as shouldSkip,
  threshold as thresholdOf,
} from '../apis/flagger/v1beta1/defaults.ts';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import { ValidationError } from '../apis/flagger/v1beta1/errors.ts';
import { ignoredFields, unimplementedFields } from '../apis/flagger/v1beta1/providers.ts';
import { unimplementedAutoscaler, unreachablePromotion } from '../apis/flagger/v1beta1/validate.ts';
import { isFlaggerStatus } from '../canary/adoption.ts';
import type { Readiness, Revision, TargetController } from '../canary/target.ts';
import type { KubeObject } from '../kube/objects.ts';
import { NotFoundError } from '../kube/errors.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import type { Router, RouterCapabilities, Weights } from '../router/router.ts';
import type { Clock } from '../core/clock.ts';
import type { Ctx } from '../core/context.ts';
import type { CanaryStatusWriter, CheckOutcome, CheckResult, Checks, EventSink, Factories, Recorder } from './ports.ts';
import { type Freeze, ReleaseWindowError, evaluateReleaseWindows, freezeDecision } from './release-windows.ts';
import {
  type Blocker,
  type Wanted,
  heldCondition,
  mergeConditions,
  phaseKeepsCounters,
  promotedCondition,
  readyCondition,
  stalledCondition,
  suspendedConditions,
} from './status.ts';
import { TOTAL_WEIGHT, maxWeightOf, nextStepWeight, stepBack, stepUp } from './weights.ts';

export interface SchedulerOptions {
  /** `-mesh-provider`: used when spec.provider is empty. */
  readonly meshProvider: string;
  readonly clock: Clock;
  readonly factories: Factories;
  readonly checks: Checks;
  readonly events: EventSink;
  readonly recorder: Recorder;
  readonly status: CanaryStatusWriter;
  /** Extra validation that needs operator settings or other canaries (cross-namespace refs, duplicate targets). */
  readonly verify?: (canary: Canary) => Blocker | undefined;
  /** The freeze holding this canary's namespace (a `fledge-freeze` ConfigMap), if any. */
  readonly freeze?: (ctx: Ctx, canary: Canary) => Promise<Freeze | undefined>;
}

/** What one tick achieved; the loop backs off after errors. */
export interface TickOutcome {
  readonly ok: boolean;
  readonly phase?: CanaryPhase;
}

/** First delay after a repeated identical failure; it doubles per repetition up to {@link BACKOFF_MAX_MS}. */
export const BACKOFF_BASE_MS = 1_000;
/** Longest wait between retries of a canary that keeps failing the same way. */
export const BACKOFF_MAX_MS = 5 * 60_000;

/** Delay after the `count`-th identical failure in a row: none after the first, then 2 s, 4 s, … */
export function backoffMs(count: number): number {
  return count <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(30, count - 1));
}

/** The last failure of a canary: its message, how often in a row, until when to leave it alone. */
interface Failure {
  readonly message: string;
  readonly count: number;
  readonly retryAt: number;
  /** {@link Scheduler.#fingerprint} when it failed: any change retries at once. */
  readonly fingerprint: string;
}

/** A phase of a tick either ends the tick or hands its result to the next phase. */
type Step<T> = { readonly done: TickOutcome } | { readonly next: T };

/** What the phases of a tick pass on. */
interface TickState {
  readonly canary: Canary;
  readonly phase: CanaryPhase;
  readonly skip: boolean;
  readonly provider: string;
  readonly parts: Parts;
}

const RUNNING: readonly CanaryPhase[] = ['Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Finalising'];
const ANALYSING: readonly CanaryPhase[] = ['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'];
const FINALIZER = 'finalizer.flagger.app';

/** True when the target's revision differs from the one analysed or promoted last. */
export function revisionChanged(status: CanaryStatus | undefined, rev: Revision): boolean {
  if (!status?.lastAppliedSpec) return true;
  // Same object generation and same config data: the template can't have changed, whatever the
  // hash of its defaulted form says after an upgrade (Flagger #1673).
  if (status.lastTrackedRevision === rev.fence && sameConfigs(status.trackedConfigs, rev.trackedConfigs)) return false;
  if (rev.hash === status.lastPromotedSpec) return false;
  return rev.hash !== status.lastAppliedSpec;
}

function sameConfigs(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b).length && ak.every((k) => a?.[k] === b[k]);
}

/** One tick at a time, for every canary; stateless apart from small dedup memories. */
export class Scheduler {
  readonly #o: SchedulerOptions;
  /** Canaries whose suspension was already reported (one Event per suspension, not per tick). */
  readonly #suspended = new Set<string>();
  /** Checks of the current tick not written yet, per canary (ticks of one canary never overlap). */
  readonly #unsavedChecks = new Map<string, StatusCheck[]>();
  /** The last failure of each failing canary, for backoff (see {@link FailureBackoff}). */
  readonly #failures = new Map<string, Failure>();
  /** What the current tick of a canary failed with, if anything (set by #block and the catch). */
  readonly #failedNow = new Map<string, string>();
  /** Generation whose ignored routing fields were reported, per canary (one Event per generation). */
  readonly #ignoredReported = new Map<string, number | undefined>();

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /**
   * Runs one tick for a Canary object as read from the cache. Never throws. A canary that failed
   * the same way several times in a row is left alone (no read, no write) until its backoff
   * expires, unless its spec, its target or its verification changed meanwhile.
   */
  async advance(ctx: Ctx, obj: KubeObject): Promise<TickOutcome> {
    const key = keyOf(obj);
    const previous = this.#failures.get(key);
    const now = this.#o.clock.now();
    if (previous && now < previous.retryAt && previous.fingerprint === this.#fingerprint(ctx, obj)) {
      return { ok: false };
    }
    this.#failedNow.delete(key);
    const outcome = await this.#advance(ctx, obj, previous);
    const failure = this.#failedNow.get(key);
    if (outcome.ok || failure === undefined) {
      if (outcome.ok) this.#failures.delete(key);
      return outcome;
    }
    const count = previous?.message === failure ? previous.count + 1 : 1;
    this.#failures.set(key, {
      message: failure,
      count,
      retryAt: this.#o.clock.now() + backoffMs(count),
      fingerprint: this.#fingerprint(ctx, obj),
    });
    return outcome;
  }

  async #advance(ctx: Ctx, obj: KubeObject, previous: Failure | undefined): Promise<TickOutcome> {
    const started = this.#o.clock.now();
    let canary: Canary;
    try {
      canary = parseCanary(obj);
    } catch (err) {
      if (err instanceof ValidationError) return this.#block(ctx, obj, { reason: 'InvalidSpec', message: err.message });
      throw err;
    }
    try {
      return await this.#tick(ctx, canary);
    } catch (err) {
      if (err instanceof InvalidCanaryError) {
        return this.#block(ctx, canary, { reason: err.reason, message: err.message });
      }
      if (err instanceof NotFoundError) {
        return this.#block(ctx, canary, { reason: 'TargetNotFound', message: err.message });
      }
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.error('canary tick failed', { err });
      this.#failedNow.set(keyOf(canary), message);
      // The same failure again is in the logs and in the Event already: no Event patch per retry.
      if (previous?.message !== message) await this.#o.events.event(ctx, canary, 'Warning', message);
      return { ok: false };
    } finally {
      // A tick that failed before writing loses its staged checks; the next tick measures again.
      this.#unsavedChecks.delete(keyOf(canary));
      this.#o.recorder.setDuration(canary, (this.#o.clock.now() - started) / 1000);
    }
  }

  /**
   * What a retry depends on besides time: the Canary's generation and deletion, the target's
   * revision, and the verdict of `verify` (another canary going away clears a conflict).
   */
  #fingerprint(ctx: Ctx, obj: KubeObject): string {
    const own = `${obj.metadata.generation ?? ''}|${obj.metadata.deletionTimestamp ?? ''}`;
    let canary: Canary;
    try {
      canary = parseCanary(obj);
    } catch {
      return own;
    }
    let target: string;
    try {
      const rev = this.#o.factories.target(canary).revision(ctx, canary);
      target = `${rev.fence}|${rev.hash}`;
    } catch (err) {
      target = err instanceof Error ? err.name : 'error';
    }
    return `${own}|${target}|${this.#o.verify?.(canary)?.message ?? ''}`;
  }

  async #tick(ctx: Ctx, canary: Canary): Promise<TickOutcome> {
    if (canary.metadata.deletionTimestamp) return this.#finalize(ctx, canary);
    canary = await this.#syncFinalizer(ctx, canary);
    if (canary.spec.suspend) return this.#suspend(ctx, canary);
    this.#suspended.delete(keyOf(canary));

    const infra = await this.#infrastructure(ctx, canary);
    if ('done' in infra) return infra.done;
    const ready = await this.#readiness(ctx, infra.next);
    if ('done' in ready) return ready.done;
    return this.#analysis(ctx, ready.next);
  }

  /** A suspended canary keeps its phase; Ready/Stalled say so, with one Event per suspension. */
  async #suspend(ctx: Ctx, canary: Canary): Promise<TickOutcome> {
    const key = keyOf(canary);
    const phase = canary.status?.phase ?? '';
    const conditions = mergeConditions(canary.status?.conditions, suspendedConditions(phase), this.#now());
    if (conditions !== (canary.status?.conditions ?? [])) await this.#patch(ctx, canary, { conditions });
    if (!this.#suspended.has(key)) {
      this.#suspended.add(key);
      await this.#o.events.event(ctx, canary, 'Normal', 'skipping canary run as object is suspended');
    }
    return { ok: true, phase };
  }

  /**
   * Infrastructure phase: checks everything that can be known from the spec (conflicts with other
   * canaries, unsupported or unreachable settings) before creating anything, then creates or
   * updates the primary, the Services and the routing object. Ends the tick while initializing.
   */
  async #infrastructure(ctx: Ctx, canary: Canary): Promise<Step<TickState>> {
    const blocker = this.#o.verify?.(canary);
    if (blocker) return { done: await this.#block(ctx, canary, blocker) };
    const provider = providerOf(canary, this.#o.meshProvider);
    const router = this.#o.factories.router(canary, provider);
    preflight(canary, provider, router.capabilities);
    const target = this.#o.factories.target(canary);
    target.metadata(ctx, canary);
    const services = this.#o.factories.services(canary);

    let phase: CanaryPhase = canary.status?.phase ?? '';
    const skip = shouldSkip(canary);
    if (phase === '') {
      canary = await this.#write(ctx, canary, { phase: 'Initializing' });
      phase = 'Initializing';
    } else if (this.#isBlocked(canary)) {
      canary = await this.#write(ctx, canary, {});
    }
    await this.#reportIgnoredFields(ctx, canary, provider);
    const initializing = phase === 'Initializing';

    await services.initialize(ctx, canary);
    if (initializing && !skip) await this.#o.checks.checkProviders(ctx, canary);
    await target.initialize(ctx, canary);
    if (initializing && !skip) {
      const ready = target.isPrimaryReady(ctx, canary);
      if (!ready.ready) {
        await this.#o.events.event(ctx, canary, 'Warning', ready.message);
        if (!ready.retriable) this.#failedNow.set(keyOf(canary), ready.message);
        return { done: { ok: ready.retriable, phase } };
      }
    }
    await target.reconcileAutoscaler(ctx, canary, true);
    await services.reconcile(ctx, canary);
    if (initializing) await target.scaleToZero(ctx, canary);
    await router.reconcile(ctx, canary);

    if (initializing) return { done: await this.#initialized(ctx, canary, target) };
    return { next: { canary, phase, skip, provider, parts: { target, router } } };
  }

  /** One Normal Event per spec generation naming the routing fields the provider does not use. */
  async #reportIgnoredFields(ctx: Ctx, canary: Canary, provider: string): Promise<void> {
    const key = keyOf(canary);
    const generation = canary.metadata.generation;
    if (this.#ignoredReported.has(key) && this.#ignoredReported.get(key) === generation) return;
    this.#ignoredReported.set(key, generation);
    const ignored = ignoredFields(canary, provider);
    if (ignored.length === 0) return;
    await this.#o.events.event(
      ctx,
      canary,
      'Normal',
      `provider "${provider}" ignores ${ignored.map((f) => `spec.${f}`).join(', ')}`,
    );
  }

  /**
   * Readiness phase: settles idle canaries, checks the primary (and the canary once analysing),
   * starts or restarts the analysis of a new revision.
   */
  async #readiness(ctx: Ctx, state: TickState): Promise<Step<TickState & { weights: Weights }>> {
    const { target, router } = state.parts;
    const rev = target.revision(ctx, state.canary);
    const s = { ...state, canary: await this.#adoptFromFlagger(ctx, state.canary, target, rev) };
    const { canary, phase, skip } = s;
    const changed = revisionChanged(canary.status, rev);
    if (!RUNNING.includes(phase) && !changed) {
      const settled = await this.#trackRevert(ctx, canary, rev);
      this.#o.recorder.setStatus(settled, phase);
      return { done: { ok: true, phase } };
    }
    if (!skip) {
      const ready = target.isPrimaryReady(ctx, canary);
      if (!ready.ready) return { done: await this.#primaryNotReady(ctx, s, ready) };
    }

    const weights = await router.getRoutes(ctx, canary);
    this.#o.recorder.setWeight(canary, weights.primary, weights.canary);
    if (!ANALYSING.includes(phase)) return { done: await this.#startAnalysis(ctx, canary, { ...s.parts, rev }) };
    if ((phase === 'Progressing' || phase === 'WaitingPromotion') && changed) {
      return { done: await this.#restartAnalysis(ctx, canary, { ...s.parts, rev }) };
    }

    const canaryReady = target.isCanaryReady(ctx, canary);
    if (!canaryReady.ready) return { done: await this.#canaryNotReady(ctx, s, canaryReady) };
    return { next: { ...s, weights } };
  }

  /**
   * A status Flagger wrote holds Flagger's hash, never equal to Fledge's: without this, every such
   * canary would start an analysis on its first tick. The primary tells what was promoted:
   * - idle (Initialized, Succeeded, Failed) and the primary runs the target: promoted, nothing to do;
   * - Failed and it does not: the failed revision (Flagger re-syncs it every tick); it waits for
   *   the next change, as in Flagger;
   * - mid-analysis: the target is the revision Flagger was analysing; it continues from the
   *   counters Flagger left;
   * - Initialized or Succeeded and it does not: a revision Flagger never saw; left to the normal
   *   new-revision path (whose status write makes the status Fledge's).
   */
  async #adoptFromFlagger(ctx: Ctx, canary: Canary, target: TargetController, rev: Revision): Promise<Canary> {
    const status = canary.status;
    if (!isFlaggerStatus(status)) return canary;
    const phase = status?.phase ?? '';
    const running = RUNNING.includes(phase);
    const comparison = target.compareWithPrimary(ctx, canary);
    const promoted = comparison.same && !running;
    if (!comparison.same)
      ctx.log.info('status written by Flagger; target differs from primary', { reason: comparison.reason });
    if (!comparison.same && !running && phase !== 'Failed') return canary;
    const adopted = await this.#patch(ctx, canary, {
      ...revisionStatus(rev),
      ...(promoted ? { lastPromotedSpec: rev.hash } : {}),
    });
    let detail = 'the primary runs the current revision, nothing to analyse';
    if (running) {
      const c = status ?? {};
      detail = `continuing the ${phase} analysis (canary weight ${c.canaryWeight ?? 0}, iterations ${c.iterations ?? 0}, failed checks ${c.failedChecks ?? 0})`;
    } else if (!promoted) {
      detail = 'the failed revision waits for the next change';
    }
    await this.#o.events.event(ctx, adopted, 'Normal', `Canary ${who(canary)} adopted from Flagger: ${detail}`);
    return adopted;
  }

  async #primaryNotReady(ctx: Ctx, s: TickState, ready: Readiness): Promise<TickOutcome> {
    const { canary, phase } = s;
    await this.#o.events.event(ctx, canary, 'Warning', ready.message);
    if (ready.retriable) return { ok: true, phase };
    if (phase === 'Promoting' || phase === 'Finalising' || promotedUnrecorded(canary, s.parts.target, ctx)) {
      await this.#failedPromotion(ctx, canary, s.parts, ready.message);
    } else {
      await this.#rollback(ctx, canary, s.parts);
    }
    return { ok: true, phase: 'Failed' };
  }

  async #restartAnalysis(ctx: Ctx, canary: Canary, p: Parts & { rev: Revision }): Promise<TickOutcome> {
    await this.#o.events.event(
      ctx,
      canary,
      'Normal',
      `New revision detected! Restarting analysis for ${targetName(canary)}`,
    );
    await p.router.setRoutes(ctx, canary, { primary: TOTAL_WEIGHT, canary: 0, mirrored: false });
    await this.#write(ctx, canary, analysisStart(p.rev));
    return { ok: true, phase: 'Progressing' };
  }

  async #canaryNotReady(ctx: Ctx, s: TickState, ready: Readiness): Promise<TickOutcome> {
    const { canary, phase } = s;
    await this.#o.events.event(ctx, canary, 'Warning', ready.message);
    if (ready.retriable) return { ok: true, phase };
    // Flagger returns before alerting here; Fledge says why it rolls back.
    await this.#o.events.event(
      ctx,
      canary,
      'Warning',
      `Rolling back ${who(canary)} progress deadline exceeded ${ready.message}`,
    );
    await this.#o.events.alert(ctx, canary, {
      message: `Progress deadline exceeded ${ready.message}`,
      severity: 'error',
      metadata: false,
    });
    await this.#rollback(ctx, canary, s.parts);
    return { ok: true, phase: 'Failed' };
  }

  /** Analysis phase: gates, checks, then one step of the strategy (or promotion/finalisation). */
  async #analysis(ctx: Ctx, s: TickState & { weights: Weights }): Promise<TickOutcome> {
    let { canary } = s;
    const { phase, weights, provider, parts } = s;
    if (s.skip) return this.#skipAnalysis(ctx, canary, parts);
    if (
      (phase === 'Progressing' || phase === 'WaitingPromotion') &&
      (await this.#o.checks.rollbackRequested(ctx, canary))
    ) {
      await this.#manualRollback(ctx, canary, parts);
      return { ok: true, phase: 'Failed' };
    }
    if (phase === 'Promoting') {
      await parts.target.reconcileAutoscaler(ctx, canary, false);
      return this.#promotionTrafficShift(ctx, canary, { ...parts, weights });
    }
    if (phase === 'Finalising') return this.#finish(ctx, canary, parts.target);
    if ((canary.status?.failedChecks ?? 0) >= thresholdOf(canary)) {
      await this.#rollback(ctx, canary, parts);
      return { ok: true, phase: 'Failed' };
    }

    const checked = await this.#runChecks(ctx, canary, weights);
    if ('done' in checked) return checked.done;
    canary = checked.next;

    const effective = parts.router.capabilities.weights ? canary : await this.#asBlueGreen(ctx, canary, provider);
    let result: TickOutcome;
    switch (deploymentStrategy(effective)) {
      case 'ab-testing':
        result = await this.#runAB(ctx, effective, parts);
        break;
      case 'blue-green':
        result = await this.#runBlueGreen(ctx, effective, { ...parts, weights });
        break;
      case 'canary':
        result = await this.#runCanary(ctx, effective, { ...parts, weights });
        break;
    }
    // Checks not carried by the step's own status write (a hold, a closed gate, max weight reached).
    await this.#flushChecks(ctx, canary);
    return result;
  }

  /** The pre-rollout hooks at the first step, else the analysis checks; a failure ends the tick. */
  async #runChecks(ctx: Ctx, canary: Canary, weights: Weights): Promise<Step<Canary>> {
    const phase = canary.status?.phase ?? '';
    const analysis = analysisOf(canary);
    const firstStep =
      weights.canary === 0 && (canary.status?.iterations ?? 0) === 0 && !(analysis?.mirror && weights.mirrored);
    if (firstStep) {
      // Outside its release windows an analysis doesn't start (nor run its pre-rollout hooks).
      const open = await this.#releaseWindow(ctx, canary);
      if (!open) return { done: { ok: true, phase } };
      await this.#o.events.event(ctx, open, 'Normal', `Starting canary analysis for ${targetName(open)}`);
      const pre = await this.#o.checks.preRollout(ctx, open);
      if (!pre.passed) return { done: await this.#failedCheck(ctx, open, pre) };
      return { next: open };
    }
    const outcome = await this.#o.checks.analysis(ctx, canary);
    const staged = this.#stageChecks(canary, outcome.results);
    if (outcome.passed) return { next: staged };
    // Outside its release windows a canary holds: its checks still show, but none counts as failed.
    const open = await this.#releaseWindow(ctx, staged);
    if (!open) {
      await this.#flushChecks(ctx, staged);
      return { done: { ok: true, phase } };
    }
    return { done: await this.#failedCheck(ctx, open, outcome) };
  }

  // ---- phases -------------------------------------------------------------------------------

  async #initialized(ctx: Ctx, canary: Canary, target: TargetController): Promise<TickOutcome> {
    const rev = target.revision(ctx, canary);
    const done = await this.#write(ctx, canary, {
      ...revisionStatus(rev),
      phase: 'Initialized',
      lastPromotedSpec: rev.hash,
      canaryWeight: 0,
      failedChecks: 0,
      iterations: 0,
    });
    await this.#o.events.event(ctx, done, 'Normal', `Initialization done! ${who(canary)}`);
    await this.#o.events.alert(ctx, done, {
      message: `New ${canary.spec.targetRef.kind} detected, initialization completed.`,
      severity: 'info',
      metadata: true,
    });
    this.#o.recorder.setStatus(done, 'Initialized');
    return { ok: true, phase: 'Initialized' };
  }

  /** A target reverted to the promoted spec while Failed starts nothing, but is remembered (Flagger's SyncStatus). */
  async #trackRevert(ctx: Ctx, canary: Canary, rev: Revision): Promise<Canary> {
    const s = canary.status;
    if (s?.phase !== 'Failed' || rev.hash === s.lastAppliedSpec || rev.hash !== s.lastPromotedSpec) return canary;
    return this.#write(ctx, canary, revisionStatus(rev));
  }

  async #startAnalysis(ctx: Ctx, canary: Canary, p: Parts & { rev: Revision }): Promise<TickOutcome> {
    const phase = canary.status?.phase ?? '';
    // Flagger can't abort a canary still waiting for confirm-rollout (its §2.17 quirk); Fledge can.
    if (phase === 'Waiting' && (await this.#o.checks.rollbackRequested(ctx, canary))) {
      await this.#manualRollback(ctx, canary, p);
      return { ok: true, phase: 'Failed' };
    }
    const gate = await this.#o.checks.gate(ctx, canary, 'confirm-rollout');
    if (!gate.open) {
      if (phase !== 'Waiting') {
        const waiting = await this.#write(ctx, canary, { phase: 'Waiting' });
        if (!gate.muted)
          await this.#o.events.alert(ctx, waiting, {
            message: 'Canary is waiting for approval.',
            severity: 'warn',
            metadata: false,
          });
      }
      return { ok: true, phase: 'Waiting' };
    }
    await this.#o.events.event(ctx, canary, 'Normal', `New revision detected! Scaling up ${targetName(canary)}`);
    await this.#o.events.alert(ctx, canary, {
      message: 'New revision detected, progressing canary analysis.',
      severity: 'info',
      metadata: true,
    });
    await p.target.scaleFromZero(ctx, canary);
    const next = await this.#write(ctx, canary, analysisStart(p.rev));
    this.#o.recorder.setStatus(next, 'Progressing');
    return { ok: true, phase: 'Progressing' };
  }

  async #runCanary(ctx: Ctx, canary: Canary, p: Parts & { weights: Weights }): Promise<TickOutcome> {
    const analysis = analysisOf(canary) ?? {};
    const max = maxWeightOf(analysis);
    const phase = canary.status?.phase ?? '';
    const { weights } = p;
    if (weights.canary < max) {
      const step = nextStepWeight(analysis, weights.canary);
      if (step <= 0) return { ok: true, phase };
      const open = await this.#releaseWindow(ctx, canary);
      if (!open) return { ok: true, phase };
      canary = open;
      if (!weights.mirrored && phase === 'Progressing') {
        const gate = await this.#o.checks.gate(ctx, canary, 'confirm-traffic-increase');
        if (!gate.open) {
          if (!gate.muted) {
            await this.#o.events.alert(ctx, canary, {
              message: 'Canary traffic increase is waiting for approval.',
              severity: 'warn',
              metadata: false,
            });
          }
          return { ok: true, phase };
        }
      }
      let next: Weights;
      if (p.router.capabilities.mirroring && analysis.mirror && weights.canary === 0) {
        // One mirrored step first: the canary sees copies of requests before it serves any.
        next = weights.mirrored
          ? { primary: TOTAL_WEIGHT - step, canary: step, mirrored: false }
          : { primary: TOTAL_WEIGHT, canary: 0, mirrored: true };
      } else {
        next = { ...stepUp(weights.primary, weights.canary, step), mirrored: false };
      }
      await p.router.setRoutes(ctx, canary, next);
      const updated = await this.#write(ctx, canary, { canaryWeight: next.canary });
      this.#o.recorder.setWeight(updated, next.primary, next.canary);
      await this.#o.events.event(ctx, updated, 'Normal', `Advance ${who(canary)} canary weight ${next.canary}`);
      if (next.canary > max) {
        // Once per revision: the next tick is at or past maxWeight and promotes.
        await this.#o.events.event(
          ctx,
          updated,
          'Normal',
          `Canary weight ${next.canary} is past maxWeight ${max}: steps of stepWeight ${step} are not capped at maxWeight (as in Flagger); promotion comes next`,
        );
      }
      return { ok: true, phase };
    }
    return this.#promote(ctx, canary, p);
  }

  async #runAB(ctx: Ctx, canary: Canary, p: Parts): Promise<TickOutcome> {
    const want = analysisOf(canary)?.iterations ?? 0;
    const have = canary.status?.iterations ?? 0;
    if (want > have) {
      // The first iteration sends the matched requests to the canary: a traffic increase.
      if (have === 0) {
        const open = await this.#releaseWindow(ctx, canary);
        if (!open) return { ok: true, phase: canary.status?.phase ?? '' };
        canary = open;
      }
      await p.router.setRoutes(ctx, canary, { primary: 0, canary: TOTAL_WEIGHT, mirrored: false });
      this.#o.recorder.setWeight(canary, 0, TOTAL_WEIGHT);
      const updated = await this.#write(ctx, canary, { iterations: have + 1 });
      await this.#o.events.event(ctx, updated, 'Normal', `Advance ${who(canary)} canary iteration ${have + 1}/${want}`);
      return { ok: true, phase: canary.status?.phase ?? '' };
    }
    if (want === have) return this.#promote(ctx, canary, p);
    return { ok: true, phase: canary.status?.phase ?? '' };
  }

  async #runBlueGreen(ctx: Ctx, canary: Canary, p: Parts & { weights: Weights }): Promise<TickOutcome> {
    const analysis = analysisOf(canary) ?? {};
    const want = analysis.iterations ?? 0;
    const have = canary.status?.iterations ?? 0;
    const phase = canary.status?.phase ?? '';
    if (want > have) {
      if (p.router.capabilities.mirroring && analysis.mirror && !p.weights.mirrored) {
        await p.router.setRoutes(ctx, canary, { primary: TOTAL_WEIGHT, canary: 0, mirrored: true });
        ctx.log.info('Start traffic mirroring');
      }
      const updated = await this.#write(ctx, canary, { iterations: have + 1 });
      await this.#o.events.event(ctx, updated, 'Normal', `Advance ${who(canary)} canary iteration ${have + 1}/${want}`);
      return { ok: true, phase };
    }
    const open = await this.#releaseWindow(ctx, canary);
    if (!open) return { ok: true, phase };
    canary = open;
    if (!(await this.#promotionGate(ctx, canary))) return { ok: true, phase: 'WaitingPromotion' };
    if (want === have) {
      if (p.router.capabilities.weights) {
        const msg = analysis.mirror
          ? 'Stop traffic mirroring and route all traffic to canary'
          : 'Routing all traffic to canary';
        await this.#o.events.event(ctx, canary, 'Normal', msg);
        await p.router.setRoutes(ctx, canary, { primary: 0, canary: TOTAL_WEIGHT, mirrored: false });
        this.#o.recorder.setWeight(canary, 0, TOTAL_WEIGHT);
      }
      await this.#write(ctx, canary, { iterations: have + 1 });
      return { ok: true, phase };
    }
    return this.#copyToPrimary(ctx, canary, p.target);
  }

  /** Confirm-promotion gate, then copy to primary and enter Promoting. */
  async #promote(ctx: Ctx, canary: Canary, p: Parts): Promise<TickOutcome> {
    const open = await this.#releaseWindow(ctx, canary);
    if (!open) return { ok: true, phase: canary.status?.phase ?? '' };
    canary = open;
    if (!(await this.#promotionGate(ctx, canary))) return { ok: true, phase: 'WaitingPromotion' };
    return this.#copyToPrimary(ctx, canary, p.target);
  }

  /**
   * Release windows (Fledge extension): undefined when the canary must not increase traffic or
   * promote now, else the canary (with its status updated when a hold just ended). A namespace
   * freeze holds like a closed window. The hold is no failure, and checks failing while held are
   * shown in status but not counted (at night a canary may have no traffic at all). The start of a
   * hold sets the `Held` condition and records one Event and one warn alert; its end sets `Held`
   * False and records one Event.
   */
  async #releaseWindow(ctx: Ctx, canary: Canary): Promise<Canary | undefined> {
    const spec = analysisOf(canary)?.releaseWindows;
    const current = canary.status?.conditions?.find((c) => c.type === 'Held');
    const freeze = await this.#o.freeze?.(ctx, canary);
    let decision: ReturnType<typeof evaluateReleaseWindows> = freeze ? freezeDecision(freeze) : { allowed: true };
    if (decision.allowed && spec !== undefined) {
      try {
        decision = evaluateReleaseWindows(spec, this.#o.clock.now());
      } catch (err) {
        if (err instanceof ReleaseWindowError) throw new InvalidCanaryError(`invalid releaseWindows: ${err.message}`);
        throw err;
      }
    }
    if (decision.allowed) {
      if (current?.status !== 'True') return canary;
      const resumed = await this.#setConditions(ctx, canary, [heldCondition(undefined)]);
      await this.#o.events.event(ctx, resumed, 'Normal', `Release window open, resuming ${who(canary)}`);
      return resumed;
    }
    if (current?.status !== 'True' || current.reason !== decision.reason || current.message !== decision.message) {
      const held = await this.#setConditions(ctx, canary, [heldCondition(decision)]);
      if (current?.status !== 'True' || current.reason !== decision.reason) {
        await this.#o.events.event(ctx, held, 'Normal', `Halt ${who(canary)} advancement ${decision.message}`);
        await this.#o.events.alert(ctx, held, {
          message: `Canary is held: ${decision.message}`,
          severity: 'warn',
          metadata: false,
        });
      }
    }
    return undefined;
  }

  /** Merges conditions into the status without touching the phase or its timestamps. */
  async #setConditions(ctx: Ctx, canary: Canary, wanted: readonly Wanted[]): Promise<Canary> {
    return this.#patch(ctx, canary, {
      conditions: mergeConditions(canary.status?.conditions, wanted, this.#now()),
    });
  }

  async #promotionGate(ctx: Ctx, canary: Canary): Promise<boolean> {
    const gate = await this.#o.checks.gate(ctx, canary, 'confirm-promotion');
    if (gate.open) return true;
    if (canary.status?.phase !== 'WaitingPromotion') {
      const waiting = await this.#write(ctx, canary, { phase: 'WaitingPromotion' });
      if (!gate.muted)
        await this.#o.events.alert(ctx, waiting, {
          message: 'Canary promotion is waiting for approval.',
          severity: 'warn',
          metadata: false,
        });
    } else {
      const iterations = Math.max(0, (analysisOf(canary)?.iterations ?? 0) - 1);
      if ((canary.status.iterations ?? 0) !== iterations) await this.#write(ctx, canary, { iterations });
    }
    return false;
  }

  async #copyToPrimary(ctx: Ctx, canary: Canary, target: TargetController): Promise<TickOutcome> {
    const name = canary.spec.targetRef.name;
    const ns = canary.metadata.namespace ?? '';
    await target.promote(ctx, canary);
    const next = await this.#write(ctx, canary, { phase: 'Promoting' });
    // After the status write: a tick retried after a failed write promotes again (a no-op for the
    // same revision) and must not report a second copy.
    await this.#o.events.event(ctx, canary, 'Normal', `Copying ${name}.${ns} template spec to ${name}-primary.${ns}`);
    this.#o.recorder.setStatus(next, 'Promoting');
    return { ok: true, phase: 'Promoting' };
  }

  async #promotionTrafficShift(ctx: Ctx, canary: Canary, p: Parts & { weights: Weights }): Promise<TickOutcome> {
    if (!p.router.capabilities.weights) {
      await this.#write(ctx, canary, { phase: 'Finalising' });
      return { ok: true, phase: 'Finalising' };
    }
    const step = analysisOf(canary)?.stepWeightPromotion ?? 0;
    if (step <= 0 || p.weights.canary <= 0) {
      await this.#o.events.event(ctx, canary, 'Normal', 'Routing all traffic to primary');
      await p.router.setRoutes(ctx, canary, { primary: TOTAL_WEIGHT, canary: 0, mirrored: false });
      this.#o.recorder.setWeight(canary, TOTAL_WEIGHT, 0);
      await this.#write(ctx, canary, { phase: 'Finalising' });
      return { ok: true, phase: 'Finalising' };
    }
    const next = stepBack(p.weights.primary, p.weights.canary, step);
    await p.router.setRoutes(ctx, canary, { ...next, mirrored: false });
    this.#o.recorder.setWeight(canary, next.primary, next.canary);
    await this.#o.events.event(ctx, canary, 'Normal', `Advance ${who(canary)} primary weight ${next.primary}`);
    if (next.primary >= TOTAL_WEIGHT) {
      await this.#write(ctx, canary, { phase: 'Finalising' });
      return { ok: true, phase: 'Finalising' };
    }
    await this.#write(ctx, canary, { canaryWeight: next.canary });
    return { ok: true, phase: 'Promoting' };
  }

  async #finish(ctx: Ctx, canary: Canary, target: TargetController): Promise<TickOutcome> {
    await target.scaleToZero(ctx, canary);
    const done = await this.#write(ctx, canary, { phase: 'Succeeded' });
    this.#o.recorder.setStatus(done, 'Succeeded');
    this.#o.recorder.incResult(done, 'success', 'completed');
    await this.#o.checks.postRollout(ctx, done, 'Succeeded');
    await this.#o.events.event(ctx, done, 'Normal', `Promotion completed! Scaling down ${targetName(canary)}`);
    await this.#o.events.alert(ctx, done, {
      message: 'Canary analysis completed successfully, promotion finished.',
      severity: 'info',
      metadata: false,
    });
    return { ok: true, phase: 'Succeeded' };
  }

  async #skipAnalysis(ctx: Ctx, canary: Canary, p: Parts): Promise<TickOutcome> {
    await p.router.setRoutes(ctx, canary, { primary: TOTAL_WEIGHT, canary: 0, mirrored: false });
    this.#o.recorder.setWeight(canary, TOTAL_WEIGHT, 0);
    const name = canary.spec.targetRef.name;
    const ns = canary.metadata.namespace ?? '';
    await p.target.promote(ctx, canary);
    await p.target.reconcileAutoscaler(ctx, canary, false);
    await p.target.scaleToZero(ctx, canary);
    const done = await this.#write(ctx, canary, { phase: 'Succeeded' });
    // After the status write, as in #copyToPrimary: one event per promotion, even when retried.
    await this.#o.events.event(ctx, canary, 'Normal', `Copying ${name}.${ns} template spec to ${name}-primary.${ns}`);
    this.#o.recorder.setStatus(done, 'Succeeded');
    this.#o.recorder.incResult(done, 'success', 'skipped');
    await this.#o.checks.postRollout(ctx, done, 'Succeeded');
    await this.#o.events.event(
      ctx,
      done,
      'Normal',
      `Promotion completed! Canary analysis was skipped for ${targetName(canary)}`,
    );
    await this.#o.events.alert(ctx, done, {
      message: 'Canary analysis was skipped, promotion finished.',
      severity: 'info',
      metadata: false,
    });
    return { ok: true, phase: 'Succeeded' };
  }

  async #manualRollback(ctx: Ctx, canary: Canary, p: Parts): Promise<void> {
    await this.#o.events.event(ctx, canary, 'Warning', `Rolling back ${who(canary)} manual webhook invoked`);
    await this.#o.events.alert(ctx, canary, {
      message: 'Rolling back manual webhook invoked',
      severity: 'warn',
      metadata: false,
    });
    await this.#rollback(ctx, canary, p);
  }

  async #rollback(ctx: Ctx, canary: Canary, p: Parts): Promise<void> {
    const failed = canary.status?.failedChecks ?? 0;
    let reason: string | undefined;
    if (failed >= thresholdOf(canary)) {
      reason = `Failed checks threshold reached ${failed}`;
      await this.#o.events.event(
        ctx,
        canary,
        'Warning',
        `Rolling back ${who(canary)} failed checks threshold reached ${failed}`,
      );
      const why = failingChecks(canary.status?.checks);
      await this.#o.events.alert(ctx, canary, {
        message: why ? `${reason}: ${why}` : reason,
        severity: 'error',
        metadata: false,
      });
    }
    await p.router.setRoutes(ctx, canary, { primary: TOTAL_WEIGHT, canary: 0, mirrored: false });
    this.#o.recorder.setWeight(canary, TOTAL_WEIGHT, 0);
    await this.#o.events.event(ctx, canary, 'Warning', `Canary failed! Scaling down ${who(canary)}`);
    await p.target.scaleToZero(ctx, canary);
    const done = await this.#write(ctx, canary, { phase: 'Failed', canaryWeight: 0 }, reason);
    this.#o.recorder.setStatus(done, 'Failed');
    this.#o.recorder.incResult(done, 'failure', 'completed');
    await this.#o.checks.postRollout(ctx, done, 'Failed');
  }

  /** The primary broke during promotion: keep serving from the canary, the only healthy copy. */
  async #failedPromotion(ctx: Ctx, canary: Canary, p: Parts, message: string): Promise<void> {
    await this.#o.events.event(
      ctx,
      canary,
      'Warning',
      `Promotion of ${targetName(canary)} failed, primary not ready: ${message}`,
    );
    await this.#o.events.alert(ctx, canary, {
      message: `Promotion failed, primary not ready: ${message}`,
      severity: 'error',
      metadata: false,
    });
    await p.router.setRoutes(ctx, canary, { primary: 0, canary: TOTAL_WEIGHT, mirrored: false });
    this.#o.recorder.setWeight(canary, 0, TOTAL_WEIGHT);
    const done = await this.#write(
      ctx,
      canary,
      { phase: 'Failed', canaryWeight: TOTAL_WEIGHT },
      `Promotion failed, primary not ready: ${message}`,
    );
    this.#o.recorder.setStatus(done, 'Failed');
    this.#o.recorder.incResult(done, 'failure', 'completed');
    await this.#o.checks.postRollout(ctx, done, 'Failed');
  }

  async #failedCheck(ctx: Ctx, canary: Canary, outcome: CheckOutcome): Promise<TickOutcome> {
    await this.#write(ctx, canary, {
      failedChecks: (canary.status?.failedChecks ?? 0) + 1,
      checks: mergeChecks(canary, outcome.results, this.#now()),
    });
    return { ok: true, phase: canary.status?.phase ?? '' };
  }

  /**
   * Keeps the checks of a passing analysis for the tick's next status write, so a step costs one
   * write, not two; {@link #flushChecks} writes them when the tick writes nothing else.
   */
  #stageChecks(canary: Canary, results: readonly CheckResult[]): Canary {
    if (results.length === 0) return canary;
    // Staged even when the values are the same: lastUpdateTime says when they were measured.
    const merged = mergeChecks(canary, results, this.#now());
    this.#unsavedChecks.set(keyOf(canary), merged);
    return { ...canary, status: { ...canary.status, checks: merged } };
  }

  async #flushChecks(ctx: Ctx, canary: Canary): Promise<void> {
    const checks = this.#unsavedChecks.get(keyOf(canary));
    if (checks !== undefined) await this.#patch(ctx, canary, { checks });
  }

  /** Every status patch of a tick goes through here, so staged checks ride along with it. */
  async #patch(ctx: Ctx, canary: Canary, patch: Partial<CanaryStatus>): Promise<Canary> {
    const key = keyOf(canary);
    const staged = this.#unsavedChecks.get(key);
    const written = await this.#o.status.patchStatus(
      ctx,
      canary,
      staged === undefined || patch.checks !== undefined ? patch : { ...patch, checks: staged },
    );
    this.#unsavedChecks.delete(key);
    return written;
  }

  /** A router that can't split traffic (kubernetes): Blue/Green with 10 iterations unless set (as Flagger). */
  async #asBlueGreen(ctx: Ctx, canary: Canary, provider: string): Promise<Canary> {
    const analysis = analysisOf(canary);
    if (!analysis) return canary;
    let changed = analysis;
    if ((analysis.match?.length ?? 0) > 0) {
      await this.#o.events.event(
        ctx,
        canary,
        'Warning',
        `A/B testing is not supported when using the ${provider} provider`,
      );
      changed = { ...changed, match: [] };
    }
    if ((analysis.iterations ?? 0) < 1) {
      await this.#o.events.event(
        ctx,
        canary,
        'Warning',
        `Progressive traffic is not supported when using the ${provider} provider`,
      );
      await this.#o.events.event(ctx, canary, 'Warning', 'Setting canaryAnalysis.iterations: 10');
      changed = { ...changed, iterations: 10 };
    }
    return changed === analysis ? canary : { ...canary, spec: { ...canary.spec, analysis: changed } };
  }

  // ---- deletion --------------------------------------------------------------------------------

  async #syncFinalizer(ctx: Ctx, canary: Canary): Promise<Canary> {
    const has = (canary.metadata.finalizers ?? []).includes(FINALIZER);
    const want = canary.spec.revertOnDeletion === true;
    if (has === want) return canary;
    return this.#o.status.setFinalizer(ctx, canary, want);
  }

  async #finalize(ctx: Ctx, canary: Canary): Promise<TickOutcome> {
    if (!(canary.metadata.finalizers ?? []).includes(FINALIZER)) return { ok: true, phase: canary.status?.phase ?? '' };
    if (canary.status?.phase !== 'Terminating') {
      canary = await this.#write(ctx, canary, { phase: 'Terminating' });
      await this.#o.events.event(ctx, canary, 'Normal', `Terminating canary ${who(canary)}`);
    }
    const target = this.#o.factories.target(canary);
    const ready = await target.finalize(ctx, canary);
    if (!ready.ready) {
      await this.#o.events.event(ctx, canary, 'Warning', ready.message);
      return { ok: false, phase: 'Terminating' };
    }
    // The target serves again before the apex selects it, so the apex never lacks endpoints.
    await this.#o.factories.services(canary).finalize(ctx, canary);
    await this.#o.factories.router(canary, providerOf(canary, this.#o.meshProvider)).finalize(ctx, canary);
    canary = await this.#write(ctx, canary, { phase: 'Terminated' });
    await this.#o.status.setFinalizer(ctx, canary, false);
    await this.#o.events.event(ctx, canary, 'Normal', `Terminated canary ${who(canary)}`);
    return { ok: true, phase: 'Terminated' };
  }

  // ---- status ----------------------------------------------------------------------------------

  #now(): string {
    return new Date(this.#o.clock.now()).toISOString();
  }

  /** Conditions that a blocker or a suspension set and that the phase's own must replace. */
  #isBlocked(canary: Canary): boolean {
    const stalled = canary.status?.conditions?.find((c) => c.type === 'Stalled');
    if (stalled?.reason === 'Suspended') return true;
    return stalled?.status === 'True' && stalled.reason !== 'Failed';
  }

  /**
   * Writes status: zeroes counters when leaving the phases that carry them, records the promoted
   * hash on Initialized/Succeeded, and recomputes conditions, as Flagger's setStatusPhase does.
   */
  async #write(ctx: Ctx, canary: Canary, patch: Partial<CanaryStatus>, failure?: string): Promise<Canary> {
    const now = this.#now();
    const current = canary.status ?? {};
    const phase = patch.phase ?? current.phase ?? '';
    const next: Record<string, unknown> = { ...patch };
    if (patch.phase !== undefined && !phaseKeepsCounters(phase)) {
      next['canaryWeight'] = patch.canaryWeight ?? 0;
      next['iterations'] = phase === 'WaitingPromotion' ? Math.max(0, (analysisOf(canary)?.iterations ?? 0) - 1) : 0;
    }
    if (phase === 'Initialized' || phase === 'Succeeded') {
      next['lastPromotedSpec'] = patch.lastAppliedSpec ?? current.lastAppliedSpec;
    }
    const wanted: Wanted[] = [
      promotedCondition(phase, canary.spec.targetRef.kind),
      readyCondition(phase),
      stalledCondition(phase, undefined, failure),
    ];
    // A hold ends with the analysis (promotion, rollback, new revision).
    const held = current.conditions?.find((c) => c.type === 'Held');
    if (held?.status === 'True' && patch.phase !== undefined && patch.phase !== current.phase) {
      wanted.push(heldCondition(undefined));
    }
    next['conditions'] = mergeConditions(current.conditions, wanted, now);
    next['lastTransitionTime'] = now;
    if (canary.metadata.generation !== undefined) next['observedGeneration'] = canary.metadata.generation;
    return this.#patch(ctx, canary, next);
  }

  /** Reports a problem that stops reconciliation: a condition and one Event per distinct message. */
  async #block(ctx: Ctx, obj: KubeObject | Canary, blocker: Blocker): Promise<TickOutcome> {
    const status = (obj as { status?: CanaryStatus }).status;
    const stalled = status?.conditions?.find((c) => c.type === 'Stalled');
    ctx.log.warn('canary blocked', { reason: blocker.reason, error: blocker.message });
    this.#failedNow.set(keyOf(obj), blocker.message);
    if (stalled?.status === 'True' && stalled.message === blocker.message) return { ok: false };
    const phase = status?.phase ?? '';
    const conditions = mergeConditions(
      status?.conditions,
      [readyCondition(phase, blocker), stalledCondition(phase, blocker)],
      this.#now(),
    );
    try {
      await this.#o.status.patchStatus(ctx, obj as Canary, {
        conditions,
        ...((obj.metadata.generation ?? undefined) !== undefined
          ? { observedGeneration: obj.metadata.generation }
          : {}),
      });
    } catch (err) {
      // A ValidationError means the status was written and only parsing the (invalid) Canary back
      // failed. Anything else: report nothing now; the next tick tries again.
      if (!(err instanceof ValidationError)) {
        ctx.log.error('could not write the blocked condition', { err });
        return { ok: false };
      }
    }
    await this.#o.events.event(ctx, obj as Canary, 'Warning', blocker.message);
    return { ok: false };
  }
}

interface Parts {
  readonly target: TargetController;
  readonly router: Router;
}

/**
 * Spec problems found before anything is created: settings Flagger honours with this provider but
 * Fledge does not implement yet (Unsupported), and analyses that could never reach promotion.
 */
function preflight(canary: Canary, provider: string, capabilities: RouterCapabilities): void {
  const missing = unimplementedFields(canary, provider).map((f) => `spec.${f}`);
  if (missing.length > 0) {
    const verb = missing.length === 1 ? 'is' : 'are';
    throw new UnsupportedError(`${missing.join(', ')} ${verb} not yet supported by Fledge with provider "${provider}"`);
  }
  const autoscaler = unimplementedAutoscaler(canary);
  if (autoscaler !== undefined) throw new UnsupportedError(autoscaler);
  const unreachable = unreachablePromotion(canary, capabilities);
  if (unreachable !== undefined) throw new InvalidCanaryError(unreachable);
}

function keyOf(canary: { readonly metadata: { readonly name: string; readonly namespace?: string } }): string {
  return `${canary.metadata.namespace ?? ''}/${canary.metadata.name}`;
}

/**
 * The primary already runs the revision under analysis although the phase is not Promoting: the
 * status write after the copy was lost. A primary broken now is a failed promotion, not a rollback
 * (rolling back would route everything to the broken primary).
 */
function promotedUnrecorded(canary: Canary, target: TargetController, ctx: Ctx): boolean {
  const applied = canary.status?.lastAppliedSpec;
  if (applied === undefined || applied === canary.status?.lastPromotedSpec) return false;
  return ANALYSING.includes(canary.status?.phase ?? '') && target.primaryRuns(ctx, canary, applied);
}

/** The status of an analysis starting (or restarting) on revision `rev`: zeroed counters and checks. */
function analysisStart(rev: Revision): Partial<CanaryStatus> {
  return { ...revisionStatus(rev), phase: 'Progressing', canaryWeight: 0, failedChecks: 0, iterations: 0, checks: [] };
}

function revisionStatus(rev: Revision): Partial<CanaryStatus> {
  return { lastAppliedSpec: rev.hash, trackedConfigs: { ...rev.trackedConfigs }, lastTrackedRevision: rev.fence };
}

/** `<canary>.<namespace>`, as Flagger names a canary in its messages. */
function who(canary: Canary): string {
  return `${canary.metadata.name}.${canary.metadata.namespace ?? ''}`;
}

function targetName(canary: Canary): string {
  return `${canary.spec.targetRef.name}.${canary.metadata.namespace ?? ''}`;
}

type StatusCheck = NonNullable<CanaryStatus['checks']>[number];

function mergeChecks(canary: Canary, results: readonly CheckResult[], now: string): StatusCheck[] {
  const out = new Map<string, StatusCheck>();
  for (const c of canary.status?.checks ?? []) out.set(`${c.kind}/${c.name}`, c);
  for (const r of results) out.set(`${r.kind}/${r.name}`, { ...r, lastUpdateTime: now });
  return [...out.values()];
}

/**
 * "request-success-rate 80.5 < 99 (query: sum(…))" style summary of the checks that failed, for
 * alerts: each failed check's message, then the query it ran as rendered (metrics only).
 */
export function failingChecks(checks: readonly StatusCheck[] | undefined): string {
  return (checks ?? [])
    .filter((c) => !c.passed)
    .map((c) => `${c.message || c.name}${c.query === undefined || c.query === '' ? '' : ` (query: ${c.query})`}`)
    .join('; ');
}
