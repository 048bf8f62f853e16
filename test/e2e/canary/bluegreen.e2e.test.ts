// The kubernetes provider (Blue/Green without traffic shifting) and revertOnDeletion.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import {
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  canary,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';

describe('kubernetes provider', () => {
  it('promotes a Blue/Green canary after its iterations', async () => {
    const ns = await createTestNamespace('bluegreen');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 3)], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    const iterations = (await events(ns)).filter((e) => /Advance podinfo\..* canary iteration \d\/3/.test(e.message));
    expect(iterations.map((e) => e.message.slice(-3)).sort()).toEqual(['1/3', '2/3', '3/3']);
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    // The apex service never left the primary.
    const apex = await kubectlJson<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'podinfo'], {
      namespace: ns,
    });
    expect(apex.spec.selector).toEqual({ app: 'podinfo-primary' });
  });

  it('revertOnDeletion restores the target and points the apex service back at it', async () => {
    const ns = await createTestNamespace('revert');
    // A Service the user already had: Fledge takes it over, and must hand it back.
    const apexSvc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'podinfo', namespace: ns },
      spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 9898 }] },
    };
    await applyAll([...podinfo(ns), apexSvc, canary(ns, { spec: { revertOnDeletion: true } })], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    const taken = await kubectlJson<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'podinfo'], {
      namespace: ns,
    });
    expect(taken.spec.selector).toEqual({ app: 'podinfo-primary' });
    const withFinalizer = await waitFor(
      async () => {
        const c = await getCanary(ns);
        return c.metadata.finalizers?.includes('finalizer.flagger.app') ? c : undefined;
      },
      { describe: 'finalizer on the canary' },
    );
    expect(withFinalizer.metadata.finalizers).toContain('finalizer.flagger.app');
    expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(0);

    // Sample the apex's ready endpoints all through the deletion: it must never have none.
    const readyEndpoints = async (): Promise<number> => {
      const slices = await kubectlJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
        ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=podinfo'],
        { namespace: ns },
      );
      return slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
    };
    await waitFor(async () => (await readyEndpoints()) > 0 || undefined, {
      describe: 'apex endpoints before deletion',
    });
    await kubectl(['delete', 'canary', 'podinfo', '--wait=false'], { namespace: ns });
    const samples: number[] = [];
    await waitFor(
      async () => {
        samples.push(await readyEndpoints());
        const r = await kubectl(['get', 'canary', 'podinfo', '--ignore-not-found'], { namespace: ns });
        return r.stdout.trim() === '' || undefined;
      },
      { describe: 'canary deleted', timeoutMs: 60_000, intervalMs: 100 },
    );
    // A few more samples while garbage collection removes the primary.
    for (let i = 0; i < 10; i++) {
      samples.push(await readyEndpoints());
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(samples.length).toBeGreaterThan(3);
    expect(samples.filter((n) => n === 0)).toEqual([]);

    const target = await getDeployment(ns, 'podinfo');
    expect(target.spec.replicas).toBe(2);
    expect(target.status?.availableReplicas).toBe(2);
    const apex = await kubectlJson<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'podinfo'], {
      namespace: ns,
    });
    expect(apex.spec.selector).toEqual({ app: 'podinfo' });
    const evs = await events(ns);
    expect(evs.some((e) => e.message === `Terminated canary podinfo.${ns}`)).toBe(true);
  });
});
