/**
 * Pure construction of Canary status: Flagger's `Promoted` condition, plus kstatus-style `Ready`
 * and `Stalled` conditions (Fledge extension) so generic tools can tell healthy from stuck.
 */
import type { CanaryCondition, CanaryPhase } from '../apis/flagger/v1beta1/types.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Wanted {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/** Flagger's `Promoted` condition for a phase (pkg/canary/status.go MakeStatusConditions). */
export function promotedCondition(phase: CanaryPhase, kind: string): Wanted {
  const c = (status: ConditionStatus, message: string): Wanted => ({
    type: 'Promoted',
    status,
    reason: phase,
    message,
  });
  switch (phase) {
    case 'Initialized':
      return c('True', `${kind} initialization completed.`);
    case 'Waiting':
    case 'WaitingPromotion':
      return c('Unknown', 'Waiting for approval.');
    case 'Progressing':
      return c('Unknown', 'New revision detected, progressing canary analysis.');
    case 'Promoting':
      return c('Unknown', 'Canary analysis completed, starting primary rolling update.');
    case 'Finalising':
      return c('Unknown', 'Canary analysis completed, routing all traffic to primary.');
    case 'Succeeded':
      return c('True', 'Canary analysis completed successfully, promotion finished.');
    case 'Failed':
      return c('False', `Canary analysis failed, ${kind} scaled to zero.`);
    default:
      return c('Unknown', `New ${kind} detected, starting initialization.`);
  }
}

/** A problem that stops the canary from being reconciled at all (bad spec, missing target…). */
export interface Blocker {
  readonly reason: string;
  readonly message: string;
}

/** kstatus `Ready`: True only when settled on a promoted revision. */
export function readyCondition(phase: CanaryPhase, blocker?: Blocker): Wanted {
  if (blocker) return { type: 'Ready', status: 'False', reason: blocker.reason, message: blocker.message };
  const settled = phase === 'Initialized' || phase === 'Succeeded';
  if (settled)
    return { type: 'Ready', status: 'True', reason: phase, message: 'Primary is serving the promoted revision.' };
  if (phase === 'Failed') {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'Failed',
      message: 'Canary analysis failed; primary serves the last promoted revision.',
    };
  }
  return {
    type: 'Ready',
    status: 'False',
    reason: phase || 'Initializing',
    message: `Canary is ${phase || 'Initializing'}.`,
  };
}

/** kstatus `Stalled`: True when progress needs a human (failed analysis or a spec/target problem). */
export function stalledCondition(phase: CanaryPhase, blocker?: Blocker, failure?: string): Wanted {
  if (blocker) return { type: 'Stalled', status: 'True', reason: blocker.reason, message: blocker.message };
  if (phase === 'Failed')
    return { type: 'Stalled', status: 'True', reason: 'Failed', message: failure ?? 'Canary analysis failed.' };
  return { type: 'Stalled', status: 'False', reason: phase || 'Initializing', message: '' };
}

/** A suspended canary (spec.suspend): not Ready, not Stalled either (a human chose it), both say why. */
export function suspendedConditions(phase: CanaryPhase): Wanted[] {
  const message = 'Canary is suspended (spec.suspend); the current phase is kept.';
  return [
    readyCondition(phase, { reason: 'Suspended', message }),
    { type: 'Stalled', status: 'False', reason: 'Suspended', message },
  ];
}

/**
 * Merges wanted conditions into the current list: lastTransitionTime moves only when the status
 * flips, lastUpdateTime when anything changes. Returns the same array when nothing changed.
 */
export function mergeConditions(
  current: readonly CanaryCondition[] | undefined,
  wanted: readonly Wanted[],
  now: string,
): readonly CanaryCondition[] {
  const out: CanaryCondition[] = [...(current ?? [])];
  let changed = false;
  for (const w of wanted) {
    const i = out.findIndex((c) => c.type === w.type);
    const prev = i >= 0 ? out[i] : undefined;
    if (prev && prev.status === w.status && prev.reason === w.reason && (prev.message ?? '') === w.message) continue;
    const next: CanaryCondition = {
      type: w.type,
      status: w.status,
      reason: w.reason,
      message: w.message,
      lastUpdateTime: now,
      lastTransitionTime: prev && prev.status === w.status ? (prev.lastTransitionTime ?? now) : now,
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
    changed = true;
  }
  return changed ? out : (current ?? []);
}

/** Flagger zeroes weight and iterations when leaving the phases that carry them. */
export function phaseKeepsCounters(phase: CanaryPhase): boolean {
  return phase === 'Progressing' || phase === 'Waiting' || phase === 'Promoting';
}

/** Fledge's `Held` condition: True while release windows hold the canary (reason why), else False. */
export function heldCondition(held: { reason: string; message: string } | undefined): Wanted {
  return held === undefined
    ? { type: 'Held', status: 'False', reason: 'InReleaseWindow', message: 'The canary may advance.' }
    : { type: 'Held', status: 'True', reason: held.reason, message: held.message };
}
