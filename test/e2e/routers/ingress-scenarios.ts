// The scenarios every ingress router (contour, gloo, nginx, skipper) goes through on the real API
// server, with the operator as a separate process: initialization (the routing object is accepted by
// the mesh's real CRD schema), a promotion whose weights are read from the routing object at every
// step, a rollback, A/B where the router supports it, and revertOnDeletion.
import { describe, expect, it } from 'vitest';
import { type Operator, startOperator } from '../lib/operator.ts';
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
import { podinfoIngress } from '../../../src/router/ingress.fixture.ts';
import { createTestNamespace, kubectl, kubectlJson, waitFor } from '../support/index.ts';

export interface Split {
  readonly primary: number;
  readonly canary: number;
}

/** What differs between the ingress providers. */
export interface IngressProvider {
  readonly provider: 'contour' | 'gloo' | 'nginx' | 'skipper';
  /** Objects of the user next to the workload (the Ingress of `ingressRef`, a config Upstream). */
  readonly userObjects?: (ns: string) => object[];
  /** Extra Canary spec fields (`ingressRef`, `upstreamRef`). */
  readonly spec?: Record<string, unknown>;
  /** Extra `spec.service` fields. */
  readonly service?: Record<string, unknown>;
  readonly operatorArgs?: readonly string[];
  /** The weights the routing object carries now. */
  readonly weights: (ns: string) => Promise<Split>;
  /** Provider-specific checks of the routing objects right after initialization. */
  readonly initialized?: (ns: string) => Promise<void>;
  /** With A/B support: checks that the routing object sends `x-canary: insider` to the canary. */
  readonly abRouted?: (ns: string) => Promise<void>;
  /** `kind/name` of every object Fledge created for routing; all are gone after a revertOnDeletion delete. */
  readonly routingObjects: (ns: string) => readonly string[];
}

/** The user's Ingress for nginx and skipper (Flagger's test Ingress): `app.example.com/` → the apex Service. */
export function userIngress(ns: string, annotations: Record<string, string> = {}): object {
  return podinfoIngress(annotations, ns);
}

/** `spec.ingressRef` to {@link userIngress}. */
export const ingressRef = { ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'podinfo' } };

/** The weights of the entries named `<apex>-primary` / `<apex>-canary` in `entries` (-1 when missing). */
export function namedWeights(entries: readonly { name: string; weight?: number }[]): Split {
  const weight = (n: string): number => {
    const e = entries.find((x) => x.name === n);
    return e === undefined ? -1 : (e.weight ?? 0);
  };
  return { primary: weight('podinfo-primary'), canary: weight('podinfo-canary') };
}

async function setUp(p: IngressProvider, ns: string, analysis: Record<string, unknown>, spec = {}): Promise<Operator> {
  await applyAll(
    [
      ...podinfo(ns),
      ...(p.userObjects?.(ns) ?? []),
      canary(ns, { provider: p.provider, service: p.service ?? {}, analysis, spec: { ...p.spec, ...spec } }),
    ],
    ns,
  );
  const operator = await startOperator({ namespace: ns, provider: p.provider, args: p.operatorArgs ?? [] });
  await waitForPhase(ns, 'Initialized');
  return operator;
}

/** Reads the weights until the canary reaches a final phase; returns the distinct canary weights seen, in order. */
async function watchWeights(
  p: IngressProvider,
  ns: string,
  onWeights?: (w: Split) => Promise<void>,
): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 90_000;
  let phase = '';
  while (Date.now() < deadline && phase !== 'Succeeded' && phase !== 'Failed') {
    const w = await p.weights(ns);
    expect(w.primary + w.canary).toBe(100);
    if (seen[seen.length - 1] !== w.canary) {
      seen.push(w.canary);
      await onWeights?.(w);
    }
    phase = (await getCanary(ns)).status?.phase ?? '';
  }
  return seen;
}

