import { describe, expect, it } from 'vitest';
import type { Canary, CanaryAnalysis } from './types.ts';
import { minimalCanary } from './examples.fixture.ts';
import { claimedNames, unreachablePromotion } from './validate.ts';

function canary(analysis: CanaryAnalysis, skipAnalysis = false): Canary {
  return minimalCanary(
    { interval: '1m', threshold: 1, ...analysis },
    { service: { port: 80 }, ...(skipAnalysis ? { skipAnalysis } : {}) },
  );
}

describe('unreachablePromotion', () => {
  it.each<[string, CanaryAnalysis]>([
    ['stepWeights: []', { stepWeights: [] }],
    ['stepWeight: 0', { stepWeight: 0 }],
    ['maxWeight only', { maxWeight: 50 }],
    ['iterations: 0', { iterations: 0 }],
  ])('finds %s unreachable with a traffic-splitting provider', (_name, analysis) => {
    expect(unreachablePromotion(canary(analysis), { weights: true })).toContain('no positive stepWeight');
  });

  it('says A/B needs iterations when match is set without them', () => {
    const c = canary({ match: [{ headers: { x: { exact: 'y' } } }] });
    expect(unreachablePromotion(c, { weights: true })).toContain('A/B testing needs iterations > 0');
  });

  it.each<[string, CanaryAnalysis]>([
    ['stepWeight', { stepWeight: 10 }],
    ['stepWeight past maxWeight', { stepWeight: 50, maxWeight: 30 }],
    ['maxWeight 0 (default 100)', { stepWeight: 10, maxWeight: 0 }],
    ['stepWeights', { stepWeights: [10, 50] }],
    ['Blue/Green', { iterations: 3 }],
    ['A/B', { iterations: 3, match: [{ headers: { x: { exact: 'y' } } }] }],
  ])('accepts %s', (_name, analysis) => {
    expect(unreachablePromotion(canary(analysis), { weights: true })).toBeUndefined();
  });

  it('accepts anything with the kubernetes provider (10 iterations by default) or skipAnalysis', () => {
    expect(unreachablePromotion(canary({ stepWeights: [] }), { weights: false })).toBeUndefined();
    expect(unreachablePromotion(canary({ stepWeights: [] }, true), { weights: true })).toBeUndefined();
  });
});

describe('claimedNames', () => {
  it('names the target, primary, Services and primary autoscaler', () => {
    expect(
      claimedNames({
        targetRef: { kind: 'Deployment', name: 'tgt0' },
        service: { name: 'ref-primary' },
        autoscalerRef: { kind: 'HorizontalPodAutoscaler', name: 'tgt0' },
      }),
    ).toEqual([
      'Deployment/tgt0',
      'Deployment/tgt0-primary',
      'Service/ref-primary',
      'Service/ref-primary-primary',
      'Service/ref-primary-canary',
      'HorizontalPodAutoscaler/tgt0-primary',
    ]);
  });

  it('defaults the apex to the target name and reads nothing from malformed specs', () => {
    expect(claimedNames({ targetRef: { kind: 'Deployment', name: 'a' } })).toContain('Service/a-canary');
    expect(claimedNames({ targetRef: { kind: 7 } })).toEqual([]);
    expect(claimedNames('x')).toEqual([]);
  });
});
