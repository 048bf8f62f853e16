// DaemonSet targets with the kubernetes provider (Blue/Green): initialization (primary DaemonSet,
// target scaled to zero by a node selector no node has, Services), a promotion, a rollback after
// failed webhook checks, and revertOnDeletion. kwok's nodes run the DaemonSets' pods.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  condition,
  events,
  podinfo,
  waitForPhase,
} from '../lib/workload.ts';

const SCALE_TO_ZERO = 'flagger.app/scale-to-zero';
const targetRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' };

interface DaemonSetState {
  metadata: { generation?: number; ownerReferences?: { kind: string; name: string }[] };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        nodeSelector?: Record<string, string>;
        containers: { image: string; env?: { name: string; valueFrom?: Record<string, { name: string }> }[] }[];
      };
    };
  };
  status?: { observedGeneration?: number; desiredNumberScheduled?: number; numberAvailable?: number };
}

/** podinfo's configs and its Deployment turned into a DaemonSet (same selector, template and configs). */
function podinfoDaemonSet(namespace: string): object[] {
  return podinfo(namespace).map((o) => {
    const obj = o as { kind: string; spec?: Record<string, unknown> };
    if (obj.kind !== 'Deployment') return o;
    const { replicas: _replicas, ...spec } = obj.spec ?? {};
    return { ...obj, kind: 'DaemonSet', spec };
  });
}

const getDaemonSet = (ns: string, name: string): Promise<DaemonSetState> =>
  kubectlJson<DaemonSetState>(['get', 'daemonset', name], { namespace: ns });

/** Waits until the DaemonSet runs its current template on `nodes` nodes. */
async function waitRolledOut(ns: string, name: string, nodes: number): Promise<DaemonSetState> {
  return waitFor(
    async () => {
      const ds = await getDaemonSet(ns, name);
      const s = ds.status;
      const done =
        (s?.observedGeneration ?? 0) >= (ds.metadata.generation ?? 1) &&
        (s?.desiredNumberScheduled ?? 0) === nodes &&
        (s?.numberAvailable ?? 0) === nodes; // zero counts are omitted
      return done ? ds : undefined;
    },
    { describe: `daemonset ${name} in ${ns} available on ${nodes} nodes`, timeoutMs: 60_000 },
  );
}

async function nodeCount(): Promise<number> {
  const nodes = await kubectlJson<{ items: unknown[] }>(['get', 'nodes']);
  return nodes.items.length;
}

const setDaemonSetImage = (ns: string, image: string): Promise<unknown> =>
  kubectl(['set', 'image', 'daemonset/podinfo', `podinfod=${image}`], { namespace: ns });

describe('DaemonSet targets', () => {
  it('initializes, then promotes a new image after the Blue/Green iterations', async () => {
    const nodes = await nodeCount();
    const ns = await createTestNamespace('ds-promote');
    await applyAll([...podinfoDaemonSet(ns), blueGreenCanary(ns, 2, { spec: { targetRef } })], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    const primary = await waitRolledOut(ns, 'podinfo-primary', nodes);
    expect(primary.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo' });
    expect(primary.spec.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec.template.spec.nodeSelector?.[SCALE_TO_ZERO]).toBeUndefined();
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    const env = primary.spec.template.spec.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'COLOR')?.valueFrom?.['configMapKeyRef']?.name).toBe(
      'podinfo-config-env-primary',
    );
    // The target runs nowhere: no node has the scale-to-zero label.
    const scaled = await waitRolledOut(ns, 'podinfo', 0);
    expect(scaled.spec.template.spec.nodeSelector).toEqual({ [SCALE_TO_ZERO]: 'true' });
    for (const svc of ['podinfo', 'podinfo-primary', 'podinfo-canary']) {
      const s = await kubectlJson<{ spec: { selector: Record<string, string> } }>(['get', 'service', svc], {
        namespace: ns,
      });
      expect(s.spec.selector).toEqual({ app: svc === 'podinfo-canary' ? 'podinfo' : 'podinfo-primary' });
    }

    await setDaemonSetImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    const succeeded = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(condition(succeeded, 'Promoted')?.status).toBe('True');
    const promoted = await waitRolledOut(ns, 'podinfo-primary', nodes);
    expect(promoted.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    const target = await waitRolledOut(ns, 'podinfo', 0);
    expect(target.spec.template.spec.nodeSelector).toEqual({ [SCALE_TO_ZERO]: 'true' });
    expect(target.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    const evs = await events(ns);
    expect(evs.some((e) => e.message === `Promotion completed! Scaling down podinfo.${ns}`)).toBe(true);
  });

  it('rolls back after `threshold` failed webhook checks, leaving the primary on the old image', async () => {
    const nodes = await nodeCount();
    const ns = await createTestNamespace('ds-rollback');
    const hooks = await startWebhookServer();
    hooks.respond('/check', 200);
    const analysis = {
      threshold: 2,
      webhooks: [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }],
    };
    await applyAll([...podinfoDaemonSet(ns), blueGreenCanary(ns, 10, { spec: { targetRef }, analysis })], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    hooks.respond('/check', 500);

    await setDaemonSetImage(ns, IMAGE_V2);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    expect(hooks.requests('/check').length).toBeGreaterThanOrEqual(2);
    const primary = await waitRolledOut(ns, 'podinfo-primary', nodes);
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    const target = await waitRolledOut(ns, 'podinfo', 0);
    expect(target.spec.template.spec.nodeSelector).toEqual({ [SCALE_TO_ZERO]: 'true' });
    const evs = await events(ns);
    expect(evs.some((e) => e.message === `Canary failed! Scaling down podinfo.${ns}`)).toBe(true);
  });

  it('revertOnDeletion runs the target on its nodes again and points the apex Service back at it', async () => {
    const nodes = await nodeCount();
    const ns = await createTestNamespace('ds-revert');
    // A Service the user already had: Fledge takes it over, and must hand it back.
    const apexSvc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'podinfo', namespace: ns },
      spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
    };
    await applyAll(
      [...podinfoDaemonSet(ns), apexSvc, blueGreenCanary(ns, 2, { spec: { targetRef, revertOnDeletion: true } })],
      ns,
    );
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await waitRolledOut(ns, 'podinfo', 0);
    await waitFor(
      async () => {
        const c = await kubectlJson<{ metadata: { finalizers?: string[] } }>(['get', 'canary', 'podinfo'], {
          namespace: ns,
        });
        return c.metadata.finalizers?.includes('finalizer.flagger.app') || undefined;
      },
      { describe: 'finalizer on the canary' },
    );

    await kubectl(['delete', 'canary', 'podinfo', '--wait=false'], { namespace: ns });
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'canary', 'podinfo', '--ignore-not-found'], { namespace: ns });
        return r.stdout.trim() === '' || undefined;
      },
      { describe: 'canary deleted', timeoutMs: 90_000 },
    );
    const target = await waitRolledOut(ns, 'podinfo', nodes);
    expect(target.spec.template.spec.nodeSelector).toBeUndefined();
    const apex = await kubectlJson<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'podinfo'], {
      namespace: ns,
    });
    expect(apex.spec.selector).toEqual({ app: 'podinfo' });
  });
});
