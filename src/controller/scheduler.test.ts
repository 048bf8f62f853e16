// The canary state machine stepped one tick at a time over FakeKube, with the real Deployment
// controller, routers and status writer (cf. Flagger pkg/controller/scheduler_deployment_test.go).
import { describe, expect, it } from 'vitest';
import { FINALIZER, meshProviders } from '../apis/flagger/v1beta1/types.ts';
import { NS, TRACKED_KEYS, newDeployment, newHpa } from '../canary/fixtures.fixture.ts';
import { OperatorError } from '../core/errors.ts';
import { Resources } from '../kube/resources.ts';
import { routedProviders } from '../router/factory.ts';
import {
  IMAGE_REPO,
  IMAGE_V1,
  KEY,
  failedMetric,
  newFixture,
  newUserApexService,
  passed,
  type SchedulerFixture,
} from './scheduler.fixture.ts';

const IMAGE_V2 = `${IMAGE_REPO}:6.0.1`;

/** Canary strategy of the Flagger docs: 20, 40, 60 (one overshoot), then promotion. */
const STEP_20_MAX_50 = { stepWeight: 20, maxWeight: 50 } as const;
/** Blue/Green: iterations instead of weights. */
const BLUE_GREEN = { stepWeight: undefined, maxWeight: undefined, iterations: 3 } as const;

/** Ticks from the first analysis step to Promoting with the canary strategy, returning the weights seen. */
async function stepToPromotion(fx: SchedulerFixture): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < 10 && fx.phase() === 'Progressing'; i++) {
    await fx.tick();
    if (fx.phase() === 'Progressing') seen.push(fx.routeWeights().canary);
  }
  return seen;
}

/** A provider of the CRD enum that no router implements yet (the routers are added one by one). */
const UNROUTED = meshProviders.find((p) => !routedProviders.includes(p)) ?? 'none';
describe('Scheduler: initialization', () => {
  it('creates the primary, its configs and services, waits for the primary, then scales the target to zero', async () => {
    const fx = newFixture();

    expect(await fx.tick()).toEqual({ ok: true, phase: 'Initializing' });
    expect(fx.phase()).toBe('Initializing');
    const primary = fx.deployment('podinfo-primary');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);
    expect((primary.spec as { selector?: unknown }).selector).toEqual({ matchLabels: { app: 'podinfo-primary' } });
    for (const key of TRACKED_KEYS) {
      const [kind, name] = key.split('/');
      const type = kind === 'configmap' ? Resources.configMap : Resources.secret;
      expect(fx.kube.peek(type, { namespace: NS, name: `${name ?? ''}-primary` }), key).toBeDefined();
    }
    expect(fx.kube.peek(Resources.configMap, { namespace: NS, name: 'podinfo-config-env-primary' })?.['data']).toEqual({
      color: 'blue',
    });
    expect(fx.service('podinfo-canary')?.spec.selector).toEqual({ app: 'podinfo' });
    expect(fx.service('podinfo-primary')?.spec.selector).toEqual({ app: 'podinfo-primary' });
    // The primary has not rolled out yet: the target keeps serving, the apex is not switched.
    expect(fx.replicas('podinfo')).toBe(2);
    expect(fx.service('podinfo')).toBeUndefined();
    expect(fx.events('Warning')).toEqual([
      'podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation',
    ]);

    fx.makePrimaryReady();
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Initialized' });

    expect(fx.phase()).toBe('Initialized');
    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.replicas('podinfo')).toBe(0);
    const status = fx.status();
    expect(status.lastAppliedSpec).toMatch(/\S/);
    expect(status.lastPromotedSpec).toBe(status.lastAppliedSpec);
    expect(Object.keys(status.trackedConfigs ?? {}).sort()).toEqual([...TRACKED_KEYS]);
    expect(status).toMatchObject({ canaryWeight: 0, failedChecks: 0, iterations: 0 });
    expect(fx.condition('Promoted')).toMatchObject({
      status: 'True',
      reason: 'Initialized',
      message: 'Deployment initialization completed.',
    });
    expect(fx.condition('Ready')).toMatchObject({ status: 'True', reason: 'Initialized' });
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(fx.events('Normal')).toEqual(['Initialization done! podinfo.test']);
    expect(fx.sink.alerts).toEqual([
      { message: 'New Deployment detected, initialization completed.', severity: 'info', metadata: true },
    ]);
    expect(fx.recorder.statuses).toEqual(['Initialized']);
  });

  it('does no write and records no event on an idle tick', async () => {
    const fx = newFixture();
    await fx.initialize();

    expect(await fx.tick()).toEqual({ ok: true, phase: 'Initialized' });
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Initialized' });

    expect(fx.kube.actions).toEqual([]);
    expect(fx.sink.events).toEqual([]);
    expect(fx.sink.alerts).toEqual([]);
  });

  it('creates the primary HPA and scales a new revision up to the HPA minimum', async () => {
    const fx = newFixture({ hpa: true });
    fx.kube.upsert(newHpa({ spec: { minReplicas: 3 } }));
    await fx.initialize();

    const primaryHpa = fx.kube.peek(Resources.hpa, { namespace: NS, name: 'podinfo-primary' });
    expect(primaryHpa?.['spec']).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'podinfo-primary' },
      minReplicas: 3,
      maxReplicas: 4,
    });
    expect(fx.replicas('podinfo')).toBe(0);

    fx.setImage('6.0.1');
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
    expect(fx.replicas('podinfo')).toBe(3);
  });
});

