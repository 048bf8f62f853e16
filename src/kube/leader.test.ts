import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../log/logger.ts';
import { FakeKube } from './fake.ts';
import { LeaderElector, type LeaderElectionOptions } from './leader.ts';
import type { KubeClient } from './port.ts';
import { Resources } from './resources.ts';

const leaseKey = { namespace: 'fledge-system', name: 'fledge-leader-election' };

/** A view of `kube` whose calls fail while `down` (a network partition for one replica). */
function partitionable(kube: KubeClient): { client: KubeClient; down: boolean } {
  const state = { down: false, client: undefined as unknown as KubeClient };
  const guard = <T>(call: () => Promise<T>): Promise<T> =>
    state.down ? Promise.reject(new Error('connect ECONNREFUSED')) : call();
  state.client = {
    get: (t, k) => guard(() => kube.get(t, k)),
    list: (t, o) => guard(() => kube.list(t, o)),
    create: (o) => guard(() => kube.create(o)),
    apply: (o, a) => guard(() => kube.apply(o, a)),
    mergePatch: (t, k, p) => guard(() => kube.mergePatch(t, k, p)),
    patchStatus: (t, k, s) => guard(() => kube.patchStatus(t, k, s)),
    delete: (t, k) => guard(() => kube.delete(t, k)),
    recordEvent: (e) => kube.recordEvent(e),
    informer: (t, n) => kube.informer(t, n),
  };
  return state;
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly started: number[];
  readonly stopped: number[];
  readonly signals: AbortSignal[];
}

function candidate(kube: KubeClient, identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
  const c: Candidate = { elector: undefined as unknown as LeaderElector, started: [], stopped: [], signals: [] };
  const elector = new LeaderElector({
    kube,
    namespace: leaseKey.namespace,
    identity,
    log: silentLogger,
    random: () => 0.5,
    onStartedLeading: (signal) => {
      c.started.push(Date.now());
      c.signals.push(signal);
    },
    onStoppedLeading: () => c.stopped.push(Date.now()),
    ...extra,
  });
  return { ...c, elector };
}

/** Advances fake time in small steps, asserting that two leaders never coexist. */
async function runFor(ms: number, ...candidates: Candidate[]): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    await vi.advanceTimersByTimeAsync(100);
    const leaders = candidates.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity);
    expect(leaders.length, `leaders at +${t}ms: ${leaders.join(',')}`).toBeLessThanOrEqual(1);
  }
}

const spec = (kube: FakeKube): Record<string, unknown> =>
  (kube.peek(Resources.lease, leaseKey)?.['spec'] ?? {}) as Record<string, unknown>;

