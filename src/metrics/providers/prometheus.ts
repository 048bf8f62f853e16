/**
 * Prometheus metrics provider (Flagger pkg/metrics/providers/prometheus.go): instant queries over
 * `GET <address>/api/v1/query?query=…`, used for MetricTemplates of type `prometheus`, inline
 * `query` metrics and the builtin checks' observers.
 */
import type { Ctx } from '../../core/context.ts';
import { HttpConfigError, isUntrustedCertificateCode, parseCaPem } from '../../http/agents.ts';
import { type HttpClient, HttpNetworkError } from '../../http/client.ts';
import type { MetricsProvider } from './provider.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';

/** The query `isOnline` runs; a healthy server answers 1. */
export const PROMETHEUS_ONLINE_QUERY = 'vector(1)';
/** Per-query deadline, as Flagger's. */
export const PROMETHEUS_TIMEOUT_MS = 5_000;

/** What a Prometheus provider needs (MetricTemplate `spec.provider` plus Secret data). */
export interface PrometheusOptions {
  /** Base URL, e.g. `http://prometheus.monitoring:9090` or `https://host/prometheus`. */
  readonly address: string;
  /** Extra headers sent with every query (`spec.provider.headers`). */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  readonly insecureSkipVerify?: boolean;
  /** Bearer token (Secret key `token`); wins over basic credentials. */
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM CA certificate(s) trusted in addition to the system roots (Fledge: Secret key `ca.crt`). */
  readonly caPem?: string;
  readonly timeoutMs?: number;
}

/** The Secret key of the custom CA (Fledge extension; the name cert-manager and kubernetes.io/tls Secrets use). */
export const PROMETHEUS_CA_KEY = 'ca.crt';

/**
 * Credentials from a Secret's decoded `data`, as Flagger reads them for `type: prometheus`: `token`,
 * else `username` and `password`. Fledge also reads `ca.crt` (PEM), the CA that signs the server's
 * certificate; a Secret that holds only `ca.crt` needs no credentials. Throws ProviderError naming
 * the missing or invalid key, never a value.
 */
export function prometheusCredentials(
  data: Readonly<Record<string, string>>,
): Pick<PrometheusOptions, 'token' | 'username' | 'password' | 'caPem'> {
  const caPem = data[PROMETHEUS_CA_KEY];
  const ca: { caPem?: string } = {};
  if (caPem !== undefined) {
    try {
      parseCaPem(caPem);
    } catch (err) {
      if (err instanceof HttpConfigError) {
        throw new ProviderError(`prometheus credentials: ${PROMETHEUS_CA_KEY} is invalid: ${err.message}`);
      }
      throw err;
    }
    ca.caPem = caPem;
  }
  const token = data['token'];
  if (token !== undefined) return { token, ...ca };
  if (caPem !== undefined && data['username'] === undefined && data['password'] === undefined) return ca;
  const username = data['username'];
  if (username === undefined) throw new ProviderError('prometheus credentials does not contain a username');
  const password = data['password'];
  if (password === undefined) throw new ProviderError('prometheus credentials does not contain a password');
  return { username, password, ...ca };
}

const MAX_ERROR_BODY = 200;

