// The built-in generator measured against a real local HTTP server (127.0.0.1, port 0) whose
// latency distribution is known and measured server-side: the generator must send the requested
// rate and report percentiles that match what the server measured. Counts and percentiles are
// asserted, never the wall-clock speed of this machine.
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpsServer } from '../http/server.fixture.ts';
import { type LoadSpec, LoadSpecError, type Outcome, displayUrl, runLoad, statusOutcome } from './generator.ts';
import { exactPercentile } from './histogram.ts';

interface Seen {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly socket: Socket;
  /** Server-side latency: request event to response finished, ms. */
  latencyMs?: number;
}

interface TestServer {
  readonly url: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server answering request `i` (0-based arrival order) after `delayMs(i)` with `status(i)`. */
async function startServer(
  delayMs: (i: number) => number = () => 0,
  status: (i: number) => number = () => 200,
): Promise<TestServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = seen.length;
      const entry: Seen = {
        at,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        socket: req.socket,
      };
      seen.push(entry);
      res.on('finish', () => (entry.latencyMs = performance.now() - at));
      const answer = (): void => {
        res.writeHead(status(i), { 'content-type': 'text/plain' });
        res.end('ok\n');
      };
      const d = delayMs(i);
      if (d > 0) setTimeout(answer, d);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const s: TestServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(s);
  return s;
}

const base = (url: string, over: Partial<LoadSpec> = {}): LoadSpec => ({
  url,
  method: 'GET',
  headers: [],
  concurrency: 4,
  timeoutMs: 5_000,
  keepAlive: true,
  insecureSkipVerify: false,
  ...over,
});

/**
 * Delay of the i-th request: a fixed cycle of 100 slots (55 × 5 ms, 30 × 15 ms, 8 × 40 ms, 5 × 70 ms,
 * 2 × 120 ms), interleaved so that every run of a few hundred requests has the same mix. No
 * percentile of interest falls on a boundary between two delays.
 */
function knownDelay(i: number): number {
  const slot = (i * 37) % 100; // 37 is coprime with 100: a permutation of the slots
  if (slot < 55) return 5;
  if (slot < 85) return 15;
  if (slot < 93) return 40;
  if (slot < 98) return 70;
  return 120;
}

