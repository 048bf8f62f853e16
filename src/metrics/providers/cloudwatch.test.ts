import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { CloudWatchProvider } from './cloudwatch.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { signV4 } from './sigv4.ts';

const http = createHttpClient();
const NOW = Date.parse('2024-03-01T10:00:00Z');
const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function cloudwatch(
  status: number,
  body: unknown,
  o: { env?: Record<string, string>; sts?: string; readFile?: (p: string) => Promise<string> } = {},
): Promise<{ cw: CloudWatchProvider; server: TestServer }> {
  const server = await startServer((_req, res) => json(res, status, body));
  servers.push(server);
  const cw = new CloudWatchProvider(
    {
      region: 'eu-west-1',
      address: server.url,
      metricInterval: '1m',
      env: o.env ?? env,
      now: () => NOW,
      ...(o.sts === undefined ? {} : { stsAddress: o.sts }),
      ...(o.readFile === undefined ? {} : { readFile: o.readFile }),
    },
    http,
  );
  return { cw, server };
}

/** GetMetricData answer (CloudWatch API reference, JSON protocol). */
const answer = (results: unknown[]): unknown => ({ MetricDataResults: results, Messages: [] });
const result = (values: unknown[]): unknown => ({
  Id: 'e1',
  Label: 'e1',
  Timestamps: values.map((_v, i) => 1709287200 - i * 60),
  Values: values,
  StatusCode: 'Complete',
});

const query = JSON.stringify([
  {
    id: 'e1',
    expression: 'm2 / m1 * 100',
    label: 'error rate',
    returnData: true,
  },
  {
    Id: 'm1',
    MetricStat: {
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'RequestCount',
        Dimensions: [{ Name: 'LoadBalancer', Value: 'app/lb' }],
      },
      Period: 60,
      Stat: 'Sum',
    },
    ReturnData: false,
  },
]);

describe('CloudWatchProvider', () => {
  it('sends a SigV4-signed GetMetricData over the last 10 intervals', async () => {
    const { cw, server } = await cloudwatch(200, answer([result([4.5, 3])]));
    await expect(cw.runQuery(testCtx(), query)).resolves.toBe(4.5);
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/');
    expect(req?.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(req?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(req?.headers['x-amz-date']).toBe('20240301T100000Z');
    const body = JSON.parse(req?.body ?? '') as Record<string, unknown>;
    expect(body).toEqual({
      MetricDataQueries: [
        { Id: 'e1', Expression: 'm2 / m1 * 100', Label: 'error rate', ReturnData: true },
        (JSON.parse(query) as unknown[])[1],
      ],
      StartTime: NOW / 1000 - 600,
      EndTime: NOW / 1000,
      MaxDatapoints: 20,
    });
    // Recompute the signature independently of what was sent.
    const expected = signV4({
      method: 'POST',
      url: `${servers[0]?.url ?? ''}/`,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData',
      },
      body: req?.body ?? '',
      region: 'eu-west-1',
      service: 'monitoring',
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      date: new Date(NOW),
    });
    expect(req?.headers['authorization']).toBe(expected['authorization']);
    expect(req?.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240301\/eu-west-1\/monitoring\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });

  it.each([
    ['no results', answer([])],
    ['no MetricDataResults', { Messages: [] }],
    ['no values', answer([result([])])],
    ['a result without Values', answer([{ Id: 'e1', Label: 'e1', StatusCode: 'Complete' }])],
    ['no values in the first result', answer([result([]), result([9])])],
    // The AWS JSON protocol sends the IEEE 754 specials as strings.
    ['a NaN value', answer([result(['NaN', 2])])],
    ['a null value', answer([result([null, 2])])],
  ])('reports %s as no values', async (_name, body) => {
    const { cw } = await cloudwatch(200, body);
    await expect(cw.runQuery(testCtx(), query)).rejects.toThrow(NoValuesFoundError);
  });

  it('reads the AWS JSON infinities and rejects other strings', async () => {
    const { cw } = await cloudwatch(200, answer([result(['Infinity'])]));
    await expect(cw.runQuery(testCtx(), query)).resolves.toBe(Infinity);
    const { cw: neg } = await cloudwatch(200, answer([result(['-Infinity'])]));
    await expect(neg.runQuery(testCtx(), query)).resolves.toBe(-Infinity);
    const { cw: bad } = await cloudwatch(200, answer([result(['12'])]));
    const err = await bad.runQuery(testCtx(), query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(NoValuesFoundError);
  });

  it('reads the first (newest) value of the first of several results, as Flagger', async () => {
    const { cw } = await cloudwatch(200, answer([result([1, 2]), result([9])]));
    await expect(cw.runQuery(testCtx(), query)).resolves.toBe(1);
  });

  it('reports AWS errors and bad queries without credentials', async () => {
    const { cw } = await cloudwatch(403, {
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: 'denied',
    });
    const err = await cw.runQuery(testCtx(), query).catch((e: unknown) => e);
    expect(String(err)).toBe('ProviderError: error requesting cloudwatch: Status 403: AccessDeniedException: denied');
    expect(String(err)).not.toContain('EXAMPLEKEY');
    await expect(cw.runQuery(testCtx(), '{"Id": "x"}')).rejects.toThrow('not a JSON array');
    await expect(cw.isOnline(testCtx())).rejects.toThrow('unexpected status code: Status 403');
  });

  it('is online when an empty request is refused as invalid', async () => {
    const { cw, server } = await cloudwatch(400, { __type: '#ValidationError', message: 'bad' });
    await expect(cw.isOnline(testCtx())).resolves.toBe(true);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ MetricDataQueries: [], StartTime: 0, EndTime: 0 });
  });

  it('exchanges the web identity token with STS and signs with the session credentials', async () => {
    const sts = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>' +
          '<Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey>' +
          '<SessionToken>session-tok</SessionToken><Expiration>2024-03-01T11:00:00Z</Expiration></Credentials>' +
          '</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>',
      );
    });
    servers.push(sts);
    const { cw, server } = await cloudwatch(200, answer([result([2])]), {
      env: {
        AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token',
        AWS_ROLE_ARN: 'arn:aws:iam::1:role/fledge',
        AWS_ROLE_SESSION_NAME: 'fledge',
      },
      sts: sts.url,
      readFile: (p) => Promise.resolve(p === '/var/run/token' ? 'jwt-from-file\n' : ''),
    });
    await expect(cw.runQuery(testCtx(), query)).resolves.toBe(2);
    await expect(cw.runQuery(testCtx(), query)).resolves.toBe(2);
    expect(sts.requests).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(sts.requests[0]?.body ?? ''))).toEqual({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: 'arn:aws:iam::1:role/fledge',
      RoleSessionName: 'fledge',
      WebIdentityToken: 'jwt-from-file',
    });
    expect(server.requests[0]?.headers['x-amz-security-token']).toBe('session-tok');
    expect(server.requests[0]?.headers['authorization']).toContain('Credential=ASIATEMP/20240301/eu-west-1/monitoring');
  });

  it('validates its options and says when there are no credentials', async () => {
    expect(() => new CloudWatchProvider({ metricInterval: '1m' }, http)).toThrow('region not specified');
    const { cw } = await cloudwatch(200, answer([]), { env: {} });
    await expect(cw.runQuery(testCtx(), query)).rejects.toThrow(ProviderError);
    await expect(cw.runQuery(testCtx(), query)).rejects.toThrow('no AWS credentials');
  });
});