describe('Scheduler: new revision', () => {
  it('scales the target up and starts Progressing with the new revision and zeroed counters', async () => {
    const fx = newFixture();
    await fx.initialize();
    const promoted = fx.status().lastPromotedSpec;

    fx.setImage('6.0.1');
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Progressing' });

    expect(fx.replicas('podinfo')).toBe(2); // the primary's replicas
    const status = fx.status();
    expect(status).toMatchObject({ phase: 'Progressing', canaryWeight: 0, failedChecks: 0, iterations: 0 });
    expect(status.lastAppliedSpec).not.toBe(promoted);
    expect(status.lastPromotedSpec).toBe(promoted);
    expect(fx.condition('Promoted')).toMatchObject({
      status: 'Unknown',
      reason: 'Progressing',
      message: 'New revision detected, progressing canary analysis.',
    });
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(fx.events()).toEqual(['New revision detected! Scaling up podinfo.test']);
    expect(fx.sink.alerts).toEqual([
      { message: 'New revision detected, progressing canary analysis.', severity: 'info', metadata: true },
    ]);
    // Traffic is untouched until the canary is ready and analysed.
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);
  });

  it('waits for the canary rollout before the first analysis step', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.setImage('6.0.1');
    await fx.tick();
    fx.clear();

    await fx.tick();

    expect(fx.phase()).toBe('Progressing');
    expect(fx.checks.calls).not.toContain('preRollout');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.events('Warning')).toEqual([
      'canary deployment podinfo.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation',
    ]);
  });

  it('treats a change of a tracked ConfigMap as a new revision', async () => {
    const fx = newFixture();
    await fx.initialize();
    const before = fx.status();

    fx.setConfigData('podinfo-config-env', { color: 'green' });
    await fx.tick();

    const after = fx.status();
    expect(after.phase).toBe('Progressing');
    expect(after.lastAppliedSpec).not.toBe(before.lastAppliedSpec);
    expect(after.trackedConfigs?.['configmap/podinfo-config-env']).not.toBe(
      before.trackedConfigs?.['configmap/podinfo-config-env'],
    );
    expect(after.trackedConfigs?.['configmap/podinfo-config-vol']).toBe(
      before.trackedConfigs?.['configmap/podinfo-config-vol'],
    );
  });

  it('waits for confirm-rollout (alerting once) and starts when it opens', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.checks.gates['confirm-rollout'] = false;

    fx.setImage('6.0.1');
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Waiting' });
    expect(fx.phase()).toBe('Waiting');
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.condition('Promoted')).toMatchObject({ status: 'Unknown', message: 'Waiting for approval.' });
    expect(fx.sink.alerts).toEqual([{ message: 'Canary is waiting for approval.', severity: 'warn', metadata: false }]);

    fx.clear();
    await fx.ticks(3);
    expect(fx.phase()).toBe('Waiting');
    expect(fx.checks.count('gate:confirm-rollout')).toBe(3);
    expect(fx.sink.alerts).toEqual([]);
    expect(fx.kube.actions).toEqual([]);

    fx.checks.gates['confirm-rollout'] = true;
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
    expect(fx.replicas('podinfo')).toBe(2);
    expect(fx.events()).toEqual(['New revision detected! Scaling up podinfo.test']);
  });

  it('does not alert while waiting when the gate is muted', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.checks.gates['confirm-rollout'] = false;
    fx.checks.muted = true;

    fx.setImage('6.0.1');
    await fx.tick();

    expect(fx.phase()).toBe('Waiting');
    expect(fx.sink.alerts).toEqual([]);
  });
});

describe('Scheduler: canary strategy', () => {
  it('steps 20, 40, 60 with stepWeight 20 / maxWeight 50, promotes, routes back to the primary and succeeds', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    const primaryId = fx.flaggerId();
    await fx.startRevision('6.0.1');
    fx.clear();

    expect(await stepToPromotion(fx)).toEqual([20, 40, 60]);
    expect(fx.events()).toEqual([
      'Starting canary analysis for podinfo.test',
      'Advance podinfo.test canary weight 20',
      'Advance podinfo.test canary weight 40',
      'Advance podinfo.test canary weight 60',
      'Canary weight 60 is past maxWeight 50: steps of stepWeight 20 are not capped at maxWeight (as in Flagger); promotion comes next',
      'Copying podinfo.test template spec to podinfo-primary.test',
    ]);
    expect(fx.checks.count('preRollout')).toBe(1);
    expect(fx.checks.count('analysis')).toBe(3);
    expect(fx.checks.count('gate:confirm-traffic-increase')).toBe(3);
    expect(fx.checks.count('gate:confirm-promotion')).toBe(1);

    // Promoting: the primary runs the new spec; traffic stays split until it has rolled out.
    expect(fx.phase()).toBe('Promoting');
    expect(fx.status().canaryWeight).toBe(60);
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    expect(fx.flaggerId()).not.toBe(primaryId);
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    expect(fx.condition('Promoted')).toMatchObject({
      status: 'Unknown',
      message: 'Canary analysis completed, starting primary rolling update.',
    });

    fx.clear();
    await fx.tick();
    expect(fx.phase()).toBe('Promoting');
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    expect(fx.events('Warning')).toEqual([
      'podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation',
    ]);

    fx.makePrimaryReady();
    await fx.tick();
    expect(fx.phase()).toBe('Finalising');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.status().canaryWeight).toBe(0);
    expect(fx.replicas('podinfo')).toBe(2);

    fx.clear();
    await fx.tick();
    expect(fx.phase()).toBe('Succeeded');
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    const status = fx.status();
    expect(status.lastPromotedSpec).toBe(status.lastAppliedSpec);
    expect(fx.condition('Promoted')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
      message: 'Canary analysis completed successfully, promotion finished.',
    });
    expect(fx.condition('Ready')).toMatchObject({ status: 'True' });
    expect(fx.checks.calls).toContain('postRollout:Succeeded');
    expect(fx.recorder.results).toEqual(['success/completed']);
    expect(fx.events()).toEqual(['Promotion completed! Scaling down podinfo.test']);
    expect(fx.sink.alerts).toEqual([
      { message: 'Canary analysis completed successfully, promotion finished.', severity: 'info', metadata: false },
    ]);

    // Settled: the promoted revision starts nothing.
    fx.clear();
    await fx.ticks(2);
    expect(fx.kube.actions).toEqual([]);
    expect(fx.phase()).toBe('Succeeded');
  });

  it('copies changed config data to the -primary copies at promotion', async () => {
    const fx = newFixture({ analysis: { stepWeight: 50, maxWeight: 50 } });
    await fx.initialize();
    fx.setConfigData('podinfo-config-env', { color: 'green' });
    await fx.tick();
    fx.makeCanaryReady();
    const copy = { namespace: NS, name: 'podinfo-config-env-primary' };
    expect(fx.kube.peek(Resources.configMap, copy)?.['data']).toEqual({ color: 'blue' });

    await fx.tickUntil('Promoting');

    expect(fx.kube.peek(Resources.configMap, copy)?.['data']).toEqual({ color: 'green' });
  });

  it('follows stepWeights 10, 25, 50 and shifts traffic back in stepWeightPromotion steps', async () => {
    const fx = newFixture({
      analysis: { stepWeight: undefined, maxWeight: undefined, stepWeights: [10, 25, 50], stepWeightPromotion: 30 },
    });
    await fx.initialize();
    await fx.startRevision();

    expect(await stepToPromotion(fx)).toEqual([10, 25, 50]);
    expect(fx.phase()).toBe('Promoting');
    fx.makePrimaryReady();
    fx.clear();

    await fx.tick();
    expect(fx.phase()).toBe('Promoting');
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    expect(fx.status().canaryWeight).toBe(20);
    expect(fx.events()).toEqual(['Advance podinfo.test primary weight 80']);

    await fx.tick();
    expect(fx.phase()).toBe('Finalising');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });

    await fx.tick();
    expect(fx.phase()).toBe('Succeeded');
  });

  it('keeps the weight while confirm-traffic-increase is closed', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    fx.checks.gates['confirm-traffic-increase'] = false;
    fx.clear();

    await fx.ticks(2);

    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    expect(fx.status()).toMatchObject({ phase: 'Progressing', canaryWeight: 20, failedChecks: 0 });
    expect(fx.sink.alerts.map((a) => a.message)).toEqual([
      'Canary traffic increase is waiting for approval.',
      'Canary traffic increase is waiting for approval.',
    ]);

    fx.checks.gates['confirm-traffic-increase'] = true;
    await fx.tick();
    expect(fx.routeWeights()).toEqual({ primary: 60, canary: 40 });
  });

  it('waits in WaitingPromotion while confirm-promotion is closed, then promotes', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    fx.checks.gates['confirm-promotion'] = false;
    await fx.ticks(3);
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    fx.clear();

    await fx.tick();
    expect(fx.phase()).toBe('WaitingPromotion');
    // Flagger shows weight 0 while waiting; the router keeps the split.
    expect(fx.status().canaryWeight).toBe(0);
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);
    expect(fx.condition('Promoted')).toMatchObject({ status: 'Unknown', message: 'Waiting for approval.' });
    expect(fx.sink.alerts).toEqual([
      { message: 'Canary promotion is waiting for approval.', severity: 'warn', metadata: false },
    ]);

    fx.clear();
    await fx.ticks(2);
    expect(fx.phase()).toBe('WaitingPromotion');
    expect(fx.checks.count('analysis')).toBe(2); // the analysis keeps running while waiting
    expect(fx.sink.alerts).toEqual([]);
    expect(fx.statusWrites()).toBe(0);

    fx.checks.gates['confirm-promotion'] = true;
    await fx.tick();
    expect(fx.phase()).toBe('Promoting');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    expect(fx.events()).toEqual(['Copying podinfo.test template spec to podinfo-primary.test']);
  });
});

