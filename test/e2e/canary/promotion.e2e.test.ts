// A new revision goes through every HTTPRoute weight step and is promoted; a ConfigMap change alone
// starts an analysis too.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectl, kubectlJson } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import {
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  canary,
  gatewayRefs,
  getDeployment,
  podinfo,
  routeWeights,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';

describe('canary promotion (gatewayapi:v1)', () => {
  it('steps the HTTPRoute weights 20 → 40 → 60, promotes, and satisfies kubectl wait --for=condition=promoted', async () => {
    const ns = await createTestNamespace('promote');
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          provider: 'gatewayapi:v1',
          service: { gatewayRefs, hosts: ['app.example.com'] },
          analysis: { interval: '2s' },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns, provider: 'gatewayapi:v1' });
    await waitForPhase(ns, 'Initialized');
    expect(await routeWeights(ns)).toEqual({ primary: 100, canary: 0 });
    const route = await kubectlJson<{ spec: { hostnames: string[]; parentRefs: { name: string }[] } }>(
      ['get', 'httproute', 'podinfo'],
      { namespace: ns },
    );
    expect(route.spec.hostnames).toEqual(['app.example.com']);
    expect(route.spec.parentRefs[0]?.name).toBe('gateway');

    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Progressing');

    // Watch the route live: every step must appear, in order, and primary + canary = 100 throughout.
    const seen: number[] = [];
    const deadline = Date.now() + 120_000;
    let phase = '';
    while (Date.now() < deadline && phase !== 'Succeeded') {
      const w = await routeWeights(ns);
      expect(w.primary + w.canary).toBe(100);
      if (seen[seen.length - 1] !== w.canary) seen.push(w.canary);
      const c = await kubectlJson<{ status?: { phase?: string } }>(['get', 'canary', 'podinfo'], { namespace: ns });
      phase = c.status?.phase ?? '';
    }
    expect(phase).toBe('Succeeded');
    expect(seen.filter((w) => w > 0)).toEqual([20, 40, 60]);
    expect(await routeWeights(ns)).toEqual({ primary: 100, canary: 0 });

    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    const target = await getDeployment(ns, 'podinfo');
    expect(target.spec.replicas).toBe(0);

    const wait = await kubectl(['wait', 'canary/podinfo', '--for=condition=promoted', '--timeout=30s'], {
      namespace: ns,
    });
    expect(wait.stdout).toContain('condition met');
  });

  it('starts an analysis when only ConfigMap data changes, and copies the new data to the primary', async () => {
    const ns = await createTestNamespace('config');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
    await startOperator({ namespace: ns });
    const init = await waitForPhase(ns, 'Initialized');

    await kubectl(['patch', 'configmap', 'podinfo-config-env', '--type=merge', '-p', '{"data":{"color":"green"}}'], {
      namespace: ns,
    });
    const progressing = await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    expect(progressing.status?.lastAppliedSpec).not.toBe(init.status?.lastAppliedSpec);
    await waitForPhase(ns, 'Succeeded');

    const copy = await kubectlJson<{ data: Record<string, string> }>(
      ['get', 'configmap', 'podinfo-config-env-primary'],
      { namespace: ns },
    );
    expect(copy.data['color']).toBe('green');
  });
});
