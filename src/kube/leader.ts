import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { type Clock, type Timer, jittered, sleep, systemClock } from '../core/clock.ts';
import { AlreadyExistsError, ConflictError } from './errors.ts';
import { OperatorError } from '../core/errors.ts';
import { formatMicroTime, isRecord } from './json.ts';
import type { KubeObject, ObjectKey } from './objects.ts';
import type { KubeClient } from './port.ts';
import { Resources } from './resources.ts';

/** Default Lease name (Flagger's chart uses the same election id). */
export const DEFAULT_LEASE_NAME = 'fledge-leader-election';

/** Options of {@link LeaderElector}. Timing defaults are client-go's. */
export interface LeaderElectionOptions {
  readonly kube: KubeClient;
  /** Namespace of the Lease (usually the operator's own). */
  readonly namespace: string;
  /** Lease name (default `fledge-leader-election`). */
  readonly name?: string;
  /** Unique per replica (default `<hostname>_<uuid>`). */
  readonly identity?: string;
  /** How long non-leaders wait after the last observed renewal before taking over (default 15 s). */
  readonly leaseDurationMs?: number;
  /** The leader steps down when it could not renew for this long (default 10 s); < leaseDuration. */
  readonly renewDeadlineMs?: number;
  /** Pause between acquire or renew attempts (default 2 s, jittered up to +20% while campaigning). */
  readonly retryPeriodMs?: number;
  /** On stop(), hand the lease over at once instead of letting it expire (default true). */
  readonly releaseOnStop?: boolean;
  /**
   * Called when this replica becomes leader. `signal` aborts when leadership ends; a returned
   * promise should settle once the leader's work has stopped (stop() waits for it before releasing).
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost, or stop()). */
  readonly onStoppedLeading?: () => void;
  /** Called when the observed leader changes (including to this replica). */
  readonly onNewLeader?: (identity: string) => void;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Random source for jitter (tests pin it). */
  readonly random?: () => number;
}

/** The fields of `Lease.spec` the election reads. */
interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly leaseTransitions: number;
}

/** One period of leadership. */
interface Term {
  readonly controller: AbortController;
  readonly work: Promise<void>;
  deadline: Timer | undefined;
}

function readRecord(lease: KubeObject): LeaseRecord {
  const spec = isRecord(lease['spec']) ? lease['spec'] : {};
  return {
    holderIdentity: typeof spec['holderIdentity'] === 'string' ? spec['holderIdentity'] : '',
    leaseDurationSeconds: typeof spec['leaseDurationSeconds'] === 'number' ? spec['leaseDurationSeconds'] : 0,
    acquireTime: typeof spec['acquireTime'] === 'string' ? spec['acquireTime'] : undefined,
    leaseTransitions: typeof spec['leaseTransitions'] === 'number' ? spec['leaseTransitions'] : 0,
  };
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, after client-go's `leaderelection`:
 *
 * - a candidate takes the Lease only when it is free, or when its record has not changed for
 *   `leaseDurationSeconds` as measured on the candidate's own clock (no cross-node clock
 *   comparison), and only through a write guarded by the resourceVersion it read, so of two
 *   racing candidates one gets a conflict;
 * - the leader renews every retry period and steps down (aborting the signal) once
 *   `renewDeadline` has passed since the last renewal it *sent*. Because renewDeadline <
 *   leaseDuration, it has stopped before anyone else may start.
 *
 * After losing leadership the elector campaigns again. Runs over the {@link KubeClient} port, so
 * FakeKube can drive it in unit tests.
 */