describe('Scheduler: rollback', () => {
  it('counts failed checks each tick and rolls back at the threshold, leaving the primary alone', async () => {
    const fx = newFixture({ analysis: { ...STEP_20_MAX_50, threshold: 2 } });
    await fx.initialize();
    const primary = fx.deployment('podinfo-primary');
    const promoted = fx.status().lastPromotedSpec;
    await fx.startRevision();
    await fx.tick();
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    fx.checks.analysisDefault = failedMetric('request-success-rate', 'request-success-rate 80.50 < 99');
    fx.clear();

    await fx.tick();
    expect(fx.status()).toMatchObject({ phase: 'Progressing', failedChecks: 1 });
    expect(fx.status().checks).toEqual([
      expect.objectContaining({
        name: 'request-success-rate',
        passed: false,
        message: 'request-success-rate 80.50 < 99',
      }),
    ]);
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });

    await fx.tick();
    expect(fx.status()).toMatchObject({ phase: 'Progressing', failedChecks: 2 });
    expect(fx.sink.alerts).toEqual([]);

    fx.clear();
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Failed' });
    expect(fx.phase()).toBe('Failed');
    expect(fx.checks.calls).not.toContain('analysis'); // the threshold is checked before analysing again
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.deployment('podinfo-primary')).toBe(primary); // not a single write
    expect(fx.status()).toMatchObject({ canaryWeight: 0, lastPromotedSpec: promoted });
    expect(fx.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'Failed',
      message: 'Failed checks threshold reached 2',
    });
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Failed' });
    expect(fx.condition('Promoted')).toMatchObject({
      status: 'False',
      message: 'Canary analysis failed, Deployment scaled to zero.',
    });
    expect(fx.sink.alerts).toEqual([
      {
        message: 'Failed checks threshold reached 2: request-success-rate 80.50 < 99',
        severity: 'error',
        metadata: false,
      },
    ]);
    expect(fx.events('Warning')).toEqual([
      'Rolling back podinfo.test failed checks threshold reached 2',
      'Canary failed! Scaling down podinfo.test',
    ]);
    expect(fx.checks.calls).toContain('postRollout:Failed');
    expect(fx.recorder.results).toEqual(['failure/completed']);

    // Failed is settled: nothing happens until a new revision.
    fx.clear();
    await fx.ticks(2);
    expect(fx.kube.actions).toEqual([]);

    // A new revision retries with the counters reset.
    fx.checks.analysisDefault = passed();
    fx.setImage('6.0.2');
    await fx.tick();
    expect(fx.status()).toMatchObject({ phase: 'Progressing', failedChecks: 0, canaryWeight: 0, checks: [] });
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(fx.replicas('podinfo')).toBe(2);
  });

  it('counts a failing pre-rollout check without shifting traffic', async () => {
    const fx = newFixture({ analysis: { ...STEP_20_MAX_50, threshold: 2 } });
    await fx.initialize();
    await fx.startRevision();
    fx.checks.preRolloutDefault = { passed: false, results: [] };

    await fx.tick();
    expect(fx.status()).toMatchObject({ phase: 'Progressing', failedChecks: 1 });
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });

    await fx.ticks(2);
    expect(fx.phase()).toBe('Failed');
    expect(fx.checks.count('preRollout')).toBe(2);
  });

  it('rolls back when a rollback webhook asks for it', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    fx.checks.rollback = true;
    fx.clear();

    await fx.tick();

    expect(fx.phase()).toBe('Failed');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.events('Warning')).toEqual([
      'Rolling back podinfo.test manual webhook invoked',
      'Canary failed! Scaling down podinfo.test',
    ]);
    expect(fx.sink.alerts).toEqual([
      { message: 'Rolling back manual webhook invoked', severity: 'warn', metadata: false },
    ]);
  });

  it('rolls back when the canary exceeds its progress deadline', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    fx.setImage('6.0.1');
    await fx.tick();
    fx.makeCanaryNotReady(true);
    fx.clear();

    expect(await fx.tick()).toEqual({ ok: true, phase: 'Failed' });

    expect(fx.phase()).toBe('Failed');
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    const notReady =
      'canary deployment podinfo.test not ready: waiting for rollout to finish: 1 out of 2 new replicas have been updated';
    expect(fx.events('Warning')).toEqual([
      `canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline`,
      `Rolling back podinfo.test progress deadline exceeded canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline`,
      'Canary failed! Scaling down podinfo.test',
    ]);
    expect(fx.events()).not.toContain(notReady);
    expect(fx.sink.alerts).toEqual([
      {
        message:
          'Progress deadline exceeded canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline',
        severity: 'error',
        metadata: false,
      },
    ]);
  });

  it('gives up on a canary that stays unready past progressDeadlineSeconds without a deadline condition', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50, spec: { progressDeadlineSeconds: 150 } });
    await fx.initialize();
    fx.setImage('6.0.1');
    await fx.tick();
    fx.makeCanaryNotReady(false);

    expect(await fx.ticks(2)).toEqual(['Progressing', 'Progressing']); // 60s, 120s
    await fx.tick(); // 180s > 150s
    expect(fx.phase()).toBe('Failed');
    expect(fx.sink.alerts.at(-1)).toMatchObject({ severity: 'error' });
    expect(fx.sink.alerts.at(-1)?.message).toMatch(/^Progress deadline exceeded /);
  });
});

