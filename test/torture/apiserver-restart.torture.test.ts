// kube-apiserver restarts during rollouts, on the torture cluster only (see global-setup.ts).
//
// 1. Stale-cache promotion: at weight ≥ 20, kube-controller-manager is SIGSTOPped (so that no
//    Deployment ever reports a new generation as observed) and kube-apiserver is SIGKILLed, then
//    started again ~15 s later. Fledge promotes once the analysis resumes; until the controller
//    manager is resumed, the primary it just wrote has observedGeneration < generation, so the
//    Canary must not reach Succeeded. Every sample is checked: a Succeeded Canary whose primary is
//    not rolled out to the new image is a stale-cache promotion.
// 2. Recovery: after an outage long enough for the informers' backoff to grow, no list or watch
//    retry the operator schedules once the API server is ready again may still carry that backoff,
//    and the time from `kubectl set image` to Progressing is printed.
import { afterEach, describe, expect, it } from 'vitest';
import { startOperator } from '../e2e/lib/operator.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  canary,
  gatewayRefs,
  getCanary,
  podinfo,
  setImage,
  waitForPhase,
} from '../e2e/lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from '../e2e/support/index.ts';
import { ControlPlane } from './lib/control-plane.ts';
import { informerRetries, informerWakeUps, parseLogs } from './lib/logs.ts';

const ROUNDS = Number(process.env.TORTURE_ROUNDS ?? '2');
/** How long kube-apiserver stays down in the rollouts. */
const OUTAGE_MS = 15_000;
/** How long kube-controller-manager stays stopped once kube-apiserver is back. */
const FROZEN_AFTER_RESTART_MS = 20_000;
/**
 * A retry after the API server is ready that counts this many consecutive failures, or waits this
 * long, still carries the outage's backoff (1 s doubling: the 4th failure waits 8 s).
 */
