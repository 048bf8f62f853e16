/**
 * Dynatrace (Flagger pkg/metrics/providers/dynatrace.go):
 * `GET <address>/api/v2/metrics/query?metricSelector&resolution=Inf&from&to` (milliseconds, over
 * the last 10 metric intervals) with `Authorization: Api-Token <dynatrace_token>`. The value is the
 * first value of the last data entry of the first result; availability is
 * `GET /api/v2/metrics?pageSize=1`.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, DEFAULT_TIMEOUT_MS, expectOk, intervalMs, isObject, parseJson, required, send } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export interface DynatraceOptions {
  readonly address?: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly metricInterval: string;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

export class DynatraceProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #address: string;
  readonly #token: string;
  readonly #fromDeltaMs: number;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(o: DynatraceOptions, http: HttpClient) {
    if (o.address === undefined || o.address === '') throw new ProviderError('dynatrace endpoint is not set');
    this.#address = o.address;
    this.#token = required('dynatrace', o.credentials, 'dynatrace_token');
    this.#fromDeltaMs = Math.trunc(10 * intervalMs(o.metricInterval));
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const now = Math.floor(this.#now() / 1000) * 1000;
    const params = new URLSearchParams({
      metricSelector: query,
      resolution: 'Inf',
      from: String(now - this.#fromDeltaMs),
      to: String(now),
    });
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#address}/api/v2/metrics/query?${params.toString()}`,
      headers: { Authorization: `Api-Token ${this.#token}` },
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    const body = parseJson(res);
    const first = arrayAt(isObject(body) ? body['result'] : undefined, 0);
    const data = isObject(first) ? first['data'] : undefined;
    const last = Array.isArray(data) ? arrayAt(data, data.length - 1) : undefined;
    const value = arrayAt(isObject(last) ? last['values'] : undefined, 0);
    // Dynatrace sends `null` for a slot without data; Flagger decodes it as 0, Fledge reports no values.
    if (value === undefined || value === null) throw new NoValuesFoundError('no values found');
    if (typeof value !== 'number') throw new ProviderError(`invalid response: value ${JSON.stringify(value)}`);
    return value;
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#address}/api/v2/metrics?pageSize=1`,
      headers: { Authorization: `Api-Token ${this.#token}` },
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    return true;
  }
}
