// The control loop driving the real Scheduler, target controller and routers over FakeKube:
// proves that an idle canary costs no API request and that a new revision is picked up at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { targetFactory } from '../canary/factory.ts';
import { createHttpClient } from '../http/client.ts';
import { systemClock } from '../core/clock.ts';
import { FakeKube } from '../kube/fake.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { silentLogger } from '../log/logger.ts';
import { PromRecorder } from '../metrics/recorder.ts';
import { NopNotifier } from '../notifier/nop.ts';
import { routerFactory, serviceRouterFactory } from '../router/factory.ts';
import { CanaryStore } from './canary-store.ts';
import { AnalysisChecks } from './checks.ts';
import { KubeEventSink } from './events.ts';
import { ControlLoop } from './loop.ts';
import { newCanaryObject, newDeployment } from './loop.fixture.ts';
import { Scheduler } from './scheduler.ts';
import { createVerifier } from './verify.ts';

const key = { namespace: 'apps', name: 'podinfo' };

/** Plays the Deployment controller: every Deployment reports all its replicas ready. */
function settle(kube: FakeKube): void {
  for (const d of kube.informer(Resources.deployment).list()) {
    const spec = isRecord(d['spec']) ? d['spec'] : {};
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    kube.setStatus(
      Resources.deployment,
      { namespace: d.metadata.namespace ?? '', name: d.metadata.name },
      {
        observedGeneration: d.metadata.generation ?? 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
      },
    );
  }
}

function phase(kube: FakeKube): unknown {
  const status = kube.peek(Resources.canary, key)?.['status'];
  return isRecord(status) ? status['phase'] : undefined;
}

function operator(kube: FakeKube, ticks: { n: number }) {
  const canaries = kube.informer(Resources.canary);
  const store = new CanaryStore({ kube, cache: canaries });
  const recorder = new PromRecorder();
  const http = createHttpClient();
  const events = new KubeEventSink({
    kube,
    http,
    eventWebhook: '',
    clusterName: '',
    globalNotifier: new NopNotifier(),
  });
  const checks = new AnalysisChecks({
    http,
    events,
    recorder,
    metrics: { evaluate: () => Promise.resolve([]), availability: () => Promise.resolve(undefined) },
  });
  const target = targetFactory({ kube, clock: systemClock, log: silentLogger });
  const scheduler = new Scheduler({
    meshProvider: 'kubernetes',
    clock: systemClock,
    factories: {
      target,
      services: serviceRouterFactory({ kube, metadata: (ctx, c) => target(c).metadata(ctx, c) }),
      router: routerFactory({ kube }),
    },
    checks,
    events,
    recorder,
    status: store,
    verify: createVerifier({ noCrossNamespaceRefs: false, canaries: (ns) => canaries.list(ns) }),
  });
  return new ControlLoop({
    kube,
    targets: target,
    advance: (ctx, obj) => {
      ticks.n++;
      return scheduler.advance(ctx, obj);
    },
    read: (k) => store.latest(k),
    log: silentLogger,
    random: () => 0,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.parse('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ControlLoop with the Scheduler', () => {
  it('initializes, then ticks an idle canary without any API request, and detects a new revision at once', async () => {
    const deployment = newDeployment('podinfo', { replicas: 2 });
    const kube = new FakeKube([
      newCanaryObject({
        name: 'podinfo',
        interval: '30s',
        analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 2 },
        spec: { provider: 'kubernetes' },
      }),
      deployment,
    ]);
    settle(kube);
    const ticks = { n: 0 };
    const loop = operator(kube, ticks);
    await loop.start();
    for (let i = 0; i < 10 && phase(kube) !== 'Initialized'; i++) {
      await vi.advanceTimersByTimeAsync(30_000);
      settle(kube);
    }
    expect(phase(kube)).toBe('Initialized');
    expect(kube.peek(Resources.deployment, { namespace: 'apps', name: 'podinfo-primary' })).toBeDefined();

    // Idle: ten intervals, no write, no Event, no read from the API server.
    await vi.advanceTimersByTimeAsync(30_000);
    settle(kube);
    kube.clearActions();
    const reads = { get: vi.spyOn(kube, 'get'), list: vi.spyOn(kube, 'list') };
    const before = ticks.n;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(ticks.n - before).toBe(10);
    expect(kube.actions).toEqual([]);
    expect(kube.events).toEqual([]);
    expect(reads.get).not.toHaveBeenCalled();
    expect(reads.list).not.toHaveBeenCalled();

    // A new revision: the tick comes within the same millisecond, not at the next interval.
    await vi.advanceTimersByTimeAsync(10_000);
    const beforeRevision = ticks.n;
    const current = kube.peek(Resources.deployment, key) as KubeObject;
    const next = structuredClone(current) as KubeObject & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const container = next.spec.template.spec.containers[0];
    if (container) container.image = 'podinfo:2';
    kube.upsert(next);
    await vi.advanceTimersByTimeAsync(1);
    expect(ticks.n).toBe(beforeRevision + 1);
    expect(kube.events.map((e) => e.message)).toContain('New revision detected! Scaling up podinfo.apps');
    expect(phase(kube)).toBe('Progressing');
    await loop.stop();
  });
});