const CARRIED_FAILURES = 4;
const CARRIED_BACKOFF_MS = 8_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface PrimaryState {
  metadata: { generation?: number };
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
  status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

/** Why the primary is not rolled out to `image`, or undefined when it is. */
function notRolledOut(primary: PrimaryState, image: string): string | undefined {
  const generation = primary.metadata.generation ?? 0;
  const observed = primary.status?.observedGeneration ?? 0;
  const want = primary.spec.replicas ?? 1;
  const updated = primary.status?.updatedReplicas ?? 0;
  const available = primary.status?.availableReplicas ?? 0;
  const current = primary.spec.template.spec.containers[0]?.image;
  if (current !== image) return `primary runs ${current ?? 'nothing'}, not ${image}`;
  if (observed < generation) return `primary generation ${generation}, observedGeneration ${observed}`;
  if (updated < want || available < want || (primary.status?.replicas ?? 0) > updated) {
    return `primary pods not updated: ${updated} updated, ${available} available of ${want}`;
  }
  return undefined;
}

/** The Canary's phase and, read after it, the primary (which only moves forward meanwhile). */
async function sample(ns: string, image: string): Promise<{ phase: string; weight: number; stale?: string }> {
  const c = await getCanary(ns);
  const phase = c.status?.phase ?? '';
  if (phase !== 'Succeeded') return { phase, weight: c.status?.canaryWeight ?? 0 };
  const primary = await kubectlJson<PrimaryState>(['get', 'deployment', 'podinfo-primary'], { namespace: ns });
  const why = notRolledOut(primary, image);
  return { phase, weight: 0, ...(why === undefined ? {} : { stale: why }) };
}

describe('kube-apiserver restarts during rollouts', () => {
  let plane: ControlPlane | undefined;
  afterEach(async () => {
    await plane?.restore();
  });

  it('never promotes on a stale cache, and watches recover without the outage backoff', async () => {
    plane = new ControlPlane();
    const cp = plane;
    const ns = await createTestNamespace('torture');
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          provider: 'gatewayapi:v1',
          service: { gatewayRefs, hosts: ['app.example.com'] },
          analysis: { interval: '1s', stepWeight: 10, maxWeight: 50, threshold: 5 },
        }),
      ],
      ns,
    );
    const op = await startOperator({ namespace: ns, provider: 'gatewayapi:v1' });
    await waitForPhase(ns, 'Initialized');
    // kube-controller-manager and kube-scheduler exit when they lose their lease in an outage.
    cp.supervise();

    const counts = { rollouts: 0, kills: 0, stalePromotions: 0, waitedForPrimary: 0 };
    const stale: string[] = [];
    let image = IMAGE_V1;
    for (let round = 0; round < ROUNDS; round++) {
      image = image === IMAGE_V1 ? IMAGE_V2 : IMAGE_V1;
      await setImage(ns, image);
      await waitForPhase(ns, 'Progressing');
      await waitFor(async () => ((await getCanary(ns)).status?.canaryWeight ?? 0) >= 20, {
        describe: 'canary weight ≥ 20',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      cp.stop('kube-controller-manager');
      await cp.kill('kube-apiserver');
      counts.kills++;
      await sleep(OUTAGE_MS);
      cp.start('kube-apiserver');
      const readyAt = await cp.waitReady();

      // The controller manager stays frozen: nothing can legitimately finish the promotion now.
      let last = { phase: '', weight: 0 } as Awaited<ReturnType<typeof sample>>;
      const phases = new Set<string>();
      while (Date.now() < readyAt + FROZEN_AFTER_RESTART_MS && last.phase !== 'Succeeded') {
        last = await sample(ns, image);
        phases.add(last.phase);
        await sleep(200);
      }
      if (last.phase !== 'Succeeded' && (phases.has('Promoting') || phases.has('Finalising')))
        counts.waitedForPrimary++;
      cp.resume('kube-controller-manager');
      while (last.phase !== 'Succeeded') {
        last = await sample(ns, image);
        if (last.phase === 'Failed') throw new Error(`round ${round}: the canary failed`);
        await sleep(200);
      }
      if (last.stale !== undefined) {
        counts.stalePromotions++;
        stale.push(`round ${round}: Succeeded while ${last.stale}`);
      }
      counts.rollouts++;
    }

    console.log(`torture: rollouts with a restart ${JSON.stringify({ ...counts, stale })}`);

    // Recovery: a longer outage, the image changed right after the API server is ready again.
    const outageStart = Date.now();
    await cp.kill('kube-apiserver');
    counts.kills++;
    await sleep(2 * OUTAGE_MS);
    cp.start('kube-apiserver');
    const readyAt = await cp.waitReady();
    image = image === IMAGE_V1 ? IMAGE_V2 : IMAGE_V1;
    const setAt = Date.now();
    await setImage(ns, image);
    await waitForPhase(ns, 'Progressing', { timeoutMs: 180_000 });
    const toProgressingMs = Date.now() - setAt;
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 180_000 });
    counts.rollouts++;

    const logs = parseLogs(op.logs());
    const retries = informerRetries(logs, outageStart);
    const afterReady = informerRetries(logs, readyAt);
    const carried = afterReady.filter((r) => r.failures >= CARRIED_FAILURES || r.retryInMs >= CARRIED_BACKOFF_MS);
    const wakeUps = informerWakeUps(logs, outageStart);
    console.log(
      `torture: ${JSON.stringify({
        ...counts,
        recovery: {
          outageMs: readyAt - outageStart,
          setImageToProgressingMs: toProgressingMs,
          retriesDuringOutage: retries.length - afterReady.length,
          retriesAfterReady: afterReady.length,
          carriedBackoffs: carried.length,
          maxFailuresAfterReady: Math.max(0, ...afterReady.map((r) => r.failures)),
          wakeUps: wakeUps.length,
        },
      })}`,
    );
    expect(stale).toEqual([]);
    expect(counts.stalePromotions).toBe(0);
    expect(counts.rollouts).toBe(ROUNDS + 1);
    // Informers were woken from their backoff by the API server's return …
    expect(wakeUps.length).toBeGreaterThan(0);
    // … and none slept on the outage's backoff once the server was ready.
    expect(carried).toEqual([]);
  });
});
