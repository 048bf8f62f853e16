/**
 * TargetController for Deployments (Flagger pkg/canary/deployment_controller.go). Reads every
 * object from informer caches and writes only when the desired state differs: server-side apply
 * for what Fledge owns (`<target>-primary`, `-primary` configs, `<hpa>-primary`), merge patch of
 * `spec.replicas` for the user's Deployment.
 */
import {
  canaryReadyThreshold,
  primaryReadyThreshold,
  progressDeadlineSeconds,
  serviceTargetPort,
} from '../apis/flagger/v1beta1/defaults.ts';
import { readWorkload } from '../apis/apps/v1/read.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { FLAGGER_ID_ANNOTATION } from '../apis/flagger/v1beta1/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Ctx } from '../core/context.ts';
import { UnsupportedError } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';
import { NotFoundError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { type PrimaryComparison, comparePrimary } from './adoption.ts';
import { applyIfChanged, cachedObject } from './apply.ts';
import { ConfigNotFoundError, ConfigTracker, type TrackedConfigs, checksumsOf } from './config-tracker.ts';
import { fenceOf, memoFrozen, revisionHash } from './hash.ts';
import { HpaReconciler } from './hpa.ts';
import { buildPrimaryDeployment, flaggerIdFor } from './primary-deployment.ts';
import { canaryReadiness, parseTime, primaryReadiness } from './readiness.ts';
import type { Dependency, Readiness, Revision, TargetController, TargetMetadata } from './target.ts';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  dotted,
  parseIncludeLabelPrefix,
  podSpecOf,
  podTemplateOf,
  primaryName,
} from './util.ts';
import { type Selector, selectorOf, workloadDependencies } from './workloads.ts';

/** Flagger's `-selector-labels` default. */
export const DEFAULT_SELECTOR_LABELS: readonly string[] = ['app', 'name', 'app.kubernetes.io/name'];

/** Sidecars whose ports are never discovered (Flagger util.go). */
const SIDECARS: ReadonlySet<string> = new Set(['istio-proxy', 'envoy']);

/** Options of {@link DeploymentController}. */
export interface DeploymentControllerOptions {
  readonly kube: KubeClient;
  readonly clock: Clock;
  /** `-selector-labels`: the first present in the target's matchLabels is the selector label. */
  readonly selectorLabels?: readonly string[];
  /** `-include-label-prefix`: comma-separated list (or list) of label prefixes copied to the primary; `*` = all. */
  readonly includeLabelPrefix?: string | readonly string[];
  /** `-enable-config-tracking` (default true). */
  readonly configTracking?: boolean;
  readonly log?: Logger;
}

function replicasOf(obj: KubeObject | undefined): number | undefined {
  return asNumber(asRecord(obj?.['spec'])?.['replicas']);
}

/**
 * The container ports to add to the generated Services with `service.portDiscovery` (Flagger
 * `getPorts`): every port of every container except the sidecars `istio-proxy` and `envoy` and
 * the main port (`service.targetPort`, else `service.port`); unnamed ports are `tcp-<container>-<index>`.
 */
export function discoverPorts(canary: Canary, podSpec: unknown): Record<string, number> {
  const main = serviceTargetPort(canary);
  const ports: Record<string, number> = {};
  for (const container of asArray(asRecord(podSpec)?.['containers'])) {
    const c = asRecord(container);
    const containerName = asString(c?.['name']) ?? '';
    if (!c || SIDECARS.has(containerName)) continue;
    asArray(c['ports']).forEach((port, index) => {
      const p = asRecord(port);
      const number = asNumber(p?.['containerPort']);
      if (number === undefined) return;
      const name = asString(p?.['name']) ?? '';
      if (typeof main === 'number' && number === main) return;
      if (typeof main === 'string' && name === main) return;
      ports[name === '' ? `tcp-${containerName}-${index}` : name] = number;
    });
  }
  return ports;
}

