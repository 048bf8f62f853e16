import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { GraphiteProvider } from './graphite.ts';

const http = createHttpClient();

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function graphite(
  status: number,
  body: unknown,
  o: { path?: string; credentials?: Record<string, string> } = {},
): Promise<GraphiteProvider> {
  server = await startServer((_req, res) => json(res, status, body));
  return new GraphiteProvider(
    { address: `${server.url}${o.path ?? ''}`, ...(o.credentials ? { credentials: o.credentials } : {}) },
    http,
  );
}

describe('GraphiteProvider', () => {
  it('sends the render parameters with format=json, sorted like Go, under the address path', async () => {
    const g = await graphite(200, [{ target: 'app.errors', tags: {}, datapoints: [[3, 1700000000]] }], {
      path: '/graphite/',
    });
    await expect(g.runQuery(testCtx(), 'target=sumSeries(app.*.errors)\n  &from=-1min')).resolves.toBe(3);
    const req = server?.requests[0];
    expect(req?.method).toBe('GET');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/graphite/render');
    expect([...url.searchParams]).toEqual([
      ['format', 'json'],
      ['from', '-1min'],
      ['target', 'sumSeries(app.*.errors)'],
    ]);
    expect(req?.headers['authorization']).toBeUndefined();
  });

  it('uses the last non-null point over all targets (null, number and string values)', async () => {
    const g = await graphite(200, [
      {
        target: 'a',
        datapoints: [
          [1, 1700000000],
          [null, 1700000060],
        ],
      },
      {
        target: 'b',
        datapoints: [
          ['2.5', 1700000000],
          [null, 1700000060],
        ],
      },
    ]);
    await expect(g.runQuery(testCtx(), 'target=a&target=b')).resolves.toBe(2.5);
    expect(new URL(server?.requests[0]?.url ?? '', 'http://x').searchParams.getAll('target')).toEqual(['a', 'b']);
  });

  it.each([
    ['no targets', []],
    ['a target without datapoints', [{ target: 'a', tags: {}, datapoints: [] }]],
    ['only null points', [{ target: 'a', datapoints: [[null, 1700000000]] }]],
    ['a NaN point', [{ target: 'a', datapoints: [['NaN', 1700000000]] }]],
    // The last non-null point wins, as in Flagger (which would then return NaN).
    [
      'a NaN last point',
      [
        { target: 'a', datapoints: [[1, 1700000000]] },
        {
          target: 'b',
          datapoints: [
            ['NaN', 1700000000],
            [null, 1700000060],
          ],
        },
      ],
    ],
  ])('reports %s as no values', async (_name, body) => {
    const g = await graphite(200, body);
    await expect(g.runQuery(testCtx(), 'target=a')).rejects.toThrow(NoValuesFoundError);
  });

  it('sends basic auth from the Secret and hides it from errors', async () => {
    const g = await graphite(500, 'boom', { credentials: { username: 'graphite', password: 'pa55' } });
    const err = await g.runQuery(testCtx(), 'target=a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).not.toContain('pa55');
    expect(server?.requests[0]?.headers['authorization']).toBe(
      `Basic ${Buffer.from('graphite:pa55').toString('base64')}`,
    );
  });

  it('is online when target=test answers, even with no data', async () => {
    const g = await graphite(200, []);
    await expect(g.isOnline(testCtx())).resolves.toBe(true);
    expect(new URL(server?.requests[0]?.url ?? '', 'http://x').searchParams.get('target')).toBe('test');
    const down = await graphite(503, 'down');
    await expect(down.isOnline(testCtx())).rejects.toThrow(ProviderError);
  });

  it('validates its options', () => {
    expect(() => new GraphiteProvider({ address: '' }, http)).toThrow('graphite address  is not a valid URL');
    expect(() => new GraphiteProvider({ address: 'http://g', credentials: { username: 'u' } }, http)).toThrow(
      'graphite credentials does not contain password',
    );
  });
});
