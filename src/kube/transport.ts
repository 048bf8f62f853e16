import {
  ApiException,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { Logger } from '../log/logger.ts';
import { type Clock, sleep, systemClock } from '../core/clock.ts';
import { AlreadyExistsError, ConflictError, InvalidObjectError, KubeApiError, NotFoundError } from './errors.ts';
import { OperatorError } from '../core/errors.ts';
import { isRecord } from './json.ts';

/** HTTP methods Fledge uses. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One API request. `path` starts with `/api` or `/apis`. */
export interface KubeRequest {
  readonly method: Method;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Sent as JSON (also for apply: JSON is YAML). */
  readonly body?: unknown;
  /** Required with a body; client-node would otherwise pick JSON Patch for PATCH. */
  readonly contentType?: string;
  /** Overrides the transport's per-request timeout. */
  readonly timeoutMs?: number;
}

/** Options of {@link HttpTransport}. */
export interface TransportOptions {
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  /** Sustained requests per second (default 100, Flagger's `-kubeconfig-qps`). */
  readonly qps?: number;
  /** Requests allowed in a burst above `qps` (default 250, Flagger's `-kubeconfig-burst`). */
  readonly burst?: number;
  /** Per-request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Retries of a 429 Too Many Requests, honouring Retry-After (default 3). */
  readonly maxRetries?: number;
  readonly clock?: Clock;
}

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

/** How long one TLS dispatcher (connection pool) is reused before it is rebuilt from the kubeconfig. */
const DISPATCHER_TTL_MS = 5 * 60_000;

/**
 * Sends raw requests through the KubeConfig's own HTTP stack (undici, TLS material, bearer/exec
 * auth) and returns parsed JSON. Non-2xx answers become the typed errors of `errors.ts`.
 *
 * We bypass the generated typed APIs on purpose: they deserialize into model classes (Date
 * timestamps, unknown fields dropped) and default PATCH to JSON Patch.
 */
export class HttpTransport {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #log: Logger;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #bucket: TokenBucket;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #clock: Clock;
  #dispatcher: { value: Dispatcher; until: number } | undefined;

  constructor(options: TransportOptions) {
    const cluster = options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new OperatorError('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kc = options.kubeConfig;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#bucket = new TokenBucket(options.qps ?? 100, options.burst ?? 250, this.#clock);
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxRetries = options.maxRetries ?? 3;
  }

  /** Sends `req`; resolves to the parsed body (undefined when empty). */
  async request(req: KubeRequest): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      await this.#bucket.take();
      const res = await this.#send(req);
      const text = await res.body.text();
      const warning = res.headers['warning'];
      if (warning) this.#log.warn('API server warning', { warning, method: req.method, path: req.path });
      if (res.httpStatusCode >= 200 && res.httpStatusCode < 300) return parseBody(text, req);
      const retryAfter = Number(res.headers['retry-after'] ?? '1');
      if (res.httpStatusCode === 429 && attempt < this.#maxRetries) {
        await sleep(this.#clock, Math.min(10, Number.isFinite(retryAfter) ? retryAfter : 1) * 1000);
        continue;
      }
      throw apiError({ method: req.method, path: req.path, status: res.httpStatusCode, body: text });
    }
  }

  async #send(req: KubeRequest): Promise<ResponseContext> {
    try {
      return await this.#sendRaw(req);
    } catch (err) {
      if (err instanceof OperatorError) throw err;
      const detail = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new OperatorError(`${req.method} ${req.path}: ${errMessage(err)}${detail}`, { cause: err });
    }
  }

  /**
   * True when GET `path` (e.g. `/readyz`, which answers plain text) answers 2xx within
   * `timeoutMs`. Never throws; not rate limited (callers probe at most about once a second).
   */
  async ping(path: string, timeoutMs: number): Promise<boolean> {
    try {
      const res = await this.#sendRaw({ method: 'GET', path, timeoutMs });
      await res.body.text();
      return res.httpStatusCode >= 200 && res.httpStatusCode < 300;
    } catch {
      return false;
    }
  }

  /** Closes the pooled connections (in-flight requests finish first). */
  close(): void {
    const dispatcher = this.#dispatcher?.value;
    this.#dispatcher = undefined;
    if (dispatcher) void dispatcher.close().catch(() => undefined);
  }

  /** Builds, authenticates and sends one request, without rate limiting or error mapping. */
  async #sendRaw(req: KubeRequest): Promise<ResponseContext> {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), req.method);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', 'fledge');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    await this.#kc.applySecurityAuthentication(ctx);
    // client-node builds a new undici Agent (a new TLS connection) on every call; keep one for a while.
    const now = this.#clock.now();
    if (this.#dispatcher && now < this.#dispatcher.until) {
      if (this.#dispatcher.value) ctx.setDispatcher(this.#dispatcher.value);
    } else {
      const previous = this.#dispatcher?.value;
      this.#dispatcher = { value: ctx.getDispatcher(), until: now + DISPATCHER_TTL_MS };
      if (previous) void previous.close().catch(() => undefined);
    }
    ctx.setSignal(AbortSignal.timeout(req.timeoutMs ?? this.#timeoutMs));
    return this.#http.send(ctx).toPromise();
  }
}

/** A token bucket: `burst` requests at once, then `qps` per second. Callers queue in order. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(qps: number, burst: number, clock: Clock = systemClock) {
    this.#qps = qps;
    this.#burst = Math.max(1, burst);
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#at = clock.now();
  }

  /** Resolves when the caller may send; a non-positive qps disables limiting. */
  take(): Promise<void> {
    if (this.#qps <= 0) return Promise.resolve();
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#qps);
    this.#at = now;
    // Reserve the token now (the balance may go negative) so waiters are served in order.
    this.#tokens -= 1;
    if (this.#tokens >= 0) return Promise.resolve();
    return sleep(this.#clock, (-this.#tokens / this.#qps) * 1000);
  }
}

/** Facts of a failed response. */
export interface ApiErrorInput {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The raw body: usually a `V1Status` as JSON text. */
  readonly body: unknown;
}

/**
 * Maps a failed API response to a typed error whose message carries the server's
 * `V1Status.message`: 404 → NotFoundError; 409 → AlreadyExistsError (reason `AlreadyExists`) or
 * ConflictError; 422 → InvalidObjectError; anything else → KubeApiError.
 */
export function apiError(input: ApiErrorInput): KubeApiError {
  const status = parseStatus(input.body);
  const serverMessage =
    typeof status?.['message'] === 'string' && status['message'] !== ''
      ? status['message']
      : typeof input.body === 'string' && input.body.trim() !== ''
        ? input.body.trim().slice(0, 500)
        : `HTTP ${input.status}`;
  const reason = typeof status?.['reason'] === 'string' ? status['reason'] : '';
  const message = `${input.method} ${input.path}: ${serverMessage}`;
  switch (input.status) {
    case 404:
      return new NotFoundError(message, 404, reason || 'NotFound');
    case 409:
      return reason === 'AlreadyExists'
        ? new AlreadyExistsError(message, 409, reason)
        : new ConflictError(message, 409, reason || 'Conflict');
    case 422:
      return new InvalidObjectError(message, 422, reason || 'Invalid');
    default:
      return new KubeApiError(message, input.status, reason);
  }
}

/**
 * Converts whatever a client-node call threw into our errors: an `ApiException` (whose `body` is
 * the V1Status JSON *string*) becomes a typed {@link KubeApiError}; other errors are wrapped.
 */
export function fromClientNodeError(err: unknown, operation: string): OperatorError {
  if (err instanceof OperatorError) return err;
  if (err instanceof ApiException) {
    const [method = 'CALL', ...rest] = operation.split(' ');
    return apiError({ method, path: rest.join(' '), status: err.code, body: err.body });
  }
  return new OperatorError(`${operation}: ${errMessage(err)}`, { cause: err });
}

function parseStatus(body: unknown): Record<string, unknown> | undefined {
  if (isRecord(body)) return body;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function parseBody(text: string, req: KubeRequest): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new OperatorError(`${req.method} ${req.path}: response is not JSON`, { cause: err });
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
