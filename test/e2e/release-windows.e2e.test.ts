// Release windows (Fledge extension) with the operator on the local control plane: a window that
// opens a little after now holds the new revision (Held condition, one Event, no traffic, no
// failure), then lets it proceed to promotion when it opens. A `fledge-freeze` ConfigMap holds the
// canaries of its namespace, and one in the operator's freeze namespace (-freeze-namespace) holds
// every canary the operator manages.
import { describe, expect, it } from 'vitest';
import { startOperator } from './lib/operator.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  condition,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from './lib/workload.ts';
import { createTestNamespace, kubectl, waitFor } from './support/index.ts';

const freezeConfigMap = (namespace: string, reason: string): object => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'fledge-freeze', namespace },
  data: { reason },
});

/** A 6-field (seconds first) cron expression firing once a day at `at`, in UTC. */
function dailyAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
}

describe('release windows', () => {
  it('holds a new revision until its window opens, then promotes it', async () => {
    const ns = await createTestNamespace('windows');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    // The window opens 25 s from now and stays open for an hour.
    const opens = new Date(Math.ceil((Date.now() + 25_000) / 1000) * 1000);
    await applyAll(
      [
        blueGreenCanary(ns, 2, {
          analysis: {
            releaseWindows: { timeZone: 'UTC', windows: [{ schedule: dailyAt(opens), duration: '1h' }] },
          },
        }),
      ],
      ns,
    );
    await setImage(ns, IMAGE_V2);
    const held = await waitFor(
      async () => {
        const c = await getCanary(ns);
        return condition(c, 'Held')?.status === 'True' ? c : undefined;
      },
      { describe: 'the Held condition', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(Date.now()).toBeLessThan(opens.getTime());
    expect(held.status?.phase).toBe('Progressing');
    expect(condition(held, 'Held')).toMatchObject({
      reason: 'OutsideReleaseWindow',
      message: `outside every release window (UTC); the next opens at ${opens.toISOString()}`,
    });
    // Held for a few more ticks: no iteration, no failed check, one Event.
    await new Promise((r) => setTimeout(r, 3_000));
    const still = await getCanary(ns);
    expect(still.status).toMatchObject({ phase: 'Progressing', iterations: 0, failedChecks: 0 });
    const halts = (await events(ns)).filter((e) => e.message.includes('advancement outside every release window'));
    expect(halts).toHaveLength(1);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);

    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(opens.getTime());
    const done = await getCanary(ns);
    expect(condition(done, 'Held')).toMatchObject({ status: 'False', reason: 'InReleaseWindow' });
    expect((await events(ns)).some((e) => e.message === `Release window open, resuming podinfo.${ns}`)).toBe(true);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });

  it('holds every canary of a namespace frozen by a fledge-freeze ConfigMap until it is deleted', async () => {
    const ns = await createTestNamespace('freeze');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await applyAll(
      [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'fledge-freeze', namespace: ns },
          data: { reason: 'incident 42' },
        },
      ],
      ns,
    );
    await setImage(ns, IMAGE_V2);
    const held = await waitFor(
      async () => {
        const c = await getCanary(ns);
        return condition(c, 'Held')?.status === 'True' ? c : undefined;
      },
      { describe: 'the Held condition', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(condition(held, 'Held')).toMatchObject({
      reason: 'Frozen',
      message: `frozen by ConfigMap ${ns}/fledge-freeze: incident 42`,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await getCanary(ns)).status).toMatchObject({ phase: 'Progressing', iterations: 0, failedChecks: 0 });

    await kubectl(['delete', 'configmap', 'fledge-freeze'], { namespace: ns });
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });

  it('holds canaries by a cluster-wide fledge-freeze ConfigMap in the freeze namespace, naming both freezes when both exist', async () => {
    const ns = await createTestNamespace('cwfreeze');
    // Stands in for the operator's own namespace (fledge-system with the chart).
    const ops = await createTestNamespace('cwfreeze-ops');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
    const operator = await startOperator({ namespace: ns, args: ['-freeze-namespace', ops] });
    await waitForPhase(ns, 'Initialized');
    await applyAll([freezeConfigMap(ops, 'year-end freeze')], ops);
    await setImage(ns, IMAGE_V2);

    const clusterWide = `frozen by ConfigMap ${ops}/fledge-freeze (cluster-wide): year-end freeze`;
    const heldWith = (message: string) =>
      waitFor(
        async () => {
          const c = await getCanary(ns);
          const held = condition(c, 'Held');
          return held?.status === 'True' && held.message === message ? c : undefined;
        },
        { describe: `the Held condition "${message}"`, timeoutMs: 20_000, intervalMs: 200 },
      );
    const held = await heldWith(clusterWide);
    expect(condition(held, 'Held')?.reason).toBe('Frozen');
    expect(held.status).toMatchObject({ phase: 'Progressing', iterations: 0, failedChecks: 0 });
    expect(
      (await events(ns)).filter((e) => e.message === `Halt podinfo.${ns} advancement ${clusterWide}`),
    ).toHaveLength(1);

    // The namespace's own freeze as well: the condition names both, the cluster-wide one first.
    await applyAll([freezeConfigMap(ns, 'incident 42')], ns);
    await heldWith(`${clusterWide}; also by ConfigMap ${ns}/fledge-freeze: incident 42`);
    // Lifting the cluster-wide freeze leaves the namespace's in force.
    await kubectl(['delete', 'configmap', 'fledge-freeze'], { namespace: ops });
    await heldWith(`frozen by ConfigMap ${ns}/fledge-freeze: incident 42`);
    expect((await getCanary(ns)).status).toMatchObject({ phase: 'Progressing', iterations: 0, failedChecks: 0 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);

    await kubectl(['delete', 'configmap', 'fledge-freeze'], { namespace: ns });
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    expect(operator.logs()).toContain(`"freezeNamespace":"${ops}"`);
  });

  it('takes the freeze namespace from POD_NAMESPACE, as the chart sets it', async () => {
    const ns = await createTestNamespace('podns');
    const ops = await createTestNamespace('podns-ops');
    await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
    await applyAll([freezeConfigMap(ops, 'maintenance')], ops);
    await startOperator({ namespace: ns, env: { POD_NAMESPACE: ops } });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    const held = await waitFor(
      async () => {
        const c = condition(await getCanary(ns), 'Held');
        return c?.status === 'True' ? c : undefined;
      },
      { describe: 'the Held condition', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(held).toMatchObject({
      reason: 'Frozen',
      message: `frozen by ConfigMap ${ops}/fledge-freeze (cluster-wide): maintenance`,
    });
    await kubectl(['delete', 'configmap', 'fledge-freeze'], { namespace: ops });
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 60_000 });
  });
});
