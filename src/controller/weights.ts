/**
 * Weight arithmetic of the canary strategy (Flagger's maxWeight / nextStepWeight / runCanary),
 * kept pure so the schedule can be tested without a cluster.
 */

/** Primary + canary always add up to this. */
export const TOTAL_WEIGHT = 100;

export interface StepConfig {
  readonly stepWeight?: number | undefined;
  readonly stepWeights?: readonly number[] | undefined;
  readonly maxWeight?: number | undefined;
}

/** The weight at which promotion starts: last of stepWeights (capped at 100), else maxWeight, else 100. */
export function maxWeightOf(a: StepConfig): number {
  const steps = a.stepWeights ?? [];
  const last = steps[steps.length - 1];
  if (last !== undefined) return Math.min(TOTAL_WEIGHT, last);
  if (a.maxWeight !== undefined && a.maxWeight > 0) return a.maxWeight;
  return TOTAL_WEIGHT;
}

/**
 * How much the canary weight grows on the next step. With stepWeight this is constant (which is
 * how `stepWeight: 20, maxWeight: 50` overshoots to 60, as in Flagger). With stepWeights it is the
 * distance to the next listed weight; 1 at 100 so that the promotion path is taken.
 */
export function nextStepWeight(a: StepConfig, canaryWeight: number): number {
  const steps = a.stepWeights ?? [];
  if ((a.stepWeight ?? 0) > 0 || steps.length === 0) return a.stepWeight ?? 0;
  const maxStep = TOTAL_WEIGHT - canaryWeight;
  if (maxStep === 0) return 1;
  const first = steps[0] ?? 0;
  if (canaryWeight === 0) return Math.min(maxStep, first);
  const at = steps.indexOf(canaryWeight);
  const next = at >= 0 ? steps[at + 1] : undefined;
  if (next !== undefined) return Math.min(maxStep, next - canaryWeight);
  return maxStep;
}

/** Weights after one canary step: primary loses what the canary gains, both clamped to 0..100. */
export function stepUp(primary: number, canary: number, step: number): { primary: number; canary: number } {
  return { primary: Math.max(0, primary - step), canary: Math.min(TOTAL_WEIGHT, canary + step) };
}

/** Weights after one promotion step (stepWeightPromotion): traffic flows back to the primary. */
export function stepBack(primary: number, canary: number, step: number): { primary: number; canary: number } {
  return { primary: Math.min(TOTAL_WEIGHT, primary + step), canary: Math.max(0, canary - step) };
}

/** The canary weights a run will go through, for docs, alerts and tests. */
export function weightSchedule(a: StepConfig): number[] {
  const out: number[] = [];
  const max = maxWeightOf(a);
  let weight = 0;
  for (let i = 0; i < 1000 && weight < max; i++) {
    const step = nextStepWeight(a, weight);
    if (step <= 0) break;
    weight = Math.min(TOTAL_WEIGHT, weight + step);
    out.push(weight);
  }
  return out;
}