describe('Scheduler: revision changes during and after an analysis', () => {
  it('restarts the analysis on a new revision mid-analysis', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision('6.0.1');
    await fx.tick();
    fx.checks.analysisQueue.push(failedMetric('request-duration', 'request-duration 600 > 500'));
    await fx.tick();
    await fx.tick();
    expect(fx.status()).toMatchObject({ canaryWeight: 40, failedChecks: 1 });
    expect(fx.routeWeights()).toEqual({ primary: 60, canary: 40 });
    const analysed = fx.status().lastAppliedSpec;
    fx.clear();

    fx.setImage('6.0.2');
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Progressing' });

    expect(fx.events()).toEqual(['New revision detected! Restarting analysis for podinfo.test']);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    const status = fx.status();
    expect(status).toMatchObject({ phase: 'Progressing', canaryWeight: 0, failedChecks: 0, iterations: 0, checks: [] });
    expect(status.lastAppliedSpec).not.toBe(analysed);
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);

    // The new revision's analysis starts from the first step once it has rolled out.
    fx.makeCanaryReady();
    fx.clear();
    await fx.tick();
    expect(fx.events()).toEqual(['Starting canary analysis for podinfo.test', 'Advance podinfo.test canary weight 20']);
    expect(fx.status().lastAppliedSpec).toBe(status.lastAppliedSpec);
  });

  it('starts nothing when a failed target is reverted to the promoted spec', async () => {
    const fx = newFixture({ analysis: { ...STEP_20_MAX_50, threshold: 1 } });
    await fx.initialize();
    const promoted = fx.status().lastPromotedSpec;
    await fx.startRevision('6.0.1');
    await fx.tick();
    fx.checks.analysisDefault = failedMetric('error-rate', 'error-rate 5 > 1');
    await fx.tick();
    await fx.tick();
    expect(fx.phase()).toBe('Failed');
    fx.clear();

    fx.setImage('6.0.0'); // the user reverts to what the primary runs
    await fx.tick();

    expect(fx.phase()).toBe('Failed');
    expect(fx.events()).toEqual([]);
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.status()).toMatchObject({ lastAppliedSpec: promoted, lastPromotedSpec: promoted });
    // Only the status remembers the revert; the next ticks write nothing.
    expect(fx.kube.actions.map((a) => `${a.verb} ${a.type}`)).toEqual(['patchStatus Canary']);
    fx.clear();
    await fx.ticks(2);
    expect(fx.kube.actions).toEqual([]);
  });
});

describe('Scheduler: skipAnalysis and suspend', () => {
  it('promotes straight to Succeeded with skipAnalysis', async () => {
    const fx = newFixture({ spec: { skipAnalysis: true } });
    // No analysis: initialization does not wait for the primary.
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Initialized' });
    fx.clear();

    fx.setImage('6.0.1');
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
    fx.makeCanaryReady();
    await fx.tick();

    expect(fx.phase()).toBe('Succeeded');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.status().lastPromotedSpec).toBe(fx.status().lastAppliedSpec);
    // Gates still apply; no check of the analysis runs.
    expect(fx.checks.calls).toEqual(['gate:confirm-rollout', 'postRollout:Succeeded']);
    expect(fx.recorder.results).toEqual(['success/skipped']);
    expect(fx.events()).toEqual([
      'New revision detected! Scaling up podinfo.test',
      'Copying podinfo.test template spec to podinfo-primary.test',
      'Promotion completed! Canary analysis was skipped for podinfo.test',
    ]);
    expect(fx.sink.alerts.at(-1)).toEqual({
      message: 'Canary analysis was skipped, promotion finished.',
      severity: 'info',
      metadata: false,
    });
  });

  it('does nothing while suspended but say so once, and resumes when unsuspended', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.updateCanary((c) => {
      c.spec['suspend'] = true;
    });
    fx.setImage('6.0.1');

    const outcomes = [await fx.tick(), await fx.tick(), await fx.tick()];

    expect(outcomes).toEqual([
      { ok: true, phase: 'Initialized' },
      { ok: true, phase: 'Initialized' },
      { ok: true, phase: 'Initialized' },
    ]);
    // One status write (the Suspended conditions), no other object touched.
    expect(fx.kube.actions.map((a) => `${a.verb} ${a.type}`)).toEqual(['patchStatus Canary']);
    expect(fx.phase()).toBe('Initialized');
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(fx.sink.events).toEqual([
      { type: 'Normal', message: 'skipping canary run as object is suspended', phase: 'Initialized' },
    ]);
    expect(fx.replicas('podinfo')).toBe(0);

    fx.updateCanary((c) => {
      c.spec['suspend'] = false;
    });
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False', reason: 'Progressing' });
  });
});

