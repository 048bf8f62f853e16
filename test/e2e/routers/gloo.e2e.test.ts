// Provider gloo: Upstreams for the primary and canary Services and the RouteTable `<apex>`.
import { expect } from 'vitest';
import { kubectlJson } from '../support/index.ts';
import { ingressRouterScenarios, namedWeights } from './ingress-scenarios.ts';

interface Table {
  spec: {
    routes: {
      matchers?: { headers?: { name: string; value?: string }[] }[];
      routeAction: { multi: { destinations: { destination: { upstream: { name: string } }; weight?: number }[] } };
    }[];
  };
}

const table = (ns: string): Promise<Table> => kubectlJson<Table>(['get', 'routetable', 'podinfo'], { namespace: ns });

/** Upstream names in Flagger's scheme, with the names of the weighted entries they stand for. */
function routeWeights(ns: string, route: Table['spec']['routes'][number] | undefined) {
  const destinations = route?.routeAction.multi.destinations ?? [];
  return namedWeights(
    destinations.map((d) => ({
      name: d.destination.upstream.name.replace(`${ns}-podinfo-`, 'podinfo-').replace(/upstream-9898$/, ''),
      ...(d.weight === undefined ? {} : { weight: d.weight }),
    })),
  );
}

ingressRouterScenarios({
  provider: 'gloo',
  userObjects: (ns) => [
    {
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'podinfo-config', namespace: ns },
      spec: {
        loadBalancerConfig: { roundRobin: {} },
        kube: { serviceName: 'podinfo', serviceNamespace: ns, servicePort: 9898 },
      },
    },
  ],
  spec: { upstreamRef: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: 'podinfo-config' } },
  weights: async (ns) => routeWeights(ns, (await table(ns)).spec.routes[0]),
  initialized: async (ns) => {
    const upstream = await kubectlJson<{ spec: unknown }>(['get', 'upstream', `${ns}-podinfo-canaryupstream-9898`], {
      namespace: ns,
    });
    expect(upstream.spec).toEqual({
      loadBalancerConfig: { roundRobin: {} },
      kube: { serviceName: 'podinfo-canary', serviceNamespace: ns, servicePort: 9898, selector: { app: 'podinfo' } },
    });
  },
  abRouted: async (ns) => {
    const { spec } = await table(ns);
    expect(spec.routes[0]?.matchers).toEqual([{ headers: [{ name: 'x-canary', value: 'insider' }] }]);
    expect(routeWeights(ns, spec.routes[1])).toEqual({ primary: 100, canary: 0 });
  },
  routingObjects: (ns) => [
    'routetable/podinfo',
    `upstream/${ns}-podinfo-primaryupstream-9898`,
    `upstream/${ns}-podinfo-canaryupstream-9898`,
  ],
});
