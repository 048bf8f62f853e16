import type { Logger } from '../log/logger.ts';

/** What every operation gets in place of Go's context + logger: cancellation and a scoped logger. */
export interface Ctx {
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** Time source; injected so tests step time instead of sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
