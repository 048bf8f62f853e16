import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, silentLogger } from '../log/logger.ts';
import {
  type ListResult,
  type ListWatchSource,
  type ServerReachability,
  type WatchHandle,
  WatchInformer,
  type WatchInformerOptions,
  type WatchRequest,
} from './informer.ts';
import type { KubeObject } from './objects.ts';
import type { InformerEvent } from './port.ts';
import { Resources } from './resources.ts';

interface OpenWatch {
  readonly request: WatchRequest;
  aborted: boolean;
  emit(type: string, object: unknown): void;
  end(err?: unknown): void;
}

/** A list/watch source the test scripts by hand. */
class ScriptedSource implements ListWatchSource {
  /** Answers of successive lists; the last one repeats. */
  lists: (ListResult | Error)[] = [];
  listCalls = 0;
  readonly watches: OpenWatch[] = [];
  /** The next watch() call fails like an HTTP error on open. */
  failNextWatch: unknown;

  list(): Promise<ListResult> {
    this.listCalls++;
    const next = this.lists.length > 1 ? this.lists.shift() : this.lists[0];
    if (next === undefined) return Promise.reject(new Error('no list scripted'));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  watch(request: WatchRequest): Promise<WatchHandle> {
    const w: OpenWatch = {
      request,
      aborted: false,
      emit: (type, object) => request.onEvent({ type, object }),
      end: (err = null) => request.onDone(err),
    };
    this.watches.push(w);
    if (this.failNextWatch !== undefined) {
      const err = this.failNextWatch;
      this.failNextWatch = undefined;
      request.onDone(err);
    }
    return Promise.resolve({ abort: () => (w.aborted = true) });
  }

  get current(): OpenWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch opened');
    return w;
  }
}

/** A reachability signal the test fires by hand. */
class ManualReachability implements ServerReachability {
  readonly waiters = new Set<() => void>();
  whenReachable(onUp: () => void): () => void {
    const w = (): void => onUp();
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }
  up(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w();
  }
}

/** Breaks the current watch `times` times with `err`, waiting for each retry to open. */
async function breakWatches(source: ScriptedSource, times: number, err: unknown): Promise<void> {
  for (let i = 0; i < times; i++) {
    const before = source.watches.length;
    source.current.end(err);
    while (source.watches.length === before) await vi.advanceTimersByTimeAsync(100);
  }
}

const svc = (name: string, rv: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  metadata: { name, namespace: 'test', resourceVersion: rv },
  ...extra,
});

function setup(options: Partial<WatchInformerOptions> = {}): {
  source: ScriptedSource;
  informer: WatchInformer;
  events: string[];
} {
  const source = new ScriptedSource();
  source.lists = [{ items: [svc('a', '10'), svc('b', '11')], resourceVersion: '100' }];
  const informer = new WatchInformer({
    type: Resources.service,
    namespace: 'test',
    source,
    log: silentLogger,
    random: () => 0.5, // no jitter: delays are exact
    ...options,
  });
  const events: string[] = [];
  informer.onChange((event: InformerEvent, obj: KubeObject) => events.push(`${event}:${obj.metadata.name}`));
  return { source, informer, events };
}

