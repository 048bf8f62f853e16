import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import { NewRelicProvider } from './newrelic.ts';

const http = createHttpClient();
const credentials = { newrelic_account_id: '1234567', newrelic_query_key: 'NRIQ-secret' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function newrelic(status: number, body: unknown): Promise<NewRelicProvider> {
  server = await startServer((_req, res) => json(res, status, body));
  return new NewRelicProvider({ address: server.url, credentials, metricInterval: '2m' }, http);
}

/** Insights query API answers: `results` holds one object per selected expression. */
const answer = (results: unknown[]): unknown => ({
  results,
  metadata: { eventTypes: ['Metric'], messages: [], contents: [{ function: 'alias', alias: 'result' }] },
});

describe('NewRelicProvider', () => {
  it('sends NRQL with SINCE <interval seconds> seconds ago and the query key', async () => {
    const nr = await newrelic(200, answer([{ result: 1.25 }]));
    await expect(
      nr.runQuery(testCtx(), "SELECT average(duration) AS result FROM Transaction WHERE appName = 'podinfo'"),
    ).resolves.toBe(1.25);
    const req = server?.requests[0];
    expect(req?.method).toBe('GET');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/v1/accounts/1234567/query');
    expect(url.searchParams.get('nrql')).toBe(
      "SELECT average(duration) AS result FROM Transaction WHERE appName = 'podinfo' SINCE 120 seconds ago",
    );
    expect(req?.headers['x-query-key']).toBe('NRIQ-secret');
  });

  it.each([
    ['no results', answer([])],
    ['an answer without results', { metadata: {} }],
    // NRQL answers `null` for an aggregate over no events (e.g. average of nothing).
    ['a null result', answer([{ result: null }])],
    ['a result without the result field', answer([{ average: 3 }])],
  ])('reports %s as no values', async (_name, body) => {
    const nr = await newrelic(200, body);
    await expect(nr.runQuery(testCtx(), 'q')).rejects.toThrow(NoValuesFoundError);
  });

  it('rejects several results as a query error, not no values (Flagger: no values)', async () => {
    const nr = await newrelic(200, answer([{ result: 1 }, { result: 2 }]));
    const err = await nr.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MultipleValuesError);
    expect(err).not.toBeInstanceOf(NoValuesFoundError);
  });

  it('reports error statuses and checks availability with SELECT * FROM Metric', async () => {
    const nr = await newrelic(401, { error: 'Invalid query key' });
    const err = await nr.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).not.toContain('NRIQ-secret');
    await expect(nr.isOnline(testCtx())).rejects.toThrow(ProviderError);
    const ok = await newrelic(200, answer([]));
    await expect(ok.isOnline(testCtx())).resolves.toBe(true);
    expect(new URL(server?.requests[0]?.url ?? '', 'http://x').searchParams.get('nrql')).toBe(
      'SELECT * FROM Metric SINCE 120 seconds ago',
    );
  });

  it('validates its options', () => {
    expect(() => new NewRelicProvider({ credentials: {}, metricInterval: '1m' }, http)).toThrow(
      'newrelic credentials does not contain newrelic_account_id',
    );
    expect(
      () => new NewRelicProvider({ credentials: { newrelic_account_id: '1' }, metricInterval: '1m' }, http),
    ).toThrow('newrelic credentials does not contain newrelic_query_key');
  });
});
