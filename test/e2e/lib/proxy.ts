// A real forward proxy on loopback for tests of per-call proxies (unit and e2e): absolute-form
// requests (`GET http://host/path`) are forwarded with their body and recorded; `CONNECT host:port`
// opens a raw TCP tunnel (the proxy never sees inside TLS). Optionally it requires
// `Proxy-Authorization: Basic` credentials and answers 407 without them, or refuses every CONNECT.
import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';

/** What the proxy saw of one request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Absolute URL (`http://127.0.0.1:1234/path?q`) or, for CONNECT, `host:port`. */
  readonly target: string;
  /** The `Proxy-Authorization` header as received. */
  readonly proxyAuthorization: string | undefined;
  /** Body of an absolute-form request (empty for CONNECT). */
  readonly body: string;
  /** The status the proxy answered itself (407, 403, 502), or 200 when it forwarded/tunnelled. */
  readonly status: number;
}

export interface ProxyOptions {
  /** Require these credentials (`Proxy-Authorization: Basic`); others get 407. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Answer every CONNECT with this status instead of tunnelling. */
  readonly refuseConnect?: number;
}

export interface TestProxy {
  /** `http://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  /** `http://user:pass@127.0.0.1:<port>` with the given credentials (percent-encoded). */
  urlWith(username: string, password: string): string;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startProxy(o: ProxyOptions = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const expected =
    o.auth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`;
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = req.headers['proxy-authorization'];
      const record = (status: number): void => {
        requests.push({
          method: req.method ?? '',
          target: req.url ?? '',
          proxyAuthorization: auth,
          body: body.toString('utf8'),
          status,
        });
      };
      if (expected !== undefined && auth !== expected) {
        record(407);
        res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"', 'Content-Type': 'text/plain' });
        res.end('proxy authentication required');
        return;
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '');
      } catch {
        record(400);
        res.writeHead(400);
        res.end('absolute-form request expected');
        return;
      }
      record(200);
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      delete headers['proxy-connection'];
      const upstream = request(
        { host: url.hostname, port: url.port, method: req.method, path: `${url.pathname}${url.search}`, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(`upstream error: ${err.message}`);
      });
      upstream.end(body);
    });
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const auth = req.headers['proxy-authorization'];
    const record = (status: number): void => {
      requests.push({ method: 'CONNECT', target: req.url ?? '', proxyAuthorization: auth, body: '', status });
    };
    if (expected !== undefined && auth !== expected) {
      record(407);
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    if (o.refuseConnect !== undefined) {
      record(o.refuseConnect);
      client.end(`HTTP/1.1 ${o.refuseConnect} Refused\r\n\r\n`);
      return;
    }
    const [host, port] = splitAuthority(req.url ?? '');
    const upstream = connect(port, host, () => {
      record(200);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => {
      if (!requests.some((r) => r.target === req.url && r.status === 200)) record(502);
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    urlWith: (username, password) =>
      `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function splitAuthority(authority: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  return m ? [m[1] ?? '', Number(m[2])] : [authority, 443];
}
