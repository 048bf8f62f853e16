import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, silentLogger } from '../log/logger.ts';
import { OperatorError } from '../core/errors.ts';
import { EventRecorder } from './events.ts';
import { FakeKube } from './fake.ts';
import type { KubeObject } from './objects.ts';
import type { EventRecord } from './port.ts';
import { Resources } from './resources.ts';

const canary: KubeObject = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: 'podinfo', namespace: 'test', uid: 'uid-1', resourceVersion: '42' },
};

const synced = (message = 'Initialization done! podinfo.test'): EventRecord => ({
  involved: canary,
  type: 'Normal',
  reason: 'Synced',
  message,
});

const eventsIn = async (kube: FakeKube): Promise<KubeObject[]> => kube.list(Resources.event, { namespace: 'test' });

describe('EventRecorder', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 5, 1, 12, 0, 0, 250) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const recorder = (kube: FakeKube, log = silentLogger): EventRecorder =>
    new EventRecorder({ kube, log, instance: 'fledge-7d9f-abcde' });

  it('creates a core/v1 Event that names the object, fledge as source, and all timestamps', async () => {
    const kube = new FakeKube();
    await recorder(kube).record(synced());
    const [event, ...rest] = await eventsIn(kube);
    expect(rest).toHaveLength(0);
    expect(event).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        name: 'podinfo',
        namespace: 'test',
        uid: 'uid-1',
        resourceVersion: '42',
      },
      type: 'Normal',
      reason: 'Synced',
      action: 'Synced',
      message: 'Initialization done! podinfo.test',
      source: { component: 'fledge', host: 'fledge-7d9f-abcde' },
      reportingComponent: 'fledge',
      reportingInstance: 'fledge-7d9f-abcde',
      firstTimestamp: '2026-06-01T12:00:00Z',
      lastTimestamp: '2026-06-01T12:00:00Z',
      eventTime: '2026-06-01T12:00:00.250000Z',
      count: 1,
    });
    expect(event?.metadata.namespace).toBe('test');
    expect(event?.metadata.name).toMatch(/^podinfo\.[0-9a-f]+$/);
  });

  it('aggregates a repeat within 10 minutes into count and lastTimestamp of the same Event', async () => {
    const kube = new FakeKube();
    const rec = recorder(kube);
    await rec.record(synced());
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    await rec.record(synced());
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    await rec.record(synced());
    const events = await eventsIn(kube);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      count: 3,
      firstTimestamp: '2026-06-01T12:00:00Z',
      lastTimestamp: '2026-06-01T12:09:00Z',
    });
    expect(kube.writes({ verb: 'patch', type: 'Event' }).map((w) => w.body)).toEqual([
      { count: 2, lastTimestamp: '2026-06-01T12:05:00Z' },
      { count: 3, lastTimestamp: '2026-06-01T12:09:00Z' },
    ]);
  });

  it('starts a new Event for another message, and after the window', async () => {
    const kube = new FakeKube();
    const rec = recorder(kube);
    await rec.record(synced('one'));
    await rec.record(synced('two'));
    expect(await eventsIn(kube)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await rec.record(synced('one'));
    expect(await eventsIn(kube)).toHaveLength(3);
  });

  it('creates a new Event when the aggregated one is gone (expired or deleted)', async () => {
    const kube = new FakeKube();
    const rec = recorder(kube);
    await rec.record(synced());
    const [first] = await eventsIn(kube);
    await kube.delete(Resources.event, { namespace: 'test', name: first?.metadata.name ?? '' });
    await vi.advanceTimersByTimeAsync(1000);
    await rec.record(synced());
    const events = await eventsIn(kube);
    expect(events).toHaveLength(1);
    expect(events[0]?.['count']).toBe(1);
    expect(events[0]?.metadata.name).not.toBe(first?.metadata.name);
  });

  it('serializes concurrent repeats so they aggregate instead of racing to create', async () => {
    const kube = new FakeKube();
    const rec = recorder(kube);
    await Promise.all([rec.record(synced()), rec.record(synced()), rec.record(synced())]);
    const events = await eventsIn(kube);
    expect(events).toHaveLength(1);
    expect(events[0]?.['count']).toBe(3);
  });

  it('never throws; failures are logged', async () => {
    const kube = new FakeKube();
    kube.failOn({ verb: 'create', kind: 'Event' }, new OperatorError('connection refused'));
    const lines: string[] = [];
    await expect(
      recorder(kube, createLogger({ write: (l) => lines.push(l) })).record(synced()),
    ).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/could not record event.*connection refused/);
  });

  it('puts Events of cluster-scoped objects in default and truncates long messages to 1024 bytes', async () => {
    const kube = new FakeKube();
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test' } };
    await recorder(kube).record({ involved: ns, type: 'Warning', reason: 'Big', message: 'é'.repeat(2000) });
    const [event] = await kube.list(Resources.event, { namespace: 'default' });
    const message = String(event?.['message']);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(1024);
    expect(message.endsWith('...')).toBe(true);
    expect(event?.['involvedObject']).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: 'test' });
  });
});
