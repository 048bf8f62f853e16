// Canary status conditions: Flagger's Promoted messages, plus the kstatus Ready/Stalled extension.
import { describe, expect, it } from 'vitest';
import type { CanaryCondition, CanaryPhase } from '../apis/flagger/v1beta1/types.ts';
import {
  mergeConditions,
  phaseKeepsCounters,
  promotedCondition,
  readyCondition,
  stalledCondition,
  suspendedConditions,
} from './status.ts';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:01:00.000Z';

describe('promotedCondition', () => {
  // Flagger pkg/canary/status.go MakeStatusConditions, verbatim.
  it.each<[CanaryPhase, 'True' | 'False' | 'Unknown', string]>([
    ['', 'Unknown', 'New Deployment detected, starting initialization.'],
    ['Initializing', 'Unknown', 'New Deployment detected, starting initialization.'],
    ['Initialized', 'True', 'Deployment initialization completed.'],
    ['Waiting', 'Unknown', 'Waiting for approval.'],
    ['WaitingPromotion', 'Unknown', 'Waiting for approval.'],
    ['Progressing', 'Unknown', 'New revision detected, progressing canary analysis.'],
    ['Promoting', 'Unknown', 'Canary analysis completed, starting primary rolling update.'],
    ['Finalising', 'Unknown', 'Canary analysis completed, routing all traffic to primary.'],
    ['Succeeded', 'True', 'Canary analysis completed successfully, promotion finished.'],
    ['Failed', 'False', 'Canary analysis failed, Deployment scaled to zero.'],
  ])('%s', (phase, status, message) => {
    expect(promotedCondition(phase, 'Deployment')).toEqual({ type: 'Promoted', status, reason: phase, message });
  });

  it('names the target kind', () => {
    expect(promotedCondition('Initialized', 'DaemonSet').message).toBe('DaemonSet initialization completed.');
    expect(promotedCondition('Failed', 'DaemonSet').message).toBe('Canary analysis failed, DaemonSet scaled to zero.');
    expect(promotedCondition('Initializing', 'Service').message).toBe('New Service detected, starting initialization.');
  });
});

describe('readyCondition', () => {
  it.each<CanaryPhase>(['Initialized', 'Succeeded'])('is True when settled on a promoted revision (%s)', (phase) => {
    expect(readyCondition(phase)).toMatchObject({ type: 'Ready', status: 'True', reason: phase });
  });

  it.each<CanaryPhase>(['Initializing', 'Progressing', 'Waiting', 'WaitingPromotion', 'Promoting', 'Finalising'])(
    'is False while %s',
    (phase) => {
      expect(readyCondition(phase)).toEqual({
        type: 'Ready',
        status: 'False',
        reason: phase,
        message: `Canary is ${phase}.`,
      });
    },
  );

  it('is False after a failed analysis', () => {
    expect(readyCondition('Failed')).toMatchObject({ status: 'False', reason: 'Failed' });
  });

  it('calls a canary without a phase Initializing', () => {
    expect(readyCondition('')).toMatchObject({
      status: 'False',
      reason: 'Initializing',
      message: 'Canary is Initializing.',
    });
  });

  it('reports a blocker whatever the phase', () => {
    const blocker = { reason: 'TargetNotFound', message: 'Deployment podinfo.test not found' };
    expect(readyCondition('Succeeded', blocker)).toEqual({ type: 'Ready', status: 'False', ...blocker });
  });
});

describe('stalledCondition', () => {
  it('is False while the canary can make progress', () => {
    expect(stalledCondition('Progressing')).toEqual({
      type: 'Stalled',
      status: 'False',
      reason: 'Progressing',
      message: '',
    });
    expect(stalledCondition('')).toMatchObject({ status: 'False', reason: 'Initializing' });
  });

  it('is True after a failed analysis, with the failure when known', () => {
    expect(stalledCondition('Failed')).toEqual({
      type: 'Stalled',
      status: 'True',
      reason: 'Failed',
      message: 'Canary analysis failed.',
    });
    expect(stalledCondition('Failed', undefined, 'Failed checks threshold reached 5')).toMatchObject({
      status: 'True',
      message: 'Failed checks threshold reached 5',
    });
  });

  it('is True with the blocker’s reason and message', () => {
    expect(stalledCondition('Initialized', { reason: 'InvalidSpec', message: 'bad' })).toEqual({
      type: 'Stalled',
      status: 'True',
      reason: 'InvalidSpec',
      message: 'bad',
    });
  });
});

