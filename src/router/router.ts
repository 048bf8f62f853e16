import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../controller/context.ts';

/** Traffic split between primary and canary; primary + canary = 100. */
export interface Weights {
  readonly primary: number;
  readonly canary: number;
  readonly mirrored: boolean;
}

/** Router manages the traffic-splitting objects of one mesh or ingress (Flagger pkg/router). */
export interface Router {
  /** Creates or updates the routing objects; a new object routes all traffic to the primary. */
  reconcile(ctx: Ctx, canary: Canary): Promise<void>;
  setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void>;
  /** The weights the routing object carries now: the source of truth for the current step. */
  getRoutes(ctx: Ctx, canary: Canary): Promise<Weights>;
  /** Reverts routing objects to their pre-operator state (spec.revertOnDeletion). */
  finalize(ctx: Ctx, canary: Canary): Promise<void>;
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
