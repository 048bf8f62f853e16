// Crash safety: SIGKILL in the middle of an analysis; the new process resumes from status and the
// route, without resetting the weight, and promotes exactly once.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, waitFor } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import {
  IMAGE_V2,
  applyAll,
  canary,
  events,
  gatewayRefs,
  getCanary,
  getDeployment,
  podinfo,
  routeWeights,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';

describe('operator restart', () => {
  it('keeps weight and failed checks across SIGKILL and finishes the promotion once', async () => {
    const ns = await createTestNamespace('restart');
    const hooks = await startWebhookServer();
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          provider: 'gatewayapi:v1',
          service: { gatewayRefs },
          analysis: {
            interval: '1s',
            threshold: 5,
            stepWeight: 20,
            maxWeight: 80,
            // The gate lets the test hold the canary at a step while the operator is down.
            webhooks: [{ name: 'gate', type: 'confirm-traffic-increase', url: hooks.url('/gate') }],
          },
        }),
      ],
      ns,
    );
    const op = await startOperator({ namespace: ns, provider: 'gatewayapi:v1' });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);

    await waitFor(async () => (await routeWeights(ns)).canary === 40 || undefined, {
      describe: 'canary weight 40',
      timeoutMs: 60_000,
    });
    hooks.respond('/gate', 403);
    await op.kill();
    const before = await getCanary(ns);
    const weightBefore = (await routeWeights(ns)).canary;
    expect(before.status?.phase).toBe('Progressing');
    expect(weightBefore).toBeGreaterThanOrEqual(40);

    await op.restart();
    // Held by the closed gate: the restarted operator must not reset the route to 0.
    await new Promise((r) => setTimeout(r, 4000));
    const held = await getCanary(ns);
    expect(held.status?.phase).toBe('Progressing');
    expect((await routeWeights(ns)).canary).toBe(weightBefore);
    expect(held.status?.failedChecks).toBe(before.status?.failedChecks);

    hooks.respond('/gate', 200);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    const copies = (await events(ns)).filter((e) => e.message.startsWith('Copying podinfo.'));
    expect(copies.length).toBe(1);
  });
});
