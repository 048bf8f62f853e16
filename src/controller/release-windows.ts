/**
 * Release windows (Fledge extension, `analysis.releaseWindows`): cron schedules with a duration, in
 * a time zone, during which a canary may increase traffic and be promoted; blackouts work the other
 * way round. Pure: the caller passes the time, so tests inject any clock.
 *
 * A window is open at `t` when its schedule fired at some `f ≤ t` with `t < f + duration`. The
 * latest firing at or before `t` decides (an earlier one that still covers `t` implies the latest
 * does too). Schedules are evaluated in `timeZone` (default UTC) by cron-parser, so `0 9 * * 1-5`
 * means 09:00 local time on both sides of a DST change.
 */
import { CronExpressionParser } from 'cron-parser';
import type { ReleaseWindow, ReleaseWindows } from '../apis/flagger/v1beta1/types.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject } from '../kube/objects.ts';

/** Why the canary may not advance now. */
export type HoldReason = 'OutsideReleaseWindow' | 'InBlackout' | 'Frozen';

/** The outcome of {@link evaluateReleaseWindows}. */
export type WindowDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly reason: HoldReason;
      /** For the condition, Event and alert: which rule holds, and until when (ISO, UTC) when known. */
      readonly message: string;
      /** When the hold ends at the earliest (ms since the epoch), when known. */
      readonly until?: number;
    };

/** A releaseWindows spec that can't be evaluated (bad cron, time zone or duration). */
export class ReleaseWindowError extends Error {}

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000 };

/** `1h30m` → 5400000; throws {@link ReleaseWindowError} for anything else or zero. */
export function parseWindowDuration(text: string): number {
  if (!/^([0-9]+[hms])+$/.test(text)) throw new ReleaseWindowError(`invalid duration "${text}": use e.g. 8h, 1h30m`);
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+)([hms])/g)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  if (ms <= 0) throw new ReleaseWindowError(`invalid duration "${text}": must be longer than zero`);
  return ms;
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ReleaseWindowError(`unknown time zone "${tz}"`);
  }
}

