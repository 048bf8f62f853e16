import type { Logger } from '../log/logger.ts';

/** What every operation gets in place of Go's context + logger: cancellation and a scoped logger. */
export interface Ctx {
  readonly signal: AbortSignal;
  readonly log: Logger;
}
