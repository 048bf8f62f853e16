// Weight arithmetic of the canary strategy, against Flagger's maxWeight / nextStepWeight / runCanary.
import { describe, expect, it } from 'vitest';
import {
  type StepConfig,
  TOTAL_WEIGHT,
  maxWeightOf,
  nextStepWeight,
  stepBack,
  stepUp,
  weightSchedule,
} from './weights.ts';

describe('maxWeightOf', () => {
  it.each<[string, StepConfig, number]>([
    ['nothing set: the total weight', {}, 100],
    ['maxWeight', { stepWeight: 10, maxWeight: 50 }, 50],
    ['maxWeight 0 counts as unset', { stepWeight: 10, maxWeight: 0 }, 100],
    ['the last of stepWeights', { stepWeights: [10, 25, 50] }, 50],
    ['stepWeights win over maxWeight', { stepWeights: [10, 20], maxWeight: 80 }, 20],
    ['the last of stepWeights, capped at 100', { stepWeights: [10, 60, 120] }, 100],
    ['empty stepWeights fall back to maxWeight', { stepWeights: [], maxWeight: 30 }, 30],
  ])('%s', (_name, config, want) => {
    expect(maxWeightOf(config)).toBe(want);
  });
});

describe('nextStepWeight', () => {
  it.each<[string, StepConfig, number, number]>([
    ['stepWeight from 0', { stepWeight: 20 }, 0, 20],
    ['stepWeight is constant', { stepWeight: 20, maxWeight: 50 }, 40, 20],
    ['stepWeight past maxWeight (overshoot is the caller’s business)', { stepWeight: 20, maxWeight: 50 }, 60, 20],
    ['stepWeight wins over stepWeights', { stepWeight: 5, stepWeights: [10, 50] }, 10, 5],
    ['neither set: no step', {}, 0, 0],
    ['stepWeights: the first step', { stepWeights: [10, 25, 50] }, 0, 10],
    ['stepWeights: to the next listed weight', { stepWeights: [10, 25, 50] }, 10, 15],
    ['stepWeights: from the middle', { stepWeights: [10, 25, 50] }, 25, 25],
    ['stepWeights: past the last one, the rest of the way', { stepWeights: [10, 25, 50] }, 50, 50],
    ['stepWeights: a weight not in the list, the rest of the way', { stepWeights: [10, 25, 50] }, 30, 70],
    ['stepWeights: at 100, 1 forces promotion', { stepWeights: [10, 100] }, 100, 1],
    ['stepWeights: the first step capped at 100', { stepWeights: [150] }, 0, 100],
    ['stepWeights: a later step capped at 100', { stepWeights: [30, 120] }, 30, 70],
  ])('%s', (_name, config, weight, want) => {
    expect(nextStepWeight(config, weight)).toBe(want);
  });
});

describe('weightSchedule', () => {
  it.each<[string, StepConfig, number[]]>([
    ['stepWeight 20, maxWeight 50: overshoots once, as Flagger', { stepWeight: 20, maxWeight: 50 }, [20, 40, 60]],
    ['stepWeight 10, maxWeight 50: lands on it', { stepWeight: 10, maxWeight: 50 }, [10, 20, 30, 40, 50]],
    ['stepWeight 30 up to 100: the last step is clamped', { stepWeight: 30 }, [30, 60, 90, 100]],
    ['stepWeights', { stepWeights: [10, 25, 50] }, [10, 25, 50]],
    ['stepWeights above 100 are capped', { stepWeights: [10, 60, 120] }, [10, 60, 100]],
    ['stepWeights to 100', { stepWeights: [1, 2, 5, 100] }, [1, 2, 5, 100]],
    ['no step: an empty schedule, not a loop', {}, []],
  ])('%s', (_name, config, want) => {
    expect(weightSchedule(config)).toEqual(want);
  });
});

describe('stepUp and stepBack', () => {
  it.each<[number, number, number, { primary: number; canary: number }]>([
    [100, 0, 20, { primary: 80, canary: 20 }],
    [40, 60, 20, { primary: 20, canary: 80 }],
    [10, 90, 20, { primary: 0, canary: 100 }],
  ])('stepUp(%i, %i, %i) moves weight to the canary, clamped', (primary, canary, step, want) => {
    const got = stepUp(primary, canary, step);
    expect(got).toEqual(want);
    expect(got.primary + got.canary).toBe(TOTAL_WEIGHT);
  });

  it.each<[number, number, number, { primary: number; canary: number }]>([
    [50, 50, 30, { primary: 80, canary: 20 }],
    [80, 20, 30, { primary: 100, canary: 0 }],
    [0, 100, 100, { primary: 100, canary: 0 }],
  ])('stepBack(%i, %i, %i) moves weight back to the primary, clamped', (primary, canary, step, want) => {
    const got = stepBack(primary, canary, step);
    expect(got).toEqual(want);
    expect(got.primary + got.canary).toBe(TOTAL_WEIGHT);
  });
});