/** The latest firing of `schedule` at or before `now`, and the next one after it (±Infinity when none). */
function firings(w: ReleaseWindow, tz: string, now: number): { prev: number; next: number } {
  const parse = (at: number): ReturnType<typeof CronExpressionParser.parse> => {
    try {
      return CronExpressionParser.parse(w.schedule, { currentDate: new Date(at), tz });
    } catch (err) {
      throw new ReleaseWindowError(
        `invalid schedule "${w.schedule}": ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  // prev() is strictly before currentDate: one millisecond later includes a firing exactly at now.
  const before = parse(now + 1);
  const after = parse(now);
  let prev = Number.NEGATIVE_INFINITY;
  let next = Number.POSITIVE_INFINITY;
  try {
    prev = before.prev().getTime();
  } catch {
    // never fired
  }
  try {
    next = after.next().getTime();
  } catch {
    // never fires again
  }
  return { prev, next };
}

/** Checks every schedule, duration and the time zone; throws {@link ReleaseWindowError} with the first problem. */
export function validateReleaseWindows(spec: ReleaseWindows, now = Date.now()): void {
  evaluateReleaseWindows(spec, now);
}

/**
 * Whether a canary may advance at `now`: inside some window (or no windows configured) and in no
 * blackout. Throws {@link ReleaseWindowError} for an invalid spec.
 */
export function evaluateReleaseWindows(spec: ReleaseWindows, now: number): WindowDecision {
  const tz = spec.timeZone || 'UTC';
  checkTimeZone(tz);
  const iso = (ms: number): string => new Date(ms).toISOString();

  let blackoutEnd: number | undefined;
  let blackout: ReleaseWindow | undefined;
  for (const b of spec.blackouts ?? []) {
    const duration = parseWindowDuration(b.duration);
    const { prev } = firings(b, tz, now);
    if (prev <= now && now < prev + duration && (blackoutEnd === undefined || prev + duration > blackoutEnd)) {
      blackoutEnd = prev + duration;
      blackout = b;
    }
  }

  const windows = spec.windows ?? [];
  let inWindow = windows.length === 0;
  let nextOpen: number | undefined;
  for (const w of windows) {
    const duration = parseWindowDuration(w.duration);
    const { prev, next } = firings(w, tz, now);
    if (prev <= now && now < prev + duration) inWindow = true;
    if (Number.isFinite(next) && (nextOpen === undefined || next < nextOpen)) nextOpen = next;
  }

  if (blackout !== undefined && blackoutEnd !== undefined) {
    return {
      allowed: false,
      reason: 'InBlackout',
      message: `inside blackout "${blackout.schedule}" for ${blackout.duration} (${tz}) until ${iso(blackoutEnd)}`,
      until: blackoutEnd,
    };
  }
  if (!inWindow) {
    return {
      allowed: false,
      reason: 'OutsideReleaseWindow',
      message:
        nextOpen === undefined
          ? `outside every release window (${tz})`
          : `outside every release window (${tz}); the next opens at ${iso(nextOpen)}`,
      ...(nextOpen === undefined ? {} : { until: nextOpen }),
    };
  }
  return { allowed: true };
}

/**
 * The name of the ConfigMap that freezes canaries; `data.reason` says why. In a canary's namespace it
 * freezes that namespace; in the operator's freeze namespace (`-freeze-namespace`, default the
 * operator's own namespace) it freezes every canary the operator manages.
 */
export const FREEZE_CONFIGMAP = 'fledge-freeze';

/** A freeze in force: where it comes from and why. */
export interface Freeze {
  /** e.g. `ConfigMap test/fledge-freeze`, or `ConfigMap fledge-system/fledge-freeze (cluster-wide)`. */
  readonly source: string;
  readonly reason: string;
  /** A second freeze in force at the same time (the namespace's, next to a cluster-wide one). */
  readonly also?: Freeze;
}

/** What a `fledge-freeze` ConfigMap freezes: its own namespace, or everything the operator manages. */
export type FreezeScope = 'namespace' | 'cluster';

/** The freeze a `fledge-freeze` ConfigMap (as read from the cache) declares, if any. */
export function freezeOf(configMap: KubeObject | undefined, scope: FreezeScope = 'namespace'): Freeze | undefined {
  if (configMap === undefined) return undefined;
  const data = configMap['data'];
  const reason = isRecord(data) ? data['reason'] : undefined;
  const name = `${configMap.metadata.namespace ?? ''}/${configMap.metadata.name ?? FREEZE_CONFIGMAP}`;
  return {
    source: `ConfigMap ${name}${scope === 'cluster' ? ' (cluster-wide)' : ''}`,
    reason: typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : 'no reason given',
  };
}

/**
 * The freeze holding a canary, from the cluster-wide and its namespace's `fledge-freeze`
 * ConfigMaps: the cluster-wide one first, with the namespace's as {@link Freeze.also} when both
 * exist, so the message names both.
 */
export function combineFreezes(clusterWide: Freeze | undefined, namespaced: Freeze | undefined): Freeze | undefined {
  if (clusterWide === undefined) return namespaced;
  if (namespaced === undefined) return clusterWide;
  return { ...clusterWide, also: namespaced };
}

/**
 * A freeze holds whatever the windows say. The message is `frozen by <source>: <reason>`, followed by
 * `; also by <source>: <reason>` when a second freeze is in force.
 */
export function freezeDecision(freeze: Freeze): WindowDecision {
  const parts: string[] = [];
  for (let f: Freeze | undefined = freeze; f !== undefined; f = f.also) parts.push(`${f.source}: ${f.reason}`);
  return { allowed: false, reason: 'Frozen', message: `frozen by ${parts.join('; also by ')}` };
}

/**
 * The freeze holding a canary of `namespace`: its namespace's `fledge-freeze` ConfigMap and, when
 * `freezeNamespace` is set, the cluster-wide one there. A canary that lives in the freeze namespace
 * itself sees that ConfigMap once, as its namespace's freeze. `read` returns the ConfigMap
 * `fledge-freeze` of a namespace (from a cache), or undefined.
 */
export async function freezeFor(
  namespace: string,
  freezeNamespace: string | undefined,
  read: (namespace: string) => Promise<KubeObject | undefined>,
): Promise<Freeze | undefined> {
  const clusterWide = freezeNamespace !== undefined && freezeNamespace !== namespace;
  const [own, global] = await Promise.all([
    read(namespace),
    clusterWide ? read(freezeNamespace) : Promise.resolve(undefined),
  ]);
  return combineFreezes(freezeOf(global, 'cluster'), freezeOf(own));
}
