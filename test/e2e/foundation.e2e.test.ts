// Proves the e2e cluster is a real Kubernetes control plane: real Deployment/ReplicaSet/GC
// controllers, a real scheduler, kwok nodes running the pods, and a real API server enforcing the
// Flagger CRD's schema and serving its printer columns.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apply, createTestNamespace, kubeconfigPath, kubectl, kubectlJson, waitFor } from './support/index.ts';

interface ObjectMeta {
  name: string;
  uid: string;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string }[];
}
interface List<T> {
  items: T[];
}
interface Deployment {
  metadata: ObjectMeta;
  status?: { availableReplicas?: number; readyReplicas?: number };
}
interface ReplicaSet {
  metadata: ObjectMeta;
}
interface Pod {
  metadata: ObjectMeta;
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Node {
  metadata: ObjectMeta;
}

/** The pinned Kubernetes version (test/cluster/versions.env). */
const KUBE_VERSION = /^KUBE_VERSION=(\S+)$/m.exec(
  readFileSync(new URL('../cluster/versions.env', import.meta.url), 'utf8'),
)?.[1];

const nameOf = (o: { metadata: ObjectMeta }): string => o.metadata.name;

function deployment(name: string, replicas: number): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'ghcr.io/stefanprodan/podinfo:6.0.0', ports: [{ containerPort: 9898 }] }],
        },
      },
    },
  };
}

async function availableReplicas(namespace: string, name: string): Promise<number> {
  const d = await kubectlJson<Deployment>(['get', 'deployment', name], { namespace });
  return d.status?.availableReplicas ?? 0;
}

async function waitForAvailable(namespace: string, name: string, replicas: number): Promise<void> {
  let available = 0;
  await waitFor(async () => (available = await availableReplicas(namespace, name)) === replicas, {
    describe: () => `deployment ${namespace}/${name} to have ${replicas} available replicas (has ${available})`,
    timeoutMs: 120_000,
  });
}

async function podsOf(namespace: string, app: string): Promise<Pod[]> {
  return (await kubectlJson<List<Pod>>(['get', 'pods', '-l', `app=${app}`], { namespace })).items;
}

async function replicaSetsOf(namespace: string, app: string): Promise<ReplicaSet[]> {
  return (await kubectlJson<List<ReplicaSet>>(['get', 'replicasets', '-l', `app=${app}`], { namespace })).items;
}

describe('the local control plane', () => {
  it('is what child processes of the tests reach by default (KUBECONFIG and kubectl on PATH)', () => {
    expect(process.env.KUBECONFIG).toBe(kubeconfigPath());
    const version = spawnSync('kubectl', ['version', '-o', 'json'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(KUBE_VERSION).toMatch(/^v1\.\d+\.\d+$/);
    expect(parsed.clientVersion.gitVersion).toBe(KUBE_VERSION);
    expect(parsed.serverVersion.gitVersion).toBe(KUBE_VERSION);
  });

  it('runs a Deployment to 3 available replicas through the controllers, the scheduler and kwok', async () => {
    const ns = await createTestNamespace('foundation-deploy');
    await apply(deployment('podinfo', 3), { namespace: ns });

    await waitForAvailable(ns, 'podinfo', 3);

    // The ReplicaSet controller made exactly one ReplicaSet owned by the Deployment …
    const d = await kubectlJson<Deployment>(['get', 'deployment', 'podinfo'], { namespace: ns });
    const replicaSets = await replicaSetsOf(ns, 'podinfo');
    expect(replicaSets).toHaveLength(1);
    expect(replicaSets[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: d.metadata.uid });

    // … whose 3 pods the scheduler bound to kwok's fake nodes, where kwok "ran" them.
    const kwokNodes = (await kubectlJson<List<Node>>(['get', 'nodes'])).items
      .filter((n) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake')
      .map((n) => n.metadata.name);
    expect(kwokNodes.length).toBeGreaterThan(0);
    const pods = await podsOf(ns, 'podinfo');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        uid: replicaSets[0]?.metadata.uid,
      });
      expect(kwokNodes).toContain(pod.spec.nodeName);
      expect(pod.status.phase).toBe('Running');
      expect(pod.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    }
  });

  it('garbage-collects the ReplicaSet and Pods of a deleted Deployment', async () => {
    const ns = await createTestNamespace('foundation-gc');
    await apply(deployment('doomed', 2), { namespace: ns });
    await waitForAvailable(ns, 'doomed', 2);
    expect(await replicaSetsOf(ns, 'doomed')).toHaveLength(1);
    expect(await podsOf(ns, 'doomed')).toHaveLength(2);

    // Don't wait for dependents client-side: the garbage collector in kube-controller-manager must do it.
    await kubectl(['delete', 'deployment', 'doomed', '--cascade=background', '--wait=false'], { namespace: ns });

    let replicaSets: string[] = [];
    await waitFor(async () => (replicaSets = (await replicaSetsOf(ns, 'doomed')).map(nameOf)).length === 0, {
      describe: () =>
        `the garbage collector to delete the ReplicaSet of ${ns}/doomed (left: ${replicaSets.join(', ')})`,
      timeoutMs: 120_000,
    });
    let pods: string[] = [];
    await waitFor(async () => (pods = (await podsOf(ns, 'doomed')).map(nameOf)).length === 0, {
      describe: () => `the pods of ${ns}/doomed to be deleted (left: ${pods.join(', ')})`,
      timeoutMs: 120_000,
    });
  });
});

function canary(name: string, spec: Record<string, unknown> = {}, analysis: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10, ...analysis },
      ...spec,
    },
  };
}

