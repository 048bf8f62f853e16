/**
 * The router of provider `kubernetes` (Flagger pkg/router/nop.go NopRouter): Blue/Green without
 * traffic shifting. The apex Service always selects the primary; the canary is reached only
 * through `<apex>-canary` (load tests, webhooks), so there are no routing objects to manage.
 */
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';

/** Routes nothing; reports all traffic on the canary once an iteration has run (for status and metrics). */
export class NopRouter implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: false,
    abTesting: false,
    mirroring: false,
    sessionAffinity: false,
  };

  reconcile(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }

  setRoutes(_ctx: Ctx, _canary: Canary, _weights: Weights): Promise<void> {
    return Promise.resolve();
  }

  /** `{primary: 0, canary: 100}` once `status.iterations > 0`, else `{primary: 100, canary: 0}`; never mirrored. */
  getRoutes(_ctx: Ctx, canary: Canary): Promise<Weights> {
    const started = (canary.status?.iterations ?? 0) > 0;
    return Promise.resolve({ primary: started ? 0 : 100, canary: started ? 100 : 0, mirrored: false });
  }

  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }
}
