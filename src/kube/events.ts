import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { NotFoundError } from './errors.ts';
import { formatMicroTime, formatTime } from './json.ts';
import type { KubeObject } from './objects.ts';
import { EVENT_SOURCE, type EventRecord, type KubeClient } from './port.ts';
import { Resources } from './resources.ts';

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** Where Events are written (the real client, or FakeKube in tests). */
  readonly kube: Pick<KubeClient, 'create' | 'mergePatch'>;
  readonly log: Logger;
  /** `reportingInstance` and `source.host` (default: the host name, i.e. the pod name). */
  readonly instance?: string;
  /** Repeats within this window update the existing Event (default 10 min). */
  readonly aggregateWindowMs?: number;
  /** Remembered Events, oldest evicted first (default 4096, as client-go's cache). */
  readonly maxEntries?: number;
  readonly clock?: Clock;
}

interface Seen {
  readonly namespace: string;
  readonly name: string;
  count: number;
  lastSeen: number;
}

// Limits the API server enforces on core/v1 Events that carry eventTime.
const MAX_MESSAGE = 1024;
const MAX_REASON = 128;
const MAX_NAME = 253;

/**
 * Records core/v1 Events the way client-go's recorder does: the first occurrence creates an Event
 * named `<object>.<hex nanoseconds>`; a repeat of the same object, type, reason and message within
 * the window patches that Event's `count` and `lastTimestamp` instead of creating another one.
 * Records of one key are serialized so concurrent repeats cannot create duplicates.
 * `record` never throws: the Event is a courtesy, failures are logged.
 */
export class EventRecorder {
  readonly #kube: Pick<KubeClient, 'create' | 'mergePatch'>;
  readonly #log: Logger;
  readonly #instance: string;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #seen = new Map<string, Seen>();
  readonly #chains = new Map<string, Promise<void>>();
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#kube = options.kube;
    this.#log = options.log;
    this.#instance = (options.instance ?? hostname()).slice(0, 128);
    this.#windowMs = options.aggregateWindowMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 4096;
    this.#clock = options.clock ?? systemClock;
  }

  /** Creates or aggregates the Event. Resolves when it is written (or failed and was logged). */
  record(event: EventRecord): Promise<void> {
    const key = aggregationKey(event);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#write(key, event));
    this.#chains.set(key, next);
    return next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #write(key: string, event: EventRecord): Promise<void> {
    const now = this.#clock.now();
    const seen = this.#seen.get(key);
    try {
      if (seen && now - seen.lastSeen < this.#windowMs) {
        const count = seen.count + 1;
        try {
          await this.#kube.mergePatch(
            Resources.event,
            { namespace: seen.namespace, name: seen.name },
            { count, lastTimestamp: formatTime(now) },
          );
          seen.count = count;
          seen.lastSeen = now;
          this.#remember(key, seen);
          return;
        } catch (err) {
          // Events expire (1 h TTL by default) or get deleted: start a new one.
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      const body = this.#build(event, now);
      await this.#kube.create(body);
      this.#remember(key, {
        namespace: body.metadata.namespace ?? 'default',
        name: body.metadata.name,
        count: 1,
        lastSeen: now,
      });
    } catch (err) {
      this.#log.warn('could not record event', {
        error: err,
        reason: event.reason,
        object: `${event.involved.kind}/${event.involved.metadata.name}`,
        ...(event.involved.metadata.namespace === undefined ? {} : { namespace: event.involved.metadata.namespace }),
      });
    }
  }

  #remember(key: string, seen: Seen): void {
    // Re-insert so Map order is least-recently-used first.
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    while (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (oldest.done === true) break;
      this.#seen.delete(oldest.value);
    }
  }

  #build(event: EventRecord, now: number): KubeObject & { metadata: { name: string; namespace: string } } {
    const o = event.involved;
    const namespace = o.metadata.namespace ?? 'default';
    // client-go names Events `<name>.<UnixNano in hex>`; the sequence keeps same-millisecond names apart.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16);
    const name = `${o.metadata.name.slice(0, MAX_NAME - suffix.length - 1)}.${suffix}`;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        ...(o.metadata.namespace === undefined ? {} : { namespace: o.metadata.namespace }),
        ...(o.metadata.uid === undefined ? {} : { uid: o.metadata.uid }),
        ...(o.metadata.resourceVersion === undefined ? {} : { resourceVersion: o.metadata.resourceVersion }),
      },
      type: event.type,
      reason: event.reason.slice(0, MAX_REASON),
      message: truncate(event.message, MAX_MESSAGE),
      // eventTime makes the server require reportingComponent, reportingInstance and action.
      action: (event.action ?? event.reason).slice(0, MAX_REASON),
      source: { component: EVENT_SOURCE, host: this.#instance },
      reportingComponent: EVENT_SOURCE,
      reportingInstance: this.#instance,
      firstTimestamp: formatTime(now),
      lastTimestamp: formatTime(now),
      eventTime: formatMicroTime(now),
      count: 1,
    };
  }
}

/** Cuts `s` to at most `maxBytes` UTF-8 bytes (the server counts bytes), marking the cut. */
function truncate(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s.slice(0, maxBytes - 3);
  while (Buffer.byteLength(out) > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

function aggregationKey(e: EventRecord): string {
  const o = e.involved;
  return JSON.stringify([
    o.apiVersion,
    o.kind,
    o.metadata.namespace ?? '',
    o.metadata.name,
    o.metadata.uid ?? '',
    e.type,
    e.reason.slice(0, MAX_REASON),
    truncate(e.message, MAX_MESSAGE),
  ]);
}
