/**
 * The scheduler's `Checks` (Flagger pkg/controller/scheduler_hooks.go and runAnalysis): gate
 * webhooks, pre-/post-rollout and rollback hooks, rollout hooks and metrics. Every outcome is
 * reported as Flagger reports it (same Event types and wording), and returned as CheckResults for
 * `status.checks`.
 */
import { analysisOf } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryPhase, CanaryWebhook, WebhookType } from '../apis/flagger/v1beta1/types.ts';
import type { HttpClient } from '../http/client.ts';
import type { Informer } from '../kube/port.ts';
import type { Ctx } from '../core/context.ts';
import type { MetricChecker } from './metric-checks.ts';
import type { CheckOutcome, CheckResult, Checks, EventSink, GateType, Recorder } from './ports.ts';
import { type WebhookResult, callWebhook } from './webhooks.ts';

/** What {@link AnalysisChecks} uses. */
export interface AnalysisChecksDeps {
  readonly http: HttpClient;
  readonly events: EventSink;
  readonly recorder: Recorder;
  readonly metrics: MetricChecker;
  /** Wait before webhook retry `n`, in ms (tests shorten it). */
  readonly retryDelayMs?: (retry: number) => number;
  /** Secret informer cache, for webhooks' `headersSecretRef`. */
  readonly secrets?: Pick<Informer, 'get'>;
}

/** How each gate words its Events. */
const GATES: Readonly<
  Record<GateType, { readonly halt: string; readonly passed: string; readonly waitingPhase?: CanaryPhase }>
> = {
  'confirm-rollout': { halt: 'waiting for approval', passed: 'Confirm-rollout', waitingPhase: 'Waiting' },
  'confirm-promotion': {
    halt: 'waiting for promotion approval',
    passed: 'Confirm-promotion',
    waitingPhase: 'WaitingPromotion',
  },
  'confirm-traffic-increase': { halt: 'waiting for traffic increase approval', passed: 'Confirm-traffic-increase' },
};

/** Runs webhooks and metric checks, recording Events and metric samples as it goes. */
export class AnalysisChecks implements Checks {
  readonly #d: AnalysisChecksDeps;

  constructor(deps: AnalysisChecksDeps) {
    this.#d = deps;
  }

  /**
   * Calls every hook of the gate type in order; the first that doesn't answer 2xx closes the gate.
   * confirm-rollout sends the current phase, the others `Progressing`. The "Halt … waiting" Event is
   * recorded on every closed confirm-traffic-increase, but for confirm-rollout/-promotion only when
   * the canary is not already Waiting/WaitingPromotion (once per wait, as Flagger).
   */
  async gate(ctx: Ctx, canary: Canary, type: GateType): Promise<{ open: boolean; muted: boolean }> {
    const words = GATES[type];
    const current = canary.status?.phase ?? '';
    const phase: CanaryPhase = type === 'confirm-rollout' ? current : 'Progressing';
    for (const hook of hooksOf(canary, type)) {
      const res = await this.#call(ctx, canary, phase, hook);
      if (!res.ok) {
        if (words.waitingPhase === undefined || current !== words.waitingPhase) {
          await this.#event(ctx, canary, 'Warning', `Halt ${who(canary)} advancement ${words.halt} ${hook.name}`);
        }
        ctx.log.debug('gate closed', { gate: type, webhook: hook.name, reason: res.message });
        return { open: false, muted: hook.muteAlert === true };
      }
      await this.#event(ctx, canary, 'Normal', `${words.passed} check ${hook.name} passed`);
    }
    return { open: true, muted: false };
  }

  async preRollout(ctx: Ctx, canary: Canary): Promise<CheckOutcome> {
    const results: CheckResult[] = [];
    for (const hook of hooksOf(canary, 'pre-rollout')) {
      const res = await this.#call(ctx, canary, 'Progressing', hook);
      if (!res.ok) {
        const message = `Halt ${who(canary)} advancement pre-rollout check ${hook.name} failed ${res.message}`;
        await this.#event(ctx, canary, 'Warning', message);
        results.push(webhookResult(hook, false, message));
        return { passed: false, results };
      }
      const message = `Pre-rollout check ${hook.name} passed`;
      await this.#event(ctx, canary, 'Normal', message);
      results.push(webhookResult(hook, true, message));
    }
    return { passed: true, results };
  }

