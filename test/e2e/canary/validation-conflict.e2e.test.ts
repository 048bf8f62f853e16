// Canaries whose generated objects would share names, on a real API server: the newer one is
// blocked with ServiceConflict before it creates anything, the older keeps its objects, whichever
// the operator processes first.
import { describe, expect, it } from 'vitest';
import { createTestNamespace, kubectlJson, waitFor } from '../support/index.ts';
import { startOperator } from '../lib/operator.ts';
import { applyAll, canary, condition, getCanary, podinfo, waitForPhase } from '../lib/workload.ts';

interface Owned {
  kind: string;
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
}

/** `Kind/name → owning Canary` for the Services and Deployments of the namespace. */
async function owners(ns: string): Promise<Record<string, string>> {
  const list = await kubectlJson<{ items: Owned[] }>(['get', 'services,deployments'], { namespace: ns });
  const out: Record<string, string> = {};
  for (const o of list.items) {
    out[`${o.kind}/${o.metadata.name}`] = o.metadata.ownerReferences?.find((r) => r.kind === 'Canary')?.name ?? '-';
  }
  return out;
}

async function conflicted(ns: string, name: string): Promise<string> {
  const c = await waitFor(
    async () => {
      const got = await getCanary(ns, name);
      return condition(got, 'Stalled')?.reason === 'ServiceConflict' ? got : undefined;
    },
    { describe: `canary ${name} Stalled with ServiceConflict` },
  );
  return condition(c, 'Stalled')?.message ?? '';
}

describe('service name conflicts', () => {
  it('blocks a canary whose service.name is the -primary Service of an older canary, leaving nothing behind', async () => {
    const ns = await createTestNamespace('val-ref');
    await applyAll([...podinfo(ns, { name: 'ref' }), canary(ns, { target: 'ref' })], ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized', { name: 'ref' });

    await applyAll(
      [...podinfo(ns, { name: 'tgt0' }), canary(ns, { target: 'tgt0', service: { name: 'ref-primary' } })],
      ns,
    );

    expect(await conflicted(ns, 'tgt0')).toContain(`Service ref-primary.${ns} belongs to Canary ref.${ns}`);
    expect(await owners(ns)).toEqual({
      'Deployment/ref': '-',
      'Deployment/ref-primary': 'ref',
      'Deployment/tgt0': '-',
      'Service/ref': 'ref',
      'Service/ref-canary': 'ref',
      'Service/ref-primary': 'ref',
    });
    expect(condition(await getCanary(ns, 'ref'), 'Ready')?.status).toBe('True');
  });

  it('lets the older of two canaries with one service.name keep the Services, the newer gets ServiceConflict at once', async () => {
    const ns = await createTestNamespace('val-same');
    // Created in one request: the same creationTimestamp, so the name decides (a-first is older).
    await applyAll(
      [
        ...podinfo(ns, { name: 'one' }),
        ...podinfo(ns, { name: 'two' }),
        canary(ns, { name: 'b-second', target: 'two', service: { name: 'web' } }),
        canary(ns, { name: 'a-first', target: 'one', service: { name: 'web' } }),
      ],
      ns,
    );
    await startOperator({ namespace: ns });

    expect(await conflicted(ns, 'b-second')).toContain(`Service web.${ns} belongs to Canary a-first.${ns}`);
    await waitForPhase(ns, 'Initialized', { name: 'a-first' });
    expect(await owners(ns)).toEqual({
      'Deployment/one': '-',
      'Deployment/one-primary': 'a-first',
      'Deployment/two': '-',
      'Service/web': 'a-first',
      'Service/web-canary': 'a-first',
      'Service/web-primary': 'a-first',
    });
    expect((await getCanary(ns, 'b-second')).status?.phase ?? '').toBe('');
  });
});
