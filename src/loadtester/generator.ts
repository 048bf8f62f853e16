/**
 * The built-in HTTP load generator: what `hey` does, inside the loadtester process, so that
 * `hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/` works without the hey binary, and what
 * the native `type: load` task runs.
 *
 * - `concurrency` workers each send one request at a time over a shared keep-alive connection
 *   pool (at most one connection per worker), like hey's workers over Go's transport.
 * - An optional total `rate` is enforced by one shared {@link TokenBucket} (burst = concurrency),
 *   so the rate holds over the run even when single requests are slow or timers fire late.
 * - The run is bounded: by `durationMs` (no new request starts after it; requests in flight
 *   finish, each bounded by `timeoutMs`), else by a total number of `requests`; and always by the
 *   caller's abort signal.
 * - Latencies (request start to last body byte, responses of any status) go to an HDR-style
 *   {@link LatencyHistogram}: p50/p90/p95/p99 within 0.2 % of the exact sample percentiles, exact
 *   min/max/mean. Network errors and timeouts are counted, not timed, as hey does.
 *
 * The hot path uses undici's `Pool` through its raw dispatch API, not the project's axios client
 * nor `node:http`: on one Node thread it keeps up with hey (bench/loadgen.ts: 1.02× hey's rate),
 * `node:http` reached about half of it and axios, which merges configs and runs interceptor chains
 * per call, a ninth.
 * Traffic goes only to the URL given; redirects are not followed.
 */
import { performance } from 'node:perf_hooks';
import { type Dispatcher, Pool } from 'undici';
import { LatencyHistogram } from './histogram.ts';
import { TokenBucket } from './rate-limiter.ts';

/** What to send, how often and for how long. */
export interface LoadSpec {
  /** `http:` or `https:` URL; the only destination of the traffic. */
  readonly url: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Request headers in order; a name may repeat. A `Host` header sets the virtual host. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
  /** Workers, each with at most one request in flight (≥ 1). */
  readonly concurrency: number;
  /** Total requests per second over all workers; absent = as fast as the workers go. */
  readonly rate?: number;
  /** Stop starting requests after this long; takes precedence over `requests`. */
  readonly durationMs?: number;
  /** Total requests, when no `durationMs`. */
  readonly requests?: number;
  /** Deadline of one request (connect to last byte), ms; 0 = none. */
  readonly timeoutMs: number;
  /** Reuse connections (default true); false sends `Connection: close` on every request. */
  readonly keepAlive: boolean;
  /** Skip TLS certificate verification (hey always does). */
  readonly insecureSkipVerify: boolean;
  /**
   * Connect here instead of the URL's origin (an in-cluster name pinned to its FQDN); requests keep
   * the URL's host as their Host header (and TLS server name).
   */
  readonly connectOrigin?: string;
}

/** How a request ended, as counted in reports and `fledge_loadtester_requests_total{status}`. */
export type Outcome = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error' | 'timeout';

/** Receives every request's outcome as it completes (for Prometheus metrics). */
export interface LoadObserver {
  /** `seconds` is the latency of a response; undefined for errors and timeouts. */
  observe(outcome: Outcome, seconds: number | undefined): void;
}

/** The result of a run; logged as JSON and returned by blocking tasks. */
export interface LoadReport {
  /** Origin and path of the target (no credentials, no query). */
  readonly target: string;
  readonly method: string;
  readonly concurrency: number;
  /** Requested total rate, null when unlimited. */
  readonly rate: number | null;
  /** Wall time from the first request to the last completion, seconds. */
  readonly durationSeconds: number;
  /** Completed requests (responses + errors + timeouts). */
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Responses and failures by class; only non-zero entries. */
  readonly outcomes: Readonly<Partial<Record<Outcome, number>>>;
  /** 4xx + 5xx responses + network errors + timeouts. */
  readonly errors: number;
  /** Network error counts by Node error code (`ECONNREFUSED`, `ECONNRESET`, …). */
  readonly networkErrors: Readonly<Record<string, number>>;
  /** Latencies of responses (any status), milliseconds. */
  readonly latencyMs: {
    readonly min: number;
    readonly mean: number;
    readonly p50: number;
    readonly p90: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
  };
  /** How percentiles were computed. */
  readonly percentiles: string;
  /** The run was cut short by its abort signal (shutdown or command timeout). */
  readonly aborted: boolean;
}

/** Options of {@link runLoad} that are not part of the spec. */
export interface RunLoadOptions {
  readonly signal?: AbortSignal;
  readonly observer?: LoadObserver;
}