describe('Scheduler: Blue/Green and A/B', () => {
  it('runs Blue/Green with the kubernetes provider: iterations only, no routing object', async () => {
    const fx = newFixture({ spec: { provider: 'kubernetes' }, analysis: BLUE_GREEN });
    await fx.initialize();
    await fx.startRevision();
    fx.clear();

    const phases = await fx.ticks(5);
    expect(phases).toEqual(['Progressing', 'Progressing', 'Progressing', 'Progressing', 'Promoting']);
    expect(fx.events()).toEqual([
      'Starting canary analysis for podinfo.test',
      'Advance podinfo.test canary iteration 1/3',
      'Advance podinfo.test canary iteration 2/3',
      'Advance podinfo.test canary iteration 3/3',
      'Copying podinfo.test template spec to podinfo-primary.test',
    ]);
    expect(fx.checks.count('analysis')).toBe(4);
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    expect(fx.kube.peek(Resources.httpRoute, KEY)).toBeUndefined();
    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo-primary' });

    fx.makePrimaryReady();
    expect(await fx.ticks(2)).toEqual(['Finalising', 'Succeeded']);
    expect(fx.replicas('podinfo')).toBe(0);
    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo-primary' });
  });

  it('turns a canary analysis into Blue/Green with 10 iterations on the kubernetes provider', async () => {
    const fx = newFixture({ spec: { provider: 'kubernetes' }, analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();

    await fx.tick();

    expect(fx.status().iterations).toBe(1);
    expect(fx.events()).toContain('Setting canaryAnalysis.iterations: 10');
    expect(fx.events()).toContain('Advance podinfo.test canary iteration 1/10');
  });

  it('runs Blue/Green with gatewayapi:v1, routing all traffic to the canary before promotion', async () => {
    const fx = newFixture({ analysis: BLUE_GREEN });
    await fx.initialize();
    await fx.startRevision();
    fx.clear();

    const weights: string[] = [];
    for (let i = 0; i < 4; i++) {
      await fx.tick();
      const w = fx.routeWeights();
      weights.push(`${fx.status().iterations ?? 0}:${w.primary}/${w.canary}`);
    }
    expect(weights).toEqual(['1:100/0', '2:100/0', '3:100/0', '4:0/100']);
    expect(fx.events().at(-1)).toBe('Routing all traffic to canary');
    expect(fx.phase()).toBe('Progressing');

    await fx.tick();
    expect(fx.phase()).toBe('Promoting');
    expect(fx.routeWeights()).toEqual({ primary: 0, canary: 100 });
    fx.makePrimaryReady();
    await fx.tick();
    expect(fx.phase()).toBe('Finalising');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    await fx.tick();
    expect(fx.phase()).toBe('Succeeded');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
  });

  it('runs A/B testing: matched traffic goes to the canary every iteration, then promotes', async () => {
    const fx = newFixture({
      analysis: {
        stepWeight: undefined,
        maxWeight: undefined,
        iterations: 2,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
    });
    await fx.initialize();
    await fx.startRevision();

    for (const iteration of [1, 2]) {
      await fx.tick();
      expect(fx.status()).toMatchObject({ phase: 'Progressing', iterations: iteration });
      const [matched, rest] = fx.route().spec.rules as {
        matches: { headers?: unknown[] }[];
        backendRefs: { name: string; weight: number }[];
      }[];
      expect(matched?.matches[0]?.headers).toEqual([{ name: 'x-canary', type: 'Exact', value: 'insider' }]);
      expect(matched?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
        ['podinfo-primary', 0],
        ['podinfo-canary', 100],
      ]);
      expect(rest?.backendRefs.map((b) => [b.name, b.weight])).toEqual([['podinfo-primary', 100]]);
    }
    expect(fx.events()).toContain('Advance podinfo.test canary iteration 2/2');

    await fx.tick();
    expect(fx.phase()).toBe('Promoting');
    fx.makePrimaryReady();
    await fx.tick();
    expect(fx.phase()).toBe('Finalising');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    await fx.tick();
    expect(fx.phase()).toBe('Succeeded');
  });
});

describe('Scheduler: failed promotion', () => {
  async function promoting(): Promise<SchedulerFixture> {
    const fx = newFixture({ analysis: { stepWeight: 50, maxWeight: 50 } });
    await fx.initialize();
    await fx.startRevision();
    await fx.tickUntil('Promoting');
    expect(fx.routeWeights()).toEqual({ primary: 50, canary: 50 });
    fx.clear();
    return fx;
  }

  it('keeps the canary serving when the promoted primary breaks during Promoting', async () => {
    const fx = await promoting();
    fx.makePrimaryNotReady(true);

    expect(await fx.tick()).toEqual({ ok: true, phase: 'Failed' });

    expect(fx.phase()).toBe('Failed');
    expect(fx.routeWeights()).toEqual({ primary: 0, canary: 100 });
    expect(fx.status().canaryWeight).toBe(100);
    expect(fx.replicas('podinfo')).toBe(2);
    expect(fx.condition('Stalled')?.message).toMatch(/^Promotion failed, primary not ready: /);
    expect(fx.events('Warning').at(-1)).toBe(
      'Promotion of podinfo.test failed, primary not ready: podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline',
    );
    expect(fx.sink.alerts).toEqual([
      {
        message:
          'Promotion failed, primary not ready: podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline',
        severity: 'error',
        metadata: false,
      },
    ]);
    expect(fx.checks.calls).toContain('postRollout:Failed');
  });

  it('routes back to the canary when the primary breaks during Finalising', async () => {
    const fx = await promoting();
    fx.makePrimaryReady();
    await fx.tick();
    expect(fx.phase()).toBe('Finalising');
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    fx.makePrimaryNotReady(true);

    await fx.tick();

    expect(fx.phase()).toBe('Failed');
    expect(fx.routeWeights()).toEqual({ primary: 0, canary: 100 });
    expect(fx.replicas('podinfo')).toBe(2);
  });

  it('waits while the primary rollout is merely slow', async () => {
    const fx = await promoting();
    fx.makePrimaryNotReady(false);

    await fx.ticks(2);

    expect(fx.phase()).toBe('Promoting');
    expect(fx.routeWeights()).toEqual({ primary: 50, canary: 50 });
    expect(fx.statusWrites()).toBe(0);
  });
});

describe('Scheduler: crash safety', () => {
  const crash = new OperatorError('PATCH canaries/status: connection reset by peer');

  it('does not step the weight twice when the status write after a router write fails', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });

    fx.kube.failOn({ verb: 'patchStatus', kind: 'Canary' }, crash);
    expect(await fx.tick()).toEqual({ ok: false });
    // The router took the step, the status did not record it.
    expect(fx.routeWeights()).toEqual({ primary: 60, canary: 40 });
    expect(fx.status().canaryWeight).toBe(20);
    expect(fx.events('Warning')).toEqual([crash.message]);

    await fx.tick();
    // One step from what the router carries, not from the stale status.
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    expect(fx.status().canaryWeight).toBe(60);
    expect(fx.checks.count('preRollout')).toBe(1);
  });

  it('does not promote twice when the status write after the promotion fails', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.ticks(3);
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    fx.clear();

    fx.kube.failOn({ verb: 'patchStatus', kind: 'Canary' }, crash);
    expect(await fx.tick()).toEqual({ ok: false });
    expect(fx.phase()).toBe('Progressing');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    const id = fx.flaggerId();
    const generation = fx.deployment('podinfo-primary').metadata.generation;
    fx.makePrimaryReady(); // the primary rolls out meanwhile; the retried tick waits for it otherwise

    await fx.tick();

    expect(fx.phase()).toBe('Promoting');
    expect(fx.flaggerId()).toBe(id);
    expect(fx.deployment('podinfo-primary').metadata.generation).toBe(generation);
    expect(fx.kube.writes({ type: 'Deployment' }).filter((a) => a.key === `${NS}/podinfo-primary`)).toHaveLength(1);
    expect(fx.events().filter((m) => m.startsWith('Copying'))).toEqual([
      'Copying podinfo.test template spec to podinfo-primary.test',
    ]);
  });

  it('takes the failed-promotion path when the primary breaks after a promotion whose status write failed', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.ticks(3);
    fx.kube.failOn({ verb: 'patchStatus', kind: 'Canary' }, crash);
    expect(await fx.tick()).toEqual({ ok: false });
    expect(fx.phase()).toBe('Progressing');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    fx.clear();

    fx.makePrimaryNotReady(true);
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Failed' });

    // The primary runs the broken new revision: traffic stays on the canary, which still serves.
    expect(fx.routeWeights()).toEqual({ primary: 0, canary: 100 });
    expect(fx.replicas('podinfo')).toBe(2);
    expect(fx.condition('Stalled')?.message).toMatch(/^Promotion failed, primary not ready: /);
  });

  it('still rolls back when the primary breaks before any promotion', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    fx.makePrimaryNotReady(true);

    expect(await fx.tick()).toEqual({ ok: true, phase: 'Failed' });

    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.condition('Stalled')?.message ?? '').not.toMatch(/^Promotion failed/);
  });

  it('does not promote twice when the status write after skipping the analysis fails', async () => {
    const fx = newFixture({ spec: { skipAnalysis: true } });
    await fx.tick();
    fx.setImage('6.0.1');
    await fx.tick();
    fx.makeCanaryReady();
    fx.clear();

    fx.kube.failOn({ verb: 'patchStatus', kind: 'Canary' }, crash);
    expect(await fx.tick()).toEqual({ ok: false });
    const id = fx.flaggerId();
    fx.makeCanaryReady(); // the target was scaled to zero: the Deployment controller reports it

    await fx.tick();

    expect(fx.phase()).toBe('Succeeded');
    expect(fx.flaggerId()).toBe(id);
    expect(fx.kube.writes({ type: 'Deployment' }).filter((a) => a.key === `${NS}/podinfo-primary`)).toHaveLength(1);
    expect(fx.events().filter((m) => m.startsWith('Copying'))).toHaveLength(1);
  });
});