/** Manages a Deployment target and its `-primary` clone. One instance serves every Canary. */
export class DeploymentController implements TargetController {
  readonly #kube: KubeClient;
  readonly #clock: Clock;
  readonly #selectorLabels: readonly string[];
  readonly #includeLabelPrefix: readonly string[];
  readonly #tracker: ConfigTracker;
  readonly #hpa: HpaReconciler;
  readonly #configTracking: boolean;

  constructor(options: DeploymentControllerOptions) {
    this.#kube = options.kube;
    this.#clock = options.clock;
    this.#selectorLabels = options.selectorLabels ?? DEFAULT_SELECTOR_LABELS;
    this.#includeLabelPrefix = parseIncludeLabelPrefix(options.includeLabelPrefix);
    this.#configTracking = options.configTracking ?? true;
    this.#tracker = new ConfigTracker({ kube: options.kube, enabled: this.#configTracking });
    this.#hpa = new HpaReconciler({ kube: options.kube });
    options.log?.debug('deployment controller configured', {
      selectorLabels: this.#selectorLabels,
      includeLabelPrefix: this.#includeLabelPrefix,
      configTracking: options.configTracking ?? true,
    });
  }

  metadata(_ctx: Ctx, canary: Canary): TargetMetadata {
    const target = this.#target(canary);
    const { labelKey, labelValue } = this.#selector(target);
    const ports = canary.spec.service?.portDiscovery === true ? discoverPorts(canary, podSpecOf(target)) : {};
    return { labelKey, labelValue, ports };
  }

