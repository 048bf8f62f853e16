// Steps shared by the e2e files of the weight-splitting routers (traefik, kuma, apisix, appmesh):
// a promotion watched through the routing object's own weights, and a rollback from a non-zero
// weight. Each file passes how to read its object's weights.
import { expect } from 'vitest';
import type { WebhookServer } from '../lib/webhook.ts';
import { IMAGE_V1, IMAGE_V2, getCanary, getDeployment, setImage, waitForPhase } from '../lib/workload.ts';
import { waitFor } from '../support/index.ts';

export interface Split {
  readonly primary: number;
  readonly canary: number;
}

/** Reads the split the routing object carries now. */
export type ReadSplit = () => Promise<Split>;

/** Analysis of a weighted canary whose rollout webhook the test controls. */
export function hookedAnalysis(hooks: WebhookServer): Record<string, unknown> {
  return { threshold: 2, webhooks: [{ name: 'gate', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }] };
}

/**
 * Starts a new revision and watches the routing object until the canary succeeds: primary + canary
 * is 100 at every read. Returns the canary weights seen above 0, in order; the object ends at 100/0
 * and the primary runs the new image.
 */
export async function promoteWatchingWeights(ns: string, read: ReadSplit): Promise<number[]> {
  await setImage(ns, IMAGE_V2);
  await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
  const seen: number[] = [];
  const deadline = Date.now() + 90_000;
  let phase = '';
  while (Date.now() < deadline && phase !== 'Succeeded') {
    const w = await read();
    expect(w.primary + w.canary).toBe(100);
    if (w.canary > 0 && seen[seen.length - 1] !== w.canary) seen.push(w.canary);
    phase = (await getCanary(ns)).status?.phase ?? '';
  }
  expect(phase).toBe('Succeeded');
  expect(await read()).toEqual({ primary: 100, canary: 0 });
  const primary = await getDeployment(ns, 'podinfo-primary');
  expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  return seen;
}

/**
 * With the rollout webhook passing, starts a new revision; once the canary carries traffic the
 * webhook fails, and the canary must fail with all traffic back on the untouched primary.
 */
export async function rollBackFromTraffic(ns: string, hooks: WebhookServer, read: ReadSplit): Promise<void> {
  hooks.respond('/check', 200);
  await setImage(ns, IMAGE_V2);
  await waitFor(async () => ((await read()).canary > 0 ? true : undefined), {
    describe: `traffic to the canary in ${ns}`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  hooks.respond('/check', 500);
  await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
  expect(await read()).toEqual({ primary: 100, canary: 0 });
  const primary = await getDeployment(ns, 'podinfo-primary');
  expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
}
