import { describe, expect, it } from 'vitest';
import { KubeApiError, NotFoundError } from './kube/errors.ts';
import { FakeKube } from './kube/fake.ts';
import { packageVersion, verifyCrds } from './main.ts';

describe('verifyCrds', () => {
  it('passes when the three Flagger CRDs can be listed', async () => {
    await expect(verifyCrds(new FakeKube(), undefined, 'https://k8s')).resolves.toBeUndefined();
  });

  it('says which CRD is missing and how to install it', async () => {
    const kube = new FakeKube();
    kube.failOn({ verb: 'list', kind: 'MetricTemplate' }, new NotFoundError('404', 404, 'NotFound'));
    await expect(verifyCrds(kube, 'apps', 'https://k8s')).rejects.toThrow(
      'the metrictemplates.flagger.app CRD is not installed in the cluster at https://k8s: kubectl apply -f artifacts/flagger/crd.yaml',
    );
  });

  it('points at RBAC on 403', async () => {
    const kube = new FakeKube();
    kube.failOn({ verb: 'list', kind: 'Canary' }, new KubeApiError('forbidden', 403, 'Forbidden'));
    await expect(verifyCrds(kube, undefined, 'https://k8s')).rejects.toThrow(/RBAC/);
  });

  it('reports an unreachable API server', async () => {
    const kube = new FakeKube();
    kube.failOn({ verb: 'list' }, new Error('connect ECONNREFUSED'));
    await expect(verifyCrds(kube, undefined, 'https://k8s')).rejects.toThrow(
      'cannot reach the Kubernetes API server at https://k8s: connect ECONNREFUSED',
    );
  });
});

describe('packageVersion', () => {
  it('reads package.json', () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
