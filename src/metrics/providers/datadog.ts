/**
 * Datadog (Flagger pkg/metrics/providers/datadog.go): `GET <address>/api/v1/query?query&from&to`
 * with the `DD-API-KEY` and `DD-APPLICATION-KEY` headers (Secret keys `datadog_api_key`,
 * `datadog_application_key`), over the last 10 metric intervals. The value is the first point of
 * the first series, as Flagger reads it; availability is `GET /api/v1/validate`.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, DEFAULT_TIMEOUT_MS, expectOk, intervalMs, isObject, parseJson, required, send } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export const DATADOG_DEFAULT_ADDRESS = 'https://api.datadoghq.com';

export interface DatadogOptions {
  readonly address?: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly metricInterval: string;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

export class DatadogProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #address: string;
  readonly #apiKey: string;
  readonly #appKey: string;
  readonly #fromDeltaS: number;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(o: DatadogOptions, http: HttpClient) {
    this.#address = o.address === undefined || o.address === '' ? DATADOG_DEFAULT_ADDRESS : o.address;
    this.#apiKey = required('datadog', o.credentials, 'datadog_api_key');
    this.#appKey = required('datadog', o.credentials, 'datadog_application_key');
    this.#fromDeltaS = Math.trunc((10 * intervalMs(o.metricInterval)) / 1000);
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  #headers(): Record<string, string> {
    return { 'DD-API-KEY': this.#apiKey, 'DD-APPLICATION-KEY': this.#appKey };
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const now = Math.floor(this.#now() / 1000);
    const params = new URLSearchParams({
      query,
      from: String(now - this.#fromDeltaS),
      to: String(now),
    });
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#address}/api/v1/query?${params.toString()}`,
      headers: this.#headers(),
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    const body = parseJson(res);
    const series = isObject(body) ? body['series'] : undefined;
    const first = arrayAt(series, 0);
    const pointlist = isObject(first) ? first['pointlist'] : undefined;
    // A point is `[timestamp ms, value]`; Datadog sends `null` for an empty bucket. Flagger decodes
    // that `null` as 0 (which would pass an upper-bound check); Fledge reports no values.
    const point = arrayAt(arrayAt(pointlist, 0), 1);
    if (point === undefined || point === null) throw new NoValuesFoundError('no values found');
    if (typeof point !== 'number') throw new ProviderError(`invalid response: point value ${JSON.stringify(point)}`);
    return point;
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#address}/api/v1/validate`,
      headers: this.#headers(),
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    return true;
  }
}
