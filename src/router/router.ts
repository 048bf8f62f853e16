import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';

/** Traffic split between primary and canary; primary + canary = 100. */
export interface Weights {
  readonly primary: number;
  readonly canary: number;
  readonly mirrored: boolean;
}

/**
 * What a router can do, so the scheduler asks the router instead of comparing provider names.
 * Flagger's support matrix (flagger-reference §3) is the source of each router's values.
 */
export interface RouterCapabilities {
  /** Splits traffic by weight; false means Blue/Green only (the `kubernetes` provider). */
  readonly weights: boolean;
  /** Routes by `analysis.match` (A/B testing). */
  readonly abTesting: boolean;
  /** Mirrors traffic to the canary (`analysis.mirror`). */
  readonly mirroring: boolean;
  /** Pins users to a side with a cookie (`analysis.sessionAffinity`). */
  readonly sessionAffinity: boolean;
}

/** Router manages the traffic-splitting objects of one mesh or ingress (Flagger pkg/router). */
export interface Router {
  readonly capabilities: RouterCapabilities;
  /** Creates or updates the routing objects; a new object routes all traffic to the primary. */
  reconcile(ctx: Ctx, canary: Canary): Promise<void>;
  setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void>;
  /** The weights the routing object carries now: the source of truth for the current step. */
  getRoutes(ctx: Ctx, canary: Canary): Promise<Weights>;
  /** Reverts routing objects to their pre-operator state (spec.revertOnDeletion). */
  finalize(ctx: Ctx, canary: Canary): Promise<void>;
  /**
   * Deletes what garbage collection can't (cluster-scoped objects have no namespaced owner). The
   * scheduler must call it on every deletion of the Canary, with or without revertOnDeletion, and so
   * keep `finalizer.flagger.app` on every Canary whose router has it.
   */
  cleanup?(ctx: Ctx, canary: Canary): Promise<void>;
}

/** Manages the apex, `-primary` and `-canary` ClusterIP Services (Flagger's KubernetesRouter). */
export interface ServiceRouter {
  /** Creates/updates `-primary` and `-canary` Services. */
  initialize(ctx: Ctx, canary: Canary): Promise<void>;
  /** Creates/updates (or takes over) the apex Service, selecting the primary pods. */
  reconcile(ctx: Ctx, canary: Canary): Promise<void>;
  /** revertOnDeletion: points the apex Service back at the target's pods. */
  finalize(ctx: Ctx, canary: Canary): Promise<void>;
}
