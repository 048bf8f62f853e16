import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import type { PrimaryComparison } from './adoption.ts';

/** Outcome of a readiness check (Flagger's `(bool, error)` of IsPrimaryReady/IsCanaryReady). */
export interface Readiness {
  readonly ready: boolean;
  /** When not ready: true means "wait and check again", false means "give up" (e.g. progress deadline). */
  readonly retriable: boolean;
  readonly message: string;
}

/** Selector label and ports discovered on the target (Flagger's GetMetadata). */
export interface TargetMetadata {
  /** The first of the configured selector labels present in spec.selector.matchLabels. */
  readonly labelKey: string;
  readonly labelValue: string;
  /** Extra container ports found with service.portDiscovery, by port name. */
  readonly ports: Readonly<Record<string, number>>;
}

/** What identifies a revision of the target: pod template and tracked configs together. */
export interface Revision {
  /** sha256 over canonical JSON of the pod template and the tracked configs' checksums. */
  readonly hash: string;
  /** `configmap/<name>` / `secret/<name>` → checksum of the data. */
  readonly trackedConfigs: Readonly<Record<string, string>>;
  /** `<uid>/<generation>` of the target: when unchanged, the template is unchanged (Flagger #1673). */
  readonly fence: string;
}

/**
 * An object in the canary's namespace whose change ticks the canary at once instead of at its next
 * interval. The controller of the target kind decides which objects these are and which of their
 * changes count, so the control loop needs no knowledge of target kinds.
 */
export interface Dependency {
  readonly type: ResourceType;
  readonly name: string;
  /**
   * `target`: the workload (its pod template also decides the other dependencies) and `config`: a
   * tracked ConfigMap/Secret — a change is a new revision; `autoscaler`: reconciled, not a revision.
   */
  readonly role: 'target' | 'config' | 'autoscaler';
  /** The part of the object whose change matters: equal fingerprints (as JSON) mean "no change". */
  fingerprint(obj: KubeObject): unknown;
}

/**
 * TargetController manages the workload a Canary points at and its `-primary` clone
 * (Flagger's pkg/canary Controller). Reads come from informer caches; writes happen only when
 * the desired state differs from the cached one.
 */
export interface TargetController {
  /** Throws InvalidCanaryError when the target has no selector label, NotFoundError when missing. */
  metadata(ctx: Ctx, canary: Canary): TargetMetadata;
  /** The objects whose changes tick the canary at once. Reads caches only; never throws. */
  dependencies(canary: Canary): readonly Dependency[];
  /** The target's current revision. */
  revision(ctx: Ctx, canary: Canary): Revision;
  /** Creates (or re-syncs) the primary workload and the `-primary` config copies. */
  initialize(ctx: Ctx, canary: Canary): Promise<void>;
  isPrimaryReady(ctx: Ctx, canary: Canary): Readiness;
  isCanaryReady(ctx: Ctx, canary: Canary): Readiness;
  /** True when the primary already runs the revision `hash` (it was promoted, whatever the status says). */
  primaryRuns(ctx: Ctx, canary: Canary, hash: string): boolean;
  /**
   * Whether the primary already runs the target's current pod template and config data, compared
   * up to the rewrites of the primary's copy (adopting a canary from Flagger, whose revision hash
   * Fledge can't compute).
   */
  compareWithPrimary(ctx: Ctx, canary: Canary): PrimaryComparison;
  /** Copies the target's template and configs to the primary. Idempotent for one revision. */
  promote(ctx: Ctx, canary: Canary): Promise<void>;
  scaleToZero(ctx: Ctx, canary: Canary): Promise<void>;
  scaleFromZero(ctx: Ctx, canary: Canary): Promise<void>;
  /** Creates or updates `<hpa>-primary`; with init=false syncs spec changes (at promotion). */
  reconcileAutoscaler(ctx: Ctx, canary: Canary, init: boolean): Promise<void>;
  /** revertOnDeletion: restores the target's replicas and waits for it to be ready. */
  finalize(ctx: Ctx, canary: Canary): Promise<Readiness>;
}
