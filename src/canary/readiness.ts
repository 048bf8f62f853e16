/**
 * Deployment readiness (Flagger pkg/canary/deployment_ready.go), pure: the caller passes the cached
 * Deployment, the thresholds and the time. "Not ready, retriable" means wait for the next tick;
 * "not ready, not retriable" means give up (roll back).
 */
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { Readiness } from './target.ts';
import { asArray, asNumber, asRecord, asString, dotted, primaryName } from './util.ts';

/** Inputs of a readiness check besides the Deployment. */
export interface ReadinessOptions {
  /** Percentage of updated replicas that must be available (primary/canaryReadyThreshold, default 100). */
  readonly threshold: number;
  /** The Canary's `progressDeadlineSeconds`. */
  readonly deadlineSeconds: number;
  /** Current time, epoch ms (from the injected Clock). */
  readonly now: number;
  /**
   * Epoch ms since which the caller has been waiting for this Deployment (the Canary's
   * `status.lastTransitionTime`). When set, not being ready for longer than the deadline is
   * final even if the Deployment's own conditions never say so (Flagger #1247, #1373).
   */
  readonly waitingSince?: number | undefined;
}

/** The verdict on one Deployment, without the caller's prefix. */
interface Verdict {
  readonly ready: boolean;
  readonly retriable: boolean;
  readonly reason: string;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly lastUpdateTime: number | undefined;
}

function conditionsOf(status: Record<string, unknown>): Condition[] {
  return asArray(status['conditions']).flatMap((c) => {
    const r = asRecord(c);
    const type = asString(r?.['type']);
    if (!r || type === undefined) return [];
    const updated = Date.parse(asString(r['lastUpdateTime']) ?? '');
    return [
      {
        type,
        status: asString(r['status']) ?? '',
        reason: asString(r['reason']) ?? '',
        lastUpdateTime: Number.isNaN(updated) ? undefined : updated,
      },
    ];
  });
}

/** Parses an RFC 3339 time; undefined when absent or invalid. */
export function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Flagger's `isDeploymentReady`:
 * - generation not yet observed → wait;
 * - `Progressing` condition with reason `ProgressDeadlineExceeded` → final;
 * - fewer updated replicas than desired, old replicas still terminating, or fewer available than
 *   ceil(updated × threshold%) → wait; final once `Available=False/MinimumReplicasUnavailable` is
 *   older than the deadline, or (Fledge) once `waitingSince` is.
 */
export function deploymentVerdict(deployment: KubeObject, options: ReadinessOptions): Verdict {
  const spec = asRecord(deployment['spec']) ?? {};
  const status = asRecord(deployment['status']) ?? {};
  const generation = deployment.metadata.generation ?? 0;
  const observed = asNumber(status['observedGeneration']) ?? 0;
  if (generation > observed) {
    return {
      ready: false,
      retriable: true,
      reason: 'waiting for rollout to finish: observed deployment generation less than desired generation',
    };
  }

  const deadlineMs = options.deadlineSeconds * 1000;
  const conditions = conditionsOf(status);
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      ready: false,
      retriable: false,
      reason: `deployment "${deployment.metadata.name}" exceeded its progress deadline`,
    };
  }
  let retriable = true;
  let why = '';
  const available = conditions.find((c) => c.type === 'Available');
  if (
    progressing !== undefined &&
    available?.status === 'False' &&
    available.reason === 'MinimumReplicasUnavailable' &&
    available.lastUpdateTime !== undefined &&
    available.lastUpdateTime + deadlineMs < options.now
  ) {
    retriable = false;
    why = `; minimum replicas unavailable for more than ${options.deadlineSeconds}s`;
  } else if (options.waitingSince !== undefined && options.waitingSince + deadlineMs < options.now) {
    retriable = false;
    why = `; not ready within the progress deadline of ${options.deadlineSeconds}s`;
  }

  const desired = asNumber(spec['replicas']);
  const replicas = asNumber(status['replicas']) ?? 0;
  const updated = asNumber(status['updatedReplicas']) ?? 0;
  const availableReplicas = asNumber(status['availableReplicas']) ?? 0;
  const needed = Math.ceil((updated * options.threshold) / 100);
  let reason: string | undefined;
  if (desired !== undefined && updated < desired) {
    reason = `waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated`;
  } else if (replicas > updated) {
    reason = `waiting for rollout to finish: ${replicas - updated} old replicas are pending termination`;
  } else if (availableReplicas < needed) {
    reason = `waiting for rollout to finish: ${availableReplicas} of ${needed} (readyThreshold ${options.threshold}%) updated replicas are available`;
  }
  if (reason === undefined) return { ready: true, retriable: true, reason: '' };
  return { ready: false, retriable, reason: retriable ? reason : reason + why };
}

/**
 * Readiness of `<target>-primary` (Flagger `IsPrimaryReady`). A missing primary is not ready yet
 * (retriable); a ready primary scaled to zero is final: there is nothing to fall back to.
 */
export function primaryReadiness(
  canary: Canary,
  primary: KubeObject | undefined,
  options: ReadinessOptions,
): Readiness {
  const ns = canary.metadata.namespace;
  const name = dotted(primaryName(canary.spec.targetRef.name), ns);
  if (primary === undefined) return { ready: false, retriable: true, message: `deployment ${name} not found` };
  const verdict = deploymentVerdict(primary, options);
  if (!verdict.ready)
    return { ready: false, retriable: verdict.retriable, message: `${name} not ready: ${verdict.reason}` };
  if (asNumber(asRecord(primary['spec'])?.['replicas']) === 0) {
    return {
      ready: false,
      retriable: false,
      message: `halt ${dotted(canary.metadata.name, ns)} advancement: primary deployment is scaled to zero`,
    };
  }
  return { ready: true, retriable: true, message: `${name} is ready` };
}

/** Readiness of the target (Flagger `IsCanaryReady`); a missing target is not ready yet (retriable). */
export function canaryReadiness(canary: Canary, target: KubeObject | undefined, options: ReadinessOptions): Readiness {
  const name = dotted(canary.spec.targetRef.name, canary.metadata.namespace);
  if (target === undefined) return { ready: false, retriable: true, message: `deployment ${name} not found` };
  const verdict = deploymentVerdict(target, options);
  if (!verdict.ready) {
    return {
      ready: false,
      retriable: verdict.retriable,
      message: `canary deployment ${name} not ready: ${verdict.reason}`,
    };
  }
  return { ready: true, retriable: true, message: `canary deployment ${name} is ready` };
}
