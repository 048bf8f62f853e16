// Canaries whose status Flagger wrote, taken over by the scheduler without an unplanned rollout.
import { describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../apis/flagger/v1beta1/types.ts';
import { NS } from '../canary/fixtures.fixture.ts';
import { Resources } from '../kube/resources.ts';
import { IMAGE_REPO, KEY, newFixture, type SchedulerFixture } from './scheduler.fixture.ts';

const BLUE_GREEN = { stepWeight: undefined, maxWeight: undefined, iterations: 3 } as const;
/** A hash as Flagger writes it (FNV over spew, encoded): never equal to one of Fledge's. */
const FLAGGER_HASH = '5c8b9d6f7';

/**
 * A canary initialized with the kubernetes provider, then made to look as if Flagger had handled
 * it: the primary carries a random `flagger-id` and no applied hash, and the status is Flagger's.
 */
async function handledByFlagger(
  status: Partial<CanaryStatus>,
  beforeStatus?: (fx: SchedulerFixture) => Promise<unknown> | void,
) {
  const fx = newFixture({ spec: { provider: 'kubernetes' }, analysis: BLUE_GREEN });
  await fx.initialize();
  const primary = structuredClone(fx.deployment('podinfo-primary')) as unknown as {
    metadata: { annotations?: Record<string, string> };
    spec: { template: { metadata: { annotations: Record<string, string> } } };
  };
  primary.metadata.annotations = {};
  primary.spec.template.metadata.annotations['flagger-id'] = '0f6e0f7c-3c1e-4a5b-9d1e-2b1a4c5d6e7f';
  fx.kube.upsert(primary as never);
  fx.makePrimaryReady();
  await beforeStatus?.(fx);
  const trackedConfigs = fx.status().trackedConfigs;
  fx.kube.setStatus(Resources.canary, KEY, {
    phase: 'Succeeded',
    failedChecks: 0,
    canaryWeight: 0,
    iterations: 0,
    lastAppliedSpec: FLAGGER_HASH,
    lastPromotedSpec: FLAGGER_HASH,
    trackedConfigs,
    lastTransitionTime: '2026-01-01T00:00:00Z',
    conditions: [
      {
        type: 'Promoted',
        status: 'True',
        reason: 'Succeeded',
        message: 'Canary analysis completed successfully, promotion finished.',
        lastUpdateTime: '2026-01-01T00:00:00Z',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
    ...status,
  });
  fx.clear();
  return fx;
}

function deploymentWrites(fx: SchedulerFixture): number {
  return fx.kube.writes({ type: 'Deployment' }).length;
}

describe('Scheduler: adopting canaries from Flagger', () => {
  for (const phase of ['Succeeded', 'Initialized'] as const) {
    it(`adopts a ${phase} canary whose primary runs the target: no analysis, no write to a Deployment`, async () => {
      const fx = await handledByFlagger({ phase });
      const primaryVersion = fx.deployment('podinfo-primary').metadata.resourceVersion;
      await fx.ticks(3);
      expect(fx.events()).toEqual([
        `Canary podinfo.${NS} adopted from Flagger: the primary runs the current revision, nothing to analyse`,
      ]);
      expect(deploymentWrites(fx)).toBe(0);
      expect(fx.deployment('podinfo-primary').metadata.resourceVersion).toBe(primaryVersion);
      expect(fx.replicas('podinfo')).toBe(0);
      const status = fx.status();
      expect(status.phase).toBe(phase);
      expect(status.lastTrackedRevision).toMatch(/\/\d+$/);
      expect(status.lastAppliedSpec).toBe(status.lastPromotedSpec);
      expect(status.lastAppliedSpec).not.toBe(FLAGGER_HASH);

      // The next real change is analysed as usual.
      fx.setImage('6.0.1');
      await fx.tick();
      expect(fx.phase()).toBe('Progressing');
      expect(fx.events()).toContain(`New revision detected! Scaling up podinfo.${NS}`);
    });
  }

  it('analyses a revision Flagger never saw (Succeeded, target differs from primary)', async () => {
    const fx = await handledByFlagger({}, (f) => f.setImage('6.0.1'));
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
    expect(fx.events()).toEqual([`New revision detected! Scaling up podinfo.${NS}`]);
  });

  it('continues an analysis Flagger left mid-way from its counters', async () => {
    const fx = await handledByFlagger(
      { phase: 'Progressing', iterations: 2, failedChecks: 1, lastPromotedSpec: 'aaaaaaaa' },
      async (f) => {
        f.setImage('6.0.1');
        await f.kube.mergePatch(Resources.deployment, { namespace: NS, name: 'podinfo' }, { spec: { replicas: 2 } });
        f.makeCanaryReady();
      },
    );
    await fx.tick();
    expect(fx.events()[0]).toBe(
      `Canary podinfo.${NS} adopted from Flagger: continuing the Progressing analysis (canary weight 0, iterations 2, failed checks 1)`,
    );
    expect(fx.events().some((e) => e.startsWith('New revision detected'))).toBe(false);
    expect(fx.status()).toMatchObject({ phase: 'Progressing', iterations: 3, failedChecks: 1 });
    await fx.tickUntil('Promoting');
    fx.makePrimaryReady();
    expect(await fx.ticks(2)).toEqual(['Finalising', 'Succeeded']);
    expect(fx.image('podinfo-primary')).toBe(`${IMAGE_REPO}:6.0.1`);
  });

  it('keeps a Failed canary failed until the next change', async () => {
    const fx = await handledByFlagger({ phase: 'Failed' }, (f) => f.setImage('6.0.1'));
    await fx.ticks(2);
    expect(fx.phase()).toBe('Failed');
    expect(fx.events()).toEqual([
      `Canary podinfo.${NS} adopted from Flagger: the failed revision waits for the next change`,
    ]);
    expect(deploymentWrites(fx)).toBe(0);
    fx.setImage('6.0.2');
    await fx.tick();
    expect(fx.phase()).toBe('Progressing');
  });
});
