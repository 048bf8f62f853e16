// Provider contour: the HTTPProxy `<apex>` with weighted services.
import { expect } from 'vitest';
import { kubectlJson } from '../support/index.ts';
import { ingressRouterScenarios, namedWeights } from './ingress-scenarios.ts';

interface Proxy {
  spec: {
    ingressClassName?: string;
    routes: {
      conditions: { prefix?: string; header?: { name: string; exact?: string } }[];
      services: { name: string; weight?: number }[];
      retryPolicy?: unknown;
      timeoutPolicy?: unknown;
    }[];
  };
}

const proxy = (ns: string): Promise<Proxy> => kubectlJson<Proxy>(['get', 'httpproxy', 'podinfo'], { namespace: ns });

ingressRouterScenarios({
  provider: 'contour',
  service: { timeout: '30s', retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error,connect-failure' } },
  operatorArgs: ['-ingress-class', 'contour'],
  weights: async (ns) => namedWeights((await proxy(ns)).spec.routes[0]?.services ?? []),
  initialized: async (ns) => {
    const { spec } = await proxy(ns);
    expect(spec.ingressClassName).toBe('contour');
    expect(spec.routes[0]).toMatchObject({
      conditions: [{ prefix: '/' }],
      timeoutPolicy: { response: '30s', idle: '5m' },
      retryPolicy: { count: 3, perTryTimeout: '5s', retryOn: ['gateway-error', 'connect-failure'] },
    });
  },
  abRouted: async (ns) => {
    const { spec } = await proxy(ns);
    expect(spec.routes[0]?.conditions).toEqual([{ prefix: '/', header: { name: 'x-canary', exact: 'insider' } }]);
    expect(namedWeights(spec.routes[1]?.services ?? [])).toEqual({ primary: 100, canary: 0 });
  },
  routingObjects: () => ['httpproxy/podinfo'],
});
