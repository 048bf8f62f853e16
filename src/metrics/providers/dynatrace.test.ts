import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { DynatraceProvider } from './dynatrace.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';

const http = createHttpClient();
const credentials = { dynatrace_token: 'dt0c01.secret' };
const NOW = 1_700_000_000_750;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function dynatrace(status: number, body: unknown): Promise<DynatraceProvider> {
  server = await startServer((_req, res) => json(res, status, body));
  return new DynatraceProvider({ address: server.url, credentials, metricInterval: '1m', now: () => NOW }, http);
}

/** `GET /api/v2/metrics/query` answer (Dynatrace Metrics API v2 reference). */
const answer = (data: unknown[]): unknown => ({
  totalCount: data.length,
  nextPageKey: null,
  resolution: 'Inf',
  result: [{ metricId: 'builtin:service.response.time', dataPointCountRatio: 0.0001, dimensionCountRatio: 0.01, data }],
});
const entry = (values: unknown[]): unknown => ({
  dimensions: ['SERVICE-1'],
  dimensionMap: { 'dt.entity.service': 'SERVICE-1' },
  timestamps: values.map((_v, i) => 1_700_000_000_000 + i),
  values,
});

describe('DynatraceProvider', () => {
  it('sends the metric selector with resolution=Inf over the last 10 intervals in milliseconds', async () => {
    const dt = await dynatrace(200, answer([entry([250.5])]));
    await expect(dt.runQuery(testCtx(), 'builtin:service.response.time:avg')).resolves.toBe(250.5);
    const req = server?.requests[0];
    const url = new URL(req?.url ?? '', 'http://x');
    expect(req?.method).toBe('GET');
    expect(url.pathname).toBe('/api/v2/metrics/query');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      metricSelector: 'builtin:service.response.time:avg',
      resolution: 'Inf',
      from: String(1_700_000_000_000 - 600_000),
      to: '1700000000000',
    });
    expect(req?.headers['authorization']).toBe('Api-Token dt0c01.secret');
  });

  it('reads the first value of the last data entry (several series)', async () => {
    const dt = await dynatrace(200, answer([entry([1]), entry([7, 8])]));
    await expect(dt.runQuery(testCtx(), 'm')).resolves.toBe(7);
  });

  it('reads the first of several results (one per metric selector), as Flagger', async () => {
    const two = {
      totalCount: 2,
      nextPageKey: null,
      resolution: 'Inf',
      result: [
        { metricId: 'a', data: [entry([4, 5])] },
        { metricId: 'b', data: [entry([6])] },
      ],
    };
    const dt = await dynatrace(200, two);
    await expect(dt.runQuery(testCtx(), 'a,b')).resolves.toBe(4);
  });

  it.each([
    ['no result', { totalCount: 0, result: [] }],
    ['no result field', { totalCount: 0 }],
    ['no data', answer([])],
    ['no values', answer([entry([])])],
    ['a data entry without values', answer([{ dimensions: [], timestamps: [] }])],
    // Dynatrace's `null` for a slot without data: Flagger decodes it as 0, Fledge reports no values.
    ['a null value', answer([entry([null])])],
    ['a null first value', answer([entry([null, 3])])],
    ['a null value in the last entry', answer([entry([1]), entry([null])])],
    [
      'an empty first result',
      {
        totalCount: 2,
        result: [
          { metricId: 'a', data: [] },
          { metricId: 'b', data: [entry([6])] },
        ],
      },
    ],
  ])('reports %s as no values', async (_name, body) => {
    const dt = await dynatrace(200, body);
    await expect(dt.runQuery(testCtx(), 'm')).rejects.toThrow(NoValuesFoundError);
  });

  it('checks availability with /api/v2/metrics?pageSize=1 and reports errors without the token', async () => {
    const dt = await dynatrace(200, { totalCount: 1, metrics: [] });
    await expect(dt.isOnline(testCtx())).resolves.toBe(true);
    expect(server?.requests[0]?.url).toBe('/api/v2/metrics?pageSize=1');
    const bad = await dynatrace(401, { error: { code: 401, message: 'Token Authentication failed' } });
    const err = await bad.runQuery(testCtx(), 'm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).not.toContain('dt0c01.secret');
    await expect(bad.isOnline(testCtx())).rejects.toThrow(ProviderError);
  });

  it('validates its options', () => {
    expect(() => new DynatraceProvider({ credentials, metricInterval: '1m' }, http)).toThrow(
      'dynatrace endpoint is not set',
    );
    expect(() => new DynatraceProvider({ address: 'http://x', credentials: {}, metricInterval: '1m' }, http)).toThrow(
      'dynatrace credentials does not contain dynatrace_token',
    );
  });
});
