/**
 * The one outbound HTTP client of the operator (webhooks, metric providers, notifiers). It wraps a
 * single axios instance so that every call gets the same guarantees:
 *
 * - a total per-call deadline (connect + headers + body), combined with the caller's abort signal;
 * - no status is an exception (`validateStatus: () => true`): callers decide what a status means;
 * - bodies come back as text, never parsed, and capped in size;
 * - per call, TLS verification can be skipped or a custom CA trusted in addition to the system
 *   roots, and a forward proxy can be named (absolute-form requests for `http://` targets, a
 *   `CONNECT` tunnel with end-to-end TLS for `https://` ones); the agents for these are cached
 *   (src/http/agents.ts), never the default ones;
 * - without a per-call proxy, proxies come from the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
 *   `NO_PROXY`), as with Go's default transport;
 * - errors and debug logs name the method and the URL's origin only: no path (Slack-style webhook
 *   URLs carry their secret in the path), no query, no headers, no bodies, no proxy credentials.
 */
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { Ctx } from '../core/context.ts';
import { OperatorError } from '../core/errors.ts';
import { AgentCache, HttpConfigError, type ProxyTarget, isUntrustedCertificateCode, parseProxyUrl } from './agents.ts';
import { redactUrl } from './redact.ts';

export { redactUrl } from './redact.ts';

/** One request. `body` is sent as-is; set `Content-Type` yourself. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  /** Header values; an array sends the header once per value. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string;
  /** Total time allowed for the call, in milliseconds. */
  readonly timeoutMs: number;
  /** Skip TLS certificate verification (webhook `disableTLS`, template `insecureSkipVerify`). */
  readonly insecureSkipVerify?: boolean;
  /** HTTP basic credentials; sent as an `Authorization` header, never logged. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /**
   * Forward proxy for this call, `http://[user:pass@]host:port` (credentials become
   * `Proxy-Authorization: Basic`). `http://` targets are sent to it in absolute form; `https://`
   * targets go through a `CONNECT` tunnel with TLS end to end. It replaces `HTTP(S)_PROXY` and
   * `NO_PROXY` for this call; redirects are then not followed (a 3xx is returned as is). Empty or
   * absent: the environment's proxy, if any. A secret: messages show its origin only.
   */
  readonly proxyUrl?: string;
  /**
   * PEM CA certificate(s) trusted for this `https://` call in addition to the default roots (also
   * through a proxy tunnel). Ignored for `http://` targets.
   */
  readonly caPem?: string;
}

/** A response of any status. */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8. */
  readonly body: string;
}

/** Sends requests; one implementation over axios, test doubles elsewhere. */
export interface HttpClient {
  /**
   * Resolves with the response whatever its status. Rejects with {@link HttpTimeoutError} after
   * `timeoutMs`, with {@link HttpAbortedError} when `ctx.signal` aborts, and with
   * {@link HttpNetworkError} when no response arrived (DNS, connection, TLS, oversized body).
   */
  request(ctx: Ctx, request: HttpRequest): Promise<HttpResponse>;
}