describe('runLoad against a local HTTP server', () => {
  it('sends the requested rate (±10%) and reports the percentiles the server measured', async () => {
    const server = await startServer(knownDelay);
    const rate = 100;
    const report = await runLoad(base(`${server.url}/rate`, { rate, durationMs: 3_000, concurrency: 16 }));

    // Rate, as the server saw it: arrivals over the span between the first and the last.
    const arrivals = server.seen.map((s) => s.at);
    const span = (arrivals[arrivals.length - 1]! - arrivals[0]!) / 1000;
    const serverRate = (arrivals.length - 1) / span;
    expect(serverRate).toBeGreaterThan(rate * 0.9);
    expect(serverRate).toBeLessThan(rate * 1.1);
    expect(report.requests).toBe(server.seen.length);
    expect(report.requests).toBeGreaterThanOrEqual(3 * rate * 0.9);
    expect(report.requests).toBeLessThanOrEqual(3 * rate * 1.1);
    expect(report.requestsPerSecond).toBeGreaterThan(rate * 0.9);
    expect(report.requestsPerSecond).toBeLessThan(rate * 1.1);
    expect(report.outcomes).toEqual({ '2xx': report.requests });
    expect(report.errors).toBe(0);
    expect(report.rate).toBe(rate);

    // Percentiles: the client's must match the server-side measurement of the same requests
    // (client latency = server latency + loopback transit, well under a few ms).
    const serverLatencies = server.seen.map((s) => s.latencyMs ?? Number.NaN).sort((a, b) => a - b);
    expect(serverLatencies.every(Number.isFinite)).toBe(true);
    const pairs: [number, number][] = [
      [report.latencyMs.p50, exactPercentile(serverLatencies, 50)],
      [report.latencyMs.p90, exactPercentile(serverLatencies, 90)],
      [report.latencyMs.p95, exactPercentile(serverLatencies, 95)],
      [report.latencyMs.p99, exactPercentile(serverLatencies, 99)],
    ];
    for (const [client, measured] of pairs) {
      expect(client).toBeGreaterThanOrEqual(measured * 0.98);
      // Upper bound is loose: on a loaded machine the client also sees its own event-loop delay.
      expect(client).toBeLessThanOrEqual(measured * 1.5 + 25);
    }
    // …and land on the known distribution (lower bounds only: timers fire late, never early, on a
    // loaded machine; libuv may fire up to 1 ms early, hence the -1).
    expect(report.latencyMs.p50).toBeGreaterThanOrEqual(5 - 1);
    expect(report.latencyMs.p90).toBeGreaterThanOrEqual(40 - 1);
    expect(report.latencyMs.p95).toBeGreaterThanOrEqual(70 - 1);
    expect(report.latencyMs.p50).toBeLessThan(report.latencyMs.p90);
    expect(report.latencyMs.p99).toBeGreaterThanOrEqual(120 - 1);
    expect(report.latencyMs.max).toBeGreaterThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.min).toBeGreaterThanOrEqual(5 - 1);
  });

  it('holds a low rate with a single worker', async () => {
    const server = await startServer();
    const report = await runLoad(base(server.url, { rate: 20, durationMs: 2_000, concurrency: 1 }));
    // 2 s at 20/s: 40 requests, the first at t=0.
    expect(report.requests).toBeGreaterThanOrEqual(36);
    expect(report.requests).toBeLessThanOrEqual(44);
    expect(server.seen).toHaveLength(report.requests);
  });

  it('sends exactly -n requests when no duration is given, over at most `concurrency` connections', async () => {
    const server = await startServer(() => 1);
    const report = await runLoad(base(server.url, { requests: 101, concurrency: 4 }));
    expect(report.requests).toBe(101);
    expect(server.seen).toHaveLength(101);
    expect(new Set(server.seen.map((s) => s.socket)).size).toBeLessThanOrEqual(4);
    expect(server.seen.every((s) => s.headers.connection === 'keep-alive')).toBe(true);
  });

  it('opens a connection per request with keep-alive disabled', async () => {
    const server = await startServer();
    await runLoad(base(server.url, { requests: 20, concurrency: 2, keepAlive: false }));
    expect(server.seen).toHaveLength(20);
    expect(new Set(server.seen.map((s) => s.socket)).size).toBe(20);
    expect(server.seen.every((s) => s.headers.connection === 'close')).toBe(true);
  });

  it('sends the method, path, query, headers (repeated ones too), Host and body it was given', async () => {
    const server = await startServer();
    await runLoad(
      base(`${server.url}/api/echo?x=1`, {
        method: 'POST',
        requests: 3,
        concurrency: 1,
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Token', 'a'],
          ['X-Token', 'b'],
          ['Host', 'podinfo.example.com'],
        ],
        body: '{"hello":"world"}',
      }),
    );
    expect(server.seen).toHaveLength(3);
    for (const s of server.seen) {
      expect(s.method).toBe('POST');
      expect(s.url).toBe('/api/echo?x=1');
      expect(s.body).toBe('{"hello":"world"}');
      expect(s.headers['content-type']).toBe('application/json');
      expect(s.headers['x-token']).toBe('a, b');
      expect(s.headers.host).toBe('podinfo.example.com');
      expect(s.headers['content-length']).toBe('17');
    }
  });

  it('connects to connectOrigin when given (a pinned in-cluster name), keeping the URL host as Host', async () => {
    const server = await startServer();
    const port = new URL(server.url).port;
    const report = await runLoad(
      base(`http://podinfo-canary.test:${port}/x`, { requests: 2, concurrency: 1, connectOrigin: server.url }),
    );
    expect(report.outcomes).toEqual({ '2xx': 2 });
    expect(server.seen.map((s) => [s.url, s.headers.host])).toEqual([
      ['/x', `podinfo-canary.test:${port}`],
      ['/x', `podinfo-canary.test:${port}`],
    ]);
  });

  it('counts responses by status class and errors, and tells the observer each outcome', async () => {
    // Every 10 requests: 7 × 200, 1 × 302, 1 × 404, 1 × 503.
    const status = (i: number): number => [200, 200, 302, 200, 404, 200, 200, 503, 200, 200][i % 10]!;
    const server = await startServer(() => 0, status);
    const observed: Record<string, number> = {};
    let timed = 0;
    const report = await runLoad(base(server.url, { requests: 200, concurrency: 4 }), {
      observer: {
        observe(outcome: Outcome, seconds: number | undefined) {
          observed[outcome] = (observed[outcome] ?? 0) + 1;
          if (seconds !== undefined) timed++;
        },
      },
    });
    expect(report.outcomes).toEqual({ '2xx': 140, '3xx': 20, '4xx': 20, '5xx': 20 });
    expect(report.errors).toBe(40);
    expect(observed).toEqual(report.outcomes);
    expect(timed).toBe(200);
  });

  it('counts network errors by code, without latencies', async () => {
    const server = await startServer();
    const url = server.url;
    await server.close();
    servers.length = 0;
    const report = await runLoad(base(url, { requests: 10, concurrency: 2 }));
    expect(report.requests).toBe(10);
    expect(report.outcomes).toEqual({ error: 10 });
    expect(report.networkErrors).toEqual({ ECONNREFUSED: 10 });
    expect(report.errors).toBe(10);
    expect(report.latencyMs.p50).toBe(0);
  });

  it('counts requests slower than the timeout as timeouts', async () => {
    const server = await startServer((i) => (i % 2 === 0 ? 0 : 1_000));
    const started = performance.now();
    const report = await runLoad(base(server.url, { requests: 6, concurrency: 1, timeoutMs: 100 }));
    expect(report.outcomes).toEqual({ '2xx': 3, timeout: 3 });
    expect(report.errors).toBe(3);
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('stops at once when aborted, and says so', async () => {
    const server = await startServer(() => 20);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const started = performance.now();
    const report = await runLoad(base(server.url, { durationMs: 60_000, rate: 50, concurrency: 2 }), {
      signal: abort.signal,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(report.aborted).toBe(true);
    expect(report.requests).toBeGreaterThan(0);
    expect(report.requests).toBeLessThan(30);
  });

  it('speaks HTTPS: verifies certificates unless told not to (hey never verifies)', async () => {
    const server = await startHttpsServer((_req, res) => {
      res.end('ok');
    });
    try {
      const verified = await runLoad(base(server.url, { requests: 3, concurrency: 1 }));
      expect(verified.outcomes).toEqual({ error: 3 });
      expect(Object.keys(verified.networkErrors)).toEqual(['DEPTH_ZERO_SELF_SIGNED_CERT']);
      const insecure = await runLoad(base(server.url, { requests: 3, concurrency: 1, insecureSkipVerify: true }));
      expect(insecure.outcomes).toEqual({ '2xx': 3 });
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('refuses a spec it cannot run, before sending anything', async () => {
    await expect(runLoad(base('ftp://x/', { requests: 1 }))).rejects.toThrow(LoadSpecError);
    await expect(runLoad(base('http://127.0.0.1:1/', {}))).rejects.toThrow(/duration or a number of requests/);
    await expect(runLoad(base('http://127.0.0.1:1/', { requests: 1, concurrency: 0 }))).rejects.toThrow(/concurrency/);
    await expect(runLoad(base('http://127.0.0.1:1/', { requests: 1, rate: -1 }))).rejects.toThrow(/rate/);
  });
});

describe('helpers', () => {
  it('statusOutcome classes statuses', () => {
    expect([101, 200, 204, 301, 404, 500, 599].map(statusOutcome)).toEqual([
      '1xx',
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
  });

  it('displayUrl drops credentials, query and fragment', () => {
    expect(displayUrl('http://user:secret@podinfo:9898/a/b?token=x#f')).toBe('http://podinfo:9898/a/b');
    expect(displayUrl('::')).toBe('<invalid URL>');
  });
});
