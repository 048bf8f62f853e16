// The istio router on the real Istio CRDs (networking.istio.io, served at v1beta1 as Flagger writes
// it): no istiod runs, so what is checked is the objects the API server accepted and their weights.
import { describe, expect, it } from 'vitest';
import { startOperator } from '../lib/operator.ts';
import { IMAGE_V2, applyAll, canary, getCanary, podinfo, setImage, waitForPhase } from '../lib/workload.ts';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';
import { routerScenario, type RouteWeights } from './lib.ts';

const VS = 'virtualservices.v1beta1.networking.istio.io';
const DR = 'destinationrules.v1beta1.networking.istio.io';
const ORIGINAL = 'flagger.kubernetes.io/original-configuration';

interface Destination {
  destination: { host: string; port?: { number: number } };
  weight?: number;
}
interface HeaderOps {
  response?: { add?: Record<string, string> };
}
interface VirtualService {
  metadata: { annotations?: Record<string, string>; ownerReferences?: { kind: string }[] };
  spec: {
    hosts?: string[];
    gateways?: string[];
    http?: {
      match?: { headers?: Record<string, { exact?: string; regex?: string }> }[];
      route: (Destination & { headers?: HeaderOps })[];
      headers?: HeaderOps;
      timeout?: string;
    }[];
  };
}

const getVs = (ns: string): Promise<VirtualService> =>
  kubectlJson<VirtualService>(['get', VS, 'podinfo'], { namespace: ns });

/** Weights of the last HTTP route with the canary destination (the weighted one, as the router reads it). */
async function weights(ns: string): Promise<RouteWeights> {
  const routes = (await getVs(ns)).spec.http ?? [];
  const route = routes.findLast((r) => r.route.some((d) => d.destination.host === 'podinfo-canary'));
  const weight = (host: string): number => route?.route.find((d) => d.destination.host === host)?.weight ?? 0;
  return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
}

/** A VirtualService the user wrote before adopting Fledge: everything to the apex Service. */
function userVs(ns: string): object {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'podinfo', namespace: ns },
    spec: { hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] },
  };
}

describe('istio router', () => {
  routerScenario({
    provider: 'istio',
    service: {
      hosts: ['app.example.com'],
      gateways: ['public-gateway'],
      timeout: '30s',
      retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error' },
      trafficPolicy: { tls: { mode: 'DISABLE' } },
    },
    weights,
    checkInit: async (ns) => {
      const vs = await getVs(ns);
      expect(vs.spec.hosts).toEqual(['app.example.com', 'podinfo']);
      expect(vs.spec.gateways).toEqual(['public-gateway']);
      expect(vs.spec.http?.[0]?.timeout).toBe('30s');
      expect(vs.metadata.ownerReferences?.[0]?.kind).toBe('Canary');
      for (const name of ['podinfo-primary', 'podinfo-canary']) {
        const dr = await kubectlJson<{ spec: { host: string; trafficPolicy?: unknown } }>(['get', DR, name], {
          namespace: ns,
        });
        expect(dr.spec).toEqual({ host: name, trafficPolicy: { tls: { mode: 'DISABLE' } } });
      }
    },
    abMatch: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    checkAB: async (ns) => {
      const http = (await getVs(ns)).spec.http ?? [];
      expect(http).toHaveLength(2);
      expect(http[0]?.match?.[0]?.headers).toEqual({ 'x-canary': { exact: 'insider' } });
      expect(http[1]?.route.map((d) => [d.destination.host, d.weight])).toEqual([['podinfo-primary', 100]]);
    },
    // Applied with kubectl apply: the revert comes from kubectl's last-applied configuration.
    revert: {
      prerequisites: (ns) => [userVs(ns)],
      check: async (ns) => {
        const vs = await getVs(ns);
        expect(vs.spec.http).toEqual([{ route: [{ destination: { host: 'podinfo' } }] }]);
        expect(vs.spec.hosts).toEqual(['podinfo']);
      },
    },
  });

  it('takes over a VirtualService created without kubectl apply and restores it from the original-configuration annotation', async () => {
    const ns = await createTestNamespace('takeover');
    await kubectl(['create', '-f', '-'], { namespace: ns, input: JSON.stringify(userVs(ns)) });
    await applyAll([...podinfo(ns), canary(ns, { provider: 'istio', spec: { revertOnDeletion: true } })], ns);
    await startOperator({ namespace: ns, provider: 'istio' });
    await waitForPhase(ns, 'Initialized');
    const taken = await getVs(ns);
    expect(JSON.parse(taken.metadata.annotations?.[ORIGINAL] ?? '{}')).toEqual({
      hosts: ['podinfo'],
      http: [{ route: [{ destination: { host: 'podinfo' } }] }],
    });
    expect(await weights(ns)).toEqual({ primary: 100, canary: 0 });

    await kubectl(['delete', 'canary', 'podinfo', '--wait=true', '--timeout=60s'], { namespace: ns });
    const reverted = await waitFor(
      async () => {
        const vs = await getVs(ns);
        return vs.metadata.annotations?.[ORIGINAL] === undefined ? vs : undefined;
      },
      { describe: 'the VirtualService reverted', timeoutMs: 30_000 },
    );
    expect(reverted.spec).toEqual({ hosts: ['podinfo'], http: [{ route: [{ destination: { host: 'podinfo' } }] }] });
  });

  it('session affinity: sticky cookie routes while the canary serves, an expiring route after promotion', async () => {
    const ns = await createTestNamespace('sticky');
    const sessionAffinity = { cookieName: 'flagger-cookie', maxAge: 120 };
    await applyAll([...podinfo(ns), canary(ns, { provider: 'istio', analysis: { sessionAffinity } })], ns);
    await startOperator({ namespace: ns, provider: 'istio' });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);

    const running = await waitFor(async () => ((await weights(ns)).canary > 0 ? getVs(ns) : undefined), {
      describe: 'canary weight > 0',
      timeoutMs: 60_000,
    });
    const [sticky, weighted] = running.spec.http ?? [];
    const cookie = (await getCanary(ns)).status as { sessionAffinityCookie?: string } | undefined;
    const value = cookie?.sessionAffinityCookie ?? '';
    expect(value).toMatch(/^flagger-cookie=[a-zA-Z]{10}$/);
    expect(sticky?.match?.[0]?.headers?.['Cookie']?.regex).toBe(`.*${value.replace('=', '.*')}.*`);
    expect(sticky?.route.map((d) => d.weight)).toEqual([0, 100]);
    const canaryDest = weighted?.route.find((d) => d.destination.host === 'podinfo-canary');
    expect(canaryDest?.headers?.response?.add?.['Set-Cookie']).toBe(`${value}; Max-Age=120`);

    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    const done = (await getVs(ns)).spec.http ?? [];
    expect(done).toHaveLength(2);
    expect(done[0]?.headers?.response?.add?.['Set-Cookie']).toBe(`${value}; Max-Age=-1`);
    expect(await weights(ns)).toEqual({ primary: 100, canary: 0 });
  });
});