describe('Scheduler: one status write per step', () => {
  const metric = (value: number) => ({
    name: 'request-success-rate',
    kind: 'metric' as const,
    passed: true,
    value,
    message: `request-success-rate ${value}`,
  });

  it('records the checks of a passing analysis in the same write as the new weight', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick(); // first step: pre-rollout, weight 20
    fx.clear();
    fx.checks.analysisDefault = passed(metric(99.5));

    await fx.tick();

    expect(fx.routeWeights()).toEqual({ primary: 60, canary: 40 });
    expect(fx.statusWrites()).toBe(1);
    expect(fx.status().canaryWeight).toBe(40);
    expect(fx.status().checks).toMatchObject([{ name: 'request-success-rate', passed: true, value: 99.5 }]);
  });

  it('writes the checks alone when the step writes nothing else', async () => {
    const fx = newFixture({ analysis: STEP_20_MAX_50 });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    fx.checks.gates['confirm-traffic-increase'] = false;
    fx.checks.muted = true;
    fx.clear();
    fx.checks.analysisDefault = passed(metric(98));

    await fx.tick();

    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    expect(fx.statusWrites()).toBe(1);
    expect(fx.status().checks).toMatchObject([{ name: 'request-success-rate', value: 98 }]);
    const first = fx.status().checks?.[0]?.lastUpdateTime;
    fx.clear();

    await fx.tick(); // same value, measured again: one write, for its time
    expect(fx.statusWrites()).toBe(1);
    const second = fx.status().checks?.[0]?.lastUpdateTime;
    expect(second).toBe(new Date(fx.clock.now()).toISOString());
    expect(second).not.toBe(first);
  });
});

