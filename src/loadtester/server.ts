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
 * Every endpoint but `/healthz` requires `Authorization: Bearer <token>` when a token is set
 * (401 otherwise). Endpoints that read a payload answer 400 when it is not valid JSON and 403 when
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
import type { TaskRunner } from './runner.ts';
import {
  PayloadError,
  TaskRejection,
  type TaskExecutor,
  type TaskPlan,
  type WebhookPayload,
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
  /** Bearer token required on every endpoint but /healthz; undefined or empty = no auth. */
  readonly token: string | undefined;
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
    req.on('error', reject);
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

  /** Reads and parses the payload, and checks its namespace; undefined when an answer was sent. */
  const payloadOf = async (req: IncomingMessage, res: ServerResponse): Promise<WebhookPayload | undefined> => {
    let payload: WebhookPayload;
    try {
      payload = parsePayload(await readBody(req));
    } catch (err) {
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

  const task = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const payload = await payloadOf(req, res);
    if (!payload) return;
    const rawType = payload.metadata?.['type'] ?? 'cmd';
    const typeLabel = isTaskType(rawType) ? rawType : 'other';
    let plan: TaskPlan;
    try {
      plan = planTask(payload, deps.allowlist);
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
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      send(res, 200, 'OK');
      return;
    }
    if (token !== undefined && !authorized(req.headers.authorization, token)) {
      send(res, 401, 'Unauthorized: this loadtester requires "Authorization: Bearer <token>"', {
        'WWW-Authenticate': 'Bearer realm="fledge-loadtester"',
      });
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
        return task(req, res);
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

/** Listens on `port` (0 = any) and serves {@link createHandler}. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { readonly port: number; readonly host?: string; readonly log: Logger },
): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      options.log.error('request failed', { path: req.url, error: err });
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // Blocking tasks can run for up to -timeout: never cut a request for taking long.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.log.error('http server error', { error: err }));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
