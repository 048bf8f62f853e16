// Initialization on a real API server: primary clone, config copies, primary HPA, services; and a
// bad canary next to a good one.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectlJson, waitFor } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import {
  applyAll,
  canary,
  condition,
  events,
  getCanary,
  getDeployment,
  hpa,
  podinfo,
  waitForPhase,
} from '../lib/workload.ts';

interface Svc {
  spec: { selector?: Record<string, string>; ports: { port: number; targetPort: number | string; name?: string }[] };
}

describe('canary initialization', () => {
  it('creates the primary, its config copies and HPA, the three services, and scales the target to zero', async () => {
    const ns = await createTestNamespace('init');
    await applyAll(
      [
        ...podinfo(ns),
        hpa(ns),
        canary(ns, {
          spec: { autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' } },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });

    const init = await waitForPhase(ns, 'Initialized');
    expect(condition(init, 'Promoted')?.status).toBe('True');
    expect(condition(init, 'Ready')?.status).toBe('True');
    expect(init.status?.lastAppliedSpec).toBeTruthy();
    expect(init.status?.lastPromotedSpec).toBe(init.status?.lastAppliedSpec);

    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.selector.matchLabels).toEqual({ app: 'podinfo-primary' });
    expect(primary.spec.template.metadata.labels?.['app']).toBe('podinfo-primary');
    expect(primary.spec.template.metadata.annotations?.['flagger-id']).toBeTruthy();
    expect(primary.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo' });
    const container = primary.spec.template.spec.containers[0];
    const refs = (container?.env ?? []).map((e) => Object.values(e.valueFrom ?? {})[0]?.name);
    expect(refs).toEqual(['podinfo-config-env-primary', 'podinfo-secret-env-primary']);
    expect(primary.spec.template.spec.volumes?.[0]?.configMap?.name).toBe('podinfo-config-vol-primary');

    for (const [kind, name] of [
      ['configmap', 'podinfo-config-env-primary'],
      ['configmap', 'podinfo-config-vol-primary'],
      ['secret', 'podinfo-secret-env-primary'],
    ] as const) {
      const obj = await kubectlJson<{ data: Record<string, string> }>(['get', kind, name], { namespace: ns });
      expect(Object.keys(obj.data).length).toBeGreaterThan(0);
    }
    const primaryHpa = await kubectlJson<{ spec: { scaleTargetRef: { name: string }; minReplicas: number } }>(
      ['get', 'hpa', 'podinfo-primary'],
      { namespace: ns },
    );
    expect(primaryHpa.spec.scaleTargetRef.name).toBe('podinfo-primary');
    expect(primaryHpa.spec.minReplicas).toBe(2);

    const selectors: Record<string, Record<string, string> | undefined> = {};
    for (const name of ['podinfo', 'podinfo-primary', 'podinfo-canary']) {
      const svc = await kubectlJson<Svc>(['get', 'service', name], { namespace: ns });
      selectors[name] = svc.spec.selector;
      expect(svc.spec.ports[0]).toMatchObject({ port: 9898, name: 'http' });
    }
    expect(selectors).toEqual({
      podinfo: { app: 'podinfo-primary' },
      'podinfo-primary': { app: 'podinfo-primary' },
      'podinfo-canary': { app: 'podinfo' },
    });

    const target = await waitFor(
      async () => {
        const d = await getDeployment(ns, 'podinfo');
        return d.spec.replicas === 0 ? d : undefined;
      },
      { describe: 'target scaled to zero' },
    );
    expect(target.spec.replicas).toBe(0);
    const primaryReady = await getDeployment(ns, 'podinfo-primary');
    expect(primaryReady.status?.availableReplicas).toBe(2);

    const evs = await events(ns);
    expect(
      evs.some((e) => e.message === `Initialization done! podinfo.${ns}` && e.source?.component === 'fledge'),
    ).toBe(true);
  });

  it('reports an invalid canary with a condition and an event while a valid one in the namespace still promotes', async () => {
    const ns = await createTestNamespace('invalid');
    await applyAll([...podinfo(ns), canary(ns), canary(ns, { name: 'missing', target: 'does-not-exist' })], ns);
    await startOperator({ namespace: ns });

    const bad = await waitFor(
      async () => {
        const c = await getCanary(ns, 'missing');
        return condition(c, 'Stalled')?.status === 'True' ? c : undefined;
      },
      { describe: 'canary "missing" to be Stalled' },
    );
    expect(condition(bad, 'Stalled')?.reason).toBe('TargetNotFound');
    expect(condition(bad, 'Stalled')?.message).toContain('does-not-exist');
    expect(condition(bad, 'Ready')?.status).toBe('False');
    const evs = await waitFor(
      async () => {
        const all = await events(ns);
        return all.some((e) => e.type === 'Warning' && e.message.includes('does-not-exist')) ? all : undefined;
      },
      { describe: 'a Warning event about the missing target' },
    );
    expect(evs.length).toBeGreaterThan(0);

    await waitForPhase(ns, 'Initialized');
    const { setImage, IMAGE_V2 } = await import('../lib/workload.ts');
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 180_000 });
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });
});