/** Registers the scenarios of `p`. */
export function ingressRouterScenarios(p: IngressProvider): void {
  describe(`${p.provider} router`, () => {
    it('initializes the routing objects, steps the weights 20 → 40 → 60 and promotes', async () => {
      const ns = await createTestNamespace(p.provider);
      const operator = await setUp(p, ns, { interval: '3s' });
      expect(await p.weights(ns)).toEqual({ primary: 100, canary: 0 });
      await p.initialized?.(ns);
      // Idle ticks write nothing (an unchanged apply would not even bump resourceVersion, so count the writes logged).
      const writes = (): number =>
        operator
          .logs()
          .split('\n')
          .filter((l) => / (created|updated)"/.test(l)).length;
      const before = writes();
      await new Promise((r) => setTimeout(r, 3_000));
      expect(writes()).toBe(before);

      await setImage(ns, IMAGE_V2);
      await waitForPhase(ns, 'Progressing');
      const seen = await watchWeights(p, ns);
      expect((await getCanary(ns)).status?.phase).toBe('Succeeded');
      expect(seen.filter((w) => w > 0)).toEqual([20, 40, 60]);
      expect(await p.weights(ns)).toEqual({ primary: 100, canary: 0 });
      expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    });

    it('rolls back after failed checks and routes everything to the primary again', async () => {
      const ns = await createTestNamespace(`${p.provider}-rb`);
      const hooks = await startWebhookServer();
      hooks.respond('/check', 500);
      const webhooks = [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }];
      await setUp(p, ns, { threshold: 2, webhooks });
      await setImage(ns, IMAGE_V2);
      await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });
      expect(await p.weights(ns)).toEqual({ primary: 100, canary: 0 });
      expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    });

    const abRouted = p.abRouted;
    if (abRouted !== undefined) {
      it('A/B: routes the matching requests to the canary for every iteration, then promotes', async () => {
        const ns = await createTestNamespace(`${p.provider}-ab`);
        const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
        await setUp(p, ns, { iterations: 3, stepWeight: undefined, maxWeight: undefined, match });
        await setImage(ns, IMAGE_V2);
        let checked = false;
        const seen = await watchWeights(p, ns, async (w) => {
          if (w.canary !== 100) return;
          await abRouted(ns);
          checked = true;
        });
        expect((await getCanary(ns)).status?.phase).toBe('Succeeded');
        expect(checked).toBe(true);
        expect(seen.filter((w) => w > 0)).toEqual([100]);
        expect(await p.weights(ns)).toEqual({ primary: 100, canary: 0 });
      });
    }

    it('revertOnDeletion: deleting the canary removes the routing objects and restores the target', async () => {
      const ns = await createTestNamespace(`${p.provider}-rv`);
      await setUp(p, ns, { interval: '1s' }, { revertOnDeletion: true });
      await waitFor(
        async () => (await getCanary(ns)).metadata.finalizers?.includes('finalizer.flagger.app') || undefined,
        { describe: 'finalizer on the canary' },
      );
      for (const obj of p.routingObjects(ns)) await kubectl(['get', obj], { namespace: ns });
      await kubectl(['delete', 'canary', 'podinfo', '--wait=false'], { namespace: ns });
      await waitFor(
        async () => {
          const left = await kubectl(
            ['get', ...p.routingObjects(ns), 'canary/podinfo', '--ignore-not-found', '-o', 'name'],
            {
              namespace: ns,
            },
          );
          return left.stdout.trim() === '' || undefined;
        },
        { describe: 'canary and routing objects deleted', timeoutMs: 60_000 },
      );
      expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(2);
      if (p.spec?.['ingressRef'] !== undefined) {
        // The user's Ingress is untouched.
        const ing = await kubectlJson<{ metadata: { managedFields?: { manager: string }[] } }>(
          ['get', 'ingress', 'podinfo', '--show-managed-fields'],
          { namespace: ns },
        );
        expect(ing.metadata.managedFields?.map((f) => f.manager)).not.toContain('fledge');
      }
    });
  });
}
