// Provider traefik against the real TraefikService CRD: the object Flagger writes, every weight step
// of a promotion, and a rollback from a non-zero weight.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../../src/kube/resources.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import { applyAll, canary, podinfo, waitForPhase } from '../lib/workload.ts';
import { createTestNamespace, kubectlJson } from '../support/index.ts';
import { hookedAnalysis, promoteWatchingWeights, rollBackFromTraffic, type RoutingObject } from './weighted.ts';

interface TraefikService {
  metadata: { ownerReferences?: { kind: string; name: string }[] };
  spec: { weighted: { services: { name: string; namespace: string; port: number; weight: number }[] } };
}

const traefikService = (ns: string): Promise<TraefikService> =>
  kubectlJson<TraefikService>(['get', 'traefikservice', 'podinfo'], { namespace: ns });

function routing(ns: string): RoutingObject {
  return {
    type: Resources.traefikService,
    key: { namespace: ns, name: 'podinfo' },
    split: (obj) => {
      const services = (obj as unknown as TraefikService).spec.weighted.services;
      const primary = services.find((s) => s.name === 'podinfo-primary')?.weight ?? -1;
      return { primary, canary: services.find((s) => s.name === 'podinfo-canary')?.weight ?? 0 };
    },
  };
}

describe('traefik router', () => {
  it('creates the TraefikService, steps its weights 20 → 40 → 60 and promotes', async () => {
    const ns = await createTestNamespace('traefik');
    await applyAll([...podinfo(ns), canary(ns, { provider: 'traefik' })], ns);
    await startOperator({ namespace: ns, provider: 'traefik' });
    await waitForPhase(ns, 'Initialized');
    const ts = await traefikService(ns);
    // Read back exactly as written: the real schema pruned nothing.
    expect(ts.spec).toEqual({
      weighted: { services: [{ name: 'podinfo-primary', namespace: ns, port: 9898, weight: 100 }] },
    });
    expect(ts.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Canary', name: 'podinfo' })]);

    expect(await promoteWatchingWeights(ns, routing(ns))).toEqual([20, 40, 60]);
    // The canary entry is gone again at 0 %.
    expect((await traefikService(ns)).spec.weighted.services.map((s) => s.name)).toEqual(['podinfo-primary']);
  });

  it('rolls back to the primary when the checks fail', async () => {
    const ns = await createTestNamespace('traefik-rb');
    const hooks = await startWebhookServer();
    await applyAll([...podinfo(ns), canary(ns, { provider: 'traefik', analysis: hookedAnalysis(hooks) })], ns);
    await startOperator({ namespace: ns, provider: 'traefik' });
    await waitForPhase(ns, 'Initialized');
    await rollBackFromTraffic(ns, hooks, routing(ns));
  });
});
