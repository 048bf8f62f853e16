/**
 * New Relic Insights (Flagger pkg/metrics/providers/newrelic.go):
 * `GET <address>/v1/accounts/<newrelic_account_id>/query?nrql=<query> SINCE <interval seconds> seconds ago`
 * with the `X-Query-Key` header (Secret key `newrelic_query_key`). The answer must hold exactly one
 * result whose `result` field is a number.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, DEFAULT_TIMEOUT_MS, expectOk, intervalMs, isObject, parseJson, required, send } from './common.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export const NEWRELIC_DEFAULT_ADDRESS = 'https://insights-api.newrelic.com';
/** The query `isOnline` runs. */
export const NEWRELIC_ONLINE_QUERY = 'SELECT * FROM Metric';

export interface NewRelicOptions {
  readonly address?: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly metricInterval: string;
  readonly timeoutMs?: number;
}

export class NewRelicProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #endpoint: string;
  readonly #queryKey: string;
  readonly #sinceS: number;
  readonly #timeoutMs: number;

  constructor(o: NewRelicOptions, http: HttpClient) {
    const address = o.address === undefined || o.address === '' ? NEWRELIC_DEFAULT_ADDRESS : o.address;
    const account = required('newrelic', o.credentials, 'newrelic_account_id');
    this.#queryKey = required('newrelic', o.credentials, 'newrelic_query_key');
    this.#endpoint = `${address}/v1/accounts/${encodeURIComponent(account)}/query`;
    this.#sinceS = Math.trunc(intervalMs(o.metricInterval) / 1000);
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  async #query(ctx: Ctx, nrql: string): Promise<unknown> {
    const params = new URLSearchParams({ nrql: `${nrql} SINCE ${this.#sinceS} seconds ago` });
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `${this.#endpoint}?${params.toString()}`,
      headers: { 'X-Query-Key': this.#queryKey },
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    return parseJson(res);
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const body = await this.#query(ctx, query);
    const results = isObject(body) ? body['results'] : undefined;
    if (!Array.isArray(results) || results.length === 0) throw new NoValuesFoundError('no values found');
    // Flagger reports several results as "no values found"; Fledge as a query error, so that a
    // `noData: pass|skip` policy cannot hide a query that selects several expressions.
    if (results.length > 1) throw new MultipleValuesError('query returned multiple values');
    const first = arrayAt(results, 0);
    const value = isObject(first) ? first['result'] : undefined;
    if (value === undefined || value === null) throw new NoValuesFoundError('no values found');
    if (typeof value !== 'number') throw new ProviderError(`invalid response: result ${JSON.stringify(value)}`);
    return value;
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    await this.#query(ctx, NEWRELIC_ONLINE_QUERY);
    return true;
  }
}