  /** The Deployment (its pod template), the configs it uses and its HPA (spec). */
  dependencies(canary: Canary): readonly Dependency[] {
    return workloadDependencies(this.#kube, canary, {
      type: Resources.deployment,
      fingerprint: (deployment) => readWorkload(deployment).template,
      configTracking: this.#configTracking,
      autoscaler: true,
    });
  }

  revision(ctx: Ctx, canary: Canary): Revision {
    const target = this.#target(canary);
    const trackedConfigs = checksumsOf(this.#tracker.configs(ctx, canary, target));
    const configsKey = Object.entries(trackedConfigs).sort().join(';');
    const hash = memoFrozen(target, configsKey, () => revisionHash(podTemplateOf(target), trackedConfigs));
    return { hash, trackedConfigs, fence: fenceOf(target) };
  }

  /**
   * Creates the `-primary` config copies and the primary Deployment when the primary does not
   * exist. An existing primary is left as promoted, except that `-primary` copies it references
   * and that were deleted are recreated.
   */
  async initialize(ctx: Ctx, canary: Canary): Promise<void> {
    const target = this.#target(canary);
    const selector = this.#selector(target);
    const primary = this.#primary(canary);
    if (primary !== undefined) {
      let configs: TrackedConfigs;
      try {
        configs = this.#tracker.configs(ctx, canary, target);
      } catch (err) {
        // The target's next revision is broken; the primary is not affected.
        if (err instanceof ConfigNotFoundError) return;
        throw err;
      }
      await this.#tracker.restoreMissingCopies(ctx, canary, primary, configs);
      return;
    }
    await this.#copyToPrimary(ctx, canary, { target, selector, primary });
  }

  isPrimaryReady(_ctx: Ctx, canary: Canary): Readiness {
    return primaryReadiness(canary, this.#primary(canary), {
      threshold: primaryReadyThreshold(canary),
      deadlineSeconds: progressDeadlineSeconds(canary),
      now: this.#clock.now(),
    });
  }

  primaryRuns(_ctx: Ctx, canary: Canary, hash: string): boolean {
    const template = asRecord(asRecord(this.#primary(canary)?.['spec'])?.['template']);
    const annotations = asRecord(asRecord(template?.['metadata'])?.['annotations']);
    return annotations?.[FLAGGER_ID_ANNOTATION] === flaggerIdFor(canary, hash);
  }

  compareWithPrimary(ctx: Ctx, canary: Canary): PrimaryComparison {
    const target = this.#target(canary);
    const namespace = canary.metadata.namespace ?? '';
    return comparePrimary({
      target,
      primary: this.#primary(canary),
      ...this.#selector(target),
      selectorLabels: this.#selectorLabels,
      trackedKeys: new Set(this.#tracker.configs(ctx, canary, target).keys()),
      lookup: (kind, name) =>
        cachedObject(this.#kube, kind === 'configmap' ? Resources.configMap : Resources.secret, { namespace, name }),
    });
  }

  /**
   * While Progressing, the status was last written when the canary was scaled up (or at the last
   * step), so a canary not ready for longer than the progress deadline since then is given up on
   * even if its Deployment never reports ProgressDeadlineExceeded (scaling up an unchanged
   * ReplicaSet is not a rollout, so Kubernetes never times it out).
   */
  isCanaryReady(_ctx: Ctx, canary: Canary): Readiness {
    const waitingSince =
      canary.status?.phase === 'Progressing' ? parseTime(canary.status.lastTransitionTime) : undefined;
    return canaryReadiness(canary, this.#cachedTarget(canary), {
      threshold: canaryReadyThreshold(canary),
      deadlineSeconds: progressDeadlineSeconds(canary),
      now: this.#clock.now(),
      waitingSince,
    });
  }

  /**
   * Copies the target's template (with `-primary` config references), strategy and friends,
   * metadata and, without an autoscaler, replicas to the primary, after syncing the `-primary`
   * configs. Writes nothing when the primary already runs this revision.
   */
  async promote(ctx: Ctx, canary: Canary): Promise<void> {
    const target = this.#target(canary);
    await this.#copyToPrimary(ctx, canary, {
      target,
      selector: this.#selector(target),
      primary: this.#primary(canary),
    });
  }

  async scaleToZero(ctx: Ctx, canary: Canary): Promise<void> {
    const target = this.#target(canary);
    if (replicasOf(target) === 0) return;
    await this.#scale(ctx, canary, 0);
  }

  /**
   * Scales the target up for an analysis (Flagger `ScaleFromZero`): to its own replicas when > 0;
   * else, without an autoscaler, to the primary's; else to the HPA's minReplicas when > 1; else 1.
   */
  async scaleFromZero(ctx: Ctx, canary: Canary): Promise<void> {
    await this.#scaleFromZero(ctx, canary, this.#target(canary));
  }

  async reconcileAutoscaler(ctx: Ctx, canary: Canary, init: boolean): Promise<void> {
    await this.#hpa.reconcile(ctx, canary, init);
  }

  /**
   * revertOnDeletion: gives the target the primary's replicas (or scales it from zero when the
   * primary is gone) and reports its readiness. A missing target has nothing to revert.
   */
  async finalize(ctx: Ctx, canary: Canary): Promise<Readiness> {
    const target = this.#cachedTarget(canary);
    const name = dotted(canary.spec.targetRef.name, canary.metadata.namespace);
    if (target === undefined) {
      ctx.log.info(`deployment ${name} not found, nothing to revert`);
      return { ready: true, retriable: true, message: `deployment ${name} not found, nothing to revert` };
    }
    const primary = this.#primary(canary);
    let current: KubeObject = target;
    if (primary === undefined) {
      current = (await this.#scaleFromZero(ctx, canary, target)) ?? target;
    } else {
      const replicas = replicasOf(primary) ?? 1;
      if (replicasOf(target) !== replicas) current = await this.#scale(ctx, canary, replicas);
    }
    return canaryReadiness(canary, current, {
      threshold: canaryReadyThreshold(canary),
      deadlineSeconds: progressDeadlineSeconds(canary),
      now: this.#clock.now(),
    });
  }

  // ---- internals --------------------------------------------------------------------------------

  async #copyToPrimary(
    ctx: Ctx,
    canary: Canary,
    p: { target: KubeObject; selector: Selector; primary: KubeObject | undefined },
  ): Promise<void> {
    const configs = this.#tracker.configs(ctx, canary, p.target);
    await this.#tracker.syncPrimaryCopies(ctx, canary, configs);
    const hash = revisionHash(podTemplateOf(p.target), checksumsOf(configs));
    const desired = buildPrimaryDeployment(canary, p.target, {
      ...p.selector,
      includeLabelPrefix: this.#includeLabelPrefix,
      configRefs: new Set(configs.keys()),
      flaggerId: flaggerIdFor(canary, hash),
      primaryReplicas: replicasOf(p.primary),
    });
    // With an autoscaler the replicas follow the HPA: they must not make the intent "differ".
    const hashInput =
      canary.spec.autoscalerRef === undefined
        ? desired
        : { ...desired, spec: { ...asRecord(desired['spec']), replicas: null } };
    const applied = await applyIfChanged(this.#kube, desired, p.primary, { hashInput });
    if (applied) {
      ctx.log.info(
        `Deployment ${dotted(desired.metadata.name, desired.metadata.namespace)} ${p.primary ? 'updated' : 'created'}`,
        {
          object: desired.metadata.name,
        },
      );
    }
  }

  async #scaleFromZero(ctx: Ctx, canary: Canary, target: KubeObject): Promise<KubeObject | undefined> {
    const own = replicasOf(target);
    let replicas = 1;
    const ref = canary.spec.autoscalerRef;
    if (own !== undefined && own > 0) {
      replicas = own;
    } else if (ref === undefined) {
      const fromPrimary = replicasOf(this.#primary(canary));
      if (fromPrimary !== undefined && fromPrimary > 0) replicas = fromPrimary;
    } else if (ref.kind === 'HorizontalPodAutoscaler') {
      const hpa = cachedObject(this.#kube, Resources.hpa, {
        namespace: canary.metadata.namespace ?? '',
        name: ref.name,
      });
      const min = asNumber(asRecord(hpa?.['spec'])?.['minReplicas']);
      if (min !== undefined && min > 1) replicas = min;
    } else {
      throw new UnsupportedError(`${ref.kind} autoscalers are not supported yet`);
    }
    if (own === replicas) return undefined;
    return this.#scale(ctx, canary, replicas);
  }

  /** Merge-patches the target's `spec.replicas` (never its status). */
  async #scale(ctx: Ctx, canary: Canary, replicas: number): Promise<KubeObject> {
    const namespace = canary.metadata.namespace ?? '';
    const name = canary.spec.targetRef.name;
    ctx.log.info(`scaling deployment ${dotted(name, namespace)} to ${replicas}`, { object: name, replicas });
    return this.#kube.mergePatch(Resources.deployment, { namespace, name }, { spec: { replicas } });
  }

  #cachedTarget(canary: Canary): KubeObject | undefined {
    const namespace = canary.metadata.namespace ?? '';
    return cachedObject(this.#kube, Resources.deployment, { namespace, name: canary.spec.targetRef.name });
  }

  /** The target from the cache; NotFoundError when missing. */
  #target(canary: Canary): KubeObject {
    const target = this.#cachedTarget(canary);
    if (target === undefined) {
      const name = dotted(canary.spec.targetRef.name, canary.metadata.namespace);
      throw new NotFoundError(`Deployment ${name} not found`, 404, 'NotFound');
    }
    return target;
  }

  #primary(canary: Canary): KubeObject | undefined {
    const namespace = canary.metadata.namespace ?? '';
    return cachedObject(this.#kube, Resources.deployment, { namespace, name: primaryName(canary.spec.targetRef.name) });
  }

  /** The first configured selector label present in `spec.selector.matchLabels` (Flagger `getSelectorLabel`). */
  #selector(target: KubeObject): Selector {
    return selectorOf(target, this.#selectorLabels);
  }
}
