// Manual gating with the operator and the real fledge-loadtester (`/gate/*`, `/rollback/*`), both
// as separate processes against the local control plane: a closed confirm-rollout gate holds the
// canary in Waiting, a closed confirm-promotion gate in WaitingPromotion; opening them lets it go on;
// an opened rollback gate fails it, also while it is still Waiting (Flagger can't, §2.17); gate state
// lives in a ConfigMap, so a restarted loadtester still knows it.
import { describe, expect, it } from 'vitest';
import { startLoadtester } from './lib/loadtester.ts';
import { startOperator } from './lib/operator.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from './lib/workload.ts';
import { createTestNamespace } from './support/index.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The canary stays in `phase` for `ms` (sampled), i.e. the gate really holds it. */
async function staysIn(ns: string, phase: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    expect((await getCanary(ns)).status?.phase).toBe(phase);
    await sleep(300);
  }
}

describe('manual gates through fledge-loadtester', () => {
  it('confirm-rollout → Waiting, confirm-promotion → WaitingPromotion; opening the gate proceeds; state survives a restart', async () => {
    const ns = await createTestNamespace('gates');
    const lt = await startLoadtester(ns);
    const gate = { name: 'podinfo', namespace: ns };
    await applyAll(
      [
        ...podinfo(ns),
        blueGreenCanary(ns, 6, {
          analysis: {
            webhooks: [
              { name: 'approve-rollout', type: 'confirm-rollout', url: `${lt.url}/gate/check` },
              { name: 'approve-promotion', type: 'confirm-promotion', url: `${lt.url}/gate/check` },
            ],
          },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    // The gate starts closed: the new revision waits, and the target is not scaled up.
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Waiting', { timeoutMs: 30_000 });
    await staysIn(ns, 'Waiting', 3_000);
    expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(0);
    const halts = (await events(ns)).filter((e) => e.message.includes('waiting for approval approve-rollout'));
    expect(halts).toHaveLength(1);
    expect(halts[0]?.type).toBe('Warning');

    expect((await lt.post('/gate/open', gate)).status).toBe(202);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    // Closed again right away: after its iterations the canary waits for promotion approval.
    expect((await lt.post('/gate/close', gate)).status).toBe(202);
    await waitForPhase(ns, 'WaitingPromotion', { timeoutMs: 60_000 });
    await staysIn(ns, 'WaitingPromotion', 3_000);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);

    expect((await lt.post('/gate/open', gate)).status).toBe(202);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);

    // A crash and a new process: the gate is still open (it lives in the ConfigMap), so the next
    // revision goes through both gates without waiting.
    await lt.kill();
    await lt.restart();
    expect(await lt.post('/gate/check', gate)).toEqual({ status: 200, text: 'Approved' });
    await setImage(ns, IMAGE_V1);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    const all = await events(ns);
    expect(all.filter((e) => e.message.includes('waiting for approval approve-rollout'))).toHaveLength(1);
    expect(all.filter((e) => e.message.includes('waiting for promotion approval approve-promotion'))).toHaveLength(1);
  });

  it('an opened rollback gate fails a canary that is still Waiting, and a restarted loadtester keeps it closed until then', async () => {
    const ns = await createTestNamespace('gates-rollback');
    const lt = await startLoadtester(ns);
    const gate = { name: 'podinfo', namespace: ns };
    await applyAll(
      [
        ...podinfo(ns),
        blueGreenCanary(ns, 3, {
          analysis: {
            webhooks: [
              { name: 'approve-rollout', type: 'confirm-rollout', url: `${lt.url}/gate/check` },
              { name: 'abort', type: 'rollback', url: `${lt.url}/rollback/check` },
            ],
          },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Waiting', { timeoutMs: 30_000 });

    // Restart: both gates are still closed, so nothing moves.
    await lt.stop();
    await lt.restart();
    expect((await lt.post('/rollback/check', gate)).status).toBe(403);
    await staysIn(ns, 'Waiting', 3_000);

    expect((await lt.post('/rollback/open', gate)).status).toBe(202);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 30_000 });
    expect(failed.status?.canaryWeight).toBe(0);
    const all = await events(ns);
    expect(
      all.some((e) => e.type === 'Warning' && e.message === `Rolling back podinfo.${ns} manual webhook invoked`),
    ).toBe(true);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    expect((await getDeployment(ns, 'podinfo')).spec.replicas).toBe(0);
  });

  it('an opened rollback gate fails a Progressing canary', async () => {
    const ns = await createTestNamespace('gates-rollback-progressing');
    const lt = await startLoadtester(ns);
    const gate = { name: 'podinfo', namespace: ns };
    await applyAll(
      [
        ...podinfo(ns),
        blueGreenCanary(ns, 30, {
          analysis: {
            webhooks: [{ name: 'abort', type: 'rollback', url: `${lt.url}/rollback/check` }],
          },
        }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 30_000 });
    await staysIn(ns, 'Progressing', 2_000);
    expect((await lt.post('/rollback/open', gate)).status).toBe(202);
    await waitForPhase(ns, 'Failed', { timeoutMs: 30_000 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
  });
});
