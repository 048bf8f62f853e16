// Provider apisix against the real ApisixRoute CRD: the canary copy of the user's route, every weight
// step of a promotion (the user's route untouched), and a rollback from a non-zero weight.
import { describe, expect, it } from 'vitest';
import { Resources } from '../../../src/kube/resources.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import { applyAll, canary, podinfo, waitForPhase, type CanaryOptions } from '../lib/workload.ts';
import { createTestNamespace, kubectlJson } from '../support/index.ts';
import { hookedAnalysis, promoteWatchingWeights, rollBackFromTraffic, type RoutingObject } from './weighted.ts';

interface ApisixRoute {
  metadata: { labels?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: { http: { name: string; backends: { serviceName: string; weight?: number }[] }[] };
}

const rule = {
  name: 'method',
  match: { hosts: ['app.example.com'], methods: ['GET'], paths: ['/*'] },
  plugins: [{ name: 'prometheus', enable: true, config: { prefer_name: true } }],
  backends: [{ serviceName: 'podinfo', servicePort: 9898 }],
};

function userRoute(ns: string): object {
  return {
    apiVersion: 'apisix.apache.org/v2',
    kind: 'ApisixRoute',
    metadata: { name: 'podinfo', namespace: ns, labels: { team: 'web' } },
    spec: {
      http: [{ name: 'other', match: { paths: ['/other'] }, backends: [{ serviceName: 'x', servicePort: 80 }] }, rule],
    },
  };
}

const get = (ns: string, name: string): Promise<ApisixRoute> =>
  kubectlJson<ApisixRoute>(['get', 'apisixroute', name], { namespace: ns });

function routing(ns: string): RoutingObject {
  return {
    type: Resources.apisixRoute,
    key: { namespace: ns, name: 'podinfo-podinfo-canary' },
    split: (obj) => {
      const backends = (obj as unknown as ApisixRoute).spec.http[0]?.backends ?? [];
      const weight = (name: string): number => backends.find((b) => b.serviceName === name)?.weight ?? -1;
      return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
    },
  };
}

async function setUp(prefix: string, o: CanaryOptions = {}): Promise<string> {
  const ns = await createTestNamespace(prefix);
  const routeRef = { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'podinfo' };
  await applyAll([...podinfo(ns), userRoute(ns), canary(ns, { provider: 'apisix', ...o, spec: { routeRef } })], ns);
  await startOperator({ namespace: ns, provider: 'apisix' });
  await waitForPhase(ns, 'Initialized');
  return ns;
}

describe('apisix router', () => {
  it('creates <route>-<apex>-canary, steps its weights 20 → 40 → 60 and promotes', async () => {
    const ns = await setUp('apisix');
    const copy = await get(ns, 'podinfo-podinfo-canary');
    expect(copy.metadata.labels).toEqual({ team: 'web' });
    expect(copy.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Canary' })]);
    // Read back exactly as written: the real schema pruned nothing.
    expect(copy.spec).toEqual({
      http: [
        {
          ...rule,
          priority: 10000,
          backends: [
            { serviceName: 'podinfo-primary', servicePort: 9898, weight: 100 },
            { serviceName: 'podinfo-canary', servicePort: 9898, weight: 0 },
          ],
        },
      ],
    });
    expect(await promoteWatchingWeights(ns, routing(ns))).toEqual([20, 40, 60]);
    expect((await get(ns, 'podinfo')).spec).toEqual((userRoute(ns) as { spec: unknown }).spec);
  });

  it('rolls back to the primary when the checks fail', async () => {
    const hooks = await startWebhookServer();
    const ns = await setUp('apisix-rb', { analysis: hookedAnalysis(hooks) });
    await rollBackFromTraffic(ns, hooks, routing(ns));
  });
});