describe('WatchInformer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lists, resolves synced, emits adds and caches normalized frozen objects', async () => {
    const { source, informer, events } = setup();
    source.lists = [
      {
        items: [{ metadata: { name: 'a', namespace: 'test', resourceVersion: '10', creationTimestamp: new Date(0) } }],
        resourceVersion: '100',
      },
    ];
    let synced = false;
    void informer.synced().then(() => (synced = true));
    informer.start();
    expect(synced).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(synced).toBe(true);
    expect(events).toEqual(['add:a']);
    const a = informer.get({ name: 'a' });
    // List items of core types carry no apiVersion/kind; typed lists hand out Dates.
    expect(a).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'a', namespace: 'test', resourceVersion: '10', creationTimestamp: '1970-01-01T00:00:00.000Z' },
    });
    expect(Object.isFrozen(a?.metadata)).toBe(true);
    expect(source.current.request.resourceVersion).toBe('100');
    expect(informer.health()).toMatchObject({ synced: true, watching: true, consecutiveFailures: 0 });
  });

  it('applies watch events; update only when the resourceVersion changes; bookmarks move the RV', async () => {
    const { source, informer, events } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    const w = source.current;
    w.emit('ADDED', { apiVersion: 'v1', kind: 'Service', ...svc('c', '12') });
    w.emit('MODIFIED', { apiVersion: 'v1', kind: 'Service', ...svc('a', '13', { spec: { x: 1 } }) });
    w.emit('MODIFIED', { apiVersion: 'v1', kind: 'Service', ...svc('a', '13', { spec: { x: 1 } }) });
    w.emit('DELETED', { apiVersion: 'v1', kind: 'Service', ...svc('b', '14') });
    w.emit('BOOKMARK', { kind: 'Service', metadata: { resourceVersion: '200' } });
    expect(events).toEqual(['add:a', 'add:b', 'add:c', 'update:a', 'delete:b']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['a', 'c']);
    expect(informer.get({ namespace: 'test', name: 'a' })?.['spec']).toEqual({ x: 1 });
    // A normal close resumes from the last RV, at once, without relisting.
    w.end(null);
    await vi.advanceTimersByTimeAsync(0);
    expect(source.watches).toHaveLength(2);
    expect(source.current.request.resourceVersion).toBe('200');
    expect(source.listCalls).toBe(1);
  });

  it('restarts after any watch error with exponential backoff (1 s doubling, capped at 30 s), reset by an event', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    const gaps: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = source.watches.length;
      const endedAt = Date.now();
      source.current.end(new Error('socket hang up'));
      while (source.watches.length === before) await vi.advanceTimersByTimeAsync(100);
      gaps.push(Date.now() - endedAt);
    }
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(informer.health()).toMatchObject({ consecutiveFailures: 7, lastError: 'watch: socket hang up' });
    expect(source.listCalls).toBe(1); // errors re-watch from the last RV; only 410 relists
    source.current.emit('ADDED', svc('z', '300'));
    const endedAt = Date.now();
    source.current.end(new Error('again'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.watches).toHaveLength(9);
    expect(Date.now() - endedAt).toBe(1000);
  });

  it('retries a failed first list with backoff and only then resolves synced', async () => {
    const { source, informer } = setup();
    source.lists = [new Error('connection refused'), new Error('connection refused'), source.lists[0] as ListResult];
    let synced = false;
    void informer.synced().then(() => (synced = true));
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(informer.health()).toMatchObject({
      synced: false,
      consecutiveFailures: 1,
      lastError: 'list: connection refused',
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.listCalls).toBe(2);
    expect(synced).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(source.listCalls).toBe(3);
    expect(synced).toBe(true);
    expect(informer.health()).toMatchObject({ synced: true, consecutiveFailures: 0, lastError: undefined });
  });

  it('relists at once on a 410 ERROR event and reports what disappeared or changed meanwhile', async () => {
    const { source, informer, events } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(5000);
    source.lists = [{ items: [svc('a', '50'), svc('d', '51')], resourceVersion: '500' }];
    source.current.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    expect(source.watches[0]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(source.listCalls).toBe(2);
    expect(events).toEqual(['add:a', 'add:b', 'delete:b', 'update:a', 'add:d']);
    expect(source.current.request.resourceVersion).toBe('500');
  });

  it('relists at once when a resumed watch request answers 410', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(5000);
    source.current.end(null);
    source.failNextWatch = Object.assign(new Error('Gone'), { statusCode: 410 });
    await vi.advanceTimersByTimeAsync(0); // the re-watch fails with 410 …
    await vi.advanceTimersByTimeAsync(1); // … and relists at once, not after a backoff
    expect(source.listCalls).toBe(2);
    expect(informer.health().consecutiveFailures).toBe(0);
  });

  it('after an API server outage, a 410 on the resumed watch relists at once and the list ends the backoff', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    // The server goes away: the watch breaks and every retry is refused, up to the 30 s cap.
    await breakWatches(source, 1, new Error('other side closed'));
    await breakWatches(source, 6, Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    expect(informer.health().consecutiveFailures).toBe(7);
    // It comes back with a fresh watch cache: resuming from the old resourceVersion is 410 Gone.
    source.lists = [{ items: [svc('a', '600')], resourceVersion: '700' }];
    const watchesBefore = source.watches.length;
    source.current.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await vi.advanceTimersByTimeAsync(0);
    expect(source.listCalls).toBe(2);
    expect(source.watches).toHaveLength(watchesBefore + 1);
    expect(source.current.request.resourceVersion).toBe('700');
    expect(informer.health()).toMatchObject({ consecutiveFailures: 0, lastError: undefined, watching: true });
  });

  it('a 410 right after its own list retries after the initial delay: the list reset the count', async () => {
    const { source, informer } = setup();
    source.lists = [new Error('refused'), new Error('refused'), new Error('refused'), source.lists[0] as ListResult];
    informer.start();
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000);
    expect(source.listCalls).toBe(4);
    source.current.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    expect(informer.health().consecutiveFailures).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(source.listCalls).toBe(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.listCalls).toBe(5);
  });

  it('retries a 429 (watch cache initializing) after the initial delay, whatever the failure count', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    await breakWatches(source, 5, new Error('refused'));
    const before = source.watches.length;
    source.current.end(Object.assign(new Error('Too Many Requests'), { statusCode: 429 }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(source.watches).toHaveLength(before + 1);
    expect(informer.health().consecutiveFailures).toBe(6);
  });

  it('a backoff ends as soon as the API server answers again; not for errors the server does not cure', async () => {
    const reachability = new ManualReachability();
    const { source, informer } = setup({ reachability });
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    await breakWatches(source, 6, new Error('refused'));
    source.current.end(new Error('refused')); // now backing off for 30 s
    expect(reachability.waiters.size).toBe(1);
    const before = source.watches.length;
    await vi.advanceTimersByTimeAsync(2000);
    expect(source.watches).toHaveLength(before);
    reachability.up();
    await vi.advanceTimersByTimeAsync(0);
    expect(source.watches).toHaveLength(before + 1);
    expect(source.current.request.resourceVersion).toBe('100');
    expect(informer.health().consecutiveFailures).toBe(0);
    // A 403 is not the server being away: plain backoff, no wake-up registered.
    source.current.end(Object.assign(new Error('Forbidden'), { statusCode: 403 }));
    expect(reachability.waiters.size).toBe(0);
    // A successful event cancels a pending registration.
    await vi.advanceTimersByTimeAsync(1000);
    source.current.end(new Error('refused'));
    expect(reachability.waiters.size).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    source.current.emit('ADDED', svc('c', '101'));
    expect(reachability.waiters.size).toBe(0);
  });

  describe('write-through (observe)', () => {
    it("puts Fledge's own write into the cache at once; older watch events and lists never regress it", async () => {
      const { source, informer, events } = setup();
      informer.start();
      await vi.advanceTimersByTimeAsync(0);
      // The watch is blind (e.g. backing off): only the write's answer reaches the cache.
      informer.observe({ apiVersion: 'v1', kind: 'Service', ...svc('a', '120', { spec: { v: 2 } }) });
      expect(informer.get({ name: 'a' })).toMatchObject({ metadata: { resourceVersion: '120' }, spec: { v: 2 } });
      expect(events).toEqual(['add:a', 'add:b', 'update:a']);
      // A late event from before the write is ignored …
      source.current.emit('MODIFIED', { apiVersion: 'v1', kind: 'Service', ...svc('a', '115', { spec: { v: 1 } }) });
      expect(informer.get({ name: 'a' })?.['spec']).toEqual({ v: 2 });
      // … the event of the write itself changes nothing, a newer one replaces it.
      source.current.emit('MODIFIED', { apiVersion: 'v1', kind: 'Service', ...svc('a', '120', { spec: { v: 2 } }) });
      source.current.emit('MODIFIED', { apiVersion: 'v1', kind: 'Service', ...svc('a', '130', { spec: { v: 3 } }) });
      expect(informer.get({ name: 'a' })?.['spec']).toEqual({ v: 3 });
      expect(events).toEqual(['add:a', 'add:b', 'update:a', 'update:a']);
      // An older version written back (a slow response) is ignored too.
      informer.observe({ apiVersion: 'v1', kind: 'Service', ...svc('a', '125', { spec: { v: 9 } }) });
      expect(informer.get({ name: 'a' })?.['spec']).toEqual({ v: 3 });
    });

    it('keeps an object created after the snapshot of a relist, and drops it once a newer list misses it', async () => {
      const { source, informer } = setup();
      informer.start();
      await vi.advanceTimersByTimeAsync(0);
      informer.observe({ apiVersion: 'v1', kind: 'Service', ...svc('new', '150') });
      informer.observe({ apiVersion: 'v1', kind: 'Service', ...svc('a', '151', { spec: { v: 2 } }) });
      // A list taken before the writes (snapshot 140) ends after them.
      source.lists = [{ items: [svc('a', '10'), svc('b', '11')], resourceVersion: '140' }];
      informer.resync();
      await vi.advanceTimersByTimeAsync(0);
      expect(informer.get({ name: 'new' })?.metadata.resourceVersion).toBe('150');
      expect(informer.get({ name: 'a' })?.['spec']).toEqual({ v: 2 });
      source.lists = [{ items: [svc('a', '151', { spec: { v: 2 } }), svc('b', '11')], resourceVersion: '160' }];
      informer.resync();
      await vi.advanceTimersByTimeAsync(0);
      expect(informer.get({ name: 'new' })).toBeUndefined();
    });

    it('ignores a late DELETED of an object Fledge recreated since, and objects of other namespaces', async () => {
      const { source, informer } = setup();
      informer.start();
      await vi.advanceTimersByTimeAsync(0);
      informer.observe({ apiVersion: 'v1', kind: 'Service', ...svc('b', '210') });
      source.current.emit('DELETED', { apiVersion: 'v1', kind: 'Service', ...svc('b', '205') });
      expect(informer.get({ name: 'b' })?.metadata.resourceVersion).toBe('210');
      informer.observe({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'x', namespace: 'other', resourceVersion: '9' },
      });
      expect(informer.list().map((o) => o.metadata.name)).toEqual(['a', 'b']);
      // A write that removed the last finalizer of a deleted object: it is gone.
      informer.observe({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'a', namespace: 'test', resourceVersion: '220', deletionTimestamp: '2026-01-01T00:00:00Z' },
      });
      expect(informer.get({ name: 'a' })).toBeUndefined();
    });
  });

  it('treats a non-410 ERROR event as a failure with backoff', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(5000);
    source.current.emit('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd down' });
    expect(informer.health().lastError).toBe('watch: etcd down');
    await vi.advanceTimersByTimeAsync(999);
    expect(source.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.watches).toHaveLength(2);
  });

  it('does not spin when watches close immediately without events', async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = source.watches.length;
      const endedAt = Date.now();
      source.current.end(null);
      while (source.watches.length === before) await vi.advanceTimersByTimeAsync(100);
      gaps.push(Date.now() - endedAt);
    }
    expect(gaps).toEqual([1000, 2000, 4000]);
    expect(informer.health().lastError).toBe('watch: watch closed immediately');
  });

  it("reconnects at once after client-node's inactivity TimeoutError", async () => {
    const { source, informer } = setup();
    informer.start();
    await vi.advanceTimersByTimeAsync(30_000);
    source.current.end(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(source.watches).toHaveLength(2);
    expect(informer.health().consecutiveFailures).toBe(0);
  });

  it('resyncs periodically: relists, emits drift, and replaces the watch', async () => {
    const { source, informer, events } = setup({ resyncMs: 60_000 });
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    // A change the watch missed.
    source.lists = [{ items: [svc('a', '10'), svc('b', '99')], resourceVersion: '300' }];
    await vi.advanceTimersByTimeAsync(59_000);
    expect(source.listCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(source.listCalls).toBe(2);
    expect(events).toEqual(['add:a', 'add:b', 'update:b']);
    expect(source.watches[0]?.aborted).toBe(true);
    expect(source.current.request.resourceVersion).toBe('300');
    // Events of the superseded watch are ignored.
    source.watches[0]?.emit('ADDED', svc('ghost', '1'));
    expect(informer.get({ name: 'ghost' })).toBeUndefined();
  });

  it('survives throwing and rejecting listeners, logging them', async () => {
    const lines: string[] = [];
    const { source, informer } = setup({ log: createLogger({ write: (l) => lines.push(l) }) });
    informer.onChange(() => {
      throw new Error('listener bug');
    });
    // The port's listener type returns void and ESLint flags async listeners; the informer guards anyway.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    informer.onChange(() => Promise.reject(new Error('async listener bug')));
    const seen: string[] = [];
    informer.onChange((_e, o) => seen.push(o.metadata.name));
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    source.current.emit('ADDED', svc('c', '12'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['a', 'b', 'c']);
    const failures = lines.map((l) => JSON.parse(l) as { msg: string; error?: { message: string } });
    const messages = failures.filter((f) => f.msg === 'informer listener failed').map((f) => f.error?.message);
    expect(messages.filter((m) => m === 'listener bug')).toHaveLength(3);
    expect(messages.filter((m) => m === 'async listener bug')).toHaveLength(3);
  });

  it('stop() aborts the watch, cancels timers, and rejects a pending synced()', async () => {
    const { source, informer } = setup();
    source.lists = [new Error('down')];
    const synced = informer.synced();
    informer.start();
    await vi.advanceTimersByTimeAsync(0);
    informer.stop();
    await expect(synced).rejects.toThrow(/stopped before it synced/);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(source.listCalls).toBe(1);

    const second = setup();
    second.informer.start();
    await vi.advanceTimersByTimeAsync(0);
    second.informer.stop();
    expect(second.source.current.aborted).toBe(true);
    second.source.current.emit('ADDED', svc('late', '1'));
    expect(second.informer.get({ name: 'late' })).toBeUndefined();
  });
});
