/**
 * TargetController for DaemonSets (Flagger pkg/canary/daemonset_controller.go and
 * daemonset_ready.go). A DaemonSet has no replicas: it is "scaled to zero" by the node selector
 * `flagger.app/scale-to-zero: "true"`, which no node carries, and every read of its template
 * (revision hash, change detection, promotion) ignores that selector. Reads come from informer
 * caches; the primary is server-side applied, the target merge-patched.
 */
import { type DaemonSetView, readDaemonSet, readWorkload } from '../apis/apps/v1/read.ts';
import { nodeSelectorOf } from '../apis/core/v1/read.ts';
import {
  canaryReadyThreshold,
  primaryReadyThreshold,
  progressDeadlineSeconds,
} from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryPhase } from '../apis/flagger/v1beta1/types.ts';
import { FLAGGER_ID_ANNOTATION, SCALE_TO_ZERO_NODE_SELECTOR } from '../apis/flagger/v1beta1/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject } from '../kube/objects.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { type PrimaryComparison, comparePrimary } from './adoption.ts';
import { applyIfChanged, cachedObject } from './apply.ts';
import { ConfigNotFoundError, ConfigTracker, type TrackedConfigs, checksumsOf } from './config-tracker.ts';
import { DEFAULT_SELECTOR_LABELS, type DeploymentControllerOptions, discoverPorts } from './deployment-controller.ts';
import { fenceOf, memoFrozen, revisionHash } from './hash.ts';
import { buildPrimaryDaemonSet, withoutScaleToZero } from './primary-daemonset.ts';
import { flaggerIdFor } from './primary-deployment.ts';
import { parseTime } from './readiness.ts';
import type { Dependency, Readiness, Revision, TargetController, TargetMetadata } from './target.ts';
import { dotted, parseIncludeLabelPrefix, primaryName } from './util.ts';
import { cachedPrimary, cachedTarget, requireTarget, selectorOf, workloadDependencies } from './workloads.ts';

/** Options of {@link DaemonSetController}: the same as the Deployment controller's. */
export type DaemonSetControllerOptions = DeploymentControllerOptions;

/** Inputs of {@link daemonSetVerdict} besides the DaemonSet. */
export interface DaemonSetReadinessOptions {
  /** Percentage of desired pods that must be available (primary/canaryReadyThreshold, default 100). */
  readonly threshold: number;
  readonly deadlineSeconds: number;
  /** Current time, epoch ms. */
  readonly now: number;
  /** Epoch ms since which the caller has been waiting; not ready for longer than the deadline is final. */
  readonly waitingSince?: number | undefined;
}

/** Whether a DaemonSet finished its rollout, and if not whether to wait (retriable) or give up. */
export interface DaemonSetVerdict {
  readonly ready: boolean;
  readonly retriable: boolean;
  readonly reason: string;
}

/**
 * Flagger's `isDaemonSetReady` (kubectl's rollout status): the generation is observed, every
 * desired pod runs the current template, and at least ⌊desired × threshold%⌋ pods are available.
 * Not ready for longer than the deadline since `waitingSince` is final. Pure.
 */
export function daemonSetVerdict(ds: DaemonSetView, o: DaemonSetReadinessOptions): DaemonSetVerdict {
  const s = ds.status;
  const needed = Math.floor((s.desiredNumberScheduled * o.threshold) / 100);
  let reason: string | undefined;
  if (ds.generation > s.observedGeneration) {
    reason = 'waiting for rollout to finish: observed daemonset generation less than desired generation';
  } else if (s.updatedNumberScheduled < s.desiredNumberScheduled) {
    reason = `waiting for rollout to finish: ${s.updatedNumberScheduled} out of ${s.desiredNumberScheduled} new pods have been updated`;
  } else if (s.numberAvailable < needed) {
    reason = `waiting for rollout to finish: ${s.numberAvailable} of ${needed} (readyThreshold ${o.threshold}%) updated pods are available`;
  }
  if (reason === undefined) return { ready: true, retriable: true, reason: '' };
  if (o.waitingSince !== undefined && o.waitingSince + o.deadlineSeconds * 1000 < o.now) {
    return { ready: false, retriable: false, reason: `exceeded its progressDeadlineSeconds: ${o.deadlineSeconds}` };
  }
  return { ready: false, retriable: true, reason };
}

/** Phases whose status was written when the primary started rolling out (init and promotion). */
const PRIMARY_ROLLOUT_PHASES: ReadonlySet<CanaryPhase> = new Set(['Initializing', 'Promoting', 'Finalising']);

/** Manages a DaemonSet target and its `-primary` clone. One instance serves every Canary. */
export class DaemonSetController implements TargetController {
  readonly #kube: KubeClient;
  readonly #clock: Clock;
  readonly #selectorLabels: readonly string[];
  readonly #includeLabelPrefix: readonly string[];
  readonly #configTracking: boolean;
  readonly #tracker: ConfigTracker;

