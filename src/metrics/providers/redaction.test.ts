import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricProviderType, MetricTemplateProvider } from '../../apis/flagger/v1beta1/types.ts';
import { createHttpClient } from '../../http/client.ts';
import { type RecordedRequest, type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { secretRedactor } from '../../http/redact.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { createProvider } from './factory.ts';
import type { MetricsProvider } from './provider.ts';
import { redactingProvider } from './redaction.ts';

const http = createHttpClient();
const NOW = Date.parse('2024-03-01T10:00:00Z');
const ACCESS_TOKEN = 'ya29.SD-access-T0KEN-0123456789';
/** Request headers that never carry a credential; everything else is echoed. */
const PLAIN = new Set([
  'accept',
  'accept-encoding',
  'content-type',
  'content-length',
  'user-agent',
  'host',
  'connection',
]);

/**
 * What a careless backend answers: `offset` characters of filler, then every credential-bearing
 * header it received and, for Basic auth, the decoded user and password, so that with an offset of
 * 190 the first credential straddles the providers' 200-character cut.
 */
function echoed(req: RecordedRequest, offset: number): string {
  const values: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (PLAIN.has(name) || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
    const basic = /^Basic (.+)$/.exec(typeof value === 'string' ? value : '');
    if (basic?.[1] !== undefined) {
      const [user = '', password = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      values.push(`user ${user} password ${password}`);
    }
  }
  return `${'x'.repeat(offset)}${values.join(' ')}`;
}

let offset = 0;
let status = 401;
let server: TestServer;
beforeAll(async () => {
  server = await startServer((req, res) => {
    // Stackdriver's OAuth token endpoint: the access token becomes a request credential.
    if (req.url.startsWith('/token')) return json(res, 200, { access_token: ACCESS_TOKEN, expires_in: 3599 });
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(echoed(req, offset));
  });
});
afterAll(() => server.close());

interface Scenario {
  readonly type: MetricProviderType;
  readonly credentials?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly extra?: Partial<MetricTemplateProvider>;
  readonly query: string;
  /** Values no message may contain, nor their first 6 characters. */
  readonly secrets: readonly string[];
}

const privatePem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const cloudwatchEnv = {
  AWS_ACCESS_KEY_ID: 'AKIDSECRETEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjSESSIONTOKEN',
};

function scenarios(): Scenario[] {
  const key = JSON.stringify({
    type: 'service_account',
    private_key_id: 'kid-SECRET-0123',
    private_key: privatePem,
    client_email: 'fledge@sd-project.iam.gserviceaccount.com',
    token_uri: `${server.url}/token`,
  });
  const cred = (credentials: Record<string, string>): Pick<Scenario, 'credentials' | 'secrets'> => ({
    credentials,
    secrets: Object.values(credentials),
  });
  return [
    { type: 'prometheus', query: 'up', ...cred({ token: 'prom-T0KEN-0123456789abcdef' }) },
    { type: 'prometheus', query: 'up', ...cred({ username: 'metrics-reader', password: 'pr0m-Passw0rd!xyz' }) },
    {
      type: 'datadog',
      query: 'avg:x{*}',
      ...cred({ datadog_api_key: 'dd-API-0123456789', datadog_application_key: 'dd-APP-9876543210' }),
    },
    {
      type: 'newrelic',
      query: 'SELECT 1',
      ...cred({ newrelic_account_id: '31415926', newrelic_query_key: 'NRAK-QUERYKEY0123' }),
    },
    { type: 'graphite', query: 'target=a', ...cred({ username: 'graphite-user', password: 'gr4phite-Pass' }) },
    { type: 'dynatrace', query: 'builtin:x', ...cred({ dynatrace_token: 'dt0c01.SECRETTOKEN' }) },
    { type: 'influxdb', query: 'from(bucket:"b")', ...cred({ token: 'influx-T0KEN-abcdef', org: 'fledge-org' }) },
    { type: 'externalmetrics', query: 'test/metric', ...cred({ token: 'ext-T0KEN-123456' }) },
    { type: 'splunk', query: "data('x').publish()", ...cred({ sf_token_key: 'sf-T0KEN-SECRET-1' }) },
    {
      type: 'stackdriver',
      query: 'fetch x',
      credentials: { project: 'sd-project-1', serviceAccountKey: key },
      secrets: ['sd-project-1', 'kid-SECRET-0123', ACCESS_TOKEN],
    },
    {
      type: 'cloudwatch',
      query: JSON.stringify([{ Id: 'e1', Expression: 'SUM(x)', ReturnData: true }]),
      env: cloudwatchEnv,
      extra: { region: 'eu-west-1' },
      secrets: Object.values(cloudwatchEnv),
    },
  ];
}

function build(s: Scenario): MetricsProvider {
  return createProvider(
    {
      provider: { type: s.type, address: server.url, ...s.extra },
      credentials: s.credentials,
      metricInterval: '1m',
    },
    { http, now: () => NOW, ...(s.env === undefined ? {} : { env: s.env }) },
  );
}

/** The secrets, or their first 6 characters, that `text` contains. */
function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s.slice(0, 6)));
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`not an Error: ${String(err)}`, { cause: err });
  }
  throw new Error('no error');
}

