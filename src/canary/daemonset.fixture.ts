/** Test builders for DaemonSet targets: the podinfo DaemonSet and a fixture with a DaemonSetController. */
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import { DaemonSetController, type DaemonSetControllerOptions } from './daemonset-controller.ts';
import {
  ManualClock,
  NS,
  RecordingLogger,
  TARGET_UID,
  newCanary,
  newConfigs,
  newCtx,
  podinfoTemplate,
} from './fixtures.fixture.ts';
import type { Ctx } from '../core/context.ts';

/** A DaemonSet status that reports a finished rollout on `nodes` nodes. */
export function daemonSetReadyStatus(nodes: number, generation = 1): Record<string, unknown> {
  return {
    observedGeneration: generation,
    desiredNumberScheduled: nodes,
    currentNumberScheduled: nodes,
    updatedNumberScheduled: nodes,
    numberReady: nodes,
    numberAvailable: nodes,
  };
}

/** The podinfo DaemonSet (selector `app: podinfo`, podinfo's pod template), ready on 2 nodes. */
export function newDaemonSet(over: { name?: string; spec?: Record<string, unknown> } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: over.name ?? 'podinfo',
      namespace: NS,
      uid: TARGET_UID,
      generation: 1,
      labels: { app: 'podinfo', team: 'a', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
      annotations: { owner: 'team-a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec: {
      minReadySeconds: 5,
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: { app: 'podinfo' } },
      template: podinfoTemplate(),
      ...over.spec,
    },
    status: daemonSetReadyStatus(2),
  };
}

/** A Canary targeting the podinfo DaemonSet. */
export function newDaemonSetCanary(over: Parameters<typeof newCanary>[0] = {}): Canary {
  const base = newCanary(over);
  return { ...base, spec: { ...base.spec, targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' } } };
}

export interface DaemonSetFixture {
  readonly kube: FakeKube;
  readonly clock: ManualClock;
  readonly log: RecordingLogger;
  readonly ctx: Ctx;
  readonly controller: DaemonSetController;
  canary: Canary;
}

/** FakeKube seeded with the podinfo DaemonSet, its configs (and `objects`), a manual clock and a controller. */
export function newDaemonSetFixture(
  over: { daemonSet?: KubeObject; objects?: readonly KubeObject[]; options?: Partial<DaemonSetControllerOptions> } = {},
): DaemonSetFixture {
  const clock = new ManualClock();
  const kube = new FakeKube([over.daemonSet ?? newDaemonSet(), ...newConfigs(), ...(over.objects ?? [])], { clock });
  const log = new RecordingLogger();
  const controller = new DaemonSetController({ kube, clock, ...over.options });
  return { kube, clock, log, ctx: newCtx(log), controller, canary: newDaemonSetCanary() };
}

/** Makes the stored DaemonSet `name` report a finished rollout of its current spec on `nodes` nodes. */
export function makeDaemonSetReady(kube: FakeKube, name: string, nodes = 2): void {
  const key = { namespace: NS, name };
  const obj = kube.peek(Resources.daemonSet, key);
  if (!obj) throw new Error(`no daemonset ${name}`);
  kube.setStatus(Resources.daemonSet, key, daemonSetReadyStatus(nodes, obj.metadata.generation ?? 1));
}