describe('mergeConditions', () => {
  const promoted = (over: Partial<CanaryCondition> = {}): CanaryCondition => ({
    type: 'Promoted',
    status: 'Unknown',
    reason: 'Progressing',
    message: 'New revision detected, progressing canary analysis.',
    lastUpdateTime: T1,
    lastTransitionTime: T1,
    ...over,
  });

  it('adds a new condition with both times now', () => {
    expect(mergeConditions(undefined, [promotedCondition('Initialized', 'Deployment')], T2)).toEqual([
      {
        type: 'Promoted',
        status: 'True',
        reason: 'Initialized',
        message: 'Deployment initialization completed.',
        lastUpdateTime: T2,
        lastTransitionTime: T2,
      },
    ]);
  });

  it('returns the current list itself when nothing changed', () => {
    const current = [promoted()];
    expect(mergeConditions(current, [promotedCondition('Progressing', 'Deployment')], T2)).toBe(current);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const [merged] = mergeConditions([promoted()], [promotedCondition('Promoting', 'Deployment')], T2);
    expect(merged).toMatchObject({
      status: 'Unknown',
      reason: 'Promoting',
      message: 'Canary analysis completed, starting primary rolling update.',
      lastUpdateTime: T2,
      lastTransitionTime: T1,
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const [merged] = mergeConditions([promoted()], [promotedCondition('Succeeded', 'Deployment')], T2);
    expect(merged).toMatchObject({ status: 'True', lastUpdateTime: T2, lastTransitionTime: T2 });
  });

  it('uses now as the transition time when the current condition has none', () => {
    const { lastTransitionTime: _dropped, ...withoutTime } = promoted();
    const [merged] = mergeConditions([withoutTime], [promotedCondition('Promoting', 'Deployment')], T2);
    expect(merged?.lastTransitionTime).toBe(T2);
  });

  it('leaves other conditions alone, keeps their order and appends new types', () => {
    const other: CanaryCondition = { type: 'Custom', status: 'True', reason: 'X', message: 'kept' };
    const merged = mergeConditions(
      [other, promoted()],
      [promotedCondition('Promoting', 'Deployment'), readyCondition('Promoting')],
      T2,
    );
    expect(merged.map((c) => c.type)).toEqual(['Custom', 'Promoted', 'Ready']);
    expect(merged[0]).toBe(other);
  });

  it('does not modify the current list', () => {
    const current = [promoted()];
    mergeConditions(current, [promotedCondition('Failed', 'Deployment')], T2);
    expect(current).toEqual([promoted()]);
  });
});

describe('phaseKeepsCounters', () => {
  it.each<[CanaryPhase, boolean]>([
    ['Progressing', true],
    ['Waiting', true],
    ['Promoting', true],
    ['WaitingPromotion', false],
    ['Finalising', false],
    ['Succeeded', false],
    ['Failed', false],
    ['Initialized', false],
  ])('%s → %s', (phase, keeps) => {
    expect(phaseKeepsCounters(phase)).toBe(keeps);
  });
});

describe('suspendedConditions', () => {
  it('is Ready False and Stalled False, both with reason Suspended, whatever the phase', () => {
    for (const phase of ['', 'Initialized', 'Progressing'] as const) {
      expect(suspendedConditions(phase).map((w) => [w.type, w.status, w.reason])).toEqual([
        ['Ready', 'False', 'Suspended'],
        ['Stalled', 'False', 'Suspended'],
      ]);
    }
  });
});
