import { describe, expect, it } from 'vitest';
import { readDaemonSet } from '../apis/apps/v1/read.ts';
import { InvalidCanaryError } from '../core/errors.ts';
import { jsonEqual } from '../kube/json.ts';
import { NotFoundError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { daemonSetVerdict } from './daemonset-controller.ts';
import {
  type DaemonSetFixture,
  daemonSetReadyStatus,
  makeDaemonSetReady,
  newDaemonSet,
  newDaemonSetCanary,
  newDaemonSetFixture,
} from './daemonset.fixture.ts';
import { NS, T0, TRACKED_KEYS, newHpa } from './fixtures.fixture.ts';

const target = { namespace: NS, name: 'podinfo' };
const primary = { namespace: NS, name: 'podinfo-primary' };
const SCALE_TO_ZERO = 'flagger.app/scale-to-zero';

type PodSpec = Record<string, unknown> & { nodeSelector?: Record<string, string>; containers: { image: string }[] };
interface DaemonSetSpec {
  selector: unknown;
  updateStrategy?: unknown;
  template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec };
}
const specOf = (obj: KubeObject | undefined): DaemonSetSpec => obj?.['spec'] as DaemonSetSpec;
const summary = (fx: DaemonSetFixture): string[] => fx.kube.actions.map((a) => `${a.verb} ${a.type} ${a.key}`);

/** Replaces the stored target with `change` applied to its spec (as `kubectl apply` would). */
function editTarget(fx: DaemonSetFixture, change: (spec: DaemonSetSpec) => void): void {
  const obj = structuredClone(fx.kube.peek(Resources.daemonSet, target)) as KubeObject;
  change(obj['spec'] as DaemonSetSpec);
  fx.kube.upsert(obj);
}

describe('daemonSetVerdict', () => {
  const view = (status: Record<string, unknown>, generation = 1) =>
    readDaemonSet({ ...newDaemonSet(), metadata: { name: 'ds', generation }, status });
  const o = { threshold: 100, deadlineSeconds: 60, now: T0 };

  it('is ready when every desired pod is updated and available', () => {
    expect(daemonSetVerdict(view(daemonSetReadyStatus(3)), o)).toEqual({ ready: true, retriable: true, reason: '' });
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    [
      'generation not observed',
      daemonSetReadyStatus(2, 1),
      2,
      'observed daemonset generation less than desired generation',
    ],
    [
      'pods not updated',
      { ...daemonSetReadyStatus(3), updatedNumberScheduled: 1 },
      1,
      '1 out of 3 new pods have been updated',
    ],
    ['pods not available', { ...daemonSetReadyStatus(3), numberAvailable: 2 }, 1, '2 of 3 (readyThreshold 100%)'],
  ])('waits while %s', (_why, status, generation, reason) => {
    const v = daemonSetVerdict(view(status, generation), o);
    expect(v.ready).toBe(false);
    expect(v.retriable).toBe(true);
    expect(v.reason).toContain(reason);
  });

  it('needs ⌊desired × threshold%⌋ available pods', () => {
    const status = { ...daemonSetReadyStatus(3), numberAvailable: 1 };
    expect(daemonSetVerdict(view(status), { ...o, threshold: 60 }).ready).toBe(true); // ⌊1.8⌋ = 1
    expect(daemonSetVerdict(view(status), { ...o, threshold: 70 }).ready).toBe(false); // ⌊2.1⌋ = 2
  });

  it('gives up once not ready for longer than the deadline since waitingSince', () => {
    const status = { ...daemonSetReadyStatus(2), numberAvailable: 0 };
    expect(daemonSetVerdict(view(status), { ...o, waitingSince: T0 - 60_000 }).retriable).toBe(true);
    expect(daemonSetVerdict(view(status), { ...o, waitingSince: T0 - 61_000 })).toEqual({
      ready: false,
      retriable: false,
      reason: 'exceeded its progressDeadlineSeconds: 60',
    });
  });
});