describe('Scheduler: blocked canaries', () => {
  const cases: {
    reason: string;
    message: string;
    break: (fx: SchedulerFixture) => Promise<void> | void;
    fix: (fx: SchedulerFixture) => void;
  }[] = [
    {
      reason: 'InvalidSpec',
      message: 'spec.analysis.threshold: must be an integer, got "x"',
      break: (fx: SchedulerFixture) =>
        fx.updateCanary((c) => {
          c.spec['analysis'] = { interval: '1m', threshold: 'x', stepWeight: 10 };
        }),
      fix: (fx: SchedulerFixture) =>
        fx.updateCanary((c) => {
          c.spec['analysis'] = { interval: '1m', threshold: 2, stepWeight: 10 };
        }),
    },
    {
      reason: 'TargetNotFound',
      message: 'Deployment podinfo.test not found',
      break: (fx: SchedulerFixture) => fx.kube.delete(Resources.deployment, { namespace: NS, name: 'podinfo' }),
      fix: (fx: SchedulerFixture) => {
        fx.kube.upsert(newDeployment());
      },
    },
    {
      reason: 'Unsupported',
      message: `provider "${UNROUTED}" is not yet supported by Fledge`,
      break: (fx: SchedulerFixture) =>
        fx.updateCanary((c) => {
          c.spec['provider'] = UNROUTED;
        }),
      fix: (fx: SchedulerFixture) =>
        fx.updateCanary((c) => {
          c.spec['provider'] = 'gatewayapi:v1';
        }),
    },
  ];

  it.each(cases)('reports $reason once as Stalled and recovers when fixed', async (c) => {
    const fx = newFixture();
    await c.break(fx);
    fx.clear();

    const outcomes = [await fx.tick(), await fx.tick(), await fx.tick()];

    expect(outcomes).toEqual([{ ok: false }, { ok: false }, { ok: false }]);
    expect(fx.condition('Stalled')).toMatchObject({ status: 'True', reason: c.reason, message: c.message });
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: c.reason });
    expect(fx.sink.events).toEqual([{ type: 'Warning', message: c.message, phase: undefined }]);
    expect(fx.statusWrites()).toBe(1);
    expect(fx.kube.peek(Resources.deployment, { namespace: NS, name: 'podinfo-primary' })).toBeUndefined();

    c.fix(fx);
    await fx.tick();
    expect(fx.phase()).toBe('Initializing');
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Initializing' });
  });

  it('blocks an initialized canary switched to an unsupported provider, and clears when switched back', async () => {
    const fx = newFixture();
    await fx.initialize();
    fx.updateCanary((c) => {
      c.spec['provider'] = UNROUTED;
    });

    await fx.ticks(2);
    expect(fx.phase()).toBe('Initialized');
    expect(fx.condition('Stalled')).toMatchObject({ status: 'True', reason: 'Unsupported' });
    expect(fx.condition('Ready')).toMatchObject({ status: 'False', reason: 'Unsupported' });
    expect(fx.events('Warning')).toEqual([`provider "${UNROUTED}" is not yet supported by Fledge`]);

    fx.updateCanary((c) => {
      c.spec['provider'] = 'gatewayapi:v1';
    });
    await fx.tick();
    expect(fx.phase()).toBe('Initialized');
    expect(fx.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(fx.condition('Ready')).toMatchObject({ status: 'True' });
  });
});

describe('Scheduler: revertOnDeletion', () => {
  it('adds the finalizer, and on deletion gives the traffic back to the target before removing it', async () => {
    const fx = newFixture({ spec: { revertOnDeletion: true }, objects: [newUserApexService()] });
    await fx.tick();
    expect(fx.canaryObject().metadata.finalizers).toEqual([FINALIZER]);
    fx.makePrimaryReady();
    await fx.tick();
    expect(fx.phase()).toBe('Initialized');
    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(fx.replicas('podinfo')).toBe(0);
    fx.clear();

    await fx.kube.delete(Resources.canary, KEY);
    expect(fx.canaryObject().metadata.deletionTimestamp).toBeDefined();
    fx.kube.clearActions();

    expect(await fx.tick()).toEqual({ ok: false, phase: 'Terminating' });
    expect(fx.phase()).toBe('Terminating');
    expect(fx.replicas('podinfo')).toBe(2); // the primary's replicas
    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo-primary' }); // not before the target is ready
    expect(fx.canaryObject().metadata.finalizers).toEqual([FINALIZER]);
    expect(fx.events()).toEqual([
      'Terminating canary podinfo.test',
      'canary deployment podinfo.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation',
    ]);

    fx.makeCanaryReady();
    fx.clear();
    expect(await fx.tick()).toEqual({ ok: true, phase: 'Terminated' });

    expect(fx.service('podinfo')?.spec.selector).toEqual({ app: 'podinfo' });
    expect(fx.kube.peek(Resources.canary, KEY)).toBeUndefined(); // finalizer gone, object deleted
    expect(fx.kube.actions.map((a) => `${a.verb} ${a.type}`)).toEqual([
      'patch Service',
      'patchStatus Canary',
      'patch Canary',
    ]);
    expect(fx.kube.actions[1]?.body).toMatchObject({ status: { phase: 'Terminated' } });
    expect(fx.events()).toEqual(['Terminated canary podinfo.test']);
  });

  it('removes the finalizer when revertOnDeletion is turned off', async () => {
    const fx = newFixture({ spec: { revertOnDeletion: true } });
    await fx.tick();
    expect(fx.canaryObject().metadata.finalizers).toEqual([FINALIZER]);

    fx.updateCanary((c) => {
      c.spec['revertOnDeletion'] = false;
    });
    await fx.tick();

    expect(fx.canaryObject().metadata.finalizers).toBeUndefined();
  });
});

