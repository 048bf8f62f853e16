import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { targetFactory } from '../canary/factory.ts';
import { systemClock } from '../core/clock.ts';
import { FakeKube } from '../kube/fake.ts';
import { type KubeObject, type ObjectKey, type ResourceType, keyOf } from '../kube/objects.ts';
import type { Informer, KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { silentLogger } from '../log/logger.ts';
import type { Ctx } from '../core/context.ts';
import { ControlLoop, type ControlLoopOptions } from './loop.ts';
import { newCanaryObject, newConfigMap, newDeployment, newSecret } from './loop.fixture.ts';
import type { TickOutcome } from './scheduler.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

interface Call {
  readonly key: string;
  readonly at: number;
  readonly signal: AbortSignal;
}

interface Deferred {
  resolve(outcome: TickOutcome): void;
}

/** A loop over FakeKube whose ticks are recorded; `hold` makes ticks wait until released. */
function harness(
  opts: {
    objects?: KubeObject[];
    options?: Partial<ControlLoopOptions>;
    hold?: boolean;
    kube?: KubeClient;
    configTracking?: boolean;
  } = {},
) {
  const kube = new FakeKube(opts.objects ?? []);
  const calls: Call[] = [];
  const pending: Deferred[] = [];
  let outcome: TickOutcome = { ok: true };
  let running = 0;
  let maxRunning = 0;
  const totals = new Map<string, number>();
  const deleted: string[] = [];
  const advance = async (ctx: Ctx, obj: KubeObject): Promise<TickOutcome> => {
    calls.push({ key: keyOf(obj), at: Date.now() - T0, signal: ctx.signal });
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      if (opts.hold) return await new Promise<TickOutcome>((resolve) => pending.push({ resolve }));
      return outcome;
    } finally {
      running--;
    }
  };
  const loop = new ControlLoop({
    kube: opts.kube ?? kube,
    targets: targetFactory({
      kube: opts.kube ?? kube,
      clock: systemClock,
      configTracking: opts.configTracking ?? true,
    }),
    advance,
    log: silentLogger,
    random: () => 0.5,
    setCanaryTotal: (ns, n) => totals.set(ns, n),
    onCanaryDeleted: (o) => deleted.push(keyOf(o)),
    ...opts.options,
  });
  return {
    kube,
    loop,
    calls,
    pending,
    totals,
    deleted,
    ticksOf: (key: string) => calls.filter((c) => c.key === key).map((c) => c.at),
    setOutcome: (o: TickOutcome) => {
      outcome = o;
    },
    maxRunning: () => maxRunning,
  };
}

