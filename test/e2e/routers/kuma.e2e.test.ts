// Provider kuma against the (structural) TrafficRoute CRD: the cluster-scoped object Flagger writes,
// every weight step of a promotion, a rollback, and revertOnDeletion deleting the route that
// garbage collection can't. TrafficRoutes are cluster-scoped: each test names its apex after its
// namespace so that parallel tests never share one.
import { describe, expect, it, onTestFinished } from 'vitest';
import { Resources } from '../../../src/kube/resources.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import { applyAll, canary, podinfo, waitForPhase, type CanaryOptions } from '../lib/workload.ts';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';
import { hookedAnalysis, promoteWatchingWeights, rollBackFromTraffic, type RoutingObject } from './weighted.ts';

interface TrafficRoute {
  mesh: string;
  metadata: { ownerReferences?: unknown[] };
  spec: { conf: { split: { weight: number; destination: Record<string, string> }[] } };
}

const route = (apex: string): Promise<TrafficRoute> => kubectlJson<TrafficRoute>(['get', 'trafficroute', apex]);

function routing(ns: string): RoutingObject {
  return {
    type: Resources.kumaTrafficRoute,
    key: { name: ns },
    split: (obj) => {
      const splits = (obj as unknown as TrafficRoute).spec.conf.split;
      const weight = (side: string): number =>
        splits.find((s) => s.destination['kuma.io/service'] === `${ns}-${side}_${ns}_svc_9898`)?.weight ?? -1;
      return { primary: weight('primary'), canary: weight('canary') };
    },
  };
}

/** A namespace with podinfo and a kuma Canary whose apex is the namespace's name; the operator runs. */
async function setUp(prefix: string, o: CanaryOptions = {}): Promise<string> {
  const ns = await createTestNamespace(prefix);
  onTestFinished(async () => {
    await kubectl(['delete', 'trafficroute', ns, '--ignore-not-found']);
  });
  const meta = { metadata: { name: 'podinfo', namespace: ns, annotations: { 'kuma.io/mesh': 'mesh1' } } };
  const c = canary(ns, { provider: 'kuma', ...o, service: { name: ns } });
  await applyAll([...podinfo(ns), { ...c, ...meta }], ns);
  await startOperator({ namespace: ns, provider: 'kuma' });
  await waitForPhase(ns, 'Initialized');
  return ns;
}

describe('kuma router', () => {
  it('creates the TrafficRoute in the annotated mesh, steps its weights 20 → 40 → 60 and promotes', async () => {
    const ns = await setUp('kuma');
    const tr = await route(ns);
    expect(tr.mesh).toBe('mesh1');
    expect(tr.metadata.ownerReferences).toBeUndefined();
    // Read back exactly as written: the schema pruned nothing.
    expect(tr.spec).toEqual({
      sources: [{ match: { 'kuma.io/service': '*' } }],
      destinations: [{ match: { 'kuma.io/service': `${ns}_${ns}_svc_9898` } }],
      conf: {
        split: [
          { weight: 100, destination: { 'kuma.io/service': `${ns}-primary_${ns}_svc_9898` } },
          { weight: 0, destination: { 'kuma.io/service': `${ns}-canary_${ns}_svc_9898` } },
        ],
      },
    });
    expect(await promoteWatchingWeights(ns, routing(ns))).toEqual([20, 40, 60]);
  });

  it('rolls back to the primary when the checks fail', async () => {
    const hooks = await startWebhookServer();
    const ns = await setUp('kuma-rb', { analysis: hookedAnalysis(hooks) });
    await rollBackFromTraffic(ns, hooks, routing(ns));
  });

  it('revertOnDeletion: deleting the Canary deletes the cluster-scoped TrafficRoute', async () => {
    const ns = await setUp('kuma-del', { spec: { revertOnDeletion: true } });
    await route(ns);
    await kubectl(['delete', 'canary', 'podinfo', '--wait=false'], { namespace: ns });
    await waitFor(
      async () => {
        const list = await kubectlJson<{ items: unknown[] }>([
          'get',
          'trafficroute',
          '--field-selector',
          `metadata.name=${ns}`,
        ]);
        return list.items.length === 0;
      },
      { describe: `TrafficRoute ${ns} to be deleted`, timeoutMs: 60_000 },
    );
  });
});