describe('Scheduler: release windows (Fledge extension)', () => {
  const iso = (fx: SchedulerFixture): string => new Date(fx.clock.now()).toISOString();

  it('holds the first step outside the window, without failing, then proceeds when it opens', async () => {
    const fx = newFixture({
      analysis: { ...STEP_20_MAX_50, releaseWindows: { windows: [{ schedule: '10 0 * * *', duration: '1h' }] } },
    });
    await fx.initialize();
    await fx.startRevision();
    expect(iso(fx)).toBe('2026-01-01T00:03:00.000Z');
    fx.clear();

    await fx.ticks(6); // 00:04 … 00:09
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
    expect(fx.status()).toMatchObject({ phase: 'Progressing', canaryWeight: 0, failedChecks: 0 });
    expect(fx.condition('Held')).toMatchObject({
      status: 'True',
      reason: 'OutsideReleaseWindow',
      message: 'outside every release window (UTC); the next opens at 2026-01-01T00:10:00.000Z',
    });
    expect(fx.events()).toEqual([
      'Halt podinfo.test advancement outside every release window (UTC); the next opens at 2026-01-01T00:10:00.000Z',
    ]);
    expect(fx.sink.alerts).toEqual([
      {
        message: 'Canary is held: outside every release window (UTC); the next opens at 2026-01-01T00:10:00.000Z',
        severity: 'warn',
        metadata: false,
      },
    ]);
    expect(fx.checks.count('preRollout')).toBe(0);

    await fx.tick(); // 00:10: the window opens
    expect(iso(fx)).toBe('2026-01-01T00:10:00.000Z');
    expect(fx.condition('Held')).toMatchObject({ status: 'False', reason: 'InReleaseWindow' });
    expect(fx.events()).toContain('Release window open, resuming podinfo.test');
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
    expect(fx.sink.alerts).toHaveLength(1);
    await fx.tickUntil('Promoting');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
  });

  it('holds promotion during a blackout, keeping the weight, then promotes', async () => {
    const fx = newFixture({
      analysis: { ...STEP_20_MAX_50, releaseWindows: { blackouts: [{ schedule: '7 0 * * *', duration: '5m' }] } },
    });
    await fx.initialize();
    await fx.startRevision();
    await fx.ticks(3); // 00:04 → 20, 00:05 → 40, 00:06 → 60
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    fx.clear();

    await fx.ticks(5); // 00:07 … 00:11: blackout
    expect(fx.status()).toMatchObject({ phase: 'Progressing', canaryWeight: 60, failedChecks: 0 });
    expect(fx.routeWeights()).toEqual({ primary: 40, canary: 60 });
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V1);
    expect(fx.condition('Held')).toMatchObject({ status: 'True', reason: 'InBlackout' });
    expect(fx.checks.count('gate:confirm-promotion')).toBe(0);
    expect(fx.checks.count('analysis')).toBe(5);
    expect(fx.sink.alerts.map((a) => a.message)).toEqual([
      'Canary is held: inside blackout "7 0 * * *" for 5m (UTC) until 2026-01-01T00:12:00.000Z',
    ]);

    await fx.tick(); // 00:12
    expect(fx.phase()).toBe('Promoting');
    expect(fx.image('podinfo-primary')).toBe(IMAGE_V2);
    expect(fx.condition('Held')).toMatchObject({ status: 'False' });
  });

  it('counts no failed check while held, but still shows the checks, and counts again once the window opens', async () => {
    const fx = newFixture({
      analysis: { ...STEP_20_MAX_50, releaseWindows: { blackouts: [{ schedule: '7 0 * * *', duration: '5m' }] } },
    });
    await fx.initialize();
    await fx.startRevision();
    await fx.ticks(3); // 00:04 → 20, 00:05 → 40, 00:06 → 60
    fx.checks.analysisDefault = failedMetric(
      'request-success-rate',
      'request-success-rate 0 < 99 (no traffic at night)',
    );
    fx.clear();

    await fx.ticks(5); // 00:07 … 00:11: blackout, the metric fails every time
    expect(fx.status()).toMatchObject({ phase: 'Progressing', canaryWeight: 60, failedChecks: 0 });
    expect(fx.condition('Held')).toMatchObject({ status: 'True', reason: 'InBlackout' });
    expect(fx.status().checks).toMatchObject([{ name: 'request-success-rate', passed: false }]);
    expect(fx.checks.count('analysis')).toBe(5);

    await fx.tick(); // 00:12: the blackout is over and the failure counts
    expect(fx.status()).toMatchObject({ phase: 'Progressing', failedChecks: 1 });
    expect(fx.condition('Held')).toMatchObject({ status: 'False' });
  });

  it('holds every canary of a frozen namespace, with the freeze reason, until the freeze is lifted', async () => {
    let frozen: { source: string; reason: string } | undefined = {
      source: 'ConfigMap test/fledge-freeze',
      reason: 'year-end freeze',
    };
    const fx = newFixture({ analysis: STEP_20_MAX_50, freeze: () => Promise.resolve(frozen) });
    await fx.initialize();
    await fx.startRevision();
    fx.clear();
    await fx.ticks(3);
    expect(fx.status()).toMatchObject({ phase: 'Progressing', canaryWeight: 0, failedChecks: 0 });
    expect(fx.condition('Held')).toMatchObject({
      status: 'True',
      reason: 'Frozen',
      message: 'frozen by ConfigMap test/fledge-freeze: year-end freeze',
    });
    expect(fx.sink.alerts.map((a) => a.message)).toEqual([
      'Canary is held: frozen by ConfigMap test/fledge-freeze: year-end freeze',
    ]);
    frozen = undefined;
    await fx.tick();
    expect(fx.condition('Held')).toMatchObject({ status: 'False' });
    expect(fx.routeWeights()).toEqual({ primary: 80, canary: 20 });
  });

  it('reports an invalid time zone as an invalid spec', async () => {
    const fx = newFixture({
      analysis: {
        ...STEP_20_MAX_50,
        releaseWindows: { timeZone: 'Mars/Olympus', windows: [{ schedule: '0 9 * * *', duration: '8h' }] },
      },
    });
    await fx.initialize();
    await fx.startRevision();
    await fx.tick();
    expect(fx.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: 'invalid releaseWindows: unknown time zone "Mars/Olympus"',
    });
    expect(fx.routeWeights()).toEqual({ primary: 100, canary: 0 });
  });
});