/** Lets timers and promise chains run for `ms` of fake time. */
const elapse = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ControlLoop jobs', () => {
  it('starts one job per canary, spreads first ticks, then ticks every analysis interval', async () => {
    const h = harness({
      objects: [
        newCanaryObject({ name: 'a', interval: '30s' }),
        newCanaryObject({ name: 'b', interval: '1m' }),
        newDeployment('a'),
        newDeployment('b'),
      ],
    });
    await h.loop.start();
    expect(h.loop.stats().jobs).toBe(2);
    await elapse(4_999);
    expect(h.calls).toEqual([]);
    // random() = 0.5 of min(interval, 10 s startup spread) = 5 s for both.
    await elapse(1);
    expect(h.ticksOf('apps/a')).toEqual([5_000]);
    expect(h.ticksOf('apps/b')).toEqual([5_000]);
    await elapse(60_000);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 35_000, 65_000]);
    expect(h.ticksOf('apps/b')).toEqual([5_000, 65_000]);
    expect(h.totals.get('apps')).toBe(2);
    await h.loop.stop();
  });

  it('ticks a canary created after startup at once', async () => {
    const h = harness();
    await h.loop.start();
    await elapse(1_000);
    await h.kube.create(newCanaryObject({ name: 'late' }));
    await elapse(0);
    expect(h.ticksOf('apps/late')).toEqual([1_000]);
    expect(h.totals.get('apps')).toBe(1);
    await h.loop.stop();
  });

  it('stops the job when the canary is deleted', async () => {
    const h = harness({ objects: [newCanaryObject({ name: 'a' })] });
    await h.loop.start();
    await elapse(5_000);
    expect(h.ticksOf('apps/a')).toHaveLength(1);
    await h.kube.delete(Resources.canary, { namespace: 'apps', name: 'a' });
    await elapse(120_000);
    expect(h.ticksOf('apps/a')).toHaveLength(1);
    expect(h.loop.stats().jobs).toBe(0);
    expect(h.deleted).toEqual(['apps/a']);
    expect(h.totals.get('apps')).toBe(0);
    await h.loop.stop();
  });

  it('ticks at once when deletion starts (finalizer) and keeps ticking until the object is gone', async () => {
    const h = harness({
      objects: [
        {
          ...newCanaryObject({ name: 'a' }),
          metadata: { name: 'a', namespace: 'apps', finalizers: ['finalizer.flagger.app'] },
        },
      ],
    });
    await h.loop.start();
    await elapse(5_000);
    await h.kube.delete(Resources.canary, { namespace: 'apps', name: 'a' });
    await elapse(0);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 5_000]);
    await h.loop.stop();
  });

  it('follows an interval change, counted from the last tick', async () => {
    const canary = newCanaryObject({ name: 'a', interval: '30s', status: { phase: 'Progressing' } });
    const h = harness({ objects: [canary] });
    await h.loop.start();
    await elapse(5_000); // first tick at 5 s
    await elapse(10_000);
    h.kube.upsert(newCanaryObject({ name: 'a', interval: '1m', status: { phase: 'Progressing' } }));
    await elapse(0);
    // Progressing: a spec change does not tick early (it would advance the analysis).
    expect(h.ticksOf('apps/a')).toEqual([5_000]);
    await elapse(60_000);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 65_000]);
    await elapse(60_000);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 65_000, 125_000]);
    await h.loop.stop();
  });

  it('ticks at once on a spec change of a canary that is not analysing', async () => {
    const h = harness({ objects: [newCanaryObject({ name: 'a', status: { phase: 'Succeeded' } })] });
    await h.loop.start();
    await elapse(5_000);
    await elapse(3_000);
    h.kube.upsert(newCanaryObject({ name: 'a', status: { phase: 'Succeeded' }, spec: { skipAnalysis: true } }));
    await elapse(0);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 8_000]);
    // A status-only update (same generation) triggers nothing.
    h.kube.setStatus(Resources.canary, { namespace: 'apps', name: 'a' }, { phase: 'Succeeded', canaryWeight: 0 });
    await elapse(0);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 8_000]);
    // The schedule restarts from the triggered tick.
    await elapse(30_000);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 8_000, 38_000]);
    await h.loop.stop();
  });
});

