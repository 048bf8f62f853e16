import { describe, expect, it } from 'vitest';
import {
  FREEZE_CONFIGMAP,
  type Freeze,
  ReleaseWindowError,
  combineFreezes,
  evaluateReleaseWindows,
  freezeDecision,
  freezeFor,
  freezeOf,
  parseWindowDuration,
  validateReleaseWindows,
} from './release-windows.ts';

const at = (iso: string): number => Date.parse(iso);

describe('parseWindowDuration', () => {
  it('reads hours, minutes and seconds', () => {
    expect(parseWindowDuration('8h')).toBe(8 * 3_600_000);
    expect(parseWindowDuration('1h30m')).toBe(90 * 60_000);
    expect(parseWindowDuration('90s')).toBe(90_000);
  });
  it('refuses other units and zero', () => {
    expect(() => parseWindowDuration('2d')).toThrow(ReleaseWindowError);
    expect(() => parseWindowDuration('0m')).toThrow('must be longer than zero');
    expect(() => parseWindowDuration('')).toThrow(ReleaseWindowError);
  });
});

describe('evaluateReleaseWindows', () => {
  const office = { timeZone: 'Europe/Berlin', windows: [{ schedule: '0 9 * * 1-5', duration: '8h' }] };

  it('allows inside a window, from its first instant to just before its end', () => {
    // Tuesday 2026-01-13: CET (UTC+1), so 09:00–17:00 local is 08:00–16:00Z.
    expect(evaluateReleaseWindows(office, at('2026-01-13T08:00:00Z'))).toEqual({ allowed: true });
    expect(evaluateReleaseWindows(office, at('2026-01-13T15:59:59Z'))).toEqual({ allowed: true });
    expect(evaluateReleaseWindows(office, at('2026-01-13T16:00:00Z'))).toMatchObject({
      allowed: false,
      reason: 'OutsideReleaseWindow',
    });
    expect(evaluateReleaseWindows(office, at('2026-01-13T07:59:59Z'))).toEqual({
      allowed: false,
      reason: 'OutsideReleaseWindow',
      message: 'outside every release window (Europe/Berlin); the next opens at 2026-01-13T08:00:00.000Z',
      until: at('2026-01-13T08:00:00Z'),
    });
  });

  it('holds at the weekend and names Monday as the next opening', () => {
    const d = evaluateReleaseWindows(office, at('2026-01-17T10:00:00Z'));
    expect(d).toMatchObject({ allowed: false, until: at('2026-01-19T08:00:00Z') });
  });

  it('follows local time across the spring DST change', () => {
    const daily = { timeZone: 'Europe/Berlin', windows: [{ schedule: '0 9 * * *', duration: '1h' }] };
    // Saturday 2026-03-28 is CET (UTC+1): 09:00 local = 08:00Z.
    expect(evaluateReleaseWindows(daily, at('2026-03-28T07:30:00Z')).allowed).toBe(false);
    expect(evaluateReleaseWindows(daily, at('2026-03-28T08:30:00Z')).allowed).toBe(true);
    // Sunday 2026-03-29 is CEST (UTC+2) from 02:00 on: 09:00 local = 07:00Z.
    expect(evaluateReleaseWindows(daily, at('2026-03-29T07:30:00Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(daily, at('2026-03-29T08:30:00Z')).allowed).toBe(false);
  });

  it('follows local time across the autumn DST change, in America/New_York', () => {
    const daily = { timeZone: 'America/New_York', windows: [{ schedule: '0 9 * * *', duration: '1h' }] };
    // 2026-10-31 is EDT (UTC-4), 2026-11-01 EST (UTC-5).
    expect(evaluateReleaseWindows(daily, at('2026-10-31T13:30:00Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(daily, at('2026-11-01T13:30:00Z')).allowed).toBe(false);
    expect(evaluateReleaseWindows(daily, at('2026-11-01T14:30:00Z')).allowed).toBe(true);
  });

  it('keeps a window that spans midnight open into the next day', () => {
    const night = { windows: [{ schedule: '0 22 * * *', duration: '4h' }] };
    expect(evaluateReleaseWindows(night, at('2026-05-01T23:59:59Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(night, at('2026-05-02T00:00:00Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(night, at('2026-05-02T01:59:59Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(night, at('2026-05-02T02:00:00Z')).allowed).toBe(false);
    expect(evaluateReleaseWindows(night, at('2026-05-02T21:00:00Z')).allowed).toBe(false);
  });

  it('lets a blackout win over a window, and says until when', () => {
    const spec = {
      timeZone: 'UTC',
      windows: [{ schedule: '0 0 * * *', duration: '24h' }],
      blackouts: [{ schedule: '0 0 24 12 *', duration: '48h' }],
    };
    expect(evaluateReleaseWindows(spec, at('2026-12-23T23:59:59Z'))).toEqual({ allowed: true });
    expect(evaluateReleaseWindows(spec, at('2026-12-25T12:00:00Z'))).toEqual({
      allowed: false,
      reason: 'InBlackout',
      message: 'inside blackout "0 0 24 12 *" for 48h (UTC) until 2026-12-26T00:00:00.000Z',
      until: at('2026-12-26T00:00:00Z'),
    });
    expect(evaluateReleaseWindows(spec, at('2026-12-26T00:00:00Z'))).toEqual({ allowed: true });
  });

  it('without windows, only blackouts hold', () => {
    const spec = { blackouts: [{ schedule: '0 18 * * 5', duration: '62h' }] };
    // Friday 18:00 → Monday 08:00 UTC.
    expect(evaluateReleaseWindows(spec, at('2026-01-16T17:59:00Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows(spec, at('2026-01-18T12:00:00Z'))).toMatchObject({ reason: 'InBlackout' });
    expect(evaluateReleaseWindows(spec, at('2026-01-19T08:00:00Z')).allowed).toBe(true);
    expect(evaluateReleaseWindows({}, at('2026-01-18T12:00:00Z'))).toEqual({ allowed: true });
  });

  it('rejects a bad schedule, time zone or duration', () => {
    const now = at('2026-01-13T08:00:00Z');
    expect(() => validateReleaseWindows({ windows: [{ schedule: '61 9 * * *', duration: '1h' }] }, now)).toThrow(
      /^invalid schedule "61 9 \* \* \*"/,
    );
    expect(() =>
      validateReleaseWindows({ timeZone: 'Mars/Olympus', windows: [{ schedule: '0 9 * * *', duration: '1h' }] }, now),
    ).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => validateReleaseWindows({ blackouts: [{ schedule: '0 9 * * *', duration: '1w' }] }, now)).toThrow(
      'invalid duration "1w"',
    );
  });
});

describe('freezeOf', () => {
  const cm = (data?: Record<string, string>): Parameters<typeof freezeOf>[0] => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: FREEZE_CONFIGMAP, namespace: 'test' },
    ...(data === undefined ? {} : { data }),
  });
  it('reads the reason, and says when there is none', () => {
    expect(freezeOf(undefined)).toBeUndefined();
    expect(freezeOf(cm({ reason: ' release freeze \n' }))).toEqual({
      source: 'ConfigMap test/fledge-freeze',
      reason: 'release freeze',
    });
    expect(freezeOf(cm())?.reason).toBe('no reason given');
    expect(freezeDecision({ source: 'ConfigMap test/fledge-freeze', reason: 'audit' })).toEqual({
      allowed: false,
      reason: 'Frozen',
      message: 'frozen by ConfigMap test/fledge-freeze: audit',
    });
  });
});

describe('cluster-wide freeze', () => {
  const messageOf = (f: Freeze | undefined): string | undefined => {
    const d = f === undefined ? undefined : freezeDecision(f);
    return d?.allowed === false ? d.message : undefined;
  };
  const cm = (namespace: string, reason?: string): NonNullable<Parameters<typeof freezeOf>[0]> => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: FREEZE_CONFIGMAP, namespace },
    ...(reason === undefined ? {} : { data: { reason } }),
  });
  /** A cache of `fledge-freeze` ConfigMaps by namespace, recording which namespaces were read. */
  const cache = (...maps: ReturnType<typeof cm>[]) => {
    const reads: string[] = [];
    const read = (namespace: string) => {
      reads.push(namespace);
      return Promise.resolve(maps.find((m) => m.metadata.namespace === namespace));
    };
    return { reads, read };
  };

  it('marks the source of a cluster-wide ConfigMap', () => {
    expect(freezeOf(cm('fledge-system', 'audit'), 'cluster')).toEqual({
      source: 'ConfigMap fledge-system/fledge-freeze (cluster-wide)',
      reason: 'audit',
    });
  });

  it('holds a canary of any namespace by the ConfigMap in the freeze namespace', async () => {
    const { reads, read } = cache(cm('fledge-system', 'year-end freeze'));
    const freeze = await freezeFor('apps', 'fledge-system', read);
    expect(reads.sort()).toEqual(['apps', 'fledge-system']);
    expect(freeze && freezeDecision(freeze)).toEqual({
      allowed: false,
      reason: 'Frozen',
      message: 'frozen by ConfigMap fledge-system/fledge-freeze (cluster-wide): year-end freeze',
    });
  });

  it('still holds by the namespace ConfigMap alone, and names both when both exist', async () => {
    const onlyNs = await freezeFor('apps', 'fledge-system', cache(cm('apps', 'incident 42')).read);
    expect(messageOf(onlyNs)).toBe('frozen by ConfigMap apps/fledge-freeze: incident 42');

    const both = await freezeFor('apps', 'fledge-system', cache(cm('apps', 'incident 42'), cm('fledge-system')).read);
    expect(messageOf(both)).toBe(
      'frozen by ConfigMap fledge-system/fledge-freeze (cluster-wide): no reason given; also by ConfigMap apps/fledge-freeze: incident 42',
    );
  });

  it('does not hold a canary when neither ConfigMap exists, nor by other namespaces', async () => {
    const { reads, read } = cache(cm('other', 'not ours'));
    expect(await freezeFor('apps', 'fledge-system', read)).toBeUndefined();
    expect(reads.sort()).toEqual(['apps', 'fledge-system']);
  });

  it('reads only the namespace ConfigMap when the cluster-wide freeze is disabled', async () => {
    const { reads, read } = cache(cm('fledge-system', 'ignored'));
    expect(await freezeFor('apps', undefined, read)).toBeUndefined();
    expect(reads).toEqual(['apps']);
  });

  it('reports the ConfigMap once, as the namespace freeze, for a canary in the freeze namespace', async () => {
    const { reads, read } = cache(cm('fledge-system', 'maintenance'));
    const freeze = await freezeFor('fledge-system', 'fledge-system', read);
    expect(reads).toEqual(['fledge-system']);
    expect(messageOf(freeze)).toBe('frozen by ConfigMap fledge-system/fledge-freeze: maintenance');
  });

  it('combineFreezes keeps either alone and puts the cluster-wide one first', () => {
    const a = { source: 'A', reason: 'a' };
    const b = { source: 'B', reason: 'b' };
    expect(combineFreezes(undefined, undefined)).toBeUndefined();
    expect(combineFreezes(a, undefined)).toBe(a);
    expect(combineFreezes(undefined, b)).toBe(b);
    expect(combineFreezes(a, b)).toEqual({ source: 'A', reason: 'a', also: b });
  });
});
