// Switching from Flagger: a real Flagger (v1.44, kubernetes provider, Blue/Green) initializes,
// promotes and starts analysing canaries; it is stopped and Fledge started on the same objects.
// Nothing Flagger finished may move (no analysis, no write to a primary or a target, no counter
// reset), the analysis Flagger left mid-way continues from its counters, and the next change is
// analysed as usual.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectlJson, waitFor } from '../support/index.ts';
import { startFlagger } from '../lib/flagger.ts';
import { startOperator } from '../lib/operator.ts';
import { IMAGE_V1, IMAGE_V2, applyAll, blueGreenCanary, getDeployment, podinfo, setImage } from '../lib/workload.ts';

interface Status {
  phase?: string;
  canaryWeight?: number;
  iterations?: number;
  failedChecks?: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  lastTrackedRevision?: string;
}

interface Meta {
  metadata: { resourceVersion: string; generation: number };
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
}

interface CanaryEvent {
  message: string;
  involvedObject: { name: string };
  source?: { component?: string };
}

const IDLE = 'idle';
const PROMOTED = 'promoted';
const MIDWAY = 'midway';

async function status(ns: string, name: string): Promise<Status> {
  return (await kubectlJson<{ status?: Status }>(['get', 'canary', name], { namespace: ns })).status ?? {};
}