export class LeaderElector {
  readonly identity: string;
  readonly #kube: KubeClient;
  readonly #key: ObjectKey;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnStop: boolean;
  readonly #options: LeaderElectionOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #stopController = new AbortController();
  #loop: Promise<void> | undefined;
  #term: Term | undefined;
  /** The Lease as last read or written, and when (our clock) its record last changed. */
  #observed: { raw: string; record: LeaseRecord; resourceVersion: string; at: number } | undefined;
  #lastLeader = '';
  #lastError = '';

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#kube = options.kube;
    this.#key = { namespace: options.namespace, name: options.name ?? DEFAULT_LEASE_NAME };
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#releaseOnStop = options.releaseOnStop ?? true;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.log.child({ lease: `${this.#key.namespace}/${this.#key.name}`, identity: this.identity });
    if (this.#renewDeadlineMs >= this.#leaseDurationMs) {
      throw new OperatorError('leader election: renewDeadline must be shorter than leaseDuration');
    }
    if (this.#retryPeriodMs * 1.2 >= this.#renewDeadlineMs) {
      throw new OperatorError('leader election: renewDeadline must exceed 1.2 × retryPeriod');
    }
  }

  /** Starts campaigning (idempotent). */
  start(): void {
    if (this.#loop || this.#stopController.signal.aborted) return;
    this.#loop = this.#run();
  }

  /**
   * Stops campaigning; if leading, ends the term, waits (up to renewDeadline) for the leader's work
   * to settle and then releases the Lease so another replica takes over without waiting for expiry.
   */
  async stop(): Promise<void> {
    this.#stopController.abort();
    const term = this.#term;
    if (term) this.#endTerm(term, 'stopped');
    await this.#loop;
    if (term) await Promise.race([term.work, sleep(this.#clock, this.#renewDeadlineMs)]);
    if (this.#releaseOnStop) await this.#release();
  }

  /** Whether this replica currently leads. */
  isLeader(): boolean {
    return this.#term !== undefined;
  }

  /** The holder of the Lease as last observed ('' when free or unknown). */
  leader(): string {
    return this.#observed?.record.holderIdentity ?? '';
  }

  get #stopped(): boolean {
    return this.#stopController.signal.aborted;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const sentAt = this.#clock.now();
      if (await this.#tryAcquireOrRenew()) {
        // Won just as stop() was called: do not start leading; stop() releases the lease.
        if (this.#stopped) break;
        await this.#lead(sentAt);
      } else {
        await sleep(this.#clock, jittered(this.#retryPeriodMs * 1.1, 0.2, this.#random), this.#stopController.signal);
      }
    }
  }

  /** Holds leadership until renewals fail past the deadline or stop() is called. */
  async #lead(acquiredSentAt: number): Promise<void> {
    const controller = new AbortController();
    this.#log.info('became leader');
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.#options.onStartedLeading(controller.signal));
    } catch (err) {
      work = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const term: Term = {
      controller,
      work: work.catch((err: unknown) => this.#log.error('onStartedLeading failed', { error: err })),
      deadline: undefined,
    };
    this.#term = term;
    this.#armDeadline(term, acquiredSentAt);
    while (this.#term === term) {
      await sleep(this.#clock, this.#retryPeriodMs, controller.signal);
      if (this.#term !== term) break;
      const sentAt = this.#clock.now();
      const renewed = await this.#tryAcquireOrRenew();
      // A renewal that completes after the deadline fired does not revive the term.
      if (renewed && this.#term === term) this.#armDeadline(term, sentAt);
    }
  }

  #armDeadline(term: Term, sentAt: number): void {
    term.deadline?.cancel();
    term.deadline = this.#clock.setTimeout(
      () => this.#endTerm(term, 'lost'),
      sentAt + this.#renewDeadlineMs - this.#clock.now(),
    );
  }

  #endTerm(term: Term, why: 'lost' | 'stopped'): void {
    if (this.#term !== term) return;
    this.#term = undefined;
    term.deadline?.cancel();
    term.controller.abort();
    if (why === 'lost') this.#log.warn('leadership lost: could not renew the lease before the deadline');
    else this.#log.info('stepping down');
    try {
      this.#options.onStoppedLeading?.();
    } catch (err) {
      this.#log.error('onStoppedLeading failed', { error: err });
    }
  }

  /** One attempt; true when this replica holds the Lease afterwards. Never throws. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    try {
      const lease = await this.#kube.get(Resources.lease, this.#key);
      if (!lease) {
        const created = await this.#kube.create({
          apiVersion: Resources.lease.apiVersion,
          kind: Resources.lease.kind,
          metadata: { name: this.#key.name, namespace: this.#key.namespace ?? '' },
          spec: this.#spec(now, undefined),
        });
        this.#observe(created);
        return true;
      }
      this.#observe(lease);
      const observed = this.#observed;
      if (!observed) return false;
      const { record } = observed;
      const held = record.holderIdentity !== '' && record.holderIdentity !== this.identity;
      if (held && observed.at + record.leaseDurationSeconds * 1000 > now) return false;
      const updated = await this.#kube.mergePatch(Resources.lease, this.#key, {
        metadata: { resourceVersion: observed.resourceVersion },
        spec: this.#spec(now, record),
      });
      this.#observe(updated);
      this.#lastError = '';
      return this.#observed?.record.holderIdentity === this.identity;
    } catch (err) {
      // Racing candidates: the other one won this round.
      if (err instanceof AlreadyExistsError || err instanceof ConflictError) return false;
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.#lastError) this.#log.warn('lease acquire/renew failed', { error: err });
      this.#lastError = message;
      return false;
    }
  }

  #spec(now: number, previous: LeaseRecord | undefined): Record<string, unknown> {
    const renewing = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#leaseDurationMs / 1000)),
      acquireTime: renewing && previous.acquireTime ? previous.acquireTime : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions:
        previous === undefined ? 0 : renewing ? previous.leaseTransitions : previous.leaseTransitions + 1,
    };
  }

  #observe(lease: KubeObject): void {
    const record = readRecord(lease);
    const raw = JSON.stringify(lease['spec'] ?? null);
    const resourceVersion = lease.metadata.resourceVersion ?? '';
    if (this.#observed?.raw !== raw) {
      this.#observed = { raw, record, resourceVersion, at: this.#clock.now() };
    } else {
      this.#observed = { ...this.#observed, resourceVersion };
    }
    if (record.holderIdentity !== this.#lastLeader) {
      this.#lastLeader = record.holderIdentity;
      if (record.holderIdentity !== '') {
        this.#log.info('new leader observed', { leader: record.holderIdentity });
        try {
          this.#options.onNewLeader?.(record.holderIdentity);
        } catch (err) {
          this.#log.error('onNewLeader failed', { error: err });
        }
      }
    }
  }

  /** Frees the Lease if we still hold the version we last wrote (a conflict means someone took it). */
  async #release(): Promise<void> {
    const observed = this.#observed;
    if (observed?.record.holderIdentity !== this.identity) return;
    const now = this.#clock.now();
    try {
      const released = await this.#kube.mergePatch(Resources.lease, this.#key, {
        metadata: { resourceVersion: observed.resourceVersion },
        spec: {
          holderIdentity: null,
          leaseDurationSeconds: 1,
          acquireTime: formatMicroTime(now),
          renewTime: formatMicroTime(now),
        },
      });
      this.#observe(released);
      this.#log.info('lease released');
    } catch (err) {
      this.#log.warn('could not release the lease', { error: err });
    }
  }
}
