// The e2e scenario of the routers that write a TrafficSplit (smi:v1alpha1/2/3, linkerd, osm) and of
// gatewayapi:v1beta1: initialization, a promotion observed on the routing object, a rollback, A/B
// (or its refusal) and revertOnDeletion. A provider file passes its provider and a weights reader.
import { expect, it } from 'vitest';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  canary,
  condition,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';

export interface RouteWeights {
  readonly primary: number;
  readonly canary: number;
}

export interface Scenario {
  /** `-mesh-provider`, and `spec.provider` unless `inSpec` is false (the CRD enum has no `smi:<version>:<mesh>`). */
  readonly provider: string;
  readonly inSpec?: boolean;
  readonly service?: Record<string, unknown>;
  /** The weights of the routing object; throws while it does not exist. */
  readonly weights: (namespace: string) => Promise<RouteWeights>;
  /** Checks the new routing object beyond its weights. */
  readonly checkInit?: (namespace: string) => Promise<void>;
  /** `analysis.match`; with `abSupported: false` the canary must be refused as Unsupported. */
  readonly abMatch: readonly object[];
  readonly abSupported: boolean;
  /** Checks the routing object while the matched traffic goes to the canary. */
  readonly checkAB?: (namespace: string) => Promise<void>;
  /** `kubectl get` resource name of the routing object (garbage-collected after revertOnDeletion). */
  readonly resource: string;
  /** The scenarios to run; default all. */
  readonly parts?: readonly Part[];
}

export type Part = 'init' | 'promote' | 'rollback' | 'ab' | 'revert';

const STEPS = { interval: '1s', threshold: 2, stepWeight: 20, maxWeight: 60 };

async function start(
  s: Scenario,
  prefix: string,
  o: { analysis?: Record<string, unknown>; spec?: Record<string, unknown> } = {},
): Promise<string> {
  const ns = await createTestNamespace(prefix);
  const c = canary(ns, {
    ...(s.inSpec === false ? {} : { provider: s.provider }),
    service: { ...s.service },
    analysis: { ...STEPS, ...o.analysis },
    ...(o.spec === undefined ? {} : { spec: o.spec }),
  });
  await applyAll([...podinfo(ns), c], ns);
  await startOperator({ namespace: ns, provider: s.provider });
  return ns;
}

/** TrafficSplit `<apex>` weights, read through `apiVersion` (numbers or v1alpha1 quantity strings). */
export function trafficSplitWeights(version: string): (namespace: string) => Promise<RouteWeights> {
  return async (namespace) => {
    const ts = await kubectlJson<{ spec: { backends: { service: string; weight: number | string }[] } }>(
      ['get', `trafficsplits.${version}.split.smi-spec.io`, 'podinfo'],
      { namespace },
    );
    const weight = (name: string): number => Number(ts.spec.backends.find((b) => b.service === name)?.weight ?? -1);
    return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
  };
}

