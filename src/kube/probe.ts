import { type Clock, type Timer, systemClock } from '../core/clock.ts';
import type { ServerReachability } from './informer.ts';

/** Options of {@link ServerProbe}. */
export interface ServerProbeOptions {
  /** True when the API server answers and is ready (the client asks `GET /readyz`); never throws. */
  readonly ready: () => Promise<boolean>;
  readonly clock?: Clock;
  /** Pause between probes while someone waits (default 1 s). */
  readonly intervalMs?: number;
}

/**
 * One readiness probe for all the informers of a client. While any informer waits for the API
 * server (it failed in a way that says the server is down), it asks `ready()` every `intervalMs`
 * and wakes every waiter at the first success, so that watches recover within about a second of
 * the server's return instead of sleeping out a backoff of up to 30 s. One request per interval
 * however many informers wait; no timer and no request while nobody waits.
 */
export class ServerProbe implements ServerReachability {
  readonly #ready: () => Promise<boolean>;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #waiters = new Set<() => void>();
  #timer: Timer | undefined;
  #probing = false;
  #stopped = false;

  constructor(options: ServerProbeOptions) {
    this.#ready = options.ready;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? 1_000;
  }

  whenReachable(onUp: () => void): () => void {
    // Wrapped so that one function registered twice is two waiters.
    const waiter = (): void => onUp();
    this.#waiters.add(waiter);
    this.#arm();
    return () => {
      this.#waiters.delete(waiter);
      if (this.#waiters.size === 0) {
        this.#timer?.cancel();
        this.#timer = undefined;
      }
    };
  }

  /** Number of registered waiters (for tests). */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Cancels the pending probe; waiters are never called afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#waiters.clear();
  }

  #arm(): void {
    if (this.#stopped || this.#timer !== undefined || this.#probing || this.#waiters.size === 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#probe();
    }, this.#intervalMs);
  }

  async #probe(): Promise<void> {
    this.#probing = true;
    const up = await this.#ready().then(
      (ok) => ok,
      () => false,
    );
    this.#probing = false;
    if (this.#stopped) return;
    if (!up) {
      this.#arm();
      return;
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) {
      try {
        wake();
      } catch {
        // A waiter's failure must not keep the others asleep.
      }
    }
  }
}
