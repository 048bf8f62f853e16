/**
 * Kubernetes External Metrics API (Flagger pkg/metrics/providers/externalmetrics.go), e.g. the
 * Datadog Cluster Agent or KEDA: the query `<namespace>/<metricName>?labelSelector=<urlencoded>`
 * (namespace default `default`) becomes
 * `GET <address>/apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>?labelSelector=…`,
 * with a bearer `token` from the Secret when present. The value is the first item's quantity.
 *
 * Flagger falls back to the operator's in-cluster config when `address` is empty; Fledge requires
 * the address (the outbound client has no cluster CA), and says so.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, baseUrl, DEFAULT_TIMEOUT_MS, expectOk, isObject, parseJson, send, truncate } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

const API = '/apis/external.metrics.k8s.io/v1beta1';

export interface ExternalMetricsOptions {
  readonly address?: string;
  readonly credentials?: Readonly<Record<string, string>>;
  readonly insecureSkipVerify?: boolean;
  readonly timeoutMs?: number;
}

/** The parts of an external metrics query. */
export interface ExternalMetricsQuery {
  readonly namespace: string;
  readonly metricName: string;
  readonly labelSelector: string;
}

/** Parses `<namespace>/<metricName>?labelSelector=…` like Flagger's parseExternalMetricsQuery. */
export function parseExternalMetricsQuery(query: string): ExternalMetricsQuery {
  const q = query.trim();
  const mark = q.indexOf('?');
  const path = (mark === -1 ? q : q.slice(0, mark)).replace(/^\/+/, '');
  const search = new URLSearchParams(mark === -1 ? '' : q.slice(mark + 1));
  const parts = path.split('/');
  if (parts.length > 2) {
    throw new ProviderError(
      `malformed query string, too many slashes, expected <namespace>/<metricName>?labelSelector=<urlencoded label selectors>, got ${query}`,
    );
  }
  let namespace = 'default';
  let metricName = parts[0] ?? '';
  if (parts.length === 2) {
    if (parts[0] !== undefined && parts[0] !== '') namespace = decodeURIComponent(parts[0]);
    metricName = parts[1] ?? '';
  }
  metricName = decodeURIComponent(metricName);
  if (metricName === '') throw new ProviderError('metric name cannot be empty');
  return { namespace, metricName, labelSelector: search.get('labelSelector') ?? '' };
}

export class ExternalMetricsProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #insecure: boolean;
  readonly #timeoutMs: number;

  constructor(o: ExternalMetricsOptions, http: HttpClient) {
    if (o.address === undefined || o.address === '') {
      throw new ProviderError('externalmetrics address is required (the in-cluster configuration is not supported)');
    }
    this.#base = baseUrl('externalmetrics', o.address);
    const token = o.credentials?.['token'];
    this.#token = token === undefined || token === '' ? undefined : token;
    this.#insecure = o.insecureSkipVerify === true;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  async #list(ctx: Ctx, q: ExternalMetricsQuery): Promise<unknown[]> {
    const search =
      q.labelSelector === '' ? '' : `?${new URLSearchParams({ labelSelector: q.labelSelector }).toString()}`;
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#base}${API}/namespaces/${encodeURIComponent(q.namespace)}/${encodeURIComponent(q.metricName)}${search}`,
      headers: {
        Accept: 'application/json',
        ...(this.#token === undefined ? {} : { Authorization: `Bearer ${this.#token}` }),
      },
      timeoutMs: this.#timeoutMs,
      ...(this.#insecure ? { insecureSkipVerify: true } : {}),
    });
    expectOk(res, (s) => s >= 200 && s < 300);
    const body = parseJson(res);
    const items = isObject(body) ? body['items'] : undefined;
    // Go servers write an empty list's nil slice as `"items": null`; Flagger's client reads null and
    // a missing `items` as an empty list.
    if (items === null || (isObject(body) && items === undefined)) return [];
    if (!Array.isArray(items)) throw new ProviderError(`error unmarshaling result: '${truncate(res.body)}'`);
    return items as unknown[];
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const items = await this.#list(ctx, parseExternalMetricsQuery(query));
    const first = arrayAt(items, 0);
    if (!isObject(first)) throw new NoValuesFoundError('no external metrics found');
    const value = first['value'];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ProviderError('invalid response: item has no value');
    }
    return parseQuantity(String(value));
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    try {
      await this.#list(ctx, { namespace: 'kube-system', metricName: 'dummy-metric', labelSelector: '' });
    } catch (err) {
      throw new ProviderError(
        `external metrics service unavailable: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return true;
  }
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource.Quantity (`150m`, `2k`, `1Gi`, `1.5e3`) as a float (AsApproximateFloat64). */
export function parseQuantity(text: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text.trim());
  if (m === null) throw new ProviderError(`invalid response: quantity "${truncate(text)}"`);
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  const factor = BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix] ?? 1;
  return n * factor;
}
