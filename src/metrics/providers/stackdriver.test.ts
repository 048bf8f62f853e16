import { createVerify, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { STACKDRIVER_SCOPE, StackdriverProvider } from './stackdriver.ts';

const http = createHttpClient();
const NOW = Date.parse('2024-03-01T10:00:00Z');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

/** A fake OAuth token endpoint that checks the JWT assertion's signature and claims. */
async function tokenEndpoint(): Promise<TestServer> {
  return serve((req, res) => {
    const form = new URLSearchParams(req.body);
    const [h = '', c = '', sig = ''] = (form.get('assertion') ?? '').split('.');
    const valid = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(sig, 'base64url'));
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || !valid) {
      return json(res, 400, { error: 'invalid_grant' });
    }
    json(res, 200, { access_token: 'ya29.access', expires_in: 3599, token_type: 'Bearer' });
  });
}

/** QueryTimeSeries answer (Cloud Monitoring v3 REST reference). */
const answer = (series: unknown[]): unknown => ({
  timeSeriesDescriptor: {
    labelDescriptors: [{ key: 'resource.service_name' }],
    pointDescriptors: [{ key: 'value', valueType: 'DOUBLE' }],
  },
  timeSeriesData: series,
});
const series = (values: unknown[]): unknown => ({
  labelValues: [{ stringValue: 'podinfo' }],
  pointData: values.map((v) => ({
    values: [v],
    timeInterval: { startTime: '2024-03-01T09:59:00Z', endTime: '2024-03-01T10:00:00Z' },
  })),
});

async function stackdriver(
  status: number,
  body: unknown,
): Promise<{ sd: StackdriverProvider; api: TestServer; token: TestServer }> {
  const token = await tokenEndpoint();
  const api = await serve((_req, res) => json(res, status, body));
  const key = JSON.stringify({
    type: 'service_account',
    project_id: 'my-project',
    private_key_id: 'kid-1',
    private_key: privatePem,
    client_email: 'fledge@my-project.iam.gserviceaccount.com',
    token_uri: `${token.url}/token`,
  });
  const sd = new StackdriverProvider(
    { address: api.url, credentials: { project: 'my-project', serviceAccountKey: key }, now: () => NOW },
    http,
  );
  return { sd, api, token };
}

describe('StackdriverProvider', () => {
  it('exchanges a signed service-account JWT for a token and POSTs the MQL query', async () => {
    const { sd, api, token } = await stackdriver(200, answer([series([{ doubleValue: 0.25 }, { doubleValue: 9 }])]));
    const mql = "fetch k8s_container | metric 'istio.io/service/server/request_count' | within 1m";
    await expect(sd.runQuery(testCtx(), mql)).resolves.toBe(0.25);
    await expect(sd.runQuery(testCtx(), mql)).resolves.toBe(0.25);
    expect(token.requests).toHaveLength(1);
    const [h = '', c = ''] = (new URLSearchParams(token.requests[0]?.body).get('assertion') ?? '').split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-1' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'fledge@my-project.iam.gserviceaccount.com',
      scope: STACKDRIVER_SCOPE,
      aud: `${token.url}/token`,
      iat: NOW / 1000,
      exp: NOW / 1000 + 3600,
    });
    const req = api.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v3/projects/my-project/timeSeries:query');
    expect(req?.headers['authorization']).toBe('Bearer ya29.access');
    expect(JSON.parse(req?.body ?? '')).toEqual({ query: mql });
  });

  it('reads int64 values and the first of several series', async () => {
    const { sd } = await stackdriver(200, answer([series([{ int64Value: '42' }]), series([{ doubleValue: 1 }])]));
    await expect(sd.runQuery(testCtx(), 'q')).resolves.toBe(42);
  });

  it('reads the first (newest) point of a series, as Flagger', async () => {
    const { sd } = await stackdriver(200, answer([series([{ doubleValue: 0.25 }, { doubleValue: 0.5 }])]));
    await expect(sd.runQuery(testCtx(), 'q')).resolves.toBe(0.25);
  });

  it('reads the proto3 JSON infinities and rejects values of other types', async () => {
    const { sd } = await stackdriver(200, answer([series([{ doubleValue: '-Infinity' }])]));
    await expect(sd.runQuery(testCtx(), 'q')).resolves.toBe(-Infinity);
    const { sd: bad } = await stackdriver(200, answer([series([{ stringValue: 'x' }])]));
    const err = await bad.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(NoValuesFoundError);
  });

  it.each([
    ['no series', {}],
    ['an empty timeSeriesData', answer([])],
    ['an empty series', answer([series([])])],
    ['an empty first series', answer([series([]), series([{ doubleValue: 1 }])])],
    ['a point without values', answer([{ pointData: [{ values: [] }] }])],
    // proto3 JSON writes a NaN double as the string "NaN".
    ['a NaN value', answer([series([{ doubleValue: 'NaN' }, { doubleValue: 2 }])])],
    ['a TypedValue without value', answer([series([{}])])],
  ])('reports %s as no values', async (_name, body) => {
    const { sd } = await stackdriver(200, body);
    await expect(sd.runQuery(testCtx(), 'q')).rejects.toThrow(NoValuesFoundError);
  });

  it('reports API errors without tokens, and is online when an empty query is INVALID_ARGUMENT', async () => {
    const { sd } = await stackdriver(403, { error: { code: 403, message: 'denied', status: 'PERMISSION_DENIED' } });
    const err = await sd.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(String(err)).toBe('ProviderError: error requesting stackdriver: Status 403 PERMISSION_DENIED: denied');
    expect(String(err)).not.toContain('ya29');
    await expect(sd.isOnline(testCtx())).rejects.toThrow(ProviderError);
    const { sd: ok, api } = await stackdriver(400, {
      error: { code: 400, status: 'INVALID_ARGUMENT', message: 'empty' },
    });
    await expect(ok.isOnline(testCtx())).resolves.toBe(true);
    expect(JSON.parse(api.requests[0]?.body ?? '')).toEqual({ query: '' });
  });

  it('uses the metadata server (workload identity) without a Secret', async () => {
    const metadata = await serve((req, res) => {
      if (req.headers['metadata-flavor'] !== 'Google') return json(res, 403, {});
      if (req.url.startsWith('/computeMetadata/v1/project/project-id')) {
        res.writeHead(200);
        res.end('gke-project');
        return;
      }
      json(res, 200, { access_token: 'wi-token', expires_in: 3000 });
    });
    const api = await serve((_req, res) => json(res, 200, answer([series([{ doubleValue: 3 }])])));
    const sd = new StackdriverProvider(
      { address: api.url, env: { GCE_METADATA_HOST: new URL(metadata.url).host }, now: () => NOW },
      http,
    );
    await expect(sd.runQuery(testCtx(), 'q')).resolves.toBe(3);
    expect(api.requests[0]?.url).toBe('/v3/projects/gke-project/timeSeries:query');
    expect(api.requests[0]?.headers['authorization']).toBe('Bearer wi-token');
    expect(metadata.requests.map((r) => r.url.split('?')[0])).toEqual([
      '/computeMetadata/v1/project/project-id',
      '/computeMetadata/v1/instance/service-accounts/default/token',
    ]);
  });

  it('validates its options', () => {
    expect(() => new StackdriverProvider({ credentials: {} }, http)).toThrow(
      'stackdriver credentials does not contain a project id',
    );
    expect(() => new StackdriverProvider({ credentials: { project: 'p', serviceAccountKey: '{' } }, http)).toThrow(
      'stackdriver serviceAccountKey is not valid JSON',
    );
  });
});
