/**
 * Loopback HTTP(S) servers for tests of outbound calls (webhooks, Prometheus): they record every
 * request and answer with a test-provided handler. The HTTPS variant uses a throw-away self-signed
 * certificate made with `openssl` in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../core/context.ts';
import { silentLogger } from '../log/logger.ts';

/** A request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/api/v1/query?query=vector%281%29`. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** Raw header lines (name, value, name, value…), to see repeated headers. */
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>` (or https). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A context that never aborts and logs nothing. */
export function testCtx(signal: AbortSignal = new AbortController().signal): Ctx {
  return { signal, log: silentLogger };
}

/** Starts a plain HTTP server on 127.0.0.1 with an OS-assigned port. */
export function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  return listen(createServer(serve(handler, requests)), 'http', requests);
}

/** Starts an HTTPS server with a fresh self-signed certificate for 127.0.0.1. */
export function startHttpsServer(handler: Handler): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const requests: RecordedRequest[] = [];
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, serve(handler, requests));
    return listen(server, 'https', requests);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts a server built by `make` around the recording listener (e.g. an HTTPS server with a
 * given certificate) on 127.0.0.1 with an OS-assigned port.
 */
export function listenRecorded(
  make: (listener: (req: IncomingMessage, res: ServerResponse) => void) => Server,
  scheme: 'http' | 'https',
  handler: Handler,
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  return listen(make(serve(handler, requests)), scheme, requests);
}

/** Answers `status` with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function serve(handler: Handler, requests: RecordedRequest[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        res.writeHead(599);
        res.end(String(err));
      });
    });
  };
}

function listen(server: Server, scheme: 'http' | 'https', requests: RecordedRequest[]): Promise<TestServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
