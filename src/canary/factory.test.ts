import { describe, expect, it } from 'vitest';
import type { TargetRef } from '../apis/flagger/v1beta1/types.ts';
import { UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController } from './deployment-controller.ts';
import { targetFactory } from './factory.ts';
import { ManualClock, newCanary } from './fixtures.fixture.ts';

const canaryFor = (targetRef: TargetRef) => newCanary({ spec: { targetRef } });

describe('targetFactory', () => {
  const factory = targetFactory({ kube: new FakeKube(), clock: new ManualClock() });

  it('returns one DeploymentController for every Deployment target', () => {
    const a = factory(canaryFor({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'a' }));
    const b = factory(canaryFor({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'b' }));
    expect(a).toBeInstanceOf(DeploymentController);
    expect(b).toBe(a);
  });

  it('returns one DaemonSetController for every DaemonSet target', () => {
    const a = factory(canaryFor({ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'a' }));
    const b = factory(canaryFor({ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'b' }));
    expect(a).toBeInstanceOf(DaemonSetController);
    expect(b).toBe(a);
  });

  it.each<[TargetRef, string]>([
    [{ apiVersion: 'v1', kind: 'Service', name: 'svc' }, 'Service targets are not supported yet'],
    [
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'ks' },
      'Knative Service targets are not supported yet',
    ],
  ])('rejects %j as unsupported', (targetRef, message) => {
    const run = () => factory(canaryFor(targetRef));
    expect(run).toThrow(UnsupportedError);
    expect(run).toThrow(message);
  });

  it('has no silent fallback for a kind outside the CRD enum', () => {
    const bogus = canaryFor({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'x' } as unknown as TargetRef);
    expect(() => factory(bogus)).toThrow('unknown target kind "StatefulSet"');
  });
});