describe('ControlLoop pool', () => {
  it('never runs two ticks of one canary at once and coalesces triggers into one rerun', async () => {
    const h = harness({ objects: [newCanaryObject({ name: 'a' })], hold: true });
    await h.loop.start();
    await elapse(5_000);
    expect(h.calls).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(h.loop.trigger('apps/a')).toBe(true);
    await elapse(100);
    expect(h.calls).toHaveLength(1);
    expect(h.maxRunning()).toBe(1);
    h.pending.shift()?.resolve({ ok: true });
    await elapse(0);
    expect(h.calls).toHaveLength(2); // one rerun for the five triggers
    h.pending.shift()?.resolve({ ok: true });
    await elapse(1_000);
    expect(h.calls).toHaveLength(2);
    expect(h.maxRunning()).toBe(1);
    await h.loop.stop();
  });

  it('coalesces triggers while queued', async () => {
    const h = harness({
      objects: [newCanaryObject({ name: 'a' }), newCanaryObject({ name: 'b' })],
      hold: true,
      options: { threadiness: 1 },
    });
    await h.loop.start();
    await elapse(5_000); // a runs, b queued (same jitter)
    expect(h.calls.map((c) => c.key)).toEqual(['apps/a']);
    h.loop.trigger('apps/b');
    h.loop.trigger('apps/b');
    h.pending.shift()?.resolve({ ok: true });
    await elapse(0);
    h.pending.shift()?.resolve({ ok: true });
    await elapse(0);
    expect(h.calls.map((c) => c.key)).toEqual(['apps/a', 'apps/b']);
    await h.loop.stop();
  });

  it('respects the pool bound', async () => {
    const objects = ['a', 'b', 'c', 'd', 'e'].map((name) => newCanaryObject({ name }));
    const h = harness({ objects, hold: true, options: { threadiness: 2 } });
    await h.loop.start();
    await elapse(5_000);
    expect(h.calls).toHaveLength(2);
    expect(h.loop.stats()).toMatchObject({ running: 2, queued: 3 });
    while (h.pending.length > 0) {
      h.pending.shift()?.resolve({ ok: true });
      await elapse(0);
    }
    expect(h.calls).toHaveLength(5);
    expect(h.maxRunning()).toBe(2);
    await h.loop.stop();
  });

  it('defaults to 4 workers', async () => {
    const objects = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => newCanaryObject({ name }));
    const h = harness({ objects, hold: true });
    await h.loop.start();
    await elapse(5_000);
    expect(h.loop.stats()).toMatchObject({ running: 4, queued: 2 });
    const stopping = h.loop.stop();
    for (const p of h.pending.splice(0)) p.resolve({ ok: true });
    await stopping;
  });

  it('backs off exponentially after failed ticks, capped at the interval, and resets on success', async () => {
    const h = harness({ objects: [newCanaryObject({ name: 'a', interval: '10s' })] });
    h.setOutcome({ ok: false });
    await h.loop.start();
    await elapse(5_000 + 1_000 + 2_000 + 4_000 + 8_000 + 10_000 + 10_000);
    const at = h.ticksOf('apps/a');
    expect(at).toEqual([5_000, 6_000, 8_000, 12_000, 20_000, 30_000, 40_000]);
    h.setOutcome({ ok: true });
    await elapse(10_000); // 50 s: ok
    h.setOutcome({ ok: false });
    await elapse(10_000 + 1_000); // 60 s: fails, retried after 1 s again
    expect(h.ticksOf('apps/a').slice(7)).toEqual([50_000, 60_000, 61_000]);
    await h.loop.stop();
  });

  it('logs a tick that throws and backs off', async () => {
    const kube = new FakeKube([newCanaryObject({ name: 'a' })]);
    let n = 0;
    const loop = new ControlLoop({
      kube,
      targets: targetFactory({ kube, clock: systemClock }),
      log: silentLogger,
      random: () => 0,
      advance: () => {
        n++;
        return Promise.reject(new Error('bug'));
      },
    });
    await loop.start();
    await elapse(0 + 1_000 + 2_000);
    expect(n).toBe(3);
    await loop.stop();
  });

  it('stop() aborts the in-flight tick, waits for it, and ticks no more', async () => {
    const h = harness({ objects: [newCanaryObject({ name: 'a' })], hold: true });
    await h.loop.start();
    await elapse(5_000);
    const [call] = h.calls;
    let stopped = false;
    const stopping = h.loop.stop().then(() => {
      stopped = true;
    });
    await elapse(0);
    expect(call?.signal.aborted).toBe(true);
    expect(stopped).toBe(false);
    h.pending.shift()?.resolve({ ok: true });
    await stopping;
    await elapse(120_000);
    expect(h.calls).toHaveLength(1);
  });
});

