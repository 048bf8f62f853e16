/**
 * The operator's own HTTP endpoints, on `-port` (Flagger serves /metrics and /healthz there):
 *
 * - `GET /metrics`: the Prometheus exposition of the recorder's registry;
 * - `GET /healthz`: liveness, 200 while the process runs its event loop;
 * - `GET /readyz`: readiness, 200 when the caches are synced (leader) or when waiting as a
 *   standby replica; 503 with the reason otherwise.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';

/** What `/metrics` serves: a prom-client Registry fits. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** The answer of the readiness check. */
export interface Readiness {
  readonly ready: boolean;
  /** Shown in the response body: `leader, caches synced`, `standby`, `caches not synced`… */
  readonly reason: string;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  readonly port: number;
  /** Bind address (default: all interfaces, as Flagger). */
  readonly host?: string;
  readonly metrics: MetricsSource;
  readonly readiness: () => Readiness;
  readonly log: Logger;
}

/** A listening server. */
export interface RunningHttpServer {
  /** The bound port (useful with port 0 in tests). */
  readonly port: number;
  /** Stops accepting connections and closes idle ones; resolves when closed. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Handles one request; exported for tests that don't need a socket. */
export async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  o: Omit<HttpServerOptions, 'port'>,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/healthz':
      send(res, 200, 'ok\n');
      return;
    case '/readyz': {
      let r: Readiness;
      try {
        r = o.readiness();
      } catch (err) {
        r = { ready: false, reason: err instanceof Error ? err.message : String(err) };
      }
      send(res, r.ready ? 200 : 503, `${r.ready ? 'ok' : 'not ready'}: ${r.reason}\n`);
      return;
    }
    case '/metrics':
      try {
        send(res, 200, await o.metrics.metrics(), o.metrics.contentType);
      } catch (err) {
        o.log.error('metrics collection failed', { error: err });
        send(res, 500, 'metrics collection failed\n');
      }
      return;
    default:
      send(res, 404, 'not found\n');
  }
}

/** Listens on `port`; rejects when the port can't be bound (e.g. EADDRINUSE). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const log = options.log.child({ logger: 'http' });
  const server: Server = createServer((req, res) => {
    handle(req, res, { ...options, log }).catch((err: unknown) => {
      log.error('request failed', { error: err, path: req.url });
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('http server error', { error: err }));
  const port = (server.address() as AddressInfo).port;
  log.info('serving /metrics, /healthz and /readyz', { port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
