import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/objects.ts';
import { canaryReadiness, deploymentVerdict, parseTime, primaryReadiness } from './readiness.ts';
import { NS, T0, newCanary, readyStatus } from './fixtures.fixture.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

function deployment(spec: Record<string, unknown>, status: Record<string, unknown>, generation = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'podinfo', namespace: NS, generation },
    spec,
    status,
  };
}

const base = { threshold: 100, deadlineSeconds: 600, now: T0 };

interface Verdict {
  ready: boolean;
  retriable: boolean;
  reason: string;
}

describe('deploymentVerdict', () => {
  const unavailableSince = (ms: number) => [
    { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: iso(ms) },
    { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: iso(ms) },
  ];

  it.each<[string, KubeObject, Partial<typeof base> & { waitingSince?: number }, Verdict]>([
    ['ready', deployment({ replicas: 2 }, readyStatus(2)), {}, { ready: true, retriable: true, reason: '' }],
    [
      'generation not observed yet',
      deployment({ replicas: 2 }, readyStatus(2, 1), 2),
      {},
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: observed deployment generation less than desired generation',
      },
    ],
    [
      'progress deadline exceeded',
      deployment(
        { replicas: 2 },
        {
          ...readyStatus(2),
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      ),
      {},
      { ready: false, retriable: false, reason: 'deployment "podinfo" exceeded its progress deadline' },
    ],
    [
      'updated replicas missing',
      deployment({ replicas: 3 }, { ...readyStatus(3), updatedReplicas: 1 }),
      {},
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 1 out of 3 new replicas have been updated',
      },
    ],
    [
      'old replicas terminating',
      deployment({ replicas: 2 }, { ...readyStatus(2), replicas: 3 }),
      {},
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 1 old replicas are pending termination',
      },
    ],
    [
      'too few available',
      deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 }),
      {},
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available',
      },
    ],
    [
      'threshold 50% of 3 needs 2 (rounded up)',
      deployment({ replicas: 3 }, { ...readyStatus(3), availableReplicas: 1 }),
      { threshold: 50 },
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 1 of 2 (readyThreshold 50%) updated replicas are available',
      },
    ],
    [
      'threshold 50% of 3 is met by 2',
      deployment({ replicas: 3 }, { ...readyStatus(3), availableReplicas: 2 }),
      { threshold: 50 },
      { ready: true, retriable: true, reason: '' },
    ],
    [
      'unavailable for less than the deadline: wait',
      deployment(
        { replicas: 1 },
        { ...readyStatus(1), availableReplicas: 0, conditions: unavailableSince(T0 - 599_000) },
      ),
      {},
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available',
      },
    ],
    [
      'unavailable for longer than the deadline: final',
      deployment(
        { replicas: 1 },
        { ...readyStatus(1), availableReplicas: 0, conditions: unavailableSince(T0 - 601_000) },
      ),
      {},
      {
        ready: false,
        retriable: false,
        reason:
          'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available; minimum replicas unavailable for more than 600s',
      },
    ],
    [
      'waiting for less than the deadline (Fledge): wait',
      deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 }),
      { waitingSince: T0 - 599_000 },
      {
        ready: false,
        retriable: true,
        reason: 'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available',
      },
    ],
    [
      'waiting for longer than the deadline (Fledge): final',
      deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 }),
      { waitingSince: T0 - 601_000 },
      {
        ready: false,
        retriable: false,
        reason:
          'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available; not ready within the progress deadline of 600s',
      },
    ],
    [
      'a ready deployment is ready whatever the wait',
      deployment({ replicas: 1 }, readyStatus(1)),
      { waitingSince: T0 - 10_000_000 },
      { ready: true, retriable: true, reason: '' },
    ],
    [
      'the canary’s own deadline applies',
      deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 }),
      { waitingSince: T0 - 61_000, deadlineSeconds: 60 },
      {
        ready: false,
        retriable: false,
        reason:
          'waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available; not ready within the progress deadline of 60s',
      },
    ],
  ])('%s', (_name, obj, over, expected) => {
    expect(deploymentVerdict(obj, { ...base, ...over })).toEqual(expected);
  });
});

describe('primaryReadiness', () => {
  const canary = newCanary();

  it('is not ready yet (retriable) while the primary is missing', () => {
    expect(primaryReadiness(canary, undefined, base)).toEqual({
      ready: false,
      retriable: true,
      message: 'deployment podinfo-primary.test not found',
    });
  });

  it('prefixes the reason with the primary’s name', () => {
    const obj = deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 });
    expect(primaryReadiness(canary, obj, base).message).toBe(
      'podinfo-primary.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available',
    );
  });

  it('is final when the primary is scaled to zero', () => {
    expect(primaryReadiness(canary, deployment({ replicas: 0 }, readyStatus(0)), base)).toEqual({
      ready: false,
      retriable: false,
      message: 'halt podinfo.test advancement: primary deployment is scaled to zero',
    });
  });

  it('is ready when rolled out', () => {
    expect(primaryReadiness(canary, deployment({ replicas: 2 }, readyStatus(2)), base)).toMatchObject({ ready: true });
  });
});

describe('canaryReadiness', () => {
  it('prefixes the reason with "canary deployment"', () => {
    const obj = deployment({ replicas: 1 }, { ...readyStatus(1), availableReplicas: 0 });
    expect(canaryReadiness(newCanary(), obj, base)).toEqual({
      ready: false,
      retriable: true,
      message:
        'canary deployment podinfo.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available',
    });
  });

  it('accepts a target scaled to zero (nothing to wait for)', () => {
    expect(canaryReadiness(newCanary(), deployment({ replicas: 0 }, readyStatus(0)), base).ready).toBe(true);
  });
});

describe('parseTime', () => {
  it('parses RFC 3339 and rejects garbage', () => {
    expect(parseTime('2026-01-01T00:00:00Z')).toBe(T0);
    expect(parseTime('yesterday')).toBeUndefined();
    expect(parseTime(undefined)).toBeUndefined();
  });
});