async function waitForStatus(ns: string, name: string, want: (s: Status) => boolean, what: string): Promise<Status> {
  return waitFor(async () => ((s) => (want(s) ? s : undefined))(await status(ns, name)), {
    describe: `canary ${name}: ${what}`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

async function deployment(ns: string, name: string): Promise<Meta> {
  return kubectlJson<Meta>(['get', 'deployment', name], { namespace: ns });
}

async function fledgeEvents(ns: string, name: string): Promise<string[]> {
  const list = await kubectlJson<{ items: CanaryEvent[] }>(
    ['get', 'events', '--field-selector', `involvedObject.kind=Canary,involvedObject.name=${name}`],
    { namespace: ns },
  );
  return list.items.filter((e) => e.source?.component !== 'flagger').map((e) => e.message);
}

/** resourceVersion (and generation) of each canary's target, primary and Services. */
async function snapshot(ns: string, names: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    for (const d of [name, `${name}-primary`]) {
      const m = (await deployment(ns, d)).metadata;
      out[`deployment/${d}`] = `${m.resourceVersion}/${m.generation}`;
    }
    for (const svc of [name, `${name}-primary`, `${name}-canary`]) {
      const m = await kubectlJson<Meta>(['get', 'service', svc], { namespace: ns });
      out[`service/${svc}`] = m.metadata.resourceVersion;
    }
  }
  return out;
}

describe('adopting canaries from Flagger', () => {
  it('takes over Initialized, Succeeded and mid-analysis canaries without an unplanned rollout', async () => {
    const ns = await createTestNamespace('adopt-flagger');
    // interval 1s: Flagger rounds it up to 10s, Fledge (with -min-analysis-interval 1s) ticks every second.
    const bg = (name: string, iterations: number): object =>
      blueGreenCanary(ns, iterations, { target: name, analysis: { interval: '1s', threshold: 2 } });
    await applyAll(
      [
        ...podinfo(ns, { name: IDLE }),
        ...podinfo(ns, { name: PROMOTED }),
        ...podinfo(ns, { name: MIDWAY }),
        bg(IDLE, 1),
        bg(PROMOTED, 1),
        bg(MIDWAY, 20),
      ],
      ns,
    );

    // ---- Flagger ----
    const flagger = await startFlagger(ns);
    for (const name of [PROMOTED, MIDWAY]) {
      await waitForStatus(ns, name, (s) => s.phase === 'Initialized', 'Initialized by Flagger');
      await setImage(ns, IMAGE_V2, name);
    }
    await waitForStatus(ns, IDLE, (s) => s.phase === 'Initialized', 'Initialized by Flagger');
    await waitForStatus(ns, PROMOTED, (s) => s.phase === 'Succeeded', 'promoted by Flagger');
    await waitForStatus(ns, MIDWAY, (s) => s.phase === 'Progressing' && (s.iterations ?? 0) >= 1, 'mid-analysis');
    await flagger.stop();

    const byFlagger: Record<string, Status> = {};
    for (const name of [IDLE, PROMOTED, MIDWAY]) byFlagger[name] = await status(ns, name);
    for (const s of Object.values(byFlagger)) {
      expect(s.lastTrackedRevision).toBeUndefined();
      expect(s.lastAppliedSpec).toMatch(/^[a-z0-9]+$/);
    }
    expect((await getDeployment(ns, `${PROMOTED}-primary`)).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    const idleBefore = await snapshot(ns, [IDLE, PROMOTED]);

    // ---- Fledge ----
    await startOperator({ namespace: ns });
    // Sampled from the start: the analysis Flagger left may finish while the idle canaries are checked.
    const midwaySeen: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await status(ns, MIDWAY);
        if (s.phase === 'Progressing') midwaySeen.push(s.iterations ?? 0);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const adopted: Record<string, Status> = {};
    for (const name of [IDLE, PROMOTED]) {
      adopted[name] = await waitForStatus(ns, name, (s) => s.lastTrackedRevision !== undefined, 'adopted by Fledge');
    }
    // Several of Fledge's 1 s ticks go by: still nothing may move.
    await new Promise((r) => setTimeout(r, 5000));

    for (const name of [IDLE, PROMOTED]) {
      const s = await status(ns, name);
      const before = byFlagger[name] ?? {};
      expect(s.phase).toBe(before.phase);
      expect(s.lastPromotedSpec).toBe(s.lastAppliedSpec);
      expect(s.lastAppliedSpec).not.toBe(before.lastAppliedSpec);
      expect(s).toMatchObject({ canaryWeight: 0, iterations: 0, failedChecks: 0 });
      expect(await fledgeEvents(ns, name)).toEqual([
        `Canary ${name}.${ns} adopted from Flagger: the primary runs the current revision, nothing to analyse`,
      ]);
    }
    // No write to a primary or a target (resourceVersion and generation), targets still at zero.
    expect(await snapshot(ns, [IDLE, PROMOTED])).toEqual(idleBefore);
    expect((await deployment(ns, IDLE)).spec.replicas).toBe(0);
    expect((await deployment(ns, PROMOTED)).spec.replicas).toBe(0);
    expect((await deployment(ns, `${IDLE}-primary`)).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);

    // The analysis Flagger left continues from its iterations (never back to 0) and promotes.
    const left = byFlagger[MIDWAY] ?? {};
    const done = await waitFor(
      async () => {
        const s = await status(ns, MIDWAY);
        return s.phase === 'Succeeded' ? s : undefined;
      },
      { describe: 'midway promoted by Fledge', timeoutMs: 90_000, intervalMs: 200 },
    );
    sampling = false;
    await sampler;
    expect(done.lastTrackedRevision).toBeDefined();
    expect(midwaySeen.length).toBeGreaterThan(0);
    expect(Math.min(...midwaySeen)).toBeGreaterThanOrEqual(left.iterations ?? 0);
    const midwayEvents = await fledgeEvents(ns, MIDWAY);
    expect(midwayEvents[0]).toBe(
      `Canary ${MIDWAY}.${ns} adopted from Flagger: continuing the Progressing analysis (canary weight 0, iterations ${left.iterations ?? 0}, failed checks ${left.failedChecks ?? 0})`,
    );
    expect(midwayEvents.filter((m) => m.startsWith('New revision detected'))).toEqual([]);
    expect((await getDeployment(ns, `${MIDWAY}-primary`)).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);

    // The next real change is analysed as usual.
    await setImage(ns, IMAGE_V2, IDLE);
    await waitForStatus(ns, IDLE, (s) => s.phase === 'Progressing', 'the next change analysed');
    await waitForStatus(ns, IDLE, (s) => s.phase === 'Succeeded', 'the next change promoted');
    expect(await fledgeEvents(ns, IDLE)).toContain(`New revision detected! Scaling up ${IDLE}.${ns}`);
    expect((await getDeployment(ns, `${IDLE}-primary`)).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
  });
});