/** No response was received. `code` is Node's error code (`ECONNREFUSED`, `CERT_HAS_EXPIRED`, …) when known. */
export class HttpNetworkError extends OperatorError {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** The call's deadline passed. */
export class HttpTimeoutError extends HttpNetworkError {
  constructor(message: string) {
    super(message, 'ETIMEDOUT');
  }
}

/** The caller aborted (`ctx.signal`), e.g. on shutdown. Not worth retrying. */
export class HttpAbortedError extends HttpNetworkError {
  constructor(message: string) {
    super(message, 'ABORTED');
  }
}

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** `User-Agent` of every request (default `fledge`). */
  readonly userAgent?: string;
  /** Largest response body accepted, in bytes (default 10 MiB). */
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** Human text of a duration in milliseconds for messages: `500ms`, `10s`, `1.5s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/** The axios-backed client. Create one per process and share it. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const instance: AxiosInstance = axios.create({
    validateStatus: () => true,
    responseType: 'arraybuffer',
    // Keep bodies as bytes: nothing is parsed behind the caller's back.
    transformResponse: [(data: unknown) => data],
    maxContentLength: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
    maxBodyLength: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
    // Unless a call names its proxy, proxies come from the environment (HTTP_PROXY, HTTPS_PROXY,
    // NO_PROXY), as with Go's default transport.
    headers: { 'User-Agent': options.userAgent ?? 'fledge' },
  });
  // axios adds `Accept: application/json, text/plain, */*`; send only what callers ask for.
  delete instance.defaults.headers.common['Accept'];
  const agents = new AgentCache();

  return {
    async request(ctx, req) {
      let target = `${req.method} ${redactUrl(req.url)}`;
      if (ctx.signal.aborted) throw new HttpAbortedError(`${target} aborted`);
      let transport: AxiosRequestConfig;
      let proxy: ProxyTarget | undefined;
      try {
        proxy = req.proxyUrl === undefined || req.proxyUrl === '' ? undefined : parseProxyUrl(req.proxyUrl);
        if (proxy !== undefined) target += ` via proxy ${proxy.origin}`;
        transport = transportOf(req, proxy, agents);
      } catch (err) {
        if (err instanceof HttpConfigError) throw new HttpNetworkError(`${target} not sent: ${err.message}`, err.code);
        throw err;
      }
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), Math.max(1, req.timeoutMs));
      const signal = AbortSignal.any([ctx.signal, deadline.signal]);
      const started = Date.now();
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v];
      // Absolute-form requests carry the proxy's credentials themselves; a tunnel sends them on CONNECT only.
      if (proxy?.authorization !== undefined && !isHttps(req.url)) {
        headers['Proxy-Authorization'] = proxy.authorization;
      }
      let res: AxiosResponse<unknown>;
      try {
        res = await instance.request<unknown>({
          method: req.method,
          url: req.url,
          headers,
          ...(req.body === undefined ? {} : { data: req.body }),
          ...(req.basicAuth ? { auth: { username: req.basicAuth.username, password: req.basicAuth.password } } : {}),
          ...transport,
          signal,
        });
      } catch (err) {
        if (deadline.signal.aborted && !ctx.signal.aborted) {
          throw new HttpTimeoutError(`${target} timed out after ${formatMs(req.timeoutMs)}`);
        }
        if (ctx.signal.aborted) throw new HttpAbortedError(`${target} aborted`);
        throw toNetworkError(target, err);
      } finally {
        clearTimeout(timer);
      }
      ctx.log.debug('http request', {
        method: req.method,
        url: redactUrl(req.url),
        ...(proxy === undefined ? {} : { proxy: proxy.origin }),
        status: res.status,
        ms: Date.now() - started,
      });
      return {
        status: res.status,
        statusText: res.statusText,
        headers: plainHeaders(res.headers),
        body: toText(res.data),
      };
    },
  };
}

/**
 * The agents and proxy settings of one call: a per-call proxy (explicit, so the environment's is
 * not consulted), a custom CA or skipped verification for https targets, else axios' defaults.
 */
function transportOf(req: HttpRequest, proxy: ProxyTarget | undefined, agents: AgentCache): AxiosRequestConfig {
  const https = isHttps(req.url);
  const caPem = req.caPem === undefined || req.caPem === '' ? undefined : req.caPem;
  const insecureSkipVerify = req.insecureSkipVerify === true;
  if (proxy === undefined) {
    return https && (caPem !== undefined || insecureSkipVerify)
      ? { httpsAgent: agents.get({ caPem, insecureSkipVerify }) }
      : {};
  }
  // Redirects would re-enter axios' own proxy handling (env proxies, its tunnel); a proxied call returns 3xx as is.
  if (https) return { proxy: false, maxRedirects: 0, httpsAgent: agents.get({ caPem, insecureSkipVerify, proxy }) };
  return {
    maxRedirects: 0,
    proxy: { protocol: 'http', host: proxy.hostname, port: proxy.port },
  };
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Maps an axios/Node error to a message without URL paths, headers or bodies. */
function toNetworkError(target: string, err: unknown): HttpNetworkError {
  const code = errorCode(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  // axios prefixes nothing useful; Node's message ("connect ECONNREFUSED 127.0.0.1:80") names no path.
  let detail = err instanceof Error ? err.message : String(err);
  if (axios.isAxiosError(err) && err.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(detail)) {
    detail = 'response body too large';
  } else if (cause && detail === '') detail = cause.message;
  // Node appends advice about --use-system-ca, which does not apply to the operator.
  if (isUntrustedCertificateCode(code)) {
    detail = `${detail.split(';')[0] ?? detail}: the server's TLS certificate is not trusted (${code})`;
  }
  if (detail === '') detail = code ?? 'unknown error';
  return new HttpNetworkError(`${target} failed: ${stripUrls(detail)}`, code);
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown }).cause;
  return cause === undefined ? undefined : errorCode(cause);
}

/** Replaces anything URL-like by its origin (some Node messages quote the URL). */
function stripUrls(message: string): string {
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'()<>]+/gi, (m) => {
    // Punctuation after a URL belongs to the sentence ("proxy http://host:3128: connect …").
    const tail = /[.,:;!?]+$/.exec(m)?.[0] ?? '';
    return `${redactUrl(m.slice(0, m.length - tail.length))}${tail}`;
  });
}

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String).join(', ');
  }
  return out;
}

function toText(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return typeof data === 'number' || typeof data === 'boolean' ? String(data) : '';
}