describe('DaemonSetController', () => {
  it('metadata: the selector label and, with portDiscovery, the ports of the containers', () => {
    const fx = newDaemonSetFixture();
    expect(fx.controller.metadata(fx.ctx, fx.canary)).toEqual({ labelKey: 'app', labelValue: 'podinfo', ports: {} });
    const discovering = newDaemonSetCanary({ spec: { service: { port: 9898, portDiscovery: true } } });
    expect(fx.controller.metadata(fx.ctx, discovering).ports).toEqual({ 'tcp-podinfo-1': 9797, grpc: 9999 });
  });

  it('metadata: a DaemonSet without a selector label is an invalid canary; a missing one is NotFound', () => {
    const fx = newDaemonSetFixture({ daemonSet: newDaemonSet({ spec: { selector: { matchLabels: { x: 'y' } } } }) });
    expect(() => fx.controller.metadata(fx.ctx, fx.canary)).toThrow(InvalidCanaryError);
    expect(() => fx.controller.metadata(fx.ctx, fx.canary)).toThrow(
      `DaemonSet podinfo.${NS} spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]`,
    );
    const other = newDaemonSetFixture({ daemonSet: newDaemonSet({ name: 'other' }) });
    expect(() => other.controller.metadata(other.ctx, other.canary)).toThrow(NotFoundError);
  });

  it('initialize creates the -primary configs and the primary DaemonSet, once', async () => {
    const fx = newDaemonSetFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    const created = fx.kube.peek(Resources.daemonSet, primary);
    expect(created?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo', controller: true });
    expect(created?.metadata.labels).toEqual({ app: 'podinfo-primary' });
    const spec = specOf(created);
    expect(spec.selector).toEqual({ matchLabels: { app: 'podinfo-primary' } });
    expect(spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(created?.['spec']).toMatchObject({ minReadySeconds: 5, revisionHistoryLimit: 10 });
    expect(created?.['spec']).not.toHaveProperty('replicas');
    expect(spec.template.metadata.labels['app']).toBe('podinfo-primary');
    expect(spec.template.metadata.annotations['flagger-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(spec.template.spec)).toContain('podinfo-config-env-primary');
    const copies = summary(fx).filter((s) => s.startsWith('apply ConfigMap') || s.startsWith('apply Secret'));
    expect(copies).toHaveLength(TRACKED_KEYS.length);

    fx.kube.clearActions();
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('refuses a target whose update strategy is OnDelete', async () => {
    const fx = newDaemonSetFixture({ daemonSet: newDaemonSet({ spec: { updateStrategy: { type: 'OnDelete' } } }) });
    await expect(fx.controller.initialize(fx.ctx, fx.canary)).rejects.toThrow(
      `daemonset podinfo.${NS} must have RollingUpdate strategy but has OnDelete`,
    );
    expect(fx.kube.peek(Resources.daemonSet, primary)).toBeUndefined();
  });

  it('scales to zero with a node selector no node has, keeping the user selectors and the revision', async () => {
    const fx = newDaemonSetFixture();
    editTarget(fx, (spec) => {
      spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
    });
    const before = fx.controller.revision(fx.ctx, fx.canary);
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    const scaled = fx.kube.peek(Resources.daemonSet, target);
    expect(specOf(scaled).template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', [SCALE_TO_ZERO]: 'true' });
    const after = fx.controller.revision(fx.ctx, fx.canary);
    expect(after.hash).toBe(before.hash);
    expect(after.fence).not.toBe(before.fence);

    fx.kube.clearActions();
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);

    await fx.controller.scaleFromZero(fx.ctx, fx.canary);
    expect(specOf(fx.kube.peek(Resources.daemonSet, target)).template.spec.nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
    });
    fx.kube.clearActions();
    await fx.controller.scaleFromZero(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('the primary never gets the scale-to-zero selector, and a new image is a new revision', async () => {
    const fx = newDaemonSetFixture();
    await fx.controller.initialize(fx.ctx, fx.canary);
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    const v1 = fx.controller.revision(fx.ctx, fx.canary);
    expect(fx.controller.primaryRuns(fx.ctx, fx.canary, v1.hash)).toBe(true);

    editTarget(fx, (spec) => {
      spec.template.spec.containers[0] = { ...spec.template.spec.containers[0], image: 'podinfo:6.0.1' };
    });
    const v2 = fx.controller.revision(fx.ctx, fx.canary);
    expect(v2.hash).not.toBe(v1.hash);
    expect(fx.controller.primaryRuns(fx.ctx, fx.canary, v2.hash)).toBe(false);

    await fx.controller.promote(fx.ctx, fx.canary);
    const promoted = specOf(fx.kube.peek(Resources.daemonSet, primary));
    expect(promoted.template.spec.containers[0]?.image).toBe('podinfo:6.0.1');
    expect(promoted.template.spec.nodeSelector).toBeUndefined();
    expect(fx.controller.primaryRuns(fx.ctx, fx.canary, v2.hash)).toBe(true);
    fx.kube.clearActions();
    await fx.controller.promote(fx.ctx, fx.canary);
    expect(fx.kube.actions).toEqual([]);
  });

  it('readiness: a missing primary waits; a primary mid-rollout is given up on only past the deadline of a rollout phase', async () => {
    const fx = newDaemonSetFixture();
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary)).toMatchObject({ ready: false, retriable: true });
    await fx.controller.initialize(fx.ctx, fx.canary);
    expect(fx.controller.isPrimaryReady(fx.ctx, fx.canary).message).toContain(
      'observed daemonset generation less than desired generation',
    );
    const since = new Date(T0).toISOString();
    fx.clock.advance(601_000);
    const idle = { ...fx.canary, status: { phase: 'Succeeded' as const, lastTransitionTime: since } };
    const init = { ...fx.canary, status: { phase: 'Initializing' as const, lastTransitionTime: since } };
    expect(fx.controller.isPrimaryReady(fx.ctx, idle).retriable).toBe(true);
    expect(fx.controller.isPrimaryReady(fx.ctx, init)).toMatchObject({
      ready: false,
      retriable: false,
      message: `primary daemonset podinfo-primary.${NS} not ready: exceeded its progressDeadlineSeconds: 600`,
    });
    makeDaemonSetReady(fx.kube, 'podinfo-primary');
    expect(fx.controller.isPrimaryReady(fx.ctx, init)).toMatchObject({ ready: true });
  });

  it('isCanaryReady: the deadline counts from the last transition only while Progressing', () => {
    const fx = newDaemonSetFixture();
    fx.kube.setStatus(Resources.daemonSet, target, { ...daemonSetReadyStatus(2), numberAvailable: 1 });
    const since = new Date(T0).toISOString();
    fx.clock.advance(601_000);
    const progressing = { ...fx.canary, status: { phase: 'Progressing' as const, lastTransitionTime: since } };
    const waiting = { ...fx.canary, status: { phase: 'Waiting' as const, lastTransitionTime: since } };
    expect(fx.controller.isCanaryReady(fx.ctx, waiting)).toMatchObject({ ready: false, retriable: true });
    expect(fx.controller.isCanaryReady(fx.ctx, progressing)).toMatchObject({
      ready: false,
      retriable: false,
      message: `canary daemonset podinfo.${NS} not ready: exceeded its progressDeadlineSeconds: 600`,
    });
  });

  it('finalize scales the target from zero and reports its rollout; a missing target has nothing to revert', async () => {
    const fx = newDaemonSetFixture();
    await fx.controller.scaleToZero(fx.ctx, fx.canary);
    makeDaemonSetReady(fx.kube, 'podinfo', 0);
    const first = await fx.controller.finalize(fx.ctx, fx.canary);
    expect(first).toMatchObject({ ready: false, retriable: true });
    expect(specOf(fx.kube.peek(Resources.daemonSet, target)).template.spec.nodeSelector ?? {}).toEqual({});
    makeDaemonSetReady(fx.kube, 'podinfo');
    expect(await fx.controller.finalize(fx.ctx, fx.canary)).toMatchObject({ ready: true });

    const gone = newDaemonSetFixture({ daemonSet: newDaemonSet({ name: 'other' }) });
    expect(await gone.controller.finalize(gone.ctx, gone.canary)).toMatchObject({ ready: true });
    expect(gone.kube.actions).toEqual([]);
  });

  it('dependencies: the DaemonSet (scale-to-zero ignored) and its tracked configs, never an HPA', async () => {
    const fx = newDaemonSetFixture({ objects: [newHpa()] });
    const canary = newDaemonSetCanary({
      spec: { autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' } },
    });
    const deps = fx.controller.dependencies(canary);
    expect(deps.map((d) => `${d.role} ${d.type.kind}/${d.name}`).sort()).toEqual(
      [
        'target DaemonSet/podinfo',
        ...[
          'podinfo-config-all-env',
          'podinfo-config-env',
          'podinfo-config-init',
          'podinfo-config-optional',
          'podinfo-config-projected',
          'podinfo-config-untracked',
          'podinfo-config-vol',
        ].map((n) => `config ConfigMap/${n}`),
        ...[
          'podinfo-registry',
          'podinfo-secret-all-env',
          'podinfo-secret-env',
          'podinfo-secret-projected',
          'podinfo-secret-vol',
        ].map((n) => `config Secret/${n}`),
      ].sort(),
    );
    const self = deps.find((d) => d.role === 'target');
    const before = self?.fingerprint(fx.kube.peek(Resources.daemonSet, target) as KubeObject);
    await fx.controller.scaleToZero(fx.ctx, canary);
    const after = self?.fingerprint(fx.kube.peek(Resources.daemonSet, target) as KubeObject);
    expect(jsonEqual(before, after)).toBe(true);
  });

  it('dependencies: no configs with config tracking off', () => {
    const fx = newDaemonSetFixture({ options: { configTracking: false } });
    expect(fx.controller.dependencies(fx.canary).map((d) => d.role)).toEqual(['target']);
  });
});