  constructor(options: DaemonSetControllerOptions) {
    this.#kube = options.kube;
    this.#clock = options.clock;
    this.#selectorLabels = options.selectorLabels ?? DEFAULT_SELECTOR_LABELS;
    this.#includeLabelPrefix = parseIncludeLabelPrefix(options.includeLabelPrefix);
    this.#configTracking = options.configTracking ?? true;
    this.#tracker = new ConfigTracker({ kube: options.kube, enabled: this.#configTracking });
  }

  metadata(_ctx: Ctx, canary: Canary): TargetMetadata {
    const target = this.#target(canary);
    const selector = selectorOf(target, this.#selectorLabels);
    const podSpec = readWorkload(target).podSpec;
    const ports = canary.spec.service?.portDiscovery === true ? discoverPorts(canary, podSpec) : {};
    return { ...selector, ports };
  }

  /** The DaemonSet (its template without the scale-to-zero selector) and the configs it uses; no HPA. */
  dependencies(canary: Canary): readonly Dependency[] {
    return workloadDependencies(this.#kube, canary, {
      type: Resources.daemonSet,
      fingerprint: (ds) => withoutScaleToZero(readWorkload(ds).template),
      configTracking: this.#configTracking,
      autoscaler: false,
    });
  }

  revision(ctx: Ctx, canary: Canary): Revision {
    const target = this.#target(canary);
    const trackedConfigs = checksumsOf(this.#tracker.configs(ctx, canary, target));
    const configsKey = Object.entries(trackedConfigs).sort().join(';');
    const hash = memoFrozen(target, configsKey, () => hashOf(target, trackedConfigs));
    return { hash, trackedConfigs, fence: fenceOf(target) };
  }

  /**
   * Creates the `-primary` config copies and the primary DaemonSet when the primary does not
   * exist; an existing primary only gets the `-primary` copies it references and that were deleted.
   */
  async initialize(ctx: Ctx, canary: Canary): Promise<void> {
    const target = this.#target(canary);
    const primary = this.#primary(canary);
    if (primary === undefined) {
      await this.#copyToPrimary(ctx, canary, target, undefined);
      return;
    }
    let configs: TrackedConfigs;
    try {
      configs = this.#tracker.configs(ctx, canary, target);
    } catch (err) {
      // The target's next revision is broken; the primary is not affected.
      if (err instanceof ConfigNotFoundError) return;
      throw err;
    }
    await this.#tracker.restoreMissingCopies(ctx, canary, primary, configs);
  }

  /** While initializing or promoting, a primary not ready within the progress deadline is final. */
  isPrimaryReady(_ctx: Ctx, canary: Canary): Readiness {
    const phase = canary.status?.phase;
    return this.#readiness(canary, {
      role: 'primary',
      obj: this.#primary(canary),
      waiting: phase !== undefined && PRIMARY_ROLLOUT_PHASES.has(phase),
    });
  }

  /** While Progressing, a canary not ready within the progress deadline since the last status transition is final. */
  isCanaryReady(_ctx: Ctx, canary: Canary): Readiness {
    const waiting = canary.status?.phase === 'Progressing';
    return this.#readiness(canary, { role: 'canary', obj: this.#cachedTarget(canary), waiting });
  }

  primaryRuns(_ctx: Ctx, canary: Canary, hash: string): boolean {
    const primary = this.#primary(canary);
    if (primary === undefined) return false;
    return readWorkload(primary).podAnnotations[FLAGGER_ID_ANNOTATION] === flaggerIdFor(canary, hash);
  }

  /** Copies the target's template (with `-primary` config references) and configs to the primary. */
  async promote(ctx: Ctx, canary: Canary): Promise<void> {
    await this.#copyToPrimary(ctx, canary, this.#target(canary), this.#primary(canary));
  }

  /** Adds the scale-to-zero node selector: no node matches, so the DaemonSet runs no pod. */
  async scaleToZero(ctx: Ctx, canary: Canary): Promise<void> {
    if (scaledToZero(this.#target(canary))) return;
    await this.#patchScaleToZero(ctx, canary, 'true');
  }

  /** Removes the scale-to-zero node selector: the DaemonSet runs on its nodes again. */
  async scaleFromZero(ctx: Ctx, canary: Canary): Promise<void> {
    if (!scaledToZero(this.#target(canary))) return;
    await this.#patchScaleToZero(ctx, canary, null);
  }

  /** A DaemonSet has no replicas to autoscale: `spec.autoscalerRef` is ignored, as Flagger does. */
  async reconcileAutoscaler(): Promise<void> {
    // Nothing to do.
  }

  /** revertOnDeletion: scales the target from zero and reports its readiness; a missing target has nothing to revert. */
  async finalize(ctx: Ctx, canary: Canary): Promise<Readiness> {
    const target = this.#cachedTarget(canary);
    if (target === undefined) {
      const message = `daemonset ${dotted(canary.spec.targetRef.name, canary.metadata.namespace)} not found, nothing to revert`;
      ctx.log.info(message);
      return { ready: true, retriable: true, message };
    }
    const current = scaledToZero(target) ? await this.#patchScaleToZero(ctx, canary, null) : target;
    return this.#readiness(canary, { role: 'canary', obj: current, waiting: false });
  }

  // ---- internals --------------------------------------------------------------------------------

  /** Readiness of the primary or the target (`obj`, undefined when missing: not ready yet). */
  #readiness(
    canary: Canary,
    o: { readonly role: 'primary' | 'canary'; readonly obj: KubeObject | undefined; readonly waiting: boolean },
  ): Readiness {
    const target = canary.spec.targetRef.name;
    const name = dotted(o.role === 'primary' ? primaryName(target) : target, canary.metadata.namespace);
    if (o.obj === undefined) return { ready: false, retriable: true, message: `daemonset ${name} not found` };
    const verdict = daemonSetVerdict(readDaemonSet(o.obj), {
      threshold: o.role === 'primary' ? primaryReadyThreshold(canary) : canaryReadyThreshold(canary),
      deadlineSeconds: progressDeadlineSeconds(canary),
      now: this.#clock.now(),
      waitingSince: o.waiting ? parseTime(canary.status?.lastTransitionTime) : undefined,
    });
    const what = `${o.role} daemonset ${name}`;
    if (verdict.ready) return { ready: true, retriable: true, message: `${what} is ready` };
    return { ready: false, retriable: verdict.retriable, message: `${what} not ready: ${verdict.reason}` };
  }

  async #copyToPrimary(ctx: Ctx, canary: Canary, target: KubeObject, primary: KubeObject | undefined): Promise<void> {
    const configs = this.#tracker.configs(ctx, canary, target);
    await this.#tracker.syncPrimaryCopies(ctx, canary, configs);
    const desired = buildPrimaryDaemonSet(canary, target, {
      ...selectorOf(target, this.#selectorLabels),
      includeLabelPrefix: this.#includeLabelPrefix,
      configRefs: new Set(configs.keys()),
      flaggerId: flaggerIdFor(canary, hashOf(target, checksumsOf(configs))),
    });
    if (await applyIfChanged(this.#kube, desired, primary)) {
      const name = dotted(desired.metadata.name, desired.metadata.namespace);
      ctx.log.info(`DaemonSet ${name} ${primary ? 'updated' : 'created'}`, { object: desired.metadata.name });
    }
  }

  /** Merge-patches the scale-to-zero node selector of the target's pod template (`null` removes it). */
  async #patchScaleToZero(ctx: Ctx, canary: Canary, value: 'true' | null): Promise<KubeObject> {
    const namespace = canary.metadata.namespace ?? '';
    const name = canary.spec.targetRef.name;
    ctx.log.info(`scaling daemonset ${dotted(name, namespace)} ${value === null ? 'from' : 'to'} zero`, {
      object: name,
    });
    const patch = { spec: { template: { spec: { nodeSelector: { [SCALE_TO_ZERO_NODE_SELECTOR]: value } } } } };
    return this.#kube.mergePatch(Resources.daemonSet, { namespace, name }, patch);
  }

  #cachedTarget(canary: Canary): KubeObject | undefined {
    return cachedTarget(this.#kube, Resources.daemonSet, canary);
  }

  /** Adoption: compares the target's template (without the scale-to-zero node selector) with the primary's. */
  compareWithPrimary(ctx: Ctx, canary: Canary): PrimaryComparison {
    const target = this.#target(canary);
    const namespace = canary.metadata.namespace ?? '';
    const spec = isRecord(target['spec']) ? target['spec'] : {};
    const template = isRecord(spec['template']) ? spec['template'] : {};
    const unscaled = { ...target, spec: { ...spec, template: withoutScaleToZero(template) } };
    return comparePrimary({
      target: unscaled,
      primary: this.#primary(canary),
      ...selectorOf(target, this.#selectorLabels),
      selectorLabels: this.#selectorLabels,
      trackedKeys: new Set(this.#tracker.configs(ctx, canary, target).keys()),
      lookup: (kind, name) =>
        cachedObject(this.#kube, kind === 'configmap' ? Resources.configMap : Resources.secret, { namespace, name }),
    });
  }

  #target(canary: Canary): KubeObject {
    return requireTarget(this.#kube, Resources.daemonSet, canary);
  }

  #primary(canary: Canary): KubeObject | undefined {
    return cachedPrimary(this.#kube, Resources.daemonSet, canary);
  }
}

/** The revision hash of a DaemonSet: its template as the user wrote it, and its configs. */
function hashOf(target: KubeObject, trackedConfigs: Readonly<Record<string, string>>): string {
  return revisionHash(withoutScaleToZero(readWorkload(target).template), trackedConfigs);
}

function scaledToZero(target: KubeObject): boolean {
  return SCALE_TO_ZERO_NODE_SELECTOR in nodeSelectorOf(readWorkload(target).podSpec);
}