describe('ControlLoop immediate triggers', () => {
  async function started(objects: KubeObject[], configTracking = true) {
    const h = harness({ objects, configTracking });
    await h.loop.start();
    await elapse(5_000); // first ticks done; next ones at 35 s
    return h;
  }

  it('ticks within milliseconds when the target pod template changes', async () => {
    const h = await started([
      newCanaryObject({ name: 'podinfo', status: { phase: 'Succeeded' } }),
      newDeployment('podinfo'),
    ]);
    await elapse(2_000);
    h.kube.upsert(newDeployment('podinfo', { image: 'podinfo:2' }));
    await elapse(1);
    expect(h.ticksOf('apps/podinfo')).toEqual([5_000, 7_000]);
    await h.loop.stop();
  });

  it('ticks for a new revision while progressing (the analysis restarts), but not while promoting', async () => {
    const h = await started([
      newCanaryObject({ name: 'a', status: { phase: 'Progressing' } }),
      newCanaryObject({ name: 'b', status: { phase: 'Promoting' } }),
      newDeployment('a'),
      newDeployment('b'),
    ]);
    h.kube.upsert(newDeployment('a', { image: 'v2' }));
    h.kube.upsert(newDeployment('b', { image: 'v2' }));
    await elapse(1);
    expect(h.ticksOf('apps/a')).toEqual([5_000, 5_000]);
    expect(h.ticksOf('apps/b')).toEqual([5_000]);
    await h.loop.stop();
  });

  it('ignores Deployment status and replica changes', async () => {
    const h = await started([newCanaryObject({ name: 'podinfo' }), newDeployment('podinfo')]);
    h.kube.setStatus(Resources.deployment, { namespace: 'apps', name: 'podinfo' }, { readyReplicas: 1 });
    h.kube.upsert(newDeployment('podinfo', { replicas: 0 }));
    await elapse(1_000);
    expect(h.ticksOf('apps/podinfo')).toEqual([5_000]);
    await h.loop.stop();
  });

  it('ignores Deployments no canary targets', async () => {
    const h = await started([newCanaryObject({ name: 'podinfo' }), newDeployment('podinfo'), newDeployment('other')]);
    h.kube.upsert(newDeployment('other', { image: 'v2' }));
    h.kube.upsert(newDeployment('podinfo-primary', { image: 'v2' }));
    await elapse(1_000);
    expect(h.calls).toHaveLength(1);
    await h.loop.stop();
  });

  it('ticks when a ConfigMap or Secret the target uses changes its data', async () => {
    const h = await started([
      newCanaryObject({ name: 'podinfo' }),
      newDeployment('podinfo', { configMaps: ['settings'], secrets: ['creds'] }),
      newConfigMap('settings', { a: '1' }),
      newConfigMap('unrelated', { a: '1' }),
      newSecret('creds', { user: 'x' }),
    ]);
    expect(h.loop.dependents('ConfigMap', 'apps', 'settings')).toEqual(['apps/podinfo']);
    h.kube.upsert(newConfigMap('unrelated', { a: '2' }));
    await elapse(1_000);
    expect(h.calls).toHaveLength(1);
    h.kube.upsert(newConfigMap('settings', { a: '2' }));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    h.kube.upsert(newSecret('creds', { user: 'y' }));
    await elapse(1);
    expect(h.calls).toHaveLength(3);
    // Labels only: no new revision.
    h.kube.upsert({
      ...newSecret('creds', { user: 'y' }),
      metadata: { name: 'creds', namespace: 'apps', labels: { x: 'y' } },
    });
    await elapse(1);
    expect(h.calls).toHaveLength(3);
    await h.loop.stop();
  });

  it('follows the configs the pod template references as it changes', async () => {
    const h = await started([
      newCanaryObject({ name: 'podinfo' }),
      newDeployment('podinfo', { configMaps: ['old'] }),
      newConfigMap('old', {}),
      newConfigMap('new', {}),
    ]);
    h.kube.upsert(newDeployment('podinfo', { configMaps: ['new'] }));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    expect(h.loop.dependents('ConfigMap', 'apps', 'old')).toEqual([]);
    expect(h.loop.dependents('ConfigMap', 'apps', 'new')).toEqual(['apps/podinfo']);
    h.kube.upsert(newConfigMap('new', { k: 'v' }));
    await elapse(1);
    expect(h.calls).toHaveLength(3);
    await h.loop.stop();
  });

  it('ticks when a referenced ConfigMap appears, but not when one with tracking disabled changes', async () => {
    const h = await started([
      newCanaryObject({ name: 'podinfo' }),
      newDeployment('podinfo', { configMaps: ['late', 'off'] }),
    ]);
    const off = (data: Record<string, string>): KubeObject => ({
      ...newConfigMap('off', data),
      metadata: { name: 'off', namespace: 'apps', annotations: { 'flagger.app/config-tracking': 'disabled' } },
    });
    // A missing config blocks the rollout (pods can't start): its appearance is worth a tick.
    h.kube.upsert(off({ a: '1' }));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    h.kube.upsert(off({ a: '2' }));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    h.kube.upsert(newConfigMap('late', { a: '1' }));
    await elapse(1);
    expect(h.calls).toHaveLength(3);
    await h.loop.stop();
  });

  it('does not track configs with -enable-config-tracking=false', async () => {
    const h = await started(
      [
        newCanaryObject({ name: 'podinfo' }),
        newDeployment('podinfo', { configMaps: ['settings'] }),
        newConfigMap('settings', {}),
      ],
      false,
    );
    h.kube.upsert(newConfigMap('settings', { a: '2' }));
    await elapse(1_000);
    expect(h.calls).toHaveLength(1);
    await h.loop.stop();
  });

  it('ticks on an HPA spec change unless analysing', async () => {
    const hpa = (max: number): KubeObject => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'podinfo', namespace: 'apps' },
      spec: { maxReplicas: max },
    });
    const autoscalerRef = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' as const, name: 'podinfo' };
    const h = await started([
      newCanaryObject({ name: 'idle', target: 'podinfo', spec: { autoscalerRef }, status: { phase: 'Succeeded' } }),
      newCanaryObject({ name: 'busy', target: 'podinfo2', spec: { autoscalerRef }, status: { phase: 'Progressing' } }),
      hpa(4),
    ]);
    h.kube.upsert(hpa(8));
    await elapse(1);
    expect(h.ticksOf('apps/idle')).toEqual([5_000, 5_000]);
    expect(h.ticksOf('apps/busy')).toEqual([5_000]);
    h.kube.setStatus(Resources.hpa, { namespace: 'apps', name: 'podinfo' }, { currentReplicas: 3 });
    await elapse(1);
    expect(h.ticksOf('apps/idle')).toHaveLength(2);
    await h.loop.stop();
  });

  it('ticks when a DaemonSet target changes its template, not when it is scaled to zero', async () => {
    const ds = (image: string, nodeSelector?: Record<string, string>): KubeObject => {
      const d = newDeployment('podinfo', { image, configMaps: ['settings'] });
      const spec = d['spec'] as { template: { spec: Record<string, unknown> } };
      if (nodeSelector) spec.template.spec['nodeSelector'] = nodeSelector;
      return {
        ...d,
        kind: 'DaemonSet',
        spec: { selector: { matchLabels: { app: 'podinfo' } }, template: spec.template },
      };
    };
    const targetRef = { apiVersion: 'apps/v1', kind: 'DaemonSet' as const, name: 'podinfo' };
    const h = await started([
      newCanaryObject({ name: 'podinfo', spec: { targetRef }, status: { phase: 'Succeeded' } }),
      ds('podinfo:1'),
      newConfigMap('settings', { a: '1' }),
    ]);
    expect(h.loop.dependents('ConfigMap', 'apps', 'settings')).toEqual(['apps/podinfo']);
    h.kube.upsert(ds('podinfo:1', { 'flagger.app/scale-to-zero': 'true' }));
    await elapse(1_000);
    expect(h.calls).toHaveLength(1);
    h.kube.upsert(ds('podinfo:2', { 'flagger.app/scale-to-zero': 'true' }));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    h.kube.upsert(newConfigMap('settings', { a: '2' }));
    await elapse(1);
    expect(h.calls).toHaveLength(3);
    await h.loop.stop();
  });

  it('follows any type a target controller names, opening its cache when first named', async () => {
    const widgets: ResourceType = { apiVersion: 'example.com/v1', kind: 'Widget', plural: 'widgets', namespaced: true };
    const widget = (size: number, ready = false): KubeObject => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'apps' },
      spec: { size },
      status: { ready },
    });
    const h = harness({
      objects: [newCanaryObject({ name: 'podinfo', status: { phase: 'Succeeded' } }), widget(1)],
      options: {
        targets: () => ({
          dependencies: () => [{ type: widgets, name: 'w', role: 'target', fingerprint: (o) => o['spec'] }],
        }),
      },
    });
    await h.loop.start();
    await elapse(5_000);
    expect(h.calls).toHaveLength(1); // the late cache's initial list is no change
    expect(h.loop.dependents('Widget', 'apps', 'w')).toEqual(['apps/podinfo']);
    h.kube.upsert(widget(1, true));
    await elapse(1_000);
    expect(h.calls).toHaveLength(1);
    h.kube.upsert(widget(2, true));
    await elapse(1);
    expect(h.calls).toHaveLength(2);
    await h.loop.stop();
  });

  it('does not treat the initial lists of the caches as changes', async () => {
    const h = harness({
      objects: [
        newCanaryObject({ name: 'podinfo' }),
        newDeployment('podinfo', { configMaps: ['c'] }),
        newConfigMap('c', {}),
      ],
    });
    await h.loop.start();
    await elapse(4_999);
    expect(h.calls).toHaveLength(0);
    await h.loop.stop();
  });
});