describe('metrics provider errors never quote credentials', () => {
  it.each([401, 500].flatMap((code) => [0, 190].map((at) => ({ code, at }))))(
    'echoed in a $code body at offset $at',
    async ({ code, at }) => {
      status = code;
      offset = at;
      for (const s of scenarios()) {
        const provider = build(s);
        const err = await errorOf(provider.runQuery(testCtx(), s.query));
        expect(err, s.type).toBeInstanceOf(ProviderError);
        // At offset 0 the whole echo is quoted; at 190 the cut may fall inside `<redacted>` itself.
        expect(err.message, s.type).toContain(at === 0 ? '<redacted>' : 'x'.repeat(at));
        expect(leaked(err.message, s.secrets), `${s.type}: ${err.message}`).toEqual([]);
        const offline = await errorOf(provider.isOnline(testCtx()));
        expect(leaked(offline.message, s.secrets), `${s.type}: ${offline.message}`).toEqual([]);
      }
    },
  );

  it('leaves answers that quote no credential intact, so queries still return their values', async () => {
    const ok = await startServer((_req, res) =>
      json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { job: 'fledge' }, value: [1, '99.5'] }] },
      }),
    );
    try {
      const provider = createProvider(
        {
          provider: { type: 'prometheus', address: ok.url },
          credentials: { username: 'fledge', password: 'correct horse battery staple' },
          metricInterval: '1m',
        },
        { http },
      );
      await expect(provider.runQuery(testCtx(), 'up')).resolves.toBe(99.5);
      expect(ok.requests[0]?.headers.authorization).toBe(
        `Basic ${Buffer.from('fledge:correct horse battery staple').toString('base64')}`,
      );
    } finally {
      await ok.close();
    }
  });

  it('covers a provider error thrown without any HTTP answer, keeping its class and dropping its cause', async () => {
    const secret = 'hunter2-secret';
    const inner: MetricsProvider = {
      runQuery: () => Promise.reject(new NoValuesFoundError(`no values for ${secret}`, { cause: new Error(secret) })),
      isOnline: () => Promise.reject(new Error(`down: ${secret}`)),
    };
    const p = redactingProvider(inner, secretRedactor([secret]));
    const noData = await errorOf(p.runQuery(testCtx(), 'q'));
    expect(noData).toBeInstanceOf(NoValuesFoundError);
    expect(noData.message).toBe('no values for <redacted>');
    expect(noData.cause).toBeUndefined();
    const down = await errorOf(p.isOnline(testCtx()));
    expect(down).toBeInstanceOf(ProviderError);
    expect(down.message).toBe('down: <redacted>');
  });

  it('redacts the userinfo of an address, also from the errors of an invalid one', () => {
    const err = (address: string): string => {
      try {
        createProvider(
          { provider: { type: 'graphite', address }, credentials: undefined, metricInterval: '1m' },
          { http },
        );
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
      return '';
    };
    expect(err('ftp://reader:S3cr3tPass@graphite')).toBe(
      'graphite address ftp://<redacted>@graphite is not a valid URL',
    );
  });
});
