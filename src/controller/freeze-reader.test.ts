import { describe, expect, it } from 'vitest';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { ManualClock } from '../canary/fixtures.fixture.ts';
import { testCtx } from '../http/server.fixture.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { OUTSIDE_SCOPE_TTL_MS, freezeReader } from './freeze-reader.ts';

const freezeMap = (namespace: string, reason: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name: 'fledge-freeze' },
  data: { reason },
});
const canaryIn = (namespace: string): Canary =>
  ({
    metadata: { namespace, name: 'podinfo' },
    spec: { targetRef: { kind: 'Deployment', name: 'podinfo' } },
  }) as Canary;

/** FakeKube whose GETs are counted. */
function counted(kube: FakeKube): { kube: FakeKube; gets: () => number } {
  let gets = 0;
  const get = kube.get.bind(kube);
  kube.get = (type, key) => {
    gets++;
    return get(type, key);
  };
  return { kube, gets: () => gets };
}

describe('freezeReader', () => {
  it('reads both freezes from the caches when watching every namespace', async () => {
    const { kube, gets } = counted(
      new FakeKube([freezeMap('apps', 'audit'), freezeMap('fledge-system', 'black friday')]),
    );
    const read = freezeReader({ kube, scope: undefined, freezeNamespace: 'fledge-system', clock: new ManualClock() });

    expect(await read(testCtx(), canaryIn('apps'))).toMatchObject({
      source: 'ConfigMap fledge-system/fledge-freeze (cluster-wide)',
      reason: 'black friday',
      also: { source: 'ConfigMap apps/fledge-freeze', reason: 'audit' },
    });
    expect(await read(testCtx(), canaryIn('web'))).toMatchObject({ reason: 'black friday' });
    expect(gets()).toBe(0);
  });

  it('finds no freeze when neither ConfigMap exists, or when the cluster-wide freeze is off', async () => {
    const kube = new FakeKube([freezeMap('fledge-system', 'black friday')]);
    const clock = new ManualClock();
    expect(
      await freezeReader({ kube, scope: undefined, freezeNamespace: 'other', clock })(testCtx(), canaryIn('apps')),
    ).toBeUndefined();
    expect(
      await freezeReader({ kube, scope: undefined, freezeNamespace: undefined, clock })(testCtx(), canaryIn('apps')),
    ).toBeUndefined();
  });

  it('with -namespace, reads a freeze namespace outside it with one GET shared for a few seconds', async () => {
    const { kube, gets } = counted(new FakeKube([freezeMap('fledge-system', 'black friday')]));
    const clock = new ManualClock();
    const read = freezeReader({ kube, scope: 'apps', freezeNamespace: 'fledge-system', clock });

    for (let i = 0; i < 5; i++)
      expect(await read(testCtx(), canaryIn('apps'))).toMatchObject({ reason: 'black friday' });
    expect(gets()).toBe(1);

    await kube.delete(Resources.configMap, { namespace: 'fledge-system', name: 'fledge-freeze' });
    expect(await read(testCtx(), canaryIn('apps'))).toBeDefined(); // still within the TTL
    clock.advance(OUTSIDE_SCOPE_TTL_MS);
    expect(await read(testCtx(), canaryIn('apps'))).toBeUndefined();
    expect(gets()).toBe(2);
  });
});
