// Provider skipper: the canary Ingress `<ingress>-canary` with `zalando.org/backend-weights`.
import { expect } from 'vitest';
import { kubectlJson } from '../support/index.ts';
import { ingressRef, ingressRouterScenarios, userIngress } from './ingress-scenarios.ts';

interface CanaryIngress {
  metadata: { annotations: Record<string, string> };
  spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] };
}

const canaryIngress = (ns: string): Promise<CanaryIngress> =>
  kubectlJson<CanaryIngress>(['get', 'ingress', 'podinfo-canary'], { namespace: ns });

ingressRouterScenarios({
  provider: 'skipper',
  userObjects: (ns) => [userIngress(ns, { 'zalando.org/skipper-predicate': 'Method("GET")' })],
  spec: ingressRef,
  weights: async (ns) => {
    const raw = (await canaryIngress(ns)).metadata.annotations['zalando.org/backend-weights'] ?? '{}';
    const w = JSON.parse(raw) as Record<string, number>;
    return { primary: w['podinfo-primary'] ?? -1, canary: w['podinfo-canary'] ?? -1 };
  },
  initialized: async (ns) => {
    const ing = await canaryIngress(ns);
    expect(ing.spec.rules[0]?.http.paths.map((p) => p.backend.service.name)).toEqual([
      'podinfo-primary',
      'other',
      'podinfo-canary',
    ]);
    expect(ing.metadata.annotations['zalando.org/skipper-predicate']).toBe('False() && Method("GET")');
  },
  routingObjects: () => ['ingress/podinfo-canary'],
});