/** Wraps FakeKube so that the informers of one type sync only when the test says so. */
function delayedSync(kube: FakeKube, type: ResourceType): { kube: KubeClient; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let released = false;
  void gate.then(() => {
    released = true;
  });
  const wrapped = Object.create(kube) as KubeClient;
  wrapped.informer = (t: ResourceType, ns?: string): Informer => {
    const inner = kube.informer(t, ns);
    if (t !== type) return inner;
    return {
      type: inner.type,
      synced: () => gate,
      get: (k: ObjectKey) => inner.get(k),
      list: (n?: string) => inner.list(n),
      onChange: (l) => inner.onChange(l),
      health: () => ({ ...inner.health(), synced: released }),
      stop: () => inner.stop(),
    };
  };
  return { kube: wrapped, release };
}

describe('ControlLoop caches', () => {
  it("waits for the namespace's caches before a canary's first tick, without holding a worker", async () => {
    const fake = new FakeKube([
      newCanaryObject({ name: 'a', namespace: 'slow' }),
      newCanaryObject({ name: 'b', namespace: 'fast' }),
    ]);
    const { kube, release } = delayedSync(fake, Resources.service);
    // Only the "slow" namespace's Service informer is gated; "fast" uses the real ones.
    const gated: KubeClient = Object.create(kube) as KubeClient;
    gated.informer = (t, ns) => (ns === 'slow' ? kube.informer(t, ns) : fake.informer(t, ns));
    const h = harness({ kube: gated, options: { threadiness: 1 } });
    await h.loop.start();
    await elapse(5_000);
    expect(h.calls.map((c) => c.key)).toEqual(['fast/b']);
    release();
    await elapse(0);
    expect(h.calls.map((c) => c.key)).toEqual(['fast/b', 'slow/a']);
    await h.loop.stop();
  });

  it('ticks anyway after the cache sync timeout', async () => {
    const fake = new FakeKube([newCanaryObject({ name: 'a' })]);
    const { kube } = delayedSync(fake, Resources.hpa);
    const h = harness({ kube, options: { cacheSyncTimeoutMs: 20_000 } });
    await h.loop.start();
    await elapse(19_999);
    expect(h.calls).toHaveLength(0);
    await elapse(1);
    expect(h.calls).toHaveLength(1);
    await h.loop.stop();
  });

  it('is ready once the cluster-scoped caches synced', async () => {
    const fake = new FakeKube();
    const { kube, release } = delayedSync(fake, Resources.alertProvider);
    const h = harness({ kube });
    await h.loop.start();
    expect(h.loop.ready()).toBe(false);
    release();
    await elapse(0);
    expect(h.loop.ready()).toBe(true);
    await h.loop.stop();
    expect(h.loop.ready()).toBe(false);
  });

  it('watches only the -namespace scope', async () => {
    const fake = new FakeKube([
      newCanaryObject({ name: 'a', namespace: 'apps' }),
      newCanaryObject({ name: 'b', namespace: 'other' }),
    ]);
    const h = harness({ kube: fake, options: { namespace: 'apps' } });
    await h.loop.start();
    await elapse(5_000);
    expect(h.calls.map((c) => c.key)).toEqual(['apps/a']);
    await h.loop.stop();
  });

  it('sends no API request of its own: reads come from caches', async () => {
    const fake = new FakeKube([newCanaryObject({ name: 'podinfo' }), newDeployment('podinfo')]);
    const spy = { get: vi.spyOn(fake, 'get'), list: vi.spyOn(fake, 'list') };
    const h = harness({ kube: fake });
    await h.loop.start();
    await elapse(300_000);
    expect(h.calls.length).toBeGreaterThan(5);
    expect(spy.get).not.toHaveBeenCalled();
    expect(spy.list).not.toHaveBeenCalled();
    expect(fake.actions).toEqual([]);
    await h.loop.stop();
  });
});
