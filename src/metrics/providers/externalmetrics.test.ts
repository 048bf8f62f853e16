import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { ExternalMetricsProvider, parseExternalMetricsQuery, parseQuantity } from './externalmetrics.ts';

const http = createHttpClient();

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function external(status: number, body: unknown, token?: string): Promise<ExternalMetricsProvider> {
  server = await startServer((_req, res) => json(res, status, body));
  return new ExternalMetricsProvider(
    { address: server.url, ...(token === undefined ? {} : { credentials: { token } }) },
    http,
  );
}

/** ExternalMetricValueList (external.metrics.k8s.io/v1beta1). */
const list = (values: string[]): unknown => ({
  kind: 'ExternalMetricValueList',
  apiVersion: 'external.metrics.k8s.io/v1beta1',
  metadata: {},
  items: values.map((value) => ({
    metricName: 'datadogmetric@test:errors',
    metricLabels: { app: 'podinfo' },
    timestamp: '2023-11-14T22:13:20Z',
    value,
  })),
});

describe('ExternalMetricsProvider', () => {
  it('lists the metric with the label selector and a bearer token', async () => {
    const p = await external(200, list(['1500m', '7']), 'k8s-token');
    await expect(
      p.runQuery(testCtx(), 'test/datadogmetric@test:errors?labelSelector=app%3Dpodinfo%2Ctier%3Dweb'),
    ).resolves.toBe(1.5);
    const req = server?.requests[0];
    expect(req?.method).toBe('GET');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(decodeURIComponent(url.pathname)).toBe(
      '/apis/external.metrics.k8s.io/v1beta1/namespaces/test/datadogmetric@test:errors',
    );
    expect(url.searchParams.get('labelSelector')).toBe('app=podinfo,tier=web');
    expect(req?.headers['authorization']).toBe('Bearer k8s-token');
  });

  it('reports an empty list as no values', async () => {
    const p = await external(200, list([]));
    await expect(p.runQuery(testCtx(), 'errors')).rejects.toThrow(NoValuesFoundError);
    expect(server?.requests[0]?.url).toBe('/apis/external.metrics.k8s.io/v1beta1/namespaces/default/errors');
    expect(server?.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it.each([
    ['an answer without items', { kind: 'ExternalMetricValueList', metadata: {} }],
    // How a Go adapter writes an empty (nil) list.
    ['null items', { kind: 'ExternalMetricValueList', metadata: {}, items: null }],
  ])('reports %s as no values', async (_name, body) => {
    const p = await external(200, body);
    await expect(p.runQuery(testCtx(), 'ns/errors')).rejects.toThrow(NoValuesFoundError);
  });

  it('reads the first of several items, as Flagger', async () => {
    const p = await external(200, list(['250m', '3', '9']));
    await expect(p.runQuery(testCtx(), 'ns/errors')).resolves.toBe(0.25);
  });

  // A Quantity cannot be NaN: Flagger fails to decode such an answer, and decodes a missing value as 0.
  it.each([
    ['a NaN value', list(['NaN'])],
    ['a null value', { ...(list([]) as object), items: [{ metricName: 'errors', value: null }] }],
    ['an item without value', { ...(list([]) as object), items: [{ metricName: 'errors' }] }],
    ['a body that is not a list', [1]],
  ])('rejects %s as an invalid answer, never 0', async (_name, body) => {
    const p = await external(200, body);
    const err = await p.runQuery(testCtx(), 'ns/errors').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(NoValuesFoundError);
  });

  it('is online when the API answers, with the reason when it does not', async () => {
    const p = await external(200, list([]));
    await expect(p.isOnline(testCtx())).resolves.toBe(true);
    expect(server?.requests[0]?.url).toBe('/apis/external.metrics.k8s.io/v1beta1/namespaces/kube-system/dummy-metric');
    const down = await external(503, { kind: 'Status', message: 'service unavailable' }, 'k8s-token');
    const err = await down.isOnline(testCtx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).toContain('external metrics service unavailable');
    expect(String(err)).not.toContain('k8s-token');
  });

  it('parses queries like Flagger', () => {
    expect(parseExternalMetricsQuery('ns/m?labelSelector=a%3Db')).toEqual({
      namespace: 'ns',
      metricName: 'm',
      labelSelector: 'a=b',
    });
    expect(parseExternalMetricsQuery('/m')).toEqual({ namespace: 'default', metricName: 'm', labelSelector: '' });
    expect(() => parseExternalMetricsQuery('a/b/c')).toThrow('too many slashes');
    expect(() => parseExternalMetricsQuery('ns/')).toThrow('metric name cannot be empty');
  });

  it('parses quantities', () => {
    expect(parseQuantity('150m')).toBeCloseTo(0.15);
    expect(parseQuantity('2k')).toBe(2000);
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity('1.5e3')).toBe(1500);
    expect(parseQuantity('-3')).toBe(-3);
    expect(() => parseQuantity('lots')).toThrow(ProviderError);
  });

  it('requires an address', () => {
    expect(() => new ExternalMetricsProvider({}, http)).toThrow('externalmetrics address is required');
  });
});