/** Runs PromQL instant queries against one Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics…). */
export class PrometheusProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #queryUrl: URL;
  readonly #options: PrometheusOptions;

  /** Throws ProviderError when the address is not an absolute http(s) URL. */
  constructor(options: PrometheusOptions, http: HttpClient) {
    let base: URL;
    try {
      base = new URL(options.address);
    } catch {
      throw new ProviderError(`prometheus address ${options.address} is not a valid URL`);
    }
    if (options.address === '' || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
      throw new ProviderError(`prometheus address ${options.address} is not a valid URL`);
    }
    // Path-joined like Go's path.Join: `/prom` and `/prom/` both become `/prom/api/v1/query`.
    // Credentials in the address (`https://user:pass@host`) are kept, as Go's URL resolution keeps them.
    const url = new URL(base);
    url.search = '';
    url.hash = '';
    url.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/query`;
    this.#queryUrl = url;
    this.#options = options;
    this.#http = http;
  }

  /**
   * The query's value. Several series of an instant vector: the last one's value is used, as
   * Flagger does. A range vector (matrix) throws MultipleValuesError; no series or NaN throws
   * NoValuesFoundError; transport problems and error statuses throw ProviderError.
   */
  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const url = new URL(this.#queryUrl);
    url.searchParams.set('query', query.replace(/\s+/g, ' ').trim());
    const headers: Record<string, string | readonly string[]> = { ...this.#options.headers };
    if (this.#options.token !== undefined && this.#options.token !== '') {
      headers['Authorization'] = `Bearer ${this.#options.token}`;
    }
    const basic =
      this.#options.token === undefined && this.#options.username && this.#options.password
        ? { username: this.#options.username, password: this.#options.password }
        : undefined;
    let res;
    try {
      res = await this.#http.request(ctx, {
        method: 'GET',
        url: url.toString(),
        headers,
        timeoutMs: this.#options.timeoutMs ?? PROMETHEUS_TIMEOUT_MS,
        ...(this.#options.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
        ...(this.#options.caPem === undefined || this.#options.caPem === '' ? {} : { caPem: this.#options.caPem }),
        ...(basic ? { basicAuth: basic } : {}),
      });
    } catch (err) {
      if (err instanceof HttpNetworkError) {
        const hint =
          isUntrustedCertificateCode(err.code) && this.#options.insecureSkipVerify !== true
            ? this.#options.caPem === undefined || this.#options.caPem === ''
              ? `; add the CA certificate as ${PROMETHEUS_CA_KEY} to the secretRef Secret, or set insecureSkipVerify`
              : `; the ${PROMETHEUS_CA_KEY} of the secretRef Secret does not sign it`
            : '';
        throw new ProviderError(`request failed: ${err.message}${hint}`);
      }
      throw err;
    }
    if (res.status >= 400) {
      throw new ProviderError(`error response: Status ${res.status} ${res.statusText}: ${truncate(res.body.trim())}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new ProviderError(`error unmarshaling result: '${truncate(res.body)}'`);
    }
    return valueOf(parsed);
  }

  /** True when the server answers `vector(1)` with 1; throws ProviderError otherwise. */
  async isOnline(ctx: Ctx): Promise<boolean> {
    let value: number;
    try {
      value = await this.runQuery(ctx, PROMETHEUS_ONLINE_QUERY);
    } catch (err) {
      throw new ProviderError(`running query failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (value !== 1) throw new ProviderError(`value is not 1 for query: ${PROMETHEUS_ONLINE_QUERY}`);
    return true;
  }
}

/** The number in a `/api/v1/query` answer (`{status, data: {resultType, result}}`). */
function valueOf(response: unknown): number {
  const data = isObject(response) ? response['data'] : undefined;
  if (!isObject(data)) throw new ProviderError('error unmarshaling result: no data');
  const resultType = data['resultType'];
  const result = data['result'];
  if (resultType === 'matrix') throw new MultipleValuesError('query returned multiple values');
  let value: number | undefined;
  if (resultType === 'scalar') {
    // Flagger can't decode scalars (`scalar(…)`, `vector(1) * 1` is a vector but `1 + 1` is a scalar); Fledge reads them.
    value = sampleValue(result);
  } else if (Array.isArray(result)) {
    for (const series of result) {
      if (!isObject(series)) continue;
      if (series['values'] !== undefined) throw new MultipleValuesError('query returned multiple values');
      const v = sampleValue(series['value']);
      if (v !== undefined) value = v;
    }
  } else if (result !== undefined && result !== null) {
    throw new ProviderError(`error unmarshaling result: unexpected result type ${String(resultType)}`);
  }
  if (value === undefined || Number.isNaN(value)) throw new NoValuesFoundError('no values found');
  return value;
}

/** `[<unix time>, "<value>"]` → the value; Prometheus encodes `NaN`, `+Inf`, `-Inf` as strings too. */
function sampleValue(sample: unknown): number | undefined {
  if (!Array.isArray(sample)) return undefined;
  const raw: unknown = sample[1];
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new ProviderError(`error parsing value "${truncate(text)}"`);
  return n;
}

function isObject(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

function truncate(s: string): string {
  return s.length > MAX_ERROR_BODY ? `${s.slice(0, MAX_ERROR_BODY)}...` : s;
}
