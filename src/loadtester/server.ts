/**
 * fledge-loadtester's HTTP API, compatible with Flagger's loadtester (pkg/loadtester/server.go):
 *
 * | path | answer |
 * | --- | --- |
 * | `/healthz` | 200 `OK` (never needs the token) |
 * | `/metrics` | Prometheus exposition |
 * | `/gate/approve`, `/gate/halt` | 200 `OK`, 403 `Forbidden` |
 * | `/gate/check`, `/rollback/check` | 200 `Approved` when the gate is open, else 403 `Forbidden` |
 * | `/gate/open`, `/gate/close`, `/rollback/open`, `/rollback/close` | 202 |
 * | `/` | a task from the payload's metadata (see tasks.ts): 202, 200, 400, 403 or 500 |
 *
 * With a token set, `Authorization: Bearer <token>` is checked before anything else (401 with
 * `Connection: close` otherwise): on every endpoint but `/healthz` with `-token-scope=all`; with
 * `webhooks` (the default) only where Flagger's header-less webhooks do not need to reach (gate
 * writes, commands, unknown paths; see {@link TokenScope}). Slow clients are cut by the headers and
 * request timeouts, connections are capped, and a malformed path is a 4xx, never a 500. Endpoints that read a payload answer 400 when it is not valid JSON and 403 when
 * its namespace does not match `-namespace-regexp` (unanchored, as Go's `MatchString`). As in
 * Flagger, any method is accepted. Gate state lives in a {@link GateStore}; when it cannot be read
 * or written the answer is 500, which Flagger treats like a closed gate.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';
import type { Allowlist } from './allowlist.ts';
import { type GateStore, gateKey, isValidGateKey } from './gates.ts';
import type { LoadtesterMetrics } from './metrics.ts';
import type { TokenScope } from './config.ts';
import { DEFAULT_LOAD_POLICY, type LoadPolicy, type LoadSlots } from './load-policy.ts';
import type { TaskRunner } from './runner.ts';
import {
  PayloadError,
  TaskRejection,
  type TaskExecutor,
  type TaskPlan,
  type WebhookPayload,
  isGeneratorPayload,
  isTaskType,
  parsePayload,
  planTask,
} from './tasks.ts';

/** What the handler needs. */
export interface LoadtesterDeps {
  readonly gates: GateStore;
  readonly allowlist: Allowlist;
  /** `-namespace-regexp`; undefined allows every namespace. */
  readonly namespaceRegexp: RegExp | undefined;
  /** Bearer token (see {@link tokenScope}); undefined or empty = no auth. */
  readonly token: string | undefined;
  /** What the token protects (default `webhooks`). */
  readonly tokenScope?: TokenScope;
  /** The built-in generator's open targets and bounds (default {@link DEFAULT_LOAD_POLICY}). */
  readonly load?: LoadPolicy;
  /** `-load-max-runs`: a generator task is refused with 429 while all slots are taken. */
  readonly loadSlots?: LoadSlots;
  readonly runner: TaskRunner;
  /** Runs blocking tasks. */
  readonly execute: TaskExecutor;
  readonly metrics: LoadtesterMetrics;
  readonly log: Logger;
  /** Aborts blocking tasks at shutdown. */
  readonly signal: AbortSignal;
}

/** Largest request body read (Flagger payloads are a few hundred bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

/** The client closed the connection before its body arrived. */
class ClientGone extends Error {}

