import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { DatadogProvider } from './datadog.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';

const http = createHttpClient();
const credentials = { datadog_api_key: 'api-key-1', datadog_application_key: 'app-key-2' };
const NOW = 1_700_000_000_500;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function datadog(status: number, body: unknown): Promise<DatadogProvider> {
  server = await startServer((_req, res) => json(res, status, body));
  return new DatadogProvider({ address: server.url, credentials, metricInterval: '1m', now: () => NOW }, http);
}

/** A `GET /api/v1/query` answer as in Datadog's API reference ("Query timeseries points"). */
function answer(series: unknown[]): unknown {
  return {
    status: 'ok',
    res_type: 'time_series',
    query: 'avg:system.cpu.user{*}',
    from_date: 1699999400000,
    to_date: 1700000000000,
    series,
  };
}
const serie = (pointlist: unknown[]): unknown => ({
  metric: 'system.cpu.user',
  display_name: 'system.cpu.user',
  aggr: 'avg',
  interval: 20,
  length: pointlist.length,
  pointlist,
  scope: '*',
});

describe('DatadogProvider', () => {
  it('sends the query over the last 10 intervals with both keys as headers', async () => {
    const dd = await datadog(200, answer([serie([[1699999400000, 12.5]])]));
    await expect(dd.runQuery(testCtx(), 'avg:system.cpu.user{env:prod}')).resolves.toBe(12.5);
    const req = server?.requests[0];
    expect(req?.method).toBe('GET');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/api/v1/query');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      query: 'avg:system.cpu.user{env:prod}',
      from: String(1_700_000_000 - 600),
      to: '1700000000',
    });
    expect(req?.headers['dd-api-key']).toBe('api-key-1');
    expect(req?.headers['dd-application-key']).toBe('app-key-2');
  });

  it('reads the first point of the first series, as Flagger', async () => {
    const dd = await datadog(
      200,
      answer([
        serie([
          [1, 1.5],
          [2, 2.5],
        ]),
        serie([[1, 9]]),
      ]),
    );
    await expect(dd.runQuery(testCtx(), 'q')).resolves.toBe(1.5);
  });

  it.each([
    ['no series', answer([])],
    ['an answer without series', { status: 'ok', res_type: 'time_series' }],
    ['an empty pointlist', answer([serie([])])],
    ['an empty first series', answer([serie([]), serie([[1, 9]])])],
    ['a point without value', answer([serie([[1]])])],
    // Datadog sends `null` for an empty bucket; Flagger decodes it as 0, Fledge as no values.
    ['a null point', answer([serie([[1, null]])])],
    [
      'a null first point',
      answer([
        serie([
          [1, null],
          [2, 5],
        ]),
      ]),
    ],
  ])('reports %s as no values', async (_name, body) => {
    const dd = await datadog(200, body);
    await expect(dd.runQuery(testCtx(), 'q')).rejects.toThrow(NoValuesFoundError);
  });

  it('reports error statuses without the keys', async () => {
    const dd = await datadog(403, { errors: ['Forbidden'] });
    const err = await dd.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).toContain('403');
    expect(String(err)).not.toContain('api-key-1');
  });

  it('checks availability with /api/v1/validate', async () => {
    const dd = await datadog(200, { valid: true });
    await expect(dd.isOnline(testCtx())).resolves.toBe(true);
    expect(server?.requests[0]?.url).toBe('/api/v1/validate');
    expect(server?.requests[0]?.headers['dd-api-key']).toBe('api-key-1');
    const down = await datadog(403, { errors: ['Forbidden'] });
    await expect(down.isOnline(testCtx())).rejects.toThrow(ProviderError);
  });

  it('validates its options', () => {
    expect(() => new DatadogProvider({ credentials: {}, metricInterval: '1m' }, http)).toThrow(
      'datadog credentials does not contain datadog_api_key',
    );
    expect(() => new DatadogProvider({ credentials: { datadog_api_key: 'k' }, metricInterval: '1m' }, http)).toThrow(
      'datadog credentials does not contain datadog_application_key',
    );
    expect(() => new DatadogProvider({ credentials, metricInterval: 'soon' }, http)).toThrow(
      /error parsing metric interval/,
    );
  });
});
