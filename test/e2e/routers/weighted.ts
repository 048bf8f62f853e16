// Steps shared by the e2e files of the weight-splitting routers (traefik, kuma, apisix, appmesh):
// a promotion watched through every version of the routing object (an informer, so no step is
// missed however loaded the machine is), and a rollback from a non-zero weight.
import { expect, onTestFinished } from 'vitest';
import { createKubeClient } from '../../../src/kube/client.ts';
import type { KubeObject, ObjectKey, ResourceType } from '../../../src/kube/objects.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { WebhookServer } from '../lib/webhook.ts';
import { IMAGE_V1, IMAGE_V2, getDeployment, setImage, waitForPhase } from '../lib/workload.ts';
import { kubeconfigPath, waitFor } from '../support/index.ts';

export interface Split {
  readonly primary: number;
  readonly canary: number;
}

/** The object that carries a canary's weights, and how to read them from it. */
export interface RoutingObject {
  readonly type: ResourceType;
  readonly key: ObjectKey;
  readonly split: (obj: KubeObject) => Split;
}

/** Analysis of a weighted canary whose rollout webhook the test controls. */
export function hookedAnalysis(hooks: WebhookServer): Record<string, unknown> {
  return { threshold: 2, webhooks: [{ name: 'gate', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }] };
}

/** Records the split of every version of the routing object until the test ends. */
async function watchSplits(ro: RoutingObject): Promise<{ all: Split[]; now: () => Split }> {
  const client = createKubeClient({ kubeconfig: kubeconfigPath(), log: silentLogger });
  const informer = client.informer(ro.type, ro.key.namespace);
  const all: Split[] = [];
  const unsubscribe = informer.onChange((event, obj) => {
    if (event !== 'delete' && obj.metadata.name === ro.key.name) all.push(ro.split(obj));
  });
  onTestFinished(() => {
    unsubscribe();
    informer.stop();
    client.close();
  });
  await informer.synced();
  const now = (): Split => {
    const obj = informer.get(ro.key);
    if (obj === undefined) throw new Error(`${ro.type.kind} ${ro.key.name} is gone`);
    return ro.split(obj);
  };
  return { all, now };
}

/** Waits (for the watch to catch up) until the object sends everything to the primary. */
async function allToPrimary(now: () => Split): Promise<void> {
  await waitFor(() => now().primary === 100 && now().canary === 0, {
    describe: () => `all traffic on the primary, last seen ${JSON.stringify(now())}`,
    timeoutMs: 10_000,
  });
}

/**
 * Starts a new revision and records every version of the routing object until the canary
 * succeeds: primary + canary is 100 in each. Returns the canary weights above 0, in order; the
 * object ends at 100/0 and the primary runs the new image.
 */
export async function promoteWatchingWeights(ns: string, ro: RoutingObject): Promise<number[]> {
  const splits = await watchSplits(ro);
  await setImage(ns, IMAGE_V2);
  await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
  await allToPrimary(splits.now);
  for (const s of splits.all) expect(s.primary + s.canary).toBe(100);
  const primary = await getDeployment(ns, 'podinfo-primary');
  expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  const seen: number[] = [];
  for (const { canary } of splits.all) if (canary > 0 && seen[seen.length - 1] !== canary) seen.push(canary);
  return seen;
}

/**
 * With the rollout webhook passing, starts a new revision; once the canary carries traffic the
 * webhook fails, and the canary must fail with all traffic back on the untouched primary.
 */
export async function rollBackFromTraffic(ns: string, hooks: WebhookServer, ro: RoutingObject): Promise<void> {
  const splits = await watchSplits(ro);
  hooks.respond('/check', 200);
  await setImage(ns, IMAGE_V2);
  await waitFor(() => splits.now().canary > 0, {
    describe: `traffic to the canary in ${ns}`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  hooks.respond('/check', 500);
  await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
  await allToPrimary(splits.now);
  const primary = await getDeployment(ns, 'podinfo-primary');
  expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
}
