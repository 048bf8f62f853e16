// Specs that can never work, on a real API server with the operator as a separate process: they
// are reported once (a condition and one Event), nothing is created for them, and the API server
// sees (almost) no writes while they stay broken.
import { describe, expect, it } from 'vitest';
import { kubectl, kubectlJson, waitFor, createTestNamespace } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import { applyAll, canary, condition, gatewayRefs, getCanary, podinfo, type CanaryState } from '../lib/workload.ts';

interface EventItem {
  type: string;
  message: string;
  count?: number;
}

/** Events on Canaries of the namespace, with their aggregation counts. */
async function canaryEvents(ns: string): Promise<EventItem[]> {
  const list = await kubectlJson<{ items: EventItem[] }>(
    ['get', 'events', '--field-selector', 'involvedObject.kind=Canary'],
    { namespace: ns },
  );
  return list.items;
}

const occurrences = (events: readonly EventItem[]): number => events.reduce((n, e) => n + (e.count ?? 1), 0);

/** Names of the Services and Deployments of the namespace. */
async function objects(ns: string): Promise<string[]> {
  const list = await kubectlJson<{ items: { kind: string; metadata: { name: string } }[] }>(
    ['get', 'services,deployments'],
    { namespace: ns },
  );
  return list.items.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}

async function stalled(ns: string, reason: string): Promise<CanaryState> {
  return waitFor(
    async () => {
      const c = await getCanary(ns);
      return condition(c, 'Stalled')?.reason === reason ? c : undefined;
    },
    { describe: `canary podinfo Stalled with reason ${reason}` },
  );
}

async function resourceVersion(ns: string): Promise<string> {
  return (await kubectlJson<{ metadata: { resourceVersion: string } }>(['get', 'canary', 'podinfo'], { namespace: ns }))
    .metadata.resourceVersion;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('specs that cannot work', () => {
  it('rejects out-of-range ports in the CRD schema', async () => {
    const ns = await createTestNamespace('val-schema');
    for (const port of [-1, 70000, 2147483647]) {
      const res = await kubectl(['apply', '-f', '-'], {
        namespace: ns,
        input: JSON.stringify(canary(ns, { service: { port } })),
        allowFailure: true,
      });
      expect(res.exitCode).not.toBe(0);
      expect(res.stderr).toContain('spec.service.port');
    }
  });

  it('reports an invalid targetPort once as InvalidSpec, creates nothing and writes nothing more for 20 s', async () => {
    const ns = await createTestNamespace('val-port');
    await applyAll([...podinfo(ns), canary(ns, { service: { targetPort: 70000 } })], ns);
    const before = await objects(ns);
    await startOperator({ namespace: ns });

    const c = await stalled(ns, 'InvalidSpec');
    expect(condition(c, 'Stalled')?.message).toContain('spec.service.targetPort');
    const firstVersion = await resourceVersion(ns);
    const firstEvents = await canaryEvents(ns);

    await sleep(20_000); // 20 ticks at the 1 s interval

    const events = await canaryEvents(ns);
    expect(await resourceVersion(ns)).toBe(firstVersion);
    expect(occurrences(events)).toBe(occurrences(firstEvents));
    expect(events.filter((e) => e.type === 'Warning').map((e) => [e.message, e.count ?? 1])).toEqual([
      [condition(c, 'Stalled')?.message, 1],
    ]);
    expect(await objects(ns)).toEqual(before);
  });

  it('backs off a canary the API server keeps refusing, with one Warning', async () => {
    const ns = await createTestNamespace('val-backoff');
    // A label key the API server refuses on the -canary Service: a failure only the server finds.
    await applyAll([...podinfo(ns), canary(ns, { service: { canary: { labels: { 'not a key': 'x' } } } })], ns);
    await startOperator({ namespace: ns });
    const first = await waitFor(
      async () => {
        const events = await canaryEvents(ns);
        return events.some((e) => e.type === 'Warning' && e.message.includes('not a key')) ? events : undefined;
      },
      { describe: 'a Warning about the refused Service' },
    );

    await sleep(20_000);

    const events = await canaryEvents(ns);
    const warnings = events.filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => e.count ?? 1)).toEqual([1]);
    expect(occurrences(events)).toBe(occurrences(first));
    expect((await getCanary(ns)).status?.phase).toBe('Initializing');
  });

  it('refuses a canary analysis that can never promote before creating anything', async () => {
    const ns = await createTestNamespace('val-steps');
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          provider: 'gatewayapi:v1',
          service: { gatewayRefs },
          analysis: { stepWeight: undefined, maxWeight: undefined, stepWeights: [] },
        }),
      ],
      ns,
    );
    const before = await objects(ns);
    await startOperator({ namespace: ns });

    const c = await stalled(ns, 'InvalidSpec');
    expect(condition(c, 'Stalled')?.message).toContain('no positive stepWeight and no stepWeights');
    expect(condition(c, 'Ready')?.status).toBe('False');
    expect(await objects(ns)).toEqual(before);
  });

  it('says a suspended canary is suspended, once, and creates nothing', async () => {
    const ns = await createTestNamespace('val-suspend');
    await applyAll([...podinfo(ns), canary(ns, { spec: { suspend: true } })], ns);
    const before = await objects(ns);
    await startOperator({ namespace: ns });

    const c = await waitFor(
      async () => {
        const got = await getCanary(ns);
        return condition(got, 'Ready')?.reason === 'Suspended' ? got : undefined;
      },
      { describe: 'a Suspended Ready condition' },
    );
    expect(condition(c, 'Ready')?.status).toBe('False');
    expect(condition(c, 'Stalled')).toMatchObject({ status: 'False', reason: 'Suspended' });
    await sleep(5_000);
    const events = await canaryEvents(ns);
    expect(events.map((e) => [e.type, e.message, e.count ?? 1])).toEqual([
      ['Normal', 'skipping canary run as object is suspended', 1],
    ]);
    expect(await objects(ns)).toEqual(before);
  });
});
