import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../core/errors.ts';
import { NotFoundError } from '../kube/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { Resources } from '../kube/resources.ts';
import { HpaReconciler, buildPrimaryHpa } from './hpa.ts';
import { CANARY_UID, NS, newCanary, newCtx, newHpa } from './fixtures.fixture.ts';

const withHpa = (over: Parameters<typeof newCanary>[0] = {}) =>
  newCanary({
    ...over,
    spec: {
      autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' },
      ...over.spec,
    },
  });

const primaryKey = { namespace: NS, name: 'podinfo-primary' };

describe('buildPrimaryHpa', () => {
  it('targets the primary and copies bounds, metrics, behavior and labels, by value', () => {
    const source = newHpa({
      metadata: {
        labels: { app: 'podinfo', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
        annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
    });
    expect(buildPrimaryHpa(withHpa(), source)).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: 'podinfo-primary',
        namespace: NS,
        labels: { app: 'podinfo' },
        annotations: { note: 'x' },
        ownerReferences: [
          {
            apiVersion: 'flagger.app/v1beta1',
            kind: 'Canary',
            name: 'podinfo',
            uid: CANARY_UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 99 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    });
  });

  it('lets primaryScalerReplicas override min and max, each on its own', () => {
    const both = withHpa({
      spec: {
        autoscalerRef: {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          name: 'podinfo',
          primaryScalerReplicas: { minReplicas: 5, maxReplicas: 10 },
        },
      },
    });
    expect(buildPrimaryHpa(both, newHpa())['spec']).toMatchObject({ minReplicas: 5, maxReplicas: 10 });
    const onlyMax = withHpa({
      spec: {
        autoscalerRef: {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          name: 'podinfo',
          primaryScalerReplicas: { maxReplicas: 8 },
        },
      },
    });
    expect(buildPrimaryHpa(onlyMax, newHpa())['spec']).toMatchObject({ minReplicas: 2, maxReplicas: 8 });
  });
});

describe('HpaReconciler', () => {
  it('does nothing without an autoscalerRef', async () => {
    const kube = new FakeKube([newHpa()]);
    await new HpaReconciler({ kube }).reconcile(newCtx(), newCanary(), true);
    expect(kube.actions).toEqual([]);
  });

  it('creates the primary HPA on init, once', async () => {
    const kube = new FakeKube([newHpa()]);
    const hpa = new HpaReconciler({ kube });
    await hpa.reconcile(newCtx(), withHpa(), true);
    expect(kube.actions.map((a) => `${a.verb} ${a.key}`)).toEqual(['apply test/podinfo-primary']);
    expect(kube.peek(Resources.hpa, primaryKey)?.['spec']).toMatchObject({
      scaleTargetRef: { name: 'podinfo-primary' },
      minReplicas: 2,
    });
    kube.clearActions();
    await hpa.reconcile(newCtx(), withHpa(), true);
    await hpa.reconcile(newCtx(), withHpa(), false);
    expect(kube.actions).toEqual([]);
  });

  it('leaves a changed HPA alone on init and syncs it at promotion', async () => {
    const kube = new FakeKube([newHpa()]);
    const hpa = new HpaReconciler({ kube });
    await hpa.reconcile(newCtx(), withHpa(), true);
    kube.upsert(newHpa({ spec: { maxReplicas: 9 } }));
    kube.clearActions();

    await hpa.reconcile(newCtx(), withHpa(), true);
    expect(kube.actions).toEqual([]);

    await hpa.reconcile(newCtx(), withHpa(), false);
    expect(kube.actions.map((a) => `${a.verb} ${a.key}`)).toEqual(['apply test/podinfo-primary']);
    expect(kube.peek(Resources.hpa, primaryKey)?.['spec']).toMatchObject({ maxReplicas: 9 });
  });

  it('does not write when only the target HPA’s status changes', async () => {
    const kube = new FakeKube([newHpa()]);
    const hpa = new HpaReconciler({ kube });
    await hpa.reconcile(newCtx(), withHpa(), true);
    kube.setStatus(Resources.hpa, { namespace: NS, name: 'podinfo' }, { currentReplicas: 4, desiredReplicas: 4 });
    kube.clearActions();
    await hpa.reconcile(newCtx(), withHpa(), false);
    expect(kube.actions).toEqual([]);
  });

  it('fails with NotFoundError when the referenced HPA is missing', async () => {
    const kube = new FakeKube();
    await expect(new HpaReconciler({ kube }).reconcile(newCtx(), withHpa(), true)).rejects.toThrow(
      new NotFoundError('HorizontalPodAutoscaler podinfo.test not found', 404, 'NotFound'),
    );
  });

  it('rejects ScaledObjects as unsupported', async () => {
    const kube = new FakeKube([newHpa()]);
    const canary = newCanary({
      spec: { autoscalerRef: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'podinfo' } },
    });
    const err: unknown = await new HpaReconciler({ kube }).reconcile(newCtx(), canary, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toBe('ScaledObject autoscalers are not supported yet');
    expect(kube.actions).toEqual([]);
  });
});
