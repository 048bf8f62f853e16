// Specs that cannot work, found before anything is created, and what a repeatedly failing canary
// costs: the real Scheduler over FakeKube, one tick at a time.
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../core/errors.ts';
import { Resources } from '../kube/resources.ts';
import { NS } from '../canary/fixtures.fixture.ts';
import { BACKOFF_MAX_MS, backoffMs } from './scheduler.ts';
import { newFixture, type SchedulerFixture } from './scheduler.fixture.ts';

/** A tick `ms` after the previous one (the fixture's `tick()` waits a whole analysis interval). */
async function tickAfter(fx: SchedulerFixture, ms: number): Promise<void> {
  fx.clock.advance(ms);
  await fx.scheduler.advance(fx.ctx, fx.canaryObject());
}

function created(fx: SchedulerFixture): string[] {
  return fx.kube.actions.filter((a) => a.verb === 'apply' || a.verb === 'create').map((a) => `${a.type} ${a.key}`);
}

describe('Scheduler: backoff on a repeated identical failure', () => {
  const rejected = (): OperatorError =>
    new OperatorError('Service "podinfo-canary" is invalid: spec.ports[0].targetPort: Invalid value');

  it('retries a canary failing the same way ever less often, with one Warning Event', async () => {
    const fx = newFixture();
    fx.kube.failOn({ verb: 'apply', kind: 'Service' }, rejected(), 10_000);
    fx.clear();

    for (let i = 0; i < 60; i++) await tickAfter(fx, 1_000);

    const attempts = fx.kube.writes({ verb: 'apply', type: 'Service' }).length;
    // 1 s, 2 s, 4 s, … apart: 0, 1, 3, 7, 15, 31 s: 6 attempts in a minute instead of 60.
    expect(attempts).toBe(6);
    expect(fx.events('Warning')).toEqual([rejected().message]);
  });

  it('retries at once when the spec changes, and starts over after a success', async () => {
    const fx = newFixture();
    fx.kube.failOn({ verb: 'apply', kind: 'Service' }, rejected(), 4);
    for (let i = 0; i < 4; i++) await tickAfter(fx, 1_000); // fails at 0, 1 s; the next retry is at 3 s
    fx.clear();

    await tickAfter(fx, 100);
    expect(fx.kube.writes({ verb: 'apply', type: 'Service' })).toHaveLength(0);

    fx.updateCanary((c) => {
      c.metadata['labels'] = { edited: 'yes' };
      c.spec['progressDeadlineSeconds'] = 120;
    });
    await tickAfter(fx, 100);
    expect(fx.kube.writes({ verb: 'apply', type: 'Service' }).length).toBeGreaterThan(0);
    expect(fx.phase()).toBe('Initializing');
  });

  it('doubles from 1 s to at most 5 minutes', () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([0, 2_000, 4_000, 8_000]);
    expect(backoffMs(40)).toBe(BACKOFF_MAX_MS);
  });
});

describe('Scheduler: specs that cannot work are refused before anything is created', () => {
  it('reports an out-of-range service port as InvalidSpec, once, and creates nothing', async () => {
    const fx = newFixture({ spec: { service: { port: -1 } } });
    for (let i = 0; i < 20; i++) await tickAfter(fx, 1_000);

    expect(fx.condition('Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(fx.condition('Stalled')?.message).toContain('spec.service.port');
    expect(created(fx)).toEqual([]);
    expect(fx.statusWrites()).toBe(1);
    expect(fx.events('Warning')).toHaveLength(1);
  });

  it.each([
    ['stepWeights: [] without stepWeight', { stepWeight: undefined, maxWeight: undefined, stepWeights: [] }],
    ['stepWeight: 0', { stepWeight: 0 }],
  ])('refuses an analysis that can never promote (%s)', async (_name, analysis) => {
    const fx = newFixture({ analysis });
    await fx.tick();

    expect(fx.condition('Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(fx.condition('Stalled')?.message).toContain('no positive stepWeight and no stepWeights');
    expect(created(fx)).toEqual([]);
  });

  it('runs the same analysis as Blue/Green with the kubernetes provider, as Flagger', async () => {
    const fx = newFixture({
      spec: { provider: 'kubernetes' },
      analysis: { stepWeight: undefined, maxWeight: undefined, stepWeights: [] },
    });
    await fx.tick();
    expect(fx.phase()).toBe('Initializing');
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
  });

  it('initializes a canary with sessionAffinity under gatewayapi:v1, which routes it', async () => {
    const fx = newFixture({ analysis: { sessionAffinity: { cookieName: 'canary' } } });
    await fx.ticks(3);

    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(fx.kube.peek(Resources.deployment, { namespace: NS, name: 'podinfo-primary' })).toBeDefined();
  });
});

describe('Scheduler: unsupported autoscalers', () => {
  it('refuses a ScaledObject before creating the primary or the Services', async () => {
    const fx = newFixture({
      spec: { autoscalerRef: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'podinfo' } },
    });
    await fx.ticks(2);
    expect(fx.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'Unsupported',
      message: 'ScaledObject autoscalers are not supported yet',
    });
    expect(created(fx)).toEqual([]);
  });
});

describe('Scheduler: fields the provider ignores', () => {
  it('names them in one Normal Event per spec generation', async () => {
    const fx = newFixture({
      spec: {
        provider: 'gatewayapi:v1',
        service: {
          port: 9898,
          gatewayRefs: [{ name: 'gateway', namespace: 'istio-ingress' }],
          retries: { attempts: 3 },
          trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
          corsPolicy: { allowOrigin: ['*'] },
        },
      },
    });
    await fx.ticks(3);
    const notice =
      'provider "gatewayapi:v1" ignores spec.service.retries, spec.service.corsPolicy, spec.service.trafficPolicy';
    expect(fx.events('Normal').filter((m) => m.includes('ignores'))).toEqual([notice]);

    fx.updateCanary((c) => {
      c.spec['progressDeadlineSeconds'] = 300;
    });
    await fx.ticks(2);
    expect(fx.events('Normal').filter((m) => m.includes('ignores'))).toEqual([notice, notice]);
  });

  it('says nothing when the provider uses every field set', async () => {
    const fx = newFixture();
    await fx.initialize();
    await fx.ticks(2);
    expect(fx.events().filter((m) => m.includes('ignores'))).toEqual([]);
  });
});

describe('Scheduler: suspension', () => {
  it('restores the phase conditions when unsuspended without a new revision', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.updateCanary((c) => {
      c.spec['suspend'] = true;
    });
    await fx.tick();
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });

    fx.updateCanary((c) => {
      c.spec['suspend'] = false;
    });
    await fx.tick();
    expect(fx.phase()).toBe('Initialized');
    expect(fx.condition('Ready')).toMatchObject({ status: 'True', reason: 'Initialized' });
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False', reason: 'Initialized' });
  });
});