function send(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** Reads the body; rejects with {@link BodyTooLarge} past {@link MAX_BODY_BYTES} (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new ClientGone()));
    req.on('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

/**
 * The path of a request target: origin-form up to `?` or `#`, or the path of an absolute-form
 * target; undefined for anything else (`*`, garbage). Never throws (`new URL('//', base)` does).
 */
export function requestPath(target: string | undefined): string | undefined {
  const t = target ?? '/';
  if (t.startsWith('/')) {
    const end = t.search(/[?#]/);
    return end < 0 ? t : t.slice(0, end);
  }
  if (!/^https?:\/\//i.test(t)) return undefined;
  try {
    return new URL(t).pathname;
  } catch {
    return undefined;
  }
}

/** Paths Flagger's header-less webhooks call: open under `-token-scope=webhooks` (`/` only for generator tasks). */
const WEBHOOK_PATHS: ReadonlySet<string> = new Set([
  '/',
  '/metrics',
  '/gate/approve',
  '/gate/halt',
  '/gate/check',
  '/rollback/check',
]);

/**
 * 401, and the connection closed after it: an unauthenticated client must not keep a connection
 * (or a slow body) open.
 */
function unauthorized(res: ServerResponse, why: string): void {
  send(res, 401, `Unauthorized: ${why} requires "Authorization: Bearer <token>"`, {
    'WWW-Authenticate': 'Bearer realm="fledge-loadtester"',
    Connection: 'close',
  });
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>`. */
export function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  return timingSafeEqual(digest(m[1]), digest(token));
}

const GATE_ROUTES: Readonly<Record<string, { gate: 'gate' | 'rollback'; action: 'check' | 'open' | 'close' }>> = {
  '/gate/check': { gate: 'gate', action: 'check' },
  '/gate/open': { gate: 'gate', action: 'open' },
  '/gate/close': { gate: 'gate', action: 'close' },
  '/rollback/check': { gate: 'rollback', action: 'check' },
  '/rollback/open': { gate: 'rollback', action: 'open' },
  '/rollback/close': { gate: 'rollback', action: 'close' },
};

/** Builds the request handler. */
export function createHandler(deps: LoadtesterDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const log = deps.log;
  const token = deps.token === undefined || deps.token === '' ? undefined : deps.token;
  const scope = deps.tokenScope ?? 'webhooks';
  const load = deps.load ?? DEFAULT_LOAD_POLICY;

  /**
   * Reads and parses the payload, lets `allowed` refuse it (401), and checks its namespace;
   * undefined when an answer was sent.
   */
  const payloadOf = async (
    req: IncomingMessage,
    res: ServerResponse,
    allowed: (p: WebhookPayload) => boolean = () => true,
  ): Promise<WebhookPayload | undefined> => {
    let payload: WebhookPayload;
    try {
      payload = parsePayload(await readBody(req));
    } catch (err) {
      if (err instanceof ClientGone) {
        log.debug('client went away before its request body arrived', { path: req.url });
        return undefined;
      }
      if (err instanceof BodyTooLarge) {
        send(res, 413, `request body larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
        return undefined;
      }
      if (err instanceof PayloadError) {
        log.warn('bad request', { path: req.url, error: err.message });
        send(res, 400, err.message);
        return undefined;
      }
      throw err;
    }
    if (!allowed(payload)) {
      unauthorized(res, 'this task (anything but a load test against an in-cluster host)');
      return undefined;
    }
    if (deps.namespaceRegexp && !deps.namespaceRegexp.test(payload.namespace)) {
      log.warn('namespace not allowed by -namespace-regexp', { canary: payload.name, namespace: payload.namespace });
      send(
        res,
        403,
        `Forbidden: namespace ${JSON.stringify(payload.namespace)} does not match the loadtester's -namespace-regexp`,
      );
      return undefined;
    }
    return payload;
  };

  const gate = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: { gate: 'gate' | 'rollback'; action: 'check' | 'open' | 'close' },
  ): Promise<void> => {
    const payload = await payloadOf(req, res);
    if (!payload) return;
    const key = gateKey(route.gate, payload.name, payload.namespace);
    if (payload.name === '' || payload.namespace === '' || !isValidGateKey(key)) {
      deps.metrics.gate(route.gate, route.action, 'invalid');
      send(res, 400, 'name and namespace are required and must be Kubernetes object names');
      return;
    }
    const fields = { canary: payload.name, namespace: payload.namespace, gate: key };
    try {
      if (route.action === 'check') {
        const open = await deps.gates.isOpen(key);
        deps.metrics.gate(route.gate, 'check', open ? 'open' : 'closed');
        log.info(`${route.gate} check`, { ...fields, approved: open });
        if (open) send(res, 200, 'Approved');
        else send(res, 403, 'Forbidden');
        return;
      }
      await deps.gates.set(key, route.action === 'open');
      deps.metrics.gate(route.gate, route.action, 'ok');
      log.info(`${route.gate} ${route.action === 'open' ? 'opened' : 'closed'}`, fields);
      send(res, 202);
    } catch (err) {
      deps.metrics.gate(route.gate, route.action, 'error');
      log.error(`${route.gate} ${route.action} failed`, { ...fields, error: err });
      send(res, 500, `gate storage failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const task = async (req: IncomingMessage, res: ServerResponse, authed: boolean): Promise<void> => {
    // Without the token, only the built-in generator against an open target may run.
    const payload = await payloadOf(req, res, (p) => authed || isGeneratorPayload(p));
    if (!payload) return;
    const rawType = payload.metadata?.['type'] ?? 'cmd';
    const typeLabel = isTaskType(rawType) ? rawType : 'other';
    let plan: TaskPlan;
    try {
      plan = planTask(payload, deps.allowlist, load);
    } catch (err) {
      if (!(err instanceof TaskRejection)) throw err;
      deps.metrics.task(typeLabel, err.result);
      log.warn(err.status === 403 ? 'task refused' : 'task rejected', {
        canary: payload.name,
        namespace: payload.namespace,
        type: rawType,
        status: err.status,
        reason: err.message,
      });
      send(res, err.status, err.message);
      return;
    }
    if (!authed && plan.needsToken) {
      unauthorized(res, 'a load test against a host that is not in-cluster (nor matches -load-hosts)');
      return;
    }
    if (plan.plan.kind === 'load' && deps.loadSlots?.full) {
      deps.metrics.task(plan.type, 'refused');
      log.warn('task refused', { canary: payload.name, namespace: payload.namespace, reason: deps.loadSlots.message });
      send(res, 429, deps.loadSlots.message, { 'Retry-After': '10' });
      return;
    }
    if (plan.background) {
      const started = deps.runner.submit(plan);
      if (!started) deps.metrics.task(plan.type, 'duplicate');
      send(res, 202);
      return;
    }
    // A blocking task ends with its caller, as in Flagger (the request's context): a webhook that
    // timed out and went away must not leave a command or a Concord poll running behind it.
    const caller = new AbortController();
    const gone = (): void => {
      if (!res.writableFinished) caller.abort();
    };
    res.on('close', gone);
    let out;
    try {
      out = await deps.execute(plan, AbortSignal.any([deps.signal, caller.signal]));
    } finally {
      res.off('close', gone);
    }
    if (caller.signal.aborted) {
      deps.metrics.task(plan.type, 'failure');
      log.warn('task aborted: the caller went away', {
        canary: payload.name,
        namespace: payload.namespace,
        type: plan.type,
      });
      return;
    }
    deps.metrics.task(plan.type, out.ok ? 'success' : 'failure');
    if (!out.ok) {
      send(res, 500, out.error ?? 'task failed');
      return;
    }
    const body = plan.returnOutput ? out.output : '';
    send(res, 200, body, plan.plan.kind === 'load' && body !== '' ? { 'Content-Type': 'application/json' } : {});
  };

  return async (req, res) => {
    const path = requestPath(req.url);
    if (path === '/healthz') {
      send(res, 200, 'OK');
      return;
    }
    // Authentication first: nothing below runs for a client without the token that it protects.
    const authed = token === undefined || authorized(req.headers.authorization, token);
    if (!authed && (scope === 'all' || path === undefined || !WEBHOOK_PATHS.has(path))) {
      unauthorized(res, scope === 'all' ? 'every endpoint but /healthz' : 'this endpoint');
      return;
    }
    if (path === undefined) {
      send(res, 400, 'malformed request target', { Connection: 'close' });
      return;
    }
    const route = GATE_ROUTES[path];
    if (route) return gate(req, res, route);
    switch (path) {
      case '/metrics':
        send(res, 200, await deps.metrics.registry.metrics(), { 'Content-Type': deps.metrics.registry.contentType });
        return;
      case '/gate/approve':
        send(res, 200, 'OK');
        return;
      case '/gate/halt':
        send(res, 403, 'Forbidden');
        return;
      case '/':
        return task(req, res, authed);
      default:
        send(res, 404, 'not found');
    }
  };
}

/** A listening loadtester server. */
export interface RunningServer {
  readonly port: number;
  /** Stops accepting connections; resolves when open requests have ended. */
  close(): Promise<void>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  readonly port: number;
  readonly host?: string;
  readonly log: Logger;
  /** Longest wait for a request's headers, ms (default {@link HEADERS_TIMEOUT_MS}). */
  readonly headersTimeoutMs?: number;
  /** Longest wait for a whole request, headers and body, ms (default {@link REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
  /** Client connections open at once; more are closed as they arrive (default 1000). */
  readonly maxConnections?: number;
}

/** Default time to receive a request's headers. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Default time to receive a whole request (payloads are a few hundred bytes). */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Listens on `port` (0 = any) and serves {@link createHandler}. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: ListenOptions,
): Promise<RunningServer> {
  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const server: Server = createServer(
    {
      headersTimeout,
      // Covers receiving the request only: a blocking task may still take up to -timeout to answer.
      requestTimeout,
      // How often those two are enforced (Node's default, 30 s, lets slow clients linger).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      handler(req, res).catch((err: unknown) => {
        options.log.error('request failed', { path: req.url, error: err });
        if (!res.headersSent) send(res, 500, 'internal error');
        else res.destroy();
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.log.error('http server error', { error: err }));
  server.on('drop', () => options.log.warn('connection refused: -max-connections reached'));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