/** Splits a `kubectl get` table by the header's column positions (cells may be blank). */
function parseTable(output: string): { header: string[]; rows: Record<string, string>[] } {
  const [headerLine = '', ...lines] = output.split('\n').filter((l) => l.trim() !== '');
  const starts = [...headerLine.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  const rows = lines.map((line) =>
    Object.fromEntries(
      starts.map(({ name, at }, i) => [name, line.slice(at, starts[i + 1]?.at ?? line.length).trim()]),
    ),
  );
  return { header: starts.map((s) => s.name), rows };
}

describe('the Flagger Canary CRD', () => {
  it('lets the API server accept a valid Canary', async () => {
    const ns = await createTestNamespace('foundation-crd');
    const result = await kubectl(['create', '--validate=false', '-f', '-'], {
      namespace: ns,
      input: JSON.stringify(canary('valid')),
    });
    expect(result.stdout).toContain('canary.flagger.app/valid created');
  });

  it('makes the API server reject a non-numeric spec.analysis.stepWeight', async () => {
    const ns = await createTestNamespace('foundation-crd');
    // --validate=false: no client-side or field validation by kubectl; the rejection is the server's schema.
    const result = await kubectl(['create', '--validate=false', '-f', '-'], {
      namespace: ns,
      input: JSON.stringify(canary('bad-step', {}, { stepWeight: 'ten' })),
      allowFailure: true,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('The Canary "bad-step" is invalid');
    expect(result.stderr).toMatch(/spec\.analysis\.stepWeight: Invalid value: "string"/);
    expect(result.stderr).toMatch(/must be of type (integer|number)/);
    const left = await kubectl(['get', 'canary', 'bad-step', '--ignore-not-found', '-o', 'name'], { namespace: ns });
    expect(left.stdout.trim()).toBe('');
  });

  it('makes the API server reject an unknown spec.provider', async () => {
    const ns = await createTestNamespace('foundation-crd');
    const result = await kubectl(['create', '--validate=false', '-f', '-'], {
      namespace: ns,
      input: JSON.stringify(canary('bad-provider', { provider: 'bogus' })),
      allowFailure: true,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('The Canary "bad-provider" is invalid');
    expect(result.stderr).toMatch(/spec\.provider: Unsupported value: "bogus": supported values: .*"kubernetes"/);
  });

  it('prints the Canary columns in `kubectl get canaries`', async () => {
    const ns = await createTestNamespace('foundation-columns');
    await apply(canary('podinfo'), { namespace: ns });
    const lastTransitionTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // What the operator would report, so the status columns have values too.
    await kubectl(
      [
        'patch',
        'canary',
        'podinfo',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            phase: 'Progressing',
            canaryWeight: 20,
            failedChecks: 1,
            iterations: 0,
            lastTransitionTime,
          },
        }),
      ],
      { namespace: ns },
    );

    const plain = parseTable((await kubectl(['get', 'canaries'], { namespace: ns })).stdout);
    expect(plain.header).toEqual(['NAME', 'STATUS', 'WEIGHT', 'LASTTRANSITIONTIME']);
    expect(plain.rows).toHaveLength(1);
    expect(plain.rows[0]).toEqual({
      NAME: 'podinfo',
      STATUS: 'Progressing',
      WEIGHT: '20',
      LASTTRANSITIONTIME: lastTransitionTime,
    });

    const wide = parseTable((await kubectl(['get', 'canaries', '-o', 'wide'], { namespace: ns })).stdout);
    expect(wide.header).toEqual([
      'NAME',
      'STATUS',
      'WEIGHT',
      'SUSPENDED',
      'FAILEDCHECKS',
      'INTERVAL',
      'MIRROR',
      'STEPWEIGHT',
      'STEPWEIGHTS',
      'MAXWEIGHT',
      'LASTTRANSITIONTIME',
    ]);
    expect(wide.rows[0]).toMatchObject({
      NAME: 'podinfo',
      STATUS: 'Progressing',
      WEIGHT: '20',
      FAILEDCHECKS: '1',
      INTERVAL: '1m',
      STEPWEIGHT: '10',
      MAXWEIGHT: '50',
    });
  });
});
