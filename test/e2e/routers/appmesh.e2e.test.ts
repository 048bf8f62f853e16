// Provider appmesh:v1beta2 against the (structural) App Mesh v1beta2 CRDs: the six objects Flagger
// writes, every weight step of a promotion, a rollback, and A/B by headers. (`appmesh`, the v1beta1
// API, has no CRD in the test cluster: App Mesh's controller no longer serves it.)
import { describe, expect, it } from 'vitest';
import { Resources } from '../../../src/kube/resources.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import { IMAGE_V2, applyAll, canary, podinfo, setImage, waitForPhase, type CanaryOptions } from '../lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from '../support/index.ts';
import {
  hookedAnalysis,
  promoteWatchingWeights,
  rollBackFromTraffic,
  type RoutingObject,
  type Split,
} from './weighted.ts';

const PROVIDER = 'appmesh:v1beta2';

interface Route {
  name: string;
  priority?: number;
  httpRoute: {
    match: { headers?: unknown[] };
    action: { weightedTargets: { virtualNodeRef: { name: string }; weight: number }[] };
  };
}

const spec = <T>(ns: string, kind: string, name: string): Promise<T> =>
  kubectlJson<{ spec: T }>(['get', `${kind}.appmesh.k8s.aws`, name], { namespace: ns }).then((o) => o.spec);

function splitOf(routes: readonly Route[]): Split {
  const targets = routes[0]?.httpRoute.action.weightedTargets;
  const weight = (name: string): number => targets?.find((t) => t.virtualNodeRef.name === name)?.weight ?? -1;
  return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
}

function routing(ns: string): RoutingObject {
  return {
    type: Resources.appMeshVirtualRouter,
    key: { namespace: ns, name: 'podinfo' },
    split: (obj) => splitOf((obj['spec'] as { routes: Route[] }).routes),
  };
}

async function setUp(prefix: string, o: CanaryOptions = {}): Promise<string> {
  const ns = await createTestNamespace(prefix);
  await applyAll([...podinfo(ns), canary(ns, { provider: PROVIDER, ...o })], ns);
  await startOperator({ namespace: ns, provider: PROVIDER });
  await waitForPhase(ns, 'Initialized');
  return ns;
}

const targets = (p: number, c: number) => [
  { virtualNodeRef: { name: 'podinfo-canary' }, weight: c },
  { virtualNodeRef: { name: 'podinfo-primary' }, weight: p },
];

describe('appmesh:v1beta2 router', () => {
  it('creates the VirtualNodes, VirtualRouters and VirtualServices, steps the weights and promotes', async () => {
    const ns = await setUp('appmesh');
    const listeners = [{ portMapping: { port: 9898, protocol: 'http' } }];
    // Read back exactly as written: the schema pruned nothing.
    expect(await spec(ns, 'virtualnode', 'podinfo-primary')).toEqual({
      podSelector: { matchLabels: { app: 'podinfo-primary' } },
      listeners,
      serviceDiscovery: { dns: { hostname: `podinfo-primary.${ns}.svc.cluster.local.` } },
    });
    expect(await spec(ns, 'virtualnode', 'podinfo-canary')).toMatchObject({
      podSelector: { matchLabels: { app: 'podinfo' } },
    });
    for (const [name, p, c] of [
      ['podinfo', 100, 0],
      ['podinfo-canary', 0, 100],
    ] as const) {
      expect(await spec(ns, 'virtualrouter', name)).toEqual({
        listeners,
        routes: [{ name, httpRoute: { match: { prefix: '/' }, action: { weightedTargets: targets(p, c) } } }],
      });
      expect(await spec(ns, 'virtualservice', name)).toEqual({
        provider: { virtualRouter: { virtualRouterRef: { name } } },
      });
    }
    expect(await promoteWatchingWeights(ns, routing(ns))).toEqual([20, 40, 60]);
  });

  it('rolls back to the primary when the checks fail', async () => {
    const hooks = await startWebhookServer();
    const ns = await setUp('appmesh-rb', { analysis: hookedAnalysis(hooks) });
    await rollBackFromTraffic(ns, hooks, routing(ns));
  });

  it('A/B: requests with the header go to the canary, all others stay on the primary', async () => {
    const analysis = { iterations: 3, stepWeight: undefined, maxWeight: undefined };
    const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
    const ns = await setUp('appmesh-ab', { analysis: { ...analysis, match } });
    await setImage(ns, IMAGE_V2);
    const routes = await waitFor(
      async () => {
        const r = (await spec<{ routes: Route[] }>(ns, 'virtualrouter', 'podinfo')).routes;
        return r[0]?.httpRoute.action.weightedTargets.find((t) => t.weight === 100)?.virtualNodeRef.name ===
          'podinfo-canary'
          ? r
          : undefined;
      },
      { describe: 'the header route to send everything to the canary', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(routes.map((r) => [r.name, r.priority])).toEqual([
      ['podinfo-a', 10],
      ['podinfo-b', 20],
    ]);
    expect(routes[0]?.httpRoute.match.headers).toEqual([{ name: 'x-canary', match: { exact: 'insider' } }]);
    expect(routes[1]?.httpRoute.action.weightedTargets).toEqual([
      { virtualNodeRef: { name: 'podinfo-primary' }, weight: 100 },
    ]);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    expect(splitOf((await spec<{ routes: Route[] }>(ns, 'virtualrouter', 'podinfo')).routes)).toEqual({
      primary: 100,
      canary: 0,
    });
  });
});
