import { afterEach, describe, expect, it } from 'vitest';
import { createTestPki, startCaSignedServer } from '../../http/ca.fixture.ts';
import { createHttpClient } from '../../http/client.ts';
import {
  type Handler,
  type TestServer,
  json,
  startHttpsServer,
  startServer,
  testCtx,
} from '../../http/server.fixture.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import { createProvider } from './factory.ts';
import { PrometheusProvider, prometheusCredentials } from './prometheus.ts';

const http = createHttpClient();
let servers: TestServer[] = [];
async function serve(handler: Handler, tls = false): Promise<TestServer> {
  const s = tls ? await startHttpsServer(handler) : await startServer(handler);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const vector = (...values: string[]): unknown => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1_700_000_000.1, v] })),
  },
});
const reply =
  (body: unknown, status = 200): Handler =>
  (_req, res) =>
    json(res, status, body);

function queryOf(url: string | undefined): string | null {
  return new URL(url ?? '', 'http://x').searchParams.get('query');
}

describe('PrometheusProvider', () => {
  it('GETs /api/v1/query with the whitespace-collapsed query and reads a vector sample', async () => {
    const server = await serve(reply(vector('99.5')));
    const p = new PrometheusProvider({ address: server.url }, http);
    await expect(p.runQuery(testCtx(), '\n  sum(\n\trate(x[1m])\n  )\n')).resolves.toBe(99.5);
    const req = server.requests[0];
    expect(req?.method).toBe('GET');
    expect(new URL(req?.url ?? '', 'http://x').pathname).toBe('/api/v1/query');
    expect(queryOf(req?.url)).toBe('sum( rate(x[1m]) )');
  });

  it.each([
    ['http://HOST/prometheus', '/prometheus/api/v1/query'],
    ['http://HOST/prometheus/', '/prometheus/api/v1/query'],
    ['http://HOST/?ignored=1', '/api/v1/query'],
  ])('joins the path of %s', async (address, path) => {
    const server = await serve(reply(vector('1')));
    const p = new PrometheusProvider({ address: address.replace('http://HOST', server.url) }, http);
    await p.runQuery(testCtx(), 'up');
    const url = new URL(server.requests[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe(path);
    expect([...url.searchParams.keys()]).toEqual(['query']);
  });

  it('reads a scalar result', async () => {
    const server = await serve(
      reply({ status: 'success', data: { resultType: 'scalar', result: [1_700_000_000, '42'] } }),
    );
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'scalar(up)')).resolves.toBe(
      42,
    );
  });

  it('throws NoValuesFoundError on an empty vector', async () => {
    const server = await serve(reply(vector()));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      NoValuesFoundError,
    );
  });

  it('throws NoValuesFoundError on NaN (no traffic: 0/0)', async () => {
    const server = await serve(reply(vector('NaN')));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      NoValuesFoundError,
    );
  });

  it('reads +Inf', async () => {
    const server = await serve(reply(vector('+Inf')));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).resolves.toBe(
      Infinity,
    );
  });

  it('uses the last series of a multi-series vector, as Flagger does', async () => {
    const server = await serve(reply(vector('1', '2', '3')));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).resolves.toBe(3);
  });

  it('uses the last series even when an earlier one is NaN, and reports a NaN last series as no values', async () => {
    const server = await serve(reply(vector('NaN', '4')));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).resolves.toBe(4);
    const nan = await serve(reply(vector('4', 'NaN')));
    await expect(new PrometheusProvider({ address: nan.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      NoValuesFoundError,
    );
  });

  it.each([
    ['a null result', { status: 'success', data: { resultType: 'vector', result: null } }],
    ['a NaN scalar', { status: 'success', data: { resultType: 'scalar', result: [1_700_000_000, 'NaN'] } }],
  ])('throws NoValuesFoundError on %s', async (_name, body) => {
    const server = await serve(reply(body));
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      NoValuesFoundError,
    );
  });

  it('throws MultipleValuesError on a range vector (matrix)', async () => {
    const server = await serve(
      reply({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: {},
              values: [
                [1, '1'],
                [2, '2'],
              ],
            },
          ],
        },
      }),
    );
    const err = await new PrometheusProvider({ address: server.url }, http)
      .runQuery(testCtx(), 'up[5m]')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MultipleValuesError);
    expect((err as Error).message).toBe('query returned multiple values');
  });

  it('throws ProviderError with status and body on an error status', async () => {
    const server = await serve(reply({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }, 400));
    const err = await new PrometheusProvider({ address: server.url }, http)
      .runQuery(testCtx(), 'sum(')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(
      'error response: Status 400 Bad Request: {"status":"error","errorType":"bad_data","error":"parse error at char 5"}',
    );
  });

  it('throws ProviderError on a body that is not JSON', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.end('<html>login</html>');
    });
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      "error unmarshaling result: '<html>login</html>'",
    );
  });

  it('throws ProviderError when the server is down', async () => {
    const server = await serve(reply(vector('1')));
    await server.close();
    servers = [];
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      /^request failed: GET http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/,
    );
  });

  it('times out after timeoutMs', async () => {
    const server = await serve(() => undefined);
    await expect(
      new PrometheusProvider({ address: server.url, timeoutMs: 100 }, http).runQuery(testCtx(), 'up'),
    ).rejects.toThrow(`request failed: GET ${server.url} timed out after 100ms`);
  });

  it('sends custom headers (repeated values too) and a bearer token', async () => {
    const server = await serve(reply(vector('1')));
    const p = new PrometheusProvider(
      { address: server.url, headers: { 'X-Scope-OrgID': ['tenant-a'], 'X-Multi': ['a', 'b'] }, token: 'tok' },
      http,
    );
    await p.runQuery(testCtx(), 'up');
    const req = server.requests[0];
    expect(req?.headers['x-scope-orgid']).toBe('tenant-a');
    expect(req?.headers['authorization']).toBe('Bearer tok');
    const multi = (req?.rawHeaders ?? []).filter(
      (_v, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'x-multi',
    );
    expect(multi).toEqual(['a', 'b']);
  });

  it('sends basic auth when username and password are set', async () => {
    const server = await serve(reply(vector('1')));
    await new PrometheusProvider({ address: server.url, username: 'u', password: 'p' }, http).runQuery(testCtx(), 'up');
    expect(server.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('skips TLS verification only with insecureSkipVerify', async () => {
    const server = await serve(reply(vector('7')), true);
    await expect(new PrometheusProvider({ address: server.url }, http).runQuery(testCtx(), 'up')).rejects.toThrow(
      /self-signed/,
    );
    await expect(
      new PrometheusProvider({ address: server.url, insecureSkipVerify: true }, http).runQuery(testCtx(), 'up'),
    ).resolves.toBe(7);
  });

  it('trusts the custom CA of ca.crt in addition to the system roots, with basic auth', async () => {
    const pki = createTestPki('prometheus');
    const server = await startCaSignedServer(pki, reply(vector('42')));
    servers.push(server);
    const untrusted = await new PrometheusProvider({ address: server.url }, http)
      .runQuery(testCtx(), 'up')
      .catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(ProviderError);
    expect((untrusted as Error).message).toBe(
      `request failed: GET ${server.url} failed: unable to verify the first certificate: the server's TLS certificate ` +
        'is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); add the CA certificate as ca.crt to the secretRef Secret, or set insecureSkipVerify',
    );
    // Through the factory, as a MetricTemplate with a secretRef is built.
    const provider = createProvider(
      {
        provider: { type: 'prometheus', address: server.url, secretRef: { name: 'prom' } },
        credentials: { username: 'u', password: 'p@ss', 'ca.crt': pki.caPem },
        metricInterval: '1m',
      },
      { http },
    );
    await expect(provider.runQuery(testCtx(), 'up')).resolves.toBe(42);
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual([
      `Basic ${Buffer.from('u:p@ss').toString('base64')}`,
    ]);
    const wrongCa = new PrometheusProvider({ address: server.url, caPem: createTestPki('other').caPem }, http);
    await expect(wrongCa.runQuery(testCtx(), 'up')).rejects.toThrow(
      /not trusted.*; the ca\.crt of the secretRef Secret does not sign it$/,
    );
  });

  it('isOnline runs vector(1) and expects 1', async () => {
    const ok = await serve(reply(vector('1')));
    await expect(new PrometheusProvider({ address: ok.url }, http).isOnline(testCtx())).resolves.toBe(true);
    expect(queryOf(ok.requests[0]?.url)).toBe('vector(1)');
    const wrong = await serve(reply(vector('2')));
    await expect(new PrometheusProvider({ address: wrong.url }, http).isOnline(testCtx())).rejects.toThrow(
      'value is not 1 for query: vector(1)',
    );
    const failing = await serve(reply({ status: 'error' }, 503));
    await expect(new PrometheusProvider({ address: failing.url }, http).isOnline(testCtx())).rejects.toThrow(
      /^running query failed: error response: Status 503/,
    );
  });

  it.each(['', 'not a url', 'ftp://host', '/relative'])('rejects the address %j', (address) => {
    expect(() => new PrometheusProvider({ address }, http)).toThrow(ProviderError);
  });
});

describe('prometheusCredentials', () => {
  it('prefers the token', () => {
    expect(prometheusCredentials({ token: 't', username: 'u', password: 'p' })).toEqual({ token: 't' });
  });
  it('falls back to username and password, requiring both', () => {
    expect(prometheusCredentials({ username: 'u', password: 'p' })).toEqual({ username: 'u', password: 'p' });
    expect(() => prometheusCredentials({ password: 'p' })).toThrow(
      'prometheus credentials does not contain a username',
    );
    expect(() => prometheusCredentials({ username: 'u' })).toThrow(
      'prometheus credentials does not contain a password',
    );
  });
  it('reads the PEM CA of ca.crt with any credentials, or alone', () => {
    const { caPem } = createTestPki('creds');
    expect(prometheusCredentials({ token: 't', 'ca.crt': caPem })).toEqual({ token: 't', caPem });
    expect(prometheusCredentials({ username: 'u', password: 'p', 'ca.crt': caPem })).toEqual({
      username: 'u',
      password: 'p',
      caPem,
    });
    expect(prometheusCredentials({ 'ca.crt': caPem })).toEqual({ caPem });
    expect(() => prometheusCredentials({ username: 'u', 'ca.crt': caPem })).toThrow(
      'prometheus credentials does not contain a password',
    );
    expect(() => prometheusCredentials({ 'ca.crt': 'secret-ish garbage' })).toThrow(
      'prometheus credentials: ca.crt is invalid: the CA holds no PEM certificate',
    );
  });
});