describe('LeaderElector', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('of two candidates started together exactly one leads, and keeps leading while it renews', async () => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    const b = candidate(kube, 'b');
    a.elector.start();
    b.elector.start();
    await runFor(60_000, a, b);
    expect([a, b].filter((c) => c.elector.isLeader())).toHaveLength(1);
    expect(a.started.length + b.started.length).toBe(1);
    expect(a.stopped.length + b.stopped.length).toBe(0);
    const leader = a.elector.isLeader() ? 'a' : 'b';
    expect(spec(kube)).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(a.elector.leader()).toBe(leader);
    expect(b.elector.leader()).toBe(leader);
  });

  it('renews every retry period, keeping acquireTime and writing MicroTime renewTime', async () => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a');
    a.elector.start();
    await runFor(100, a);
    const first = spec(kube);
    await runFor(2_100, a);
    const second = spec(kube);
    expect(second['acquireTime']).toBe(first['acquireTime']);
    expect(second['renewTime']).not.toBe(first['renewTime']);
    expect(second['renewTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(kube.writes({ verb: 'patch', type: 'Lease' }).length).toBeGreaterThanOrEqual(1);
  });

  it('a partitioned leader steps down after renewDeadline; the other takes over only after leaseDuration', async () => {
    const kube = new FakeKube();
    const netA = partitionable(kube);
    const a = candidate(netA.client, 'a');
    const b = candidate(kube, 'b');
    a.elector.start();
    await runFor(500, a);
    b.elector.start();
    await runFor(5_000, a, b);
    expect(a.elector.isLeader()).toBe(true);

    const lastRenewal = Date.parse(String(spec(kube)['renewTime']));
    netA.down = true;
    // The last renewal went out at most one retry period (2 s) before the cut; the deadline is 10 s after it.
    await runFor(7_500, a, b);
    expect(a.elector.isLeader()).toBe(true);
    await runFor(2_500, a, b);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.stopped).toHaveLength(1);
    expect((a.stopped[0] ?? 0) - lastRenewal).toBeLessThanOrEqual(10_000);

    await runFor(30_000, a, b);
    expect(b.elector.isLeader()).toBe(true);
    // b waited the full lease duration after a's last renewal.
    expect((b.started[0] ?? 0) - lastRenewal).toBeGreaterThanOrEqual(15_000);
    expect(spec(kube)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // Healed, a campaigns again but cannot take the lease b keeps renewing.
    netA.down = false;
    await runFor(30_000, a, b);
    expect(b.elector.isLeader()).toBe(true);
    expect(a.started).toHaveLength(1);
  });

  it('a replica that dies without releasing is replaced after the lease expires', async () => {
    const kube = new FakeKube();
    const a = candidate(kube, 'a', { releaseOnStop: false });
    const b = candidate(kube, 'b');
    a.elector.start();
    await runFor(500, a);
    b.elector.start();
    await runFor(3_000, a, b);
    const stoppedAt = Date.now();
    await a.elector.stop();
    await runFor(13_000, a, b);
    expect(b.elector.isLeader()).toBe(false);
    await runFor(6_000, a, b);
    expect(b.elector.isLeader()).toBe(true);
    expect((b.started[0] ?? 0) - stoppedAt).toBeGreaterThanOrEqual(13_000);
  });

  it('stop() ends the term, waits for the work to settle, and releases so the other leads at once', async () => {
    const kube = new FakeKube();
    const workDone: string[] = [];
    const a = candidate(kube, 'a', {
      onStartedLeading: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            setTimeout(() => {
              workDone.push('a');
              resolve();
            }, 300);
          }),
        ),
    });
    const b = candidate(kube, 'b');
    a.elector.start();
    await runFor(500, a);
    b.elector.start();
    await runFor(3_000, a, b);
    const stopping = a.elector.stop();
    await runFor(200, a, b);
    expect(spec(kube)['holderIdentity']).toBe('a'); // not released while a's work is still running
    await runFor(200, a, b);
    await stopping;
    expect(workDone).toEqual(['a']);
    expect(spec(kube)['holderIdentity']).toBeUndefined();
    await runFor(3_000, a, b);
    expect(b.elector.isLeader()).toBe(true);
    expect(spec(kube)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('only one of two racing takeovers of an expired lease wins (resourceVersion guard)', async () => {
    const kube = new FakeKube([
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: leaseKey,
        spec: { holderIdentity: 'ghost', leaseDurationSeconds: 15, leaseTransitions: 4 },
      },
    ]);
    // Once armed, the next two reads wait for each other: both candidates see the same resourceVersion.
    const barrier = { armed: false, waiting: [] as (() => void)[] };
    const racy: KubeClient = {
      ...partitionable(kube).client,
      get: async (t, k) => {
        if (barrier.armed) {
          await new Promise<void>((resolve) => {
            barrier.waiting.push(resolve);
            if (barrier.waiting.length === 2) {
              barrier.armed = false;
              for (const r of barrier.waiting) r();
            }
          });
        }
        return kube.get(t, k);
      },
    };
    const a = candidate(racy, 'a');
    const b = candidate(racy, 'b');
    a.elector.start();
    b.elector.start();
    await runFor(14_000, a, b);
    expect(a.started.length + b.started.length).toBe(0); // ghost's lease still counts as held
    barrier.armed = true;
    await runFor(6_000, a, b);
    expect(barrier.waiting).toHaveLength(2);
    expect(a.started.length + b.started.length).toBe(1);
    expect(spec(kube)['leaseTransitions']).toBe(5);
  });

  it('rejects timings that could let two leaders overlap', () => {
    const kube = new FakeKube();
    expect(() => candidate(kube, 'a', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/renewDeadline/);
    expect(() => candidate(kube, 'a', { renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/retryPeriod/);
  });
});