  /**
   * Rollout hooks (type `rollout` or empty) first; the first failure ends the tick before any
   * metric is queried, as in Flagger. Then every metric is evaluated, so `status.checks` shows all
   * current values; each failing metric records its own Warning Event.
   */
  async analysis(ctx: Ctx, canary: Canary): Promise<CheckOutcome> {
    const results: CheckResult[] = [];
    for (const hook of hooksOf(canary, 'rollout')) {
      const res = await this.#call(ctx, canary, 'Progressing', hook);
      if (!res.ok) {
        const message = `Halt ${who(canary)} advancement external check ${hook.name} failed ${res.message}`;
        await this.#event(ctx, canary, 'Warning', message);
        results.push(webhookResult(hook, false, message));
        return { passed: false, results };
      }
      results.push(webhookResult(hook, true, `External check ${hook.name} passed`));
    }
    let passed = true;
    for (const evaluation of await this.#d.metrics.evaluate(ctx, canary)) {
      if (evaluation.sample !== undefined)
        this.#d.recorder.setMetricValue(canary, evaluation.result.name, evaluation.sample);
      if (evaluation.event) await this.#event(ctx, canary, evaluation.event.type, evaluation.event.message);
      if (!evaluation.result.passed) passed = false;
      results.push(evaluation.result);
    }
    return { passed, results };
  }

  /** True at the first rollback hook answering 2xx (sent the canary's current phase). */
  async rollbackRequested(ctx: Ctx, canary: Canary): Promise<boolean> {
    const phase = canary.status?.phase ?? '';
    for (const hook of hooksOf(canary, 'rollback')) {
      const res = await this.#call(ctx, canary, phase, hook);
      if (res.ok) {
        await this.#event(ctx, canary, 'Warning', `Rollback check ${hook.name} passed`);
        return true;
      }
      await this.#event(ctx, canary, 'Normal', `Rollback hook ${hook.name} not signaling a rollback`);
    }
    return false;
  }

  /** Calls post-rollout hooks until one fails; failures are Warning Events only. */
  async postRollout(ctx: Ctx, canary: Canary, phase: CanaryPhase): Promise<void> {
    for (const hook of hooksOf(canary, 'post-rollout')) {
      const res = await this.#call(ctx, canary, phase, hook);
      if (!res.ok) {
        await this.#event(ctx, canary, 'Warning', `Post-rollout hook ${hook.name} failed ${res.message}`);
        return;
      }
      await this.#event(ctx, canary, 'Normal', `Post-rollout check ${hook.name} passed`);
    }
  }

  async checkProviders(ctx: Ctx, canary: Canary): Promise<void> {
    const problem = await this.#d.metrics.availability(ctx, canary);
    if (problem === undefined) await this.#event(ctx, canary, 'Normal', 'all the metrics providers are available!');
    else await this.#event(ctx, canary, 'Warning', `Error checking metric providers: ${problem}`);
  }

  #call(ctx: Ctx, canary: Canary, phase: CanaryPhase, hook: CanaryWebhook): Promise<WebhookResult> {
    return callWebhook(ctx, {
      canary,
      phase,
      hook,
      http: this.#d.http,
      ...(this.#d.retryDelayMs === undefined ? {} : { retryDelayMs: this.#d.retryDelayMs }),
      ...(this.#d.secrets === undefined ? {} : { secrets: this.#d.secrets }),
    });
  }

  #event(ctx: Ctx, canary: Canary, type: 'Normal' | 'Warning', message: string): Promise<void> {
    return this.#d.events.event(ctx, canary, type, message);
  }
}

/** The canary's webhooks of `type`; `rollout` includes hooks without a type. */
function hooksOf(canary: Canary, type: Exclude<WebhookType, ''>): readonly CanaryWebhook[] {
  return (analysisOf(canary)?.webhooks ?? []).filter((h) => {
    const t = h.type ?? '';
    return t === type || (type === 'rollout' && t === '');
  });
}

function webhookResult(hook: CanaryWebhook, passed: boolean, message: string): CheckResult {
  return { name: hook.name, kind: 'webhook', passed, message };
}

function who(canary: Canary): string {
  return `${canary.metadata.name}.${canary.metadata.namespace ?? ''}`;
}