/** A spec that cannot run (bad URL, no bound). */
export class LoadSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `scheme://host[:port]/path` of a URL: no user info, no query, no fragment. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

/** The outcome class of an HTTP status. */
export function statusOutcome(status: number): Outcome {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  if (status >= 200) return '2xx';
  return '1xx';
}

/** Checks a spec; throws {@link LoadSpecError} with a message naming the field. */
export function validateLoadSpec(spec: LoadSpec): void {
  let u: URL;
  try {
    u = new URL(spec.url);
  } catch {
    throw new LoadSpecError(`invalid URL ${JSON.stringify(spec.url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new LoadSpecError(`unsupported URL scheme "${u.protocol}": want http or https`);
  }
  if (!Number.isInteger(spec.concurrency) || spec.concurrency < 1) {
    throw new LoadSpecError(`concurrency must be a positive integer, got ${spec.concurrency}`);
  }
  if (spec.rate !== undefined && !(spec.rate > 0 && Number.isFinite(spec.rate))) {
    throw new LoadSpecError(`rate must be a positive number, got ${spec.rate}`);
  }
  if (spec.durationMs === undefined && spec.requests === undefined) {
    throw new LoadSpecError('a duration or a number of requests is required');
  }
  if (spec.durationMs !== undefined && !(spec.durationMs > 0 && Number.isFinite(spec.durationMs))) {
    throw new LoadSpecError(`duration must be positive, got ${spec.durationMs} ms`);
  }
  if (spec.requests !== undefined && !(Number.isInteger(spec.requests) && spec.requests >= 1)) {
    throw new LoadSpecError(`requests must be a positive integer, got ${spec.requests}`);
  }
  if (!(spec.timeoutMs >= 0)) throw new LoadSpecError(`timeout must not be negative, got ${spec.timeoutMs} ms`);
  if (!/^[A-Z]+$/.test(spec.method)) throw new LoadSpecError(`invalid HTTP method ${JSON.stringify(spec.method)}`);
}

class RequestTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

interface Result {
  readonly status?: number;
  readonly error?: unknown;
}

function errorCode(err: unknown): string {
  if (err instanceof RequestTimeout) return 'timeout';
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'EUNKNOWN';
}

/**
 * Runs the load described by `spec` and resolves with its report; never rejects for request
 * failures (they are counted). Throws {@link LoadSpecError} at once for an invalid spec.
 */
export async function runLoad(spec: LoadSpec, options: RunLoadOptions = {}): Promise<LoadReport> {
  validateLoadSpec(spec);
  const url = new URL(spec.url);
  const https = url.protocol === 'https:';
  const workers =
    spec.requests !== undefined && spec.durationMs === undefined
      ? Math.min(spec.concurrency, spec.requests)
      : spec.concurrency;
  // One connection per worker at most; each worker has one request in flight.
  const pool = new Pool(spec.connectOrigin ?? url.origin, {
    connections: workers,
    pipelining: 1,
    ...(https
      ? {
          connect: {
            rejectUnauthorized: !spec.insecureSkipVerify,
            ...(spec.connectOrigin === undefined ? {} : { servername: url.hostname }),
          },
        }
      : {}),
    // The per-request deadline below covers the whole exchange; undici's own timers stay off.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of spec.headers) {
    const key = name.toLowerCase();
    const prev = headers[key];
    headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  if (spec.connectOrigin !== undefined && headers['host'] === undefined) headers['host'] = url.host;
  if (url.username !== '' && headers['authorization'] === undefined) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(user, 'utf8').toString('base64')}`;
  }
  const body = spec.body === undefined || spec.body === '' ? undefined : Buffer.from(spec.body, 'utf8');
  const path = `${url.pathname}${url.search}`;
  const method = spec.method;
  const timeoutMs = spec.timeoutMs;

  /**
   * One worker's sender, on undici's raw dispatch API: no response object or body stream per
   * request (the body is counted as it arrives and dropped). The per-request deadline costs one
   * timer per worker, re-armed (`refresh`) when a request starts; when it fires with that request
   * still in flight, the request ends as a timeout. A timer and an AbortSignal per request cost
   * about 15 % of the rate.
   */
  const newSender = (): { send(): Promise<Result>; close(): void } => {
    /** Ends the request in flight, if any, with this error. */
    let interrupt: ((error: Error) => void) | undefined;
    const timer =
      timeoutMs > 0 ? setTimeout(() => interrupt?.(new RequestTimeout('request timed out')), timeoutMs) : undefined;
    return {
      send(): Promise<Result> {
        return new Promise<Result>((resolve) => {
          let status = 0;
          let controller: Dispatcher.DispatchController | undefined;
          let settled = false;
          const finish = (r: Result): void => {
            if (settled) return;
            settled = true;
            interrupt = undefined;
            resolve(r);
          };
          interrupt = (error) => {
            // Aborting makes undici report the error; finishing here also covers a request that
            // never got a connection.
            controller?.abort(error);
            finish({ error });
          };
          timer?.refresh();
          try {
            pool.dispatch(
              {
                path,
                method,
                headers,
                ...(body === undefined ? {} : { body }),
                // Without keep-alive every request asks the server to close (`Connection: close`), as hey -disable-keepalive.
                reset: !spec.keepAlive,
              },
              {
                onRequestStart(c) {
                  controller = c;
                },
                onResponseStart(_c, statusCode) {
                  status = statusCode;
                },
                onResponseData() {
                  // Dropped: only its arrival matters.
                },
                // Latency runs to the last byte of the body, as hey measures it.
                onResponseEnd() {
                  finish({ status });
                },
                onResponseError(_c, error) {
                  finish({ error });
                },
              },
            );
          } catch (error) {
            finish({ error });
          }
        });
      },
      close(): void {
        clearTimeout(timer);
      },
    };
  };

  const histogram = new LatencyHistogram();
  const outcomes: Partial<Record<Outcome, number>> = {};
  const networkErrors: Record<string, number> = {};
  let completed = 0;
  let issued = 0;
  let aborted = false;
  const observer = options.observer;

  const start = performance.now();
  const deadline = spec.durationMs === undefined ? Number.POSITIVE_INFINITY : start + spec.durationMs;
  const limit = spec.durationMs === undefined ? (spec.requests ?? 0) : Number.POSITIVE_INFINITY;
  const bucket = spec.rate === undefined ? undefined : new TokenBucket(spec.rate, workers, start);

  // Sleeping workers, woken early on abort.
  const sleepers = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  const onAbort = (): void => {
    aborted = true;
    for (const wake of [...sleepers]) wake();
    void pool.destroy();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const stopped = (now: number): boolean => aborted || now >= deadline || issued >= limit;

  const worker = async (): Promise<void> => {
    const sender = newSender();
    try {
      await work(sender);
    } finally {
      sender.close();
    }
  };
  const work = async (sender: { send(): Promise<Result> }): Promise<void> => {
    for (;;) {
      let now = performance.now();
      if (stopped(now)) return;
      issued++;
      if (bucket) {
        const wait = bucket.reserve(now);
        // Sub-millisecond waits are not worth a timer: the reservation keeps the long-run rate exact.
        if (wait >= 1) {
          await sleep(Math.min(wait, deadline - now));
          now = performance.now();
          if (aborted || now >= deadline) return;
        }
      }
      const t0 = performance.now();
      const r = await sender.send();
      const t1 = performance.now();
      if (aborted) return;
      completed++;
      let outcome: Outcome;
      if (r.status !== undefined) {
        outcome = statusOutcome(r.status);
        histogram.recordMs(t1 - t0);
        observer?.observe(outcome, (t1 - t0) / 1000);
      } else {
        const code = errorCode(r.error);
        outcome = code === 'timeout' ? 'timeout' : 'error';
        if (outcome === 'error') networkErrors[code] = (networkErrors[code] ?? 0) + 1;
        observer?.observe(outcome, undefined);
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };

  try {
    await Promise.all(Array.from({ length: workers }, () => worker()));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }
  const elapsedMs = Math.max(performance.now() - start, 1e-3);
  const errors =
    (outcomes['4xx'] ?? 0) + (outcomes['5xx'] ?? 0) + (outcomes['error'] ?? 0) + (outcomes['timeout'] ?? 0);
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    target: displayUrl(spec.url),
    method: spec.method,
    concurrency: workers,
    rate: spec.rate ?? null,
    durationSeconds: round(elapsedMs) / 1000,
    requests: completed,
    requestsPerSecond: Math.round((completed / elapsedMs) * 1000 * 100) / 100,
    outcomes,
    errors,
    networkErrors,
    latencyMs: {
      min: round(histogram.minMs),
      mean: round(histogram.meanMs),
      p50: round(histogram.percentileMs(50)),
      p90: round(histogram.percentileMs(90)),
      p95: round(histogram.percentileMs(95)),
      p99: round(histogram.percentileMs(99)),
      max: round(histogram.maxMs),
    },
    percentiles: 'nearest-rank over an HDR-style log-linear histogram (within 0.2% of the exact sample value)',
    aborted,
  };
}
