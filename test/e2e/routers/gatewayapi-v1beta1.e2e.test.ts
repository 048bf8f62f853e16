// gatewayapi:v1beta1 writes Flagger's HTTPRoute through gateway.networking.k8s.io/v1beta1 (the
// real v1.4.0 CRD serves it): weights, A/B rules, revertOnDeletion, and session affinity cookies.
import { describe, expect, it } from 'vitest';
import { startOperator } from '../lib/operator.ts';
import {
  IMAGE_V2,
  applyAll,
  canary,
  gatewayRefs,
  getCanary,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from '../support/index.ts';
import { routerScenario, type RouteWeights } from './smi-lib.ts';

const provider = 'gatewayapi:v1beta1';
const RESOURCE = 'httproutes.v1beta1.gateway.networking.k8s.io';

interface Rule {
  matches?: { headers?: { name: string; type?: string; value: string }[] }[];
  filters?: { type: string; responseHeaderModifier?: { add?: { name: string; value: string }[] } }[];
  backendRefs?: { name: string; weight?: number; filters?: unknown[] }[];
}

async function route(ns: string): Promise<{ apiVersion: string; spec: { rules: Rule[] } }> {
  return kubectlJson(['get', RESOURCE, 'podinfo'], { namespace: ns });
}

/** The weights of the last rule that splits between the two backends (the weighted rule). */
async function weights(ns: string): Promise<RouteWeights> {
  const rules = (await route(ns)).spec.rules.filter((r) => (r.backendRefs ?? []).length === 2);
  const refs = rules[rules.length - 1]?.backendRefs ?? [];
  const weight = (n: string): number => refs.find((r) => r.name === n)?.weight ?? -1;
  return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
}

describe('gatewayapi:v1beta1 router', () => {
  routerScenario({
    provider,
    service: { gatewayRefs, hosts: ['app.example.com'] },
    weights,
    resource: RESOURCE,
    abMatch: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    abSupported: true,
    checkInit: async (ns) => expect((await route(ns)).apiVersion).toBe('gateway.networking.k8s.io/v1beta1'),
    checkAB: async (ns) => {
      const [ab, fallback] = (await route(ns)).spec.rules;
      expect(ab?.matches?.[0]?.headers).toEqual([{ name: 'x-canary', type: 'Exact', value: 'insider' }]);
      expect(fallback?.backendRefs?.map((b) => [b.name, b.weight])).toEqual([['podinfo-primary', 100]]);
    },
  });

  it('session affinity: a sticky cookie rule during the run, an expiring one after promotion', async () => {
    const ns = await createTestNamespace('affinity');
    const sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 300 };
    await applyAll(
      [...podinfo(ns), canary(ns, { provider, service: { gatewayRefs }, analysis: { sessionAffinity } })],
      ns,
    );
    await startOperator({ namespace: ns, provider });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    const running = await waitFor(
      async () => {
        const r = await route(ns);
        return (await weights(ns)).canary > 0 && r.spec.rules.length === 2 ? r : undefined;
      },
      { describe: 'a sticky rule while the canary gets traffic', timeoutMs: 60_000 },
    );
    const cookie = (await getCanary(ns)) as { status?: { sessionAffinityCookie?: string } };
    const value = cookie.status?.sessionAffinityCookie ?? '';
    expect(value).toMatch(/^flagger-cookie=[a-zA-Z]{10}$/);
    const [sticky, weighted] = running.spec.rules;
    expect(sticky?.matches?.[0]?.headers).toEqual([
      { name: 'Cookie', type: 'RegularExpression', value: `.*flagger-cookie.*${value.split('=')[1] ?? ''}.*` },
    ]);
    expect(sticky?.backendRefs?.map((b) => [b.name, b.weight])).toEqual([
      ['podinfo-primary', 0],
      ['podinfo-canary', 100],
    ]);
    expect(weighted?.backendRefs?.[1]?.filters).toEqual([
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: `${value}; Max-Age=300` }] },
      },
    ]);

    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    const [expire] = (await route(ns)).spec.rules;
    expect(expire?.filters).toEqual([
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: `${value}; Max-Age=-1` }] },
      },
    ]);
    expect(await weights(ns)).toEqual({ primary: 100, canary: 0 });
  });
});
