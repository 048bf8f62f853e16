/**
 * Graphite (Flagger pkg/metrics/providers/graphite.go): the query is the render API's URL
 * parameters (`target=…&from=-1min`), sent as `GET <address>/render?<query>&format=json` with
 * optional basic auth (Secret keys `username`, `password`). The value is the last non-null data
 * point over all returned targets.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, baseUrl, DEFAULT_TIMEOUT_MS, isObject, parseJson, required, send, truncate } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export interface GraphiteOptions {
  readonly address: string;
  /** Undefined when the template has no `secretRef`. */
  readonly credentials?: Readonly<Record<string, string>>;
  readonly insecureSkipVerify?: boolean;
  readonly timeoutMs?: number;
}

export class GraphiteProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #base: string;
  readonly #basic: { username: string; password: string } | undefined;
  readonly #insecure: boolean;
  readonly #timeoutMs: number;

  constructor(o: GraphiteOptions, http: HttpClient) {
    this.#base = baseUrl('graphite', o.address);
    if (o.credentials !== undefined) {
      const username = required('graphite', o.credentials, 'username');
      const password = required('graphite', o.credentials, 'password');
      this.#basic = username !== '' && password !== '' ? { username, password } : undefined;
    }
    this.#insecure = o.insecureSkipVerify === true;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    // Whitespace runs collapse to one space as in Flagger, and none is kept around `&` (a query
    // written over several lines). Like Go's url.Values: parse, set format=json, encode sorted by key.
    const params = new URLSearchParams(query.replace(/\s+/g, ' ').replace(/ ?& ?/g, '&').trim());
    params.set('format', 'json');
    params.sort();
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#base}/render?${params.toString()}`,
      timeoutMs: this.#timeoutMs,
      ...(this.#insecure ? { insecureSkipVerify: true } : {}),
      ...(this.#basic ? { basicAuth: this.#basic } : {}),
    });
    if (res.status >= 400) {
      throw new ProviderError(`error response: Status ${res.status} ${res.statusText}: ${truncate(res.body)}`);
    }
    const body = parseJson(res);
    if (!Array.isArray(body)) throw new ProviderError(`error unmarshaling result: '${truncate(res.body)}'`);
    let value: number | undefined;
    for (const target of body) {
      const points = isObject(target) ? target['datapoints'] : undefined;
      if (!Array.isArray(points)) continue;
      for (const point of points) {
        const v = pointValue(arrayAt(point, 0));
        if (v !== undefined) value = v;
      }
    }
    // Flagger returns a "NaN" string point as NaN; Fledge treats it as no data, as for Prometheus.
    if (value === undefined || Number.isNaN(value)) throw new NoValuesFoundError('no values found');
    return value;
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    try {
      await this.runQuery(ctx, 'target=test');
    } catch (err) {
      if (err instanceof NoValuesFoundError) return true;
      throw err;
    }
    return true;
  }
}

/** A data point's value: a number, a numeric string, or null. */
function pointValue(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    if (v.trim() === '' || (Number.isNaN(n) && v.trim() !== 'NaN')) {
      throw new ProviderError(`error unmarshaling data point value "${truncate(v)}"`);
    }
    return n;
  }
  throw new ProviderError('error unmarshaling data point value');
}
