// Initialization reads back the primary Fledge just created: with the create written through into
// the Deployment cache, no canary reports "deployment <name>-primary not found" (Flagger reports
// nothing of the kind either). Before, more than half of the canaries did, because the readiness
// check read the cache before the watch delivered the create.
import { describe, expect, it } from 'vitest';
import { startOperator } from '../e2e/lib/operator.ts';
import { applyAll, blueGreenCanary, events, podinfo, waitForPhase } from '../e2e/lib/workload.ts';
import { createTestNamespace } from '../e2e/support/index.ts';

const CANARIES = 10;

describe('initialization', () => {
  it(`of ${CANARIES} canaries emits no "primary not found" Warning`, async () => {
    const ns = await createTestNamespace('init-events');
    const names = Array.from({ length: CANARIES }, (_, i) => `app${i}`);
    await applyAll(
      names.flatMap((name) => [...podinfo(ns, { name, replicas: 1 }), blueGreenCanary(ns, 1, { name, target: name })]),
      ns,
    );
    await startOperator({ namespace: ns });
    for (const name of names) await waitForPhase(ns, 'Initialized', { name });

    const all = await events(ns);
    const notFound = all.filter((e) => e.type === 'Warning' && /-primary\S* not found/.test(e.message));
    console.log(
      `torture: ${JSON.stringify({ canaries: CANARIES, warnings: all.filter((e) => e.type === 'Warning').length, primaryNotFound: notFound.length })}`,
    );
    expect(notFound.map((e) => e.message)).toEqual([]);
    // The primaries were created by this operator run (the Events exist at all).
    expect(all.filter((e) => e.message.includes('Initialization done!')).length).toBe(CANARIES);
  });
});
