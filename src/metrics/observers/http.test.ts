import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { NoValuesFoundError } from '../providers/errors.ts';
import { PrometheusProvider } from '../providers/prometheus.ts';
import { HttpObserver } from './http.ts';
import type { MetricModel } from './observer.ts';

const model: MetricModel = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo',
  ingress: 'podinfo',
  route: 'podinfo',
  interval: '1m',
  variables: {},
};

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function observerAnswering(
  value: string | undefined,
): Promise<{ observer: HttpObserver; queries: () => (string | null)[] }> {
  const s = await startServer((_req, res) =>
    json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: value === undefined ? [] : [{ metric: {}, value: [1, value] }] },
    }),
  );
  server = s;
  const observer = new HttpObserver(new PrometheusProvider({ address: s.url }, createHttpClient()));
  return { observer, queries: () => s.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('query')) };
}

describe('HttpObserver', () => {
  it('queries the non-5xx share of http_request_duration_seconds_count of the canary pods', async () => {
    const { observer, queries } = await observerAnswering('99.123');
    await expect(observer.requestSuccessRate(testCtx(), model)).resolves.toBe(99.123);
    expect(queries()).toEqual([
      'sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*" }[1m] ) )' +
        ' / sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100',
    ]);
  });

  it('queries the P99 of http_request_duration_seconds_bucket and returns whole milliseconds', async () => {
    const { observer, queries } = await observerAnswering('0.4567');
    await expect(observer.requestDurationMs(testCtx(), { ...model, interval: '30s' })).resolves.toBe(456);
    expect(queries()).toEqual([
      'histogram_quantile( 0.99, sum( rate( http_request_duration_seconds_bucket{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[30s] ) ) by (le) )',
    ]);
  });

  it('passes "no values" through', async () => {
    const { observer } = await observerAnswering(undefined);
    await expect(observer.requestSuccessRate(testCtx(), model)).rejects.toThrow(NoValuesFoundError);
  });
});
