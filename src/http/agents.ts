/**
 * Connection agents of the shared HTTP client (src/http/client.ts) for calls that need more than
 * Node's defaults: a custom CA trusted in addition to the system roots, skipped TLS verification,
 * and HTTPS through a forward proxy's `CONNECT` tunnel (TLS runs end to end, the proxy sees only
 * `host:port`). Agents are cached by (CA, verification, proxy) so keep-alive connections are
 * reused across calls; the cache is bounded.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, getCACertificates, type ConnectionOptions } from 'node:tls';
import { redactUrl } from './redact.ts';

/** A parsed `http://[user:pass@]host:port` forward proxy. */
export interface ProxyTarget {
  readonly hostname: string;
  readonly port: number;
  /** `http://host:port`: what messages may show. */
  readonly origin: string;
  /** `Basic …` for `Proxy-Authorization`, when the URL carries credentials. */
  readonly authorization: string | undefined;
  /** The proxy URL as given (credentials included): the cache key, never shown. */
  readonly key: string;
}

/** A proxy URL that is not `http://host[:port]`, or a CA that holds no PEM certificate. */
export class HttpConfigError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'HttpConfigError';
    this.code = code;
  }
}

/** A proxy answered `CONNECT` with something other than 200. The message names its origin and status only. */
export class ProxyConnectError extends Error {
  readonly code = 'EPROXYCONNECT';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'ProxyConnectError';
    this.status = status;
  }
}

/** Parses a forward proxy URL; throws {@link HttpConfigError} (without the URL) when it is not `http://host[:port]`. */
export function parseProxyUrl(proxyUrl: string): ProxyTarget {
  let u: URL;
  try {
    u = new URL(proxyUrl);
  } catch {
    throw new HttpConfigError('the proxy URL is not a valid URL', 'EPROXYURL');
  }
  if (u.protocol !== 'http:' || u.hostname === '') {
    throw new HttpConfigError(`the proxy URL must be http://[user:pass@]host:port, not ${u.protocol}//…`, 'EPROXYURL');
  }
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? 80 : Number(u.port);
  return {
    hostname,
    port,
    origin: redactUrl(proxyUrl),
    authorization:
      user === '' && pass === '' ? undefined : `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`,
    key: proxyUrl,
  };
}

/**
 * The certificates of a PEM bundle; throws {@link HttpConfigError} when it holds none or one does
 * not parse. Used to reject a bad `ca.crt` up front rather than at the first handshake.
 */
export function parseCaPem(caPem: string): string[] {
  const blocks = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new HttpConfigError('the CA holds no PEM certificate', 'EINVALIDCA');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch {
      throw new HttpConfigError('the CA holds a PEM certificate that does not parse', 'EINVALIDCA');
    }
  }
  return blocks;
}

/** OpenSSL verification codes that mean "the server's certificate does not chain to a trusted CA". */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

/** True for a Node error code that says the peer's certificate is not trusted. */
export function isUntrustedCertificateCode(code: string | undefined): boolean {
  return code !== undefined && UNTRUSTED_CODES.has(code);
}

/** Deadline of a proxy's answer to `CONNECT`; the caller's own deadline usually fires first. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Idle keep-alive sockets are closed after this (Node's global agent uses 5 s too). */
const IDLE_SOCKET_MS = 5_000;

/**
 * An HTTPS agent that reaches every origin through `CONNECT host:port` on a forward proxy, then
 * does the TLS handshake with the origin inside the tunnel, with the agent's TLS options (CA,
 * verification). A non-200 answer fails the request with {@link ProxyConnectError}.
 */
export class TunnelingAgent extends HttpsAgent {
  readonly #proxy: ProxyTarget;

  constructor(proxy: ProxyTarget, options: AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  // Node's Agent calls createConnection(options, callback) and waits for the callback when it returns nothing.
  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    // Node ignores the stream argument of a failure.
    const done = (callback ?? (() => undefined)) as (err: Error | null, stream?: Duplex) => void;
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const proxy = this.#proxy;
    const connect = httpRequest({
      host: proxy.hostname,
      port: proxy.port,
      method: 'CONNECT',
      path: authority,
      headers: {
        Host: authority,
        ...(proxy.authorization === undefined ? {} : { 'Proxy-Authorization': proxy.authorization }),
      },
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      connect.destroy();
      done(err);
    };
    connect.once('timeout', () => fail(new Error(`proxy ${proxy.origin} did not answer CONNECT in time`)));
    connect.once('error', (err: NodeJS.ErrnoException) =>
      fail(Object.assign(new Error(`proxy ${proxy.origin}: ${err.message}`), { code: err.code })),
    );
    connect.once('connect', (res, socket, head) => {
      if (settled) {
        socket.destroy();
        return;
      }
      if (res.statusCode !== 200) {
        socket.destroy();
        const status = res.statusCode ?? 0;
        fail(
          new ProxyConnectError(
            `proxy ${proxy.origin} refused CONNECT: ${status} ${res.statusMessage ?? ''}`.trim(),
            status,
          ),
        );
        return;
      }
      settled = true;
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
      const tlsOptions = { ...options, socket } as ConnectionOptions;
      // An IP is not a valid SNI name; verification still checks it against the certificate's IP SANs.
      delete tlsOptions.servername;
      if (servername !== undefined && servername !== '') tlsOptions.servername = servername;
      const tls = tlsConnect(tlsOptions);
      done(null, tls);
    });
    connect.end();
    return undefined;
  }
}

/** What an agent is for; equal keys share one agent. */
export interface AgentKey {
  readonly caPem?: string | undefined;
  readonly insecureSkipVerify?: boolean | undefined;
  readonly proxy?: ProxyTarget | undefined;
}

/**
 * A bounded LRU of HTTPS agents. An evicted agent is not destroyed (a call may still be using it);
 * its idle sockets close on their own after {@link IDLE_SOCKET_MS}.
 */
export class AgentCache {
  readonly #max: number;
  readonly #agents = new Map<string, HttpsAgent>();

  constructor(max = 32) {
    this.#max = max;
  }

  /** The agent for `key`, created on first use. Throws {@link HttpConfigError} for a CA that holds no certificate. */
  get(key: AgentKey): HttpsAgent {
    const id = createHash('sha256')
      .update(JSON.stringify([key.caPem ?? '', key.insecureSkipVerify === true, key.proxy?.key ?? '']))
      .digest('hex');
    const cached = this.#agents.get(id);
    if (cached !== undefined) {
      // Most recently used last.
      this.#agents.delete(id);
      this.#agents.set(id, cached);
      return cached;
    }
    const options: AgentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS };
    if (key.insecureSkipVerify === true) options.rejectUnauthorized = false;
    // `ca` replaces the default trust store, so the default one (bundled roots plus NODE_EXTRA_CA_CERTS) is kept.
    if (key.caPem !== undefined && key.caPem !== '')
      options.ca = [...getCACertificates('default'), ...parseCaPem(key.caPem)];
    const agent = key.proxy === undefined ? new HttpsAgent(options) : new TunnelingAgent(key.proxy, options);
    this.#agents.set(id, agent);
    while (this.#agents.size > this.#max) {
      const oldest = this.#agents.keys().next().value;
      if (oldest === undefined) break;
      this.#agents.delete(oldest);
    }
    return agent;
  }

  /** Number of cached agents (tests). */
  get size(): number {
    return this.#agents.size;
  }
}
