// Failures: a failing rollout webhook rolls back after `threshold` checks; a canary that never
// becomes ready fails after progressDeadlineSeconds. The primary is untouched either way.
import { describe, expect, it } from 'vitest';
import { createTestNamespace } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import { startWebhookServer } from '../lib/webhook.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  canary,
  condition,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';
import { kubectl } from '../support/index.ts';

describe('canary rollback', () => {
  it('fails after `threshold` failed webhook checks and leaves the primary on the old revision', async () => {
    const ns = await createTestNamespace('rollback');
    const hooks = await startWebhookServer();
    hooks.respond('/check', 200);
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          analysis: {
            iterations: 10,
            stepWeight: undefined,
            maxWeight: undefined,
            threshold: 3,
            webhooks: [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }],
          },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    hooks.respond('/check', 500);

    await setImage(ns, IMAGE_V2);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });
    expect(failed.status?.failedChecks).toBe(3);
    expect(condition(failed, 'Promoted')?.status).toBe('False');
    expect(condition(failed, 'Stalled')?.status).toBe('True');
    // Each failing tick called the hook with Flagger's payload.
    const calls = hooks.requests('/check');
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls[0]?.body).toMatchObject({ name: 'podinfo', namespace: ns, phase: 'Progressing' });
    expect((calls[0]?.body as { checksum?: string }).checksum).toBeTruthy();

    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(0);
    const evs = await events(ns);
    expect(evs.some((e) => e.message === `Rolling back podinfo.${ns} failed checks threshold reached 3`)).toBe(true);
    expect(evs.some((e) => e.message === `Canary failed! Scaling down podinfo.${ns}`)).toBe(true);
  });

  it('fails a canary whose pods never become ready once progressDeadlineSeconds have passed', async () => {
    const ns = await createTestNamespace('deadline');
    await applyAll([...podinfo(ns), canary(ns, { spec: { progressDeadlineSeconds: 8 } })], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    // A template no node can run: the canary's pods stay Pending.
    await kubectl(
      [
        'patch',
        'deployment',
        'podinfo',
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'fledge.e2e/no-such-node': 'true' } } } } }),
      ],
      { namespace: ns },
    );
    const progressing = await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    expect(progressing.status?.canaryWeight).toBe(0);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });
    expect(condition(failed, 'Stalled')?.status).toBe('True');
    const c = await getCanary(ns);
    expect(c.status?.phase).toBe('Failed');
    const evs = await events(ns);
    expect(evs.some((e) => e.message.includes('progress deadline exceeded'))).toBe(true);
    const primary = await getDeployment(ns, 'podinfo-primary');
    expect(primary.spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    expect(primary.status?.availableReplicas).toBe(2);
  });
});