/** Defines the scenario's `it`s (call inside a `describe`). */
export function routerScenario(s: Scenario): void {
  // Parts left out are not defined at all (never skipped).
  const part =
    (p: Part) =>
    (name: string, fn: () => Promise<void>): void => {
      if (s.parts === undefined || s.parts.includes(p)) it(name, fn);
    };
  part('init')('initializes the routing object with all traffic on the primary', async () => {
    const ns = await start(s, 'init');
    await waitForPhase(ns, 'Initialized');
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    await s.checkInit?.(ns);
  });

  part('promote')('promotes through every weight step, observed on the routing object', async () => {
    // 2 s steps: two kubectl calls per sample must fit in one step on a loaded machine.
    const ns = await start(s, 'promote', { analysis: { interval: '3s' } });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    const seen: number[] = [];
    let phase = '';
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && phase !== 'Succeeded' && phase !== 'Failed') {
      const w = await s.weights(ns);
      expect(w.primary + w.canary).toBe(100);
      if (seen[seen.length - 1] !== w.canary) seen.push(w.canary);
      phase = (await getCanary(ns)).status?.phase ?? '';
    }
    expect(phase).toBe('Succeeded');
    expect(seen.filter((w) => w > 0)).toEqual([20, 40, 60]);
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });

  part('rollback')('rolls back after failed checks and routes everything back to the primary', async () => {
    const hooks = await startWebhookServer();
    hooks.respond('/check', 200);
    const webhooks = [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }];
    const ns = await start(s, 'rollback', { analysis: { webhooks } });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    await waitFor(async () => (await s.weights(ns)).canary > 0, { describe: 'canary weight > 0', timeoutMs: 60_000 });
    hooks.respond('/check', 500);
    await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
  });

  const ab = { stepWeight: undefined, maxWeight: undefined, iterations: 2, match: s.abMatch };
  if (s.abSupported) {
    part('ab')('A/B: sends the matched requests to the canary, then promotes', async () => {
      const ns = await start(s, 'ab', { analysis: ab });
      await waitForPhase(ns, 'Initialized');
      await setImage(ns, IMAGE_V2);
      await waitFor(async () => (await s.weights(ns)).canary === 100, {
        describe: 'matched traffic on the canary',
        timeoutMs: 60_000,
      });
      await s.checkAB?.(ns);
      await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
      expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    });
  } else {
    part('ab')('A/B: refuses the canary as Unsupported and writes no routing object', async () => {
      const ns = await start(s, 'ab', { analysis: ab });
      const c = await waitFor(
        async () => {
          const got = await getCanary(ns);
          return condition(got, 'Stalled')?.status === 'True' ? got : undefined;
        },
        { describe: 'canary to be Stalled', timeoutMs: 60_000 },
      );
      expect(condition(c, 'Stalled')?.reason).toBe('Unsupported');
      expect(condition(c, 'Stalled')?.message).toContain('A/B testing (analysis.match) is not supported');
      const list = await kubectlJson<{ items: unknown[] }>(['get', s.resource], { namespace: ns });
      expect(list.items).toEqual([]);
    });
  }

  part('revert')(
    'revertOnDeletion: gives the traffic back to the target and the routing object is collected',
    async () => {
      const ns = await start(s, 'revert', { spec: { revertOnDeletion: true } });
      await waitForPhase(ns, 'Initialized');
      await waitFor(async () => (await getCanary(ns)).metadata.finalizers?.includes('finalizer.flagger.app'), {
        describe: 'finalizer on the canary',
      });
      await kubectl(['delete', 'canary', 'podinfo', '--wait=true', '--timeout=60s'], { namespace: ns });
      expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(2);
      await waitFor(
        async () =>
          (await kubectlJson<{ items: unknown[] }>(['get', s.resource], { namespace: ns })).items.length === 0
            ? true
            : undefined,
        { describe: `${s.resource} garbage-collected`, timeoutMs: 60_000 },
      );
    },
  );
}

/**
 * The scenario of a TrafficSplit router: `provider` writes `split.smi-spec.io/<version>`; the new
 * split is checked field by field as the API server kept it (weights as quantities in v1alpha1).
 * With `service`, hosts[0] becomes `spec.service` and `gateways` the Istio annotation (mesh `istio`).
 */
export function trafficSplitScenario(
  provider: string,
  version: string,
  o: { service?: { hosts: string[]; gateways: string[] }; parts?: readonly Part[] } = {},
): void {
  const resource = `trafficsplits.${version}.split.smi-spec.io`;
  const weight = (w: number): number | string => (version === 'v1alpha1' ? String(w) : w);
  const istio = provider.endsWith(':istio');
  routerScenario({
    provider,
    inSpec: !/^smi:v1alpha\d:/.test(provider),
    ...(o.service === undefined ? {} : { service: o.service }),
    ...(o.parts === undefined ? {} : { parts: o.parts }),
    weights: trafficSplitWeights(version),
    resource: 'trafficsplits.split.smi-spec.io',
    abMatch: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    abSupported: false,
    checkInit: async (ns) => {
      const ts = await kubectlJson<{ metadata: { annotations?: Record<string, string> }; spec: unknown }>(
        ['get', resource, 'podinfo'],
        { namespace: ns },
      );
      expect(ts.spec).toEqual({
        service: o.service?.hosts[0] ?? 'podinfo',
        backends: [
          { service: 'podinfo-canary', weight: weight(0) },
          { service: 'podinfo-primary', weight: weight(100) },
        ],
      });
      const gateways = ts.metadata.annotations?.['VirtualService.v1alpha3.networking.istio.io/spec.gateways'];
      expect(gateways).toBe(istio && o.service ? JSON.stringify(o.service.gateways) : undefined);
    },
  });
}
