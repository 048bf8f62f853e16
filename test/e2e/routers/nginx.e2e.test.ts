// Provider nginx: the canary Ingress `<ingress>-canary` with ingress-nginx canary annotations.
import { expect } from 'vitest';
import { kubectlJson } from '../support/index.ts';
import { ingressRef, ingressRouterScenarios, userIngress } from './ingress-scenarios.ts';

const PREFIX = 'custom.nginx.io';

async function annotations(ns: string): Promise<Record<string, string>> {
  const ing = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(
    ['get', 'ingress', 'podinfo-canary'],
    { namespace: ns },
  );
  return ing.metadata.annotations ?? {};
}

ingressRouterScenarios({
  provider: 'nginx',
  userObjects: (ns) => [userIngress(ns, { 'kubernetes.io/ingress.class': 'nginx' })],
  spec: ingressRef,
  operatorArgs: ['-ingress-annotations-prefix', PREFIX],
  weights: async (ns) => {
    const a = await annotations(ns);
    if (`${PREFIX}/canary-by-header` in a) return { primary: 0, canary: 100 };
    const canary = Number(a[`${PREFIX}/canary-weight`] ?? 'NaN');
    return { primary: 100 - canary, canary };
  },
  initialized: async (ns) => {
    const ing = await kubectlJson<{
      metadata: { annotations: Record<string, string> };
      spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] };
    }>(['get', 'ingress', 'podinfo-canary'], { namespace: ns });
    expect(ing.metadata.annotations).toMatchObject({
      'kubernetes.io/ingress.class': 'nginx',
      [`${PREFIX}/canary`]: 'true',
      [`${PREFIX}/canary-weight`]: '0',
    });
    expect(ing.spec.rules[0]?.http.paths[0]?.backend.service.name).toBe('podinfo-canary');
  },
  abRouted: async (ns) => {
    expect(await annotations(ns)).toMatchObject({
      [`${PREFIX}/canary-by-header`]: 'x-canary',
      [`${PREFIX}/canary-by-header-value`]: 'insider',
      [`${PREFIX}/canary-weight`]: '0',
    });
  },
  routingObjects: () => ['ingress/podinfo-canary'],
});
