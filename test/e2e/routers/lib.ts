// The standard e2e scenario of a mesh router, shared by every `test/e2e/routers/<provider>.e2e.test.ts`:
// initialization, a promotion observed step by step on the routing object, a rollback, A/B (when the
// router has it) and revertOnDeletion. A provider file passes what differs: its provider name, the
// extra `spec.service`, the objects the routing object needs (e.g. a Gateway) and a `weights()` reader.
import { expect, it } from 'vitest';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  canary,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';
import { createTestNamespace, kubectl, waitFor } from '../support/index.ts';

/** Primary and canary weights as the routing object carries them. */
export interface RouteWeights {
  readonly primary: number;
  readonly canary: number;
}

/** What a provider's e2e file passes to {@link routerScenario}. */
export interface RouterScenario {
  /** `spec.provider` and the operator's `-mesh-provider`. */
  readonly provider: string;
  /** Extra `spec.service` fields (hosts, gateways, gatewayRefs…). */
  readonly service?: Record<string, unknown>;
  /** Objects to create in the test namespace before the Canary (Gateways, user-owned routing objects…). */
  readonly prerequisites?: (namespace: string) => object[];
  /** Reads the weights from the provider's routing object; throws while it does not exist. */
  readonly weights: (namespace: string) => Promise<RouteWeights>;
  /** Checks the routing objects of a new Canary beyond the weights (names, fields the real CRD kept). */
  readonly checkInit?: (namespace: string) => Promise<void>;
  /** `analysis.match` of the A/B test; omit for routers without A/B. */
  readonly abMatch?: readonly object[];
  /** Checks what a provider-specific A/B routing object looks like while the canary gets the matched traffic. */
  readonly checkAB?: (namespace: string) => Promise<void>;
  /** The revertOnDeletion scenario; omit for routers with nothing to revert. */
  readonly revert?: {
    /** Objects to create before the Canary, in addition to `prerequisites` (e.g. a routing object to take over). */
    readonly prerequisites?: (namespace: string) => object[];
    /** Called once the Canary is gone; asserts the routing object was reverted. */
    readonly check: (namespace: string) => Promise<void>;
  };
}

/** Analysis of the progressive scenarios: 1 s ticks, 3 steps. */
// 3 s steps: the weights are sampled with kubectl, which can take a second on a busy machine.
const STEPS = { interval: '3s', threshold: 2, stepWeight: 20, maxWeight: 60 };

/** Extra Canary fields of one scenario. */
interface StartOptions {
  readonly analysis?: Record<string, unknown>;
  readonly spec?: Record<string, unknown>;
  readonly objects?: (namespace: string) => object[];
}

/** A namespace with the prerequisites, podinfo and its Canary, and an operator; waits for Initialized. */
async function start(s: RouterScenario, prefix: string, o: StartOptions = {}): Promise<string> {
  const ns = await createTestNamespace(prefix);
  await applyAll(
    [
      ...(s.prerequisites?.(ns) ?? []),
      ...(o.objects?.(ns) ?? []),
      ...podinfo(ns),
      canary(ns, {
        provider: s.provider,
        service: { ...s.service },
        analysis: { ...STEPS, ...o.analysis },
        ...(o.spec === undefined ? {} : { spec: o.spec }),
      }),
    ],
    ns,
  );
  await startOperator({ namespace: ns, provider: s.provider });
  await waitForPhase(ns, 'Initialized');
  return ns;
}

/** Samples `weights()` until the canary reaches a final phase; returns the distinct canary weights seen. */
async function observe(s: RouterScenario, ns: string): Promise<{ phase: string; seen: number[] }> {
  const seen: number[] = [];
  let phase = '';
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && phase !== 'Succeeded' && phase !== 'Failed') {
    const w = await s.weights(ns);
    expect(w.primary + w.canary).toBe(100);
    if (seen[seen.length - 1] !== w.canary) seen.push(w.canary);
    phase = (await getCanary(ns)).status?.phase ?? '';
  }
  return { phase, seen };
}

/** Defines the standard `it`s of a router (call inside a `describe`). */
export function routerScenario(s: RouterScenario): void {
  it('initializes the routing object with all traffic on the primary', async () => {
    const ns = await start(s, 'init');
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    await s.checkInit?.(ns);
  });

  it('promotes through every weight step, observed on the routing object', async () => {
    const ns = await start(s, 'promote');
    await setImage(ns, IMAGE_V2);
    const { phase, seen } = await observe(s, ns);
    expect(phase).toBe('Succeeded');
    expect(seen.filter((w) => w > 0)).toEqual([20, 40, 60]);
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });

  it('rolls back after failed checks and routes everything back to the primary', async () => {
    const hooks = await startWebhookServer();
    hooks.respond('/check', 200);
    const webhooks = [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }];
    const ns = await start(s, 'rollback', { analysis: { webhooks } });
    await setImage(ns, IMAGE_V2);
    // Fail once the canary serves traffic, so the rollback must undo a real weight.
    await waitFor(async () => (await s.weights(ns)).canary > 0, { describe: 'canary weight > 0', timeoutMs: 60_000 });
    hooks.respond('/check', 500);
    await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
    expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
  });

  if (s.abMatch !== undefined) {
    const match = s.abMatch;
    it('A/B: sends the matched requests to the canary for every iteration, then promotes', async () => {
      const analysis = { stepWeight: undefined, maxWeight: undefined, iterations: 3, match };
      const ns = await start(s, 'ab', { analysis });
      await setImage(ns, IMAGE_V2);
      await waitFor(async () => (await s.weights(ns)).canary === 100, {
        describe: 'matched traffic on the canary',
        timeoutMs: 60_000,
      });
      await s.checkAB?.(ns);
      await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
      expect(await s.weights(ns)).toEqual({ primary: 100, canary: 0 });
    });
  }

  if (s.revert !== undefined) {
    const revert = s.revert;
    it('revertOnDeletion: reverts the routing object when the Canary is deleted', async () => {
      const objects = revert.prerequisites ?? (() => []);
      const ns = await start(s, 'revert', { spec: { revertOnDeletion: true }, objects });
      await kubectl(['delete', 'canary', 'podinfo', '--wait=true', '--timeout=60s'], { namespace: ns });
      await revert.check(ns);
    });
  }
}
