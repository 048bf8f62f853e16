import { afterEach, describe, expect, it } from 'vitest';
import type { Canary, CanaryMetric, CanarySpec } from '../apis/flagger/v1beta1/types.ts';
import { createHttpClient } from '../http/client.ts';
import { type RecordedRequest, type TestServer, json, startServer, testCtx } from '../http/server.fixture.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import {
  DefaultMetricChecker,
  type MetricCheckerOptions,
  bounds,
  builtinProvider,
  fixed2,
  explanation,
  goDuration,
  goFloat,
  metricModel,
  numberOrNoData,
  truncateQuery,
} from './metric-checks.ts';
import { failingChecks } from './scheduler.ts';
import { NoValuesFoundError } from '../metrics/providers/errors.ts';

const http = createHttpClient();

function newCanary(metrics: CanaryMetric[], spec: Partial<CanarySpec> = {}): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, analysis: { metrics }, ...spec },
  };
}

/** A cache double: objects by `namespace/name`. */
function cache(objects: KubeObject[]): { get(key: ObjectKey): KubeObject | undefined } {
  const byKey = new Map(objects.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
  return { get: (key) => byKey.get(`${key.namespace ?? ''}/${key.name}`) };
}

function template(name: string, namespace: string, provider: Record<string, unknown>, query: string): KubeObject {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name, namespace },
    spec: { provider, query },
  };
}

function secret(name: string, namespace: string, data: Record<string, string>): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: encoded };
}

/** A Prometheus that answers each query with `answer(query)`: a number, `undefined` (no series) or an HTTP error. */
async function prometheus(
  answer: (query: string) => number | undefined | { status: number; body: unknown },
): Promise<TestServer> {
  const s = await startServer((req: RecordedRequest, res) => {
    const query = new URL(req.url, 'http://x').searchParams.get('query') ?? '';
    const a = answer(query);
    if (typeof a === 'object') return json(res, a.status, a.body);
    json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: a === undefined ? [] : [{ metric: {}, value: [1, String(a)] }] },
    });
  });
  servers.push(s);
  return s;
}

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function checker(o: Partial<MetricCheckerOptions> & { metricsServer: string }): DefaultMetricChecker {
  return new DefaultMetricChecker({ http, meshProvider: 'kubernetes', templates: cache([]), secrets: cache([]), ...o });
}

/** The `http` observer's builtin queries for the canary podinfo.test, as sent. */
const HTTP_RATE =
  'sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*" }[1m] ) ) / sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100';
const HTTP_DURATION =
  'histogram_quantile( 0.99, sum( rate( http_request_duration_seconds_bucket{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) by (le) )';
const HTTP_SAMPLES =
  'sum( increase( http_request_duration_seconds_count{ kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) )';

const queries = (s: TestServer): string[] =>
  s.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('query') ?? '');

describe('DefaultMetricChecker metrics server credentials', () => {
  it('redacts the userinfo of -metrics-server from build and query errors', async () => {
    const metric = [{ name: 'request-success-rate', thresholdRange: { min: 99 } }];
    const [bad] = await checker({ metricsServer: 'ftp://reader:S3cr3t-pw@prom' }).evaluate(
      testCtx(),
      newCanary(metric),
    );
    expect(bad?.result.message).toContain('Error building Prometheus client for ftp://<redacted>@prom');
    const prom = await startServer((req, res) => {
      res.writeHead(401);
      res.end(`denied ${req.headers.authorization ?? ''} for reader:S3cr3t-pw`);
    });
    servers.push(prom);
    const withUser = prom.url.replace('http://', 'http://reader:S3cr3t-pw@');
    const [denied] = await checker({ metricsServer: withUser }).evaluate(testCtx(), newCanary(metric));
    expect(denied?.result.message).toContain('Status 401 Unauthorized: denied Basic <redacted> for <redacted>');
    expect(JSON.stringify(denied)).not.toContain('S3cr3t');
  });
});

describe('DefaultMetricChecker builtin metrics', () => {
  it('passes a success rate within range and records the sample', async () => {
    const prom = await prometheus(() => 99.5);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]),
    );
    expect(e).toEqual({
      result: {
        name: 'request-success-rate',
        kind: 'metric',
        passed: true,
        message: 'success rate 99.50%',
        value: 99.5,
        min: 99,
        query: HTTP_RATE,
      },
      sample: 99.5,
    });
    expect(queries(prom)).toEqual([HTTP_RATE]);
    expect(queries(prom)[0]).toContain('http_request_duration_seconds_count{ kubernetes_namespace="test"');
  });

  it("fails a low success rate with Flagger's words", async () => {
    const prom = await prometheus(() => 90);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]),
    );
    expect(e?.result.passed).toBe(false);
    // Flagger's words first, then which check, the value, the range and the query as sent.
    expect(e?.event).toEqual({
      type: 'Warning',
      message: `Halt podinfo.test advancement success rate 90.00% < 99% (check request-success-rate: value 90%, range [99%, +Inf]; query: ${HTTP_RATE})`,
    });
    expect(e?.result.message).toBe('Halt podinfo.test advancement success rate 90.00% < 99%');
    expect(e?.result.query).toBe(HTTP_RATE);
    expect(e?.sample).toBe(90);
  });

  it('uses the deprecated threshold as the minimum success rate', async () => {
    const prom = await prometheus(() => 98.999);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', threshold: 99 }]),
    );
    expect(e?.result).toMatchObject({
      passed: false,
      min: 99,
      message: 'Halt podinfo.test advancement success rate 99.00% < 99%',
    });
  });

  it('fails a success rate above thresholdRange.max', async () => {
    const prom = await prometheus(() => 100);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { max: 99.5 } }]),
    );
    expect(e?.result.message).toBe('Halt podinfo.test advancement success rate 100.00% > 99.5%');
  });

  it('compares request duration in milliseconds and records seconds', async () => {
    const prom = await prometheus(() => 0.6);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-duration', thresholdRange: { max: 500 } }]),
    );
    expect(e?.result).toEqual({
      name: 'request-duration',
      kind: 'metric',
      passed: false,
      message: 'Halt podinfo.test advancement request duration 600ms > 500ms',
      value: 600,
      max: 500,
      query: HTTP_DURATION,
    });
    expect(e?.sample).toBe(0.6);
    expect(e?.event?.message).toBe(
      `Halt podinfo.test advancement request duration 600ms > 500ms (check request-duration: value 600ms, range [-Inf, 500ms]; query: ${HTTP_DURATION})`,
    );
  });

  it('uses the deprecated threshold as the maximum duration', async () => {
    const prom = await prometheus(() => 1.5);
    const [fail] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-duration', threshold: 1000 }]),
    );
    expect(fail?.result.message).toBe('Halt podinfo.test advancement request duration 1.5s > 1s');
    const [pass] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-duration', threshold: 1500 }]),
    );
    expect(pass?.result).toMatchObject({ passed: true, message: 'request duration 1.5s', max: 1500 });
  });

  it('reports no values as a failed check that names the target', async () => {
    const prom = await prometheus(() => undefined);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]),
    );
    const message =
      'Halt advancement no values found for kubernetes metric request-success-rate probably podinfo.test is not receiving traffic: no values found';
    expect(e).toEqual({
      result: { name: 'request-success-rate', kind: 'metric', passed: false, message, query: HTTP_RATE },
      event: { type: 'Warning', message: `${message} (check request-success-rate; query: ${HTTP_RATE})` },
    });
  });

  it('reports query errors', async () => {
    const prom = await prometheus(() => ({ status: 503, body: 'overloaded' }));
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-duration', thresholdRange: { max: 500 } }]),
    );
    expect(e?.result.message).toBe(
      'Prometheus query failed: error response: Status 503 Service Unavailable: "overloaded"',
    );
  });

  it("runs the provider's builtin queries: Istio's for spec.provider istio", async () => {
    const prom = await prometheus((q) => (q.startsWith('histogram_quantile') ? 120.7 : 100));
    const results = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary(
        [
          { name: 'request-success-rate', thresholdRange: { min: 99 } },
          { name: 'request-duration', thresholdRange: { max: 500 } },
        ],
        { provider: 'istio' },
      ),
    );
    expect(results.map((r) => r.result.message)).toEqual(['success rate 100.00%', 'request duration 120ms']);
    expect(queries(prom)).toEqual([
      'sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo" }[1m] ) ) * 100',
      'histogram_quantile( 0.99, sum( rate( istio_request_duration_milliseconds_bucket{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo" }[1m] ) ) by (le) )',
    ]);
  });

  it('fails builtin metrics of an unknown mesh provider, clearly', async () => {
    const prom = await prometheus(() => 100);
    const [e] = await checker({ metricsServer: prom.url, meshProvider: 'smi:linkerd' }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]),
    );
    expect(e?.result.message).toBe('builtin metrics: unknown provider "smi:linkerd"');
    expect(prom.requests).toHaveLength(0);
  });

  it('queries spec.metricsServer instead of the operator default', async () => {
    const own = await prometheus(() => 100);
    const global = await prometheus(() => 0);
    const [e] = await checker({ metricsServer: global.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }], { metricsServer: own.url }),
    );
    expect(e?.result.passed).toBe(true);
    expect(global.requests).toHaveLength(0);
    expect(own.requests).toHaveLength(1);
  });

  it('fails on an invalid metrics server address', async () => {
    const [e] = await checker({ metricsServer: 'prometheus:9090' }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate' }]),
    );
    expect(e?.result.message).toBe(
      'Error building Prometheus client for prometheus:9090 prometheus address prometheus:9090 is not a valid URL',
    );
  });
});

describe('DefaultMetricChecker inline queries', () => {
  it('renders the query with the model and template variables', async () => {
    const prom = await prometheus(() => 12);
    const metric: CanaryMetric = {
      name: 'error-rate',
      interval: '30s',
      query: 'sum(rate(errors{ns="{{ namespace }}",app="{{ target }}",env="{{ variables.env }}"}[{{ interval }}]))',
      templateVariables: { env: 'prod' },
      thresholdRange: { max: 10 },
    };
    const [e] = await checker({ metricsServer: prom.url }).evaluate(testCtx(), newCanary([metric]));
    expect(queries(prom)).toEqual(['sum(rate(errors{ns="test",app="podinfo",env="prod"}[30s]))']);
    expect(e?.result).toEqual({
      name: 'error-rate',
      kind: 'metric',
      passed: false,
      message: 'Halt podinfo.test advancement error-rate 12.00 > 10',
      value: 12,
      max: 10,
      query: 'sum(rate(errors{ns="test",app="podinfo",env="prod"}[30s]))',
    });
    expect(e?.event?.message).toBe(
      'Halt podinfo.test advancement error-rate 12.00 > 10 (check error-rate: value 12, range [-Inf, 10]; query: sum(rate(errors{ns="test",app="podinfo",env="prod"}[30s])))',
    );
  });

  it('treats a missing threshold as max 0, as Flagger', async () => {
    const prom = await prometheus(() => 0.5);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'errors', query: 'x' }]),
    );
    expect(e?.result.message).toBe('Halt podinfo.test advancement errors 0.50 > 0');
  });

  it('fails on a render error without querying', async () => {
    const prom = await prometheus(() => 1);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'm', query: '{{ variables.nope }}' }]),
    );
    expect(e?.result.message).toMatch(/^Metric m query render error: .*map has no entry for key "nope"$/);
    expect(prom.requests).toHaveLength(0);
  });

  it('words no values like Flagger', async () => {
    const prom = await prometheus(() => undefined);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'm', query: 'x', thresholdRange: { max: 1 } }]),
    );
    expect(e?.result.message).toBe('Halt advancement no values found for metric: m');
  });
});

describe('DefaultMetricChecker templates', () => {
  it('queries the template provider with Secret credentials from the cache, never quoting them', async () => {
    const prom = await prometheus(() => 3);
    const templates = cache([
      template(
        'latency',
        'monitoring',
        {
          type: 'prometheus',
          address: prom.url,
          secretRef: { name: 'prom-auth' },
          headers: { 'X-Scope-OrgID': ['t1'] },
        },
        'max(lat{app="{{ target }}"}[{{ interval }}])',
      ),
    ]);
    const secrets = cache([secret('prom-auth', 'monitoring', { token: 's3cr3t-token' })]);
    const metric: CanaryMetric = {
      name: 'latency',
      templateRef: { name: 'latency', namespace: 'monitoring' },
      thresholdRange: { max: 2 },
    };
    const [e] = await checker({ metricsServer: 'http://unused:9090', templates, secrets }).evaluate(
      testCtx(),
      newCanary([metric]),
    );
    expect(queries(prom)).toEqual(['max(lat{app="podinfo"}[1m])']);
    expect(prom.requests[0]?.headers['authorization']).toBe('Bearer s3cr3t-token');
    expect(prom.requests[0]?.headers['x-scope-orgid']).toBe('t1');
    expect(e?.result).toMatchObject({
      passed: false,
      message: 'Halt podinfo.test advancement latency 3.00 > 2',
      value: 3,
    });
  });

  it('looks the template up in the canary namespace by default and uses basic auth', async () => {
    const prom = await prometheus(() => 1);
    const templates = cache([
      template('t', 'test', { type: 'prometheus', address: prom.url, secretRef: { name: 'basic' } }, 'up'),
    ]);
    const secrets = cache([secret('basic', 'test', { username: 'admin', password: 'hunter2' })]);
    const [e] = await checker({ metricsServer: 'http://unused:9090', templates, secrets }).evaluate(
      testCtx(),
      newCanary([{ name: 'up', templateRef: { name: 't' }, thresholdRange: { min: 1 } }]),
    );
    expect(e?.result.passed).toBe(true);
    expect(prom.requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('admin:hunter2').toString('base64')}`);
  });

  it('fails on a missing template or Secret, and on credentials without a username', async () => {
    const templates = cache([
      template('t', 'test', { type: 'prometheus', address: 'http://p:9090', secretRef: { name: 's' } }, 'up'),
    ]);
    const metric: CanaryMetric = { name: 'up', templateRef: { name: 't' } };
    const [missing] = await checker({ metricsServer: 'http://p:9090' }).evaluate(testCtx(), newCanary([metric]));
    expect(missing?.result.message).toBe('Metric template t.test error: metrictemplate.flagger.app "t" not found');
    const [noSecret] = await checker({ metricsServer: 'http://p:9090', templates }).evaluate(
      testCtx(),
      newCanary([metric]),
    );
    expect(noSecret?.result.message).toBe('Metric template t.test secret s error: secrets "s" not found');
    const secrets = cache([secret('s', 'test', { password: 'hunter2' })]);
    const [badCreds] = await checker({ metricsServer: 'http://p:9090', templates, secrets }).evaluate(
      testCtx(),
      newCanary([metric]),
    );
    expect(badCreds?.result.message).toBe(
      'Metric template t.test provider prometheus error: prometheus credentials does not contain a username',
    );
    expect(badCreds?.result.message).not.toContain('hunter2');
  });

  it('fails keptn templates clearly when no Kubernetes client is configured', async () => {
    const templates = cache([template('k', 'test', { type: 'keptn' }, 'keptnmetric/test/m/1m/')]);
    const [e] = await checker({ metricsServer: 'http://p:9090', templates }).evaluate(
      testCtx(),
      newCanary([{ name: 'k', templateRef: { name: 'k' } }]),
    );
    expect(e?.result.message).toBe(
      'Metric template k.test provider keptn error: provider keptn needs a Kubernetes client, which is not configured',
    );
  });

  it('queries a Datadog template with the keys of its Secret (template namespace), never quoting them', async () => {
    const dd = await startServer((_req, res) =>
      json(res, 200, { status: 'ok', series: [{ pointlist: [[1700000000000, 0.42]] }] }),
    );
    servers.push(dd);
    const templates = cache([
      template(
        'errors',
        'monitoring',
        { type: 'datadog', address: dd.url, secretRef: { name: 'dd' } },
        'sum:errors{service:{{ target }}}.as_count()',
      ),
    ]);
    const secrets = cache([
      secret('dd', 'monitoring', { datadog_api_key: 'api-s3cr3t', datadog_application_key: 'app-s3cr3t' }),
      secret('dd', 'test', { datadog_api_key: 'wrong', datadog_application_key: 'wrong' }),
    ]);
    const metric: CanaryMetric = {
      name: 'errors',
      interval: '30s',
      templateRef: { name: 'errors', namespace: 'monitoring' },
      thresholdRange: { max: 0.4 },
    };
    const [e] = await checker({ metricsServer: 'http://unused:9090', templates, secrets }).evaluate(
      testCtx(),
      newCanary([metric]),
    );
    const req = dd.requests[0];
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/api/v1/query');
    expect(url.searchParams.get('query')).toBe('sum:errors{service:podinfo}.as_count()');
    expect(Number(url.searchParams.get('to')) - Number(url.searchParams.get('from'))).toBe(300);
    expect(req?.headers['dd-api-key']).toBe('api-s3cr3t');
    expect(req?.headers['dd-application-key']).toBe('app-s3cr3t');
    expect(e?.result).toMatchObject({
      passed: false,
      value: 0.42,
      message: 'Halt podinfo.test advancement errors 0.42 > 0.4',
    });

    const [missing] = await checker({
      metricsServer: 'http://unused:9090',
      templates,
      secrets: cache([secret('dd', 'monitoring', { datadog_api_key: 'api-s3cr3t' })]),
    }).evaluate(testCtx(), newCanary([metric]));
    expect(missing?.result.message).toBe(
      'Metric template errors.monitoring provider datadog error: datadog credentials does not contain datadog_application_key',
    );
    expect(missing?.result.message).not.toContain('s3cr3t');
  });

  it("reports template query failures with Flagger's words", async () => {
    const prom = await prometheus((q) =>
      q === 'empty' ? undefined : { status: 400, body: { status: 'error', error: 'bad' } },
    );
    const templates = cache([
      template('empty', 'test', { type: 'prometheus', address: prom.url }, 'empty'),
      template('bad', 'test', { type: 'prometheus', address: prom.url }, 'bad('),
    ]);
    const results = await checker({ metricsServer: prom.url, templates }).evaluate(
      testCtx(),
      newCanary([
        { name: 'a', templateRef: { name: 'empty' } },
        { name: 'b', templateRef: { name: 'bad' } },
      ]),
    );
    expect(results.map((r) => r.result.message)).toEqual([
      'Halt advancement no values found for custom metric: a: no values found',
      'Metric query failed for b: error response: Status 400 Bad Request: {"status":"error","error":"bad"}',
    ]);
  });

  it('fails a metric with neither builtin name, query nor template', async () => {
    const [e] = await checker({ metricsServer: 'http://p:9090' }).evaluate(testCtx(), newCanary([{ name: 'custom' }]));
    expect(e?.result).toEqual({
      name: 'custom',
      kind: 'metric',
      passed: false,
      message: 'Metric query failed for custom: no usable metrics template and query were configured',
    });
  });

  it('evaluates every metric even after a failure, in spec order', async () => {
    const prom = await prometheus((q) => (q.startsWith('histogram_quantile') ? 0.1 : 50));
    const results = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        { name: 'request-success-rate', thresholdRange: { min: 99 } },
        { name: 'request-duration', thresholdRange: { max: 500 } },
      ]),
    );
    expect(results.map((r) => [r.result.name, r.result.passed])).toEqual([
      ['request-success-rate', false],
      ['request-duration', true],
    ]);
  });
});

describe('DefaultMetricChecker.availability', () => {
  it("checks a Datadog template's availability with its own endpoint and keys", async () => {
    const dd = await startServer((_req, res) => json(res, 403, { errors: ['Forbidden'] }));
    servers.push(dd);
    const templates = cache([
      template('dd', 'test', { type: 'datadog', address: dd.url, secretRef: { name: 'dd' } }, 'q'),
    ]);
    const secrets = cache([secret('dd', 'test', { datadog_api_key: 'k-s3cr3t', datadog_application_key: 'a-s3cr3t' })]);
    const message = await checker({ metricsServer: 'http://unused:9090', templates, secrets }).availability(
      testCtx(),
      newCanary([{ name: 'x', templateRef: { name: 'dd' } }]),
    );
    expect(message).toMatch(/^datadog in metric template dd\.test not available: error response: Status 403/);
    expect(message).not.toContain('s3cr3t');
    expect(dd.requests.map((r) => r.url)).toEqual(['/api/v1/validate']);
    expect(dd.requests[0]?.headers['dd-api-key']).toBe('k-s3cr3t');
  });

  it('is undefined when Prometheus and the templates answer', async () => {
    const prom = await prometheus((q) => (q === 'vector(1)' ? 1 : 0));
    const templates = cache([template('t', 'test', { type: 'prometheus', address: prom.url }, 'up')]);
    const canary = newCanary([{ name: 'request-success-rate' }, { name: 'x', templateRef: { name: 't' } }]);
    await expect(
      checker({ metricsServer: prom.url, templates }).availability(testCtx(), canary),
    ).resolves.toBeUndefined();
    expect(queries(prom)).toEqual(['vector(1)', 'vector(1)']);
  });

  it('says which provider is down', async () => {
    const prom = await prometheus(() => ({ status: 500, body: 'down' }));
    await expect(
      checker({ metricsServer: prom.url }).availability(testCtx(), newCanary([{ name: 'request-duration' }])),
    ).resolves.toBe(
      'prometheus not available: running query failed: error response: Status 500 Internal Server Error: "down"',
    );
    const templates = cache([template('t', 'test', { type: 'prometheus', address: prom.url }, 'up')]);
    await expect(
      checker({ metricsServer: prom.url, templates }).availability(
        testCtx(),
        newCanary([{ name: 'x', templateRef: { name: 't' } }]),
      ),
    ).resolves.toMatch(/^prometheus in metric template t\.test not available: running query failed/);
    await expect(
      checker({ metricsServer: prom.url }).availability(
        testCtx(),
        newCanary([{ name: 'x', templateRef: { name: 'gone' } }]),
      ),
    ).resolves.toBe('Metric template gone.test error: metrictemplate.flagger.app "gone" not found');
  });
});

describe('helpers', () => {
  it('numberOrNoData: NaN is no data (it would pass any bound), infinities and numbers are values', () => {
    expect(() => numberOrNoData(Number.NaN)).toThrow(NoValuesFoundError);
    expect(numberOrNoData(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(numberOrNoData(0)).toBe(0);
    expect(numberOrNoData(99.5)).toBe(99.5);
  });

  it('builtinProvider: spec.provider, else the mesh provider; Linkerd wins when it is the mesh', () => {
    expect(builtinProvider(newCanary([]), 'kubernetes')).toBe('kubernetes');
    expect(builtinProvider(newCanary([], { provider: 'gatewayapi:v1' }), 'istio')).toBe('gatewayapi:v1');
    expect(builtinProvider(newCanary([], { provider: 'nginx' }), 'linkerd')).toBe('linkerd');
  });

  it('metricModel defaults service, ingress and route to the target', () => {
    expect(metricModel(newCanary([]), { name: 'm' })).toEqual({
      name: 'podinfo',
      namespace: 'test',
      target: 'podinfo',
      service: 'podinfo',
      ingress: 'podinfo',
      route: 'podinfo',
      interval: '1m',
      variables: {},
    });
    const c = newCanary([], {
      service: { port: 80, name: 'svc' },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'ing' },
    });
    expect(metricModel(c, { name: 'm', interval: '5m' })).toMatchObject({
      service: 'svc',
      ingress: 'ing',
      route: 'podinfo',
      interval: '5m',
    });
  });

  it('bounds: thresholdRange wins over the deprecated threshold', () => {
    expect(bounds({ name: 'm', threshold: 5, thresholdRange: { min: 1 } }, 'max')).toEqual({ min: 1 });
    expect(bounds({ name: 'm', threshold: 5 }, 'min')).toEqual({ min: 5 });
    expect(bounds({ name: 'm' }, 'max')).toEqual({ max: 0 });
  });

  it('formats numbers like Go', () => {
    expect(goFloat(99)).toBe('99');
    expect(goFloat(99.5)).toBe('99.5');
    expect(goFloat(123456)).toBe('123456');
    expect(goFloat(1e6)).toBe('1e+06');
    expect(goFloat(1234567)).toBe('1.234567e+06');
    expect(goFloat(0.0001)).toBe('0.0001');
    expect(goFloat(0.00001)).toBe('1e-05');
    expect(fixed2(90)).toBe('90.00');
    expect(fixed2(Infinity)).toBe('+Inf');
  });

  it('formats durations like Go', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(600)).toBe('600ms');
    expect(goDuration(1000)).toBe('1s');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(60_000)).toBe('1m0s');
    expect(goDuration(3_723_004)).toBe('1h2m3.004s');
    expect(goDuration(-250)).toBe('-250ms');
  });
});

describe('DefaultMetricChecker Fledge extensions (noData, dryRun)', () => {
  const noTraffic =
    'Halt advancement no values found for kubernetes metric request-success-rate probably podinfo.test is not receiving traffic: no values found';

  it('fails a metric without data by default, as Flagger', async () => {
    const prom = await prometheus(() => undefined);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 } }]),
    );
    expect(e?.result.passed).toBe(false);
    expect(e?.event).toEqual({
      type: 'Warning',
      message: `${noTraffic} (check request-success-rate; query: ${HTTP_RATE})`,
    });
  });

  it('counts no data as passed with noData: pass, and says so', async () => {
    const prom = await prometheus(() => undefined);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 }, noData: 'pass' }]),
    );
    const message = `${noTraffic} (noData: pass, counted as passed)`;
    expect(e).toEqual({
      result: { name: 'request-success-rate', kind: 'metric', passed: true, message, query: HTTP_RATE },
      event: { type: 'Normal', message: `${message} (check request-success-rate; query: ${HTTP_RATE})` },
    });
  });

  it('skips a metric without data with noData: skip, for inline queries and templates too', async () => {
    const prom = await prometheus(() => undefined);
    const templates = cache([template('t', 'test', { type: 'prometheus', address: prom.url }, 'up')]);
    const evaluations = await checker({ metricsServer: prom.url, templates }).evaluate(
      testCtx(),
      newCanary([
        { name: 'inline', query: 'up', thresholdRange: { max: 1 }, noData: 'skip' },
        { name: 'tpl', templateRef: { name: 't' }, thresholdRange: { max: 1 }, noData: 'skip' },
        { name: 'strict', query: 'up', thresholdRange: { max: 1 } },
      ]),
    );
    expect(evaluations.map((e) => e.result.passed)).toEqual([true, true, false]);
    expect(evaluations[0]?.result.message).toBe(
      'Halt advancement no values found for metric: inline (noData: skip, check skipped)',
    );
    expect(evaluations[1]?.event?.type).toBe('Normal');
    expect(evaluations[1]?.result.message).toMatch(
      /no values found for custom metric: tpl.*\(noData: skip, check skipped\)$/,
    );
  });

  it('still fails an out-of-range value or a query error with a noData policy', async () => {
    const prom = await prometheus((q) =>
      q === 'low' ? 50 : { status: 500, body: { status: 'error', error: 'boom' } },
    );
    const evaluations = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        { name: 'low', query: 'low', thresholdRange: { min: 99 }, noData: 'pass' },
        { name: 'broken', query: 'broken', thresholdRange: { min: 99 }, noData: 'skip' },
      ]),
    );
    expect(evaluations.map((e) => e.result.passed)).toEqual([false, false]);
    expect(evaluations.map((e) => e.event?.type)).toEqual(['Warning', 'Warning']);
  });

  it('measures and reports a dry-run metric but never fails it', async () => {
    const prom = await prometheus((q) => (q.includes('http_request_duration_seconds_count') ? 80 : undefined));
    const evaluations = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        { name: 'request-success-rate', thresholdRange: { min: 99 }, dryRun: true },
        { name: 'new-query', query: 'absent', thresholdRange: { max: 1 }, dryRun: true },
      ]),
    );
    const [rate, fresh] = evaluations;
    const message =
      'Dry-run metric request-success-rate would have failed: Halt podinfo.test advancement success rate 80.00% < 99%';
    expect(rate).toEqual({
      result: {
        name: 'request-success-rate',
        kind: 'metric',
        passed: true,
        message,
        value: 80,
        min: 99,
        query: HTTP_RATE,
      },
      sample: 80,
      event: {
        type: 'Normal',
        message: `${message} (check request-success-rate: value 80%, range [99%, +Inf]; query: ${HTTP_RATE})`,
      },
    });
    expect(fresh?.result).toMatchObject({
      passed: true,
      message: 'Dry-run metric new-query would have failed: Halt advancement no values found for metric: new-query',
    });
  });

  it('reports a passing dry-run metric', async () => {
    const prom = await prometheus(() => 100);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 }, dryRun: true }]),
    );
    expect(e?.result).toMatchObject({
      passed: true,
      message: 'Dry-run metric request-success-rate passed: success rate 100.00%',
    });
    expect(e?.event).toEqual({
      type: 'Normal',
      message: 'Dry-run metric request-success-rate passed: success rate 100.00%',
    });
  });
});

describe('DefaultMetricChecker Fledge extension minSamples', () => {
  it('fails a builtin metric below minSamples as no data, without running the metric query', async () => {
    const prom = await prometheus((q) => (q === HTTP_SAMPLES ? 12.4 : 100));
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', thresholdRange: { min: 99 }, minSamples: 100 }]),
    );
    expect(queries(prom)).toEqual([HTTP_SAMPLES]);
    const message = 'Halt podinfo.test advancement request-success-rate 12 samples < minSamples 100';
    expect(e).toEqual({
      result: { name: 'request-success-rate', kind: 'metric', passed: false, message, query: HTTP_SAMPLES },
      event: { type: 'Warning', message: `${message} (check request-success-rate; query: ${HTTP_SAMPLES})` },
    });
  });

  it('runs the builtin check when there are enough samples', async () => {
    const prom = await prometheus((q) => (q === HTTP_SAMPLES ? 99.6 : 0.2));
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-duration', thresholdRange: { max: 500 }, minSamples: 100 }]),
    );
    // 99.6 rounds to 100 requests: enough.
    expect(queries(prom)).toEqual([HTTP_SAMPLES, HTTP_DURATION]);
    expect(e?.result).toMatchObject({ passed: true, message: 'request duration 200ms', query: HTTP_DURATION });
  });

  it('hands too few samples to the noData policy: pass and skip', async () => {
    const prom = await prometheus((q) => (q === HTTP_SAMPLES ? undefined : 50));
    const evaluations = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        { name: 'request-success-rate', thresholdRange: { min: 99 }, minSamples: 1, noData: 'pass' },
        { name: 'request-duration', thresholdRange: { max: 5 }, minSamples: 1, noData: 'skip' },
      ]),
    );
    // No series at all counts as 0 samples; the out-of-range value 50 is never read.
    expect(evaluations.map((e) => e.result)).toEqual([
      {
        name: 'request-success-rate',
        kind: 'metric',
        passed: true,
        message:
          'Halt podinfo.test advancement request-success-rate 0 samples < minSamples 1 (noData: pass, counted as passed)',
        query: HTTP_SAMPLES,
      },
      {
        name: 'request-duration',
        kind: 'metric',
        passed: true,
        message:
          'Halt podinfo.test advancement request-duration 0 samples < minSamples 1 (noData: skip, check skipped)',
        query: HTTP_SAMPLES,
      },
    ]);
    expect(evaluations.map((e) => e.event?.type)).toEqual(['Normal', 'Normal']);
    expect(queries(prom)).toEqual([HTTP_SAMPLES, HTTP_SAMPLES]);
  });

  it('uses sampleQuery over the builtin count, rendered with the model', async () => {
    const prom = await prometheus((q) => (q.startsWith('sum(increase(reqs') ? 5 : 100));
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        {
          name: 'request-success-rate',
          interval: '2m',
          thresholdRange: { min: 99 },
          minSamples: 10,
          sampleQuery: 'sum(increase(reqs{ns="{{ namespace }}",app="{{ target }}"}[{{ interval }}]))',
        },
      ]),
    );
    expect(queries(prom)).toEqual(['sum(increase(reqs{ns="test",app="podinfo"}[2m]))']);
    expect(e?.result.message).toBe('Halt podinfo.test advancement request-success-rate 5 samples < minSamples 10');
  });

  it('counts inline and template metrics with their sampleQuery, through their own provider', async () => {
    const global = await prometheus((q) => (q === 'count_inline' ? 3 : 1));
    const own = await prometheus((q) => (q === 'count_tpl{ns="test"}' ? 500 : 0.5));
    const templates = cache([template('t', 'test', { type: 'prometheus', address: own.url }, 'errors')]);
    const evaluations = await checker({ metricsServer: global.url, templates }).evaluate(
      testCtx(),
      newCanary([
        { name: 'inline', query: 'errors', thresholdRange: { max: 1 }, minSamples: 4, sampleQuery: 'count_inline' },
        {
          name: 'tpl',
          templateRef: { name: 't' },
          thresholdRange: { max: 1 },
          minSamples: 4,
          sampleQuery: 'count_tpl{ns="{{ namespace }}"}',
        },
      ]),
    );
    expect(queries(global)).toEqual(['count_inline']);
    expect(queries(own)).toEqual(['count_tpl{ns="test"}', 'errors']);
    expect(evaluations.map((e) => [e.result.passed, e.result.message])).toEqual([
      [false, 'Halt podinfo.test advancement inline 3 samples < minSamples 4'],
      [true, 'tpl 0.50'],
    ]);
  });

  it('fails clearly, whatever the noData policy, when the sample query fails or has no sampleQuery', async () => {
    const prom = await prometheus(() => ({ status: 500, body: { status: 'error', error: 'boom' } }));
    const evaluations = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([
        { name: 'request-success-rate', minSamples: 1, noData: 'pass' },
        // parseCanary rejects this combination; a hand-built Canary still gets a clear failure.
        { name: 'inline', query: 'x', minSamples: 1, noData: 'pass' },
      ]),
    );
    expect(evaluations.map((e) => e.result.passed)).toEqual([false, false]);
    expect(evaluations[0]?.result.message).toMatch(/^Sample query failed for request-success-rate: .*boom/);
    expect(evaluations[1]?.result.message).toBe('Metric inline has minSamples but no sampleQuery');
  });

  it('is off with minSamples 0', async () => {
    const prom = await prometheus(() => 100);
    await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'request-success-rate', minSamples: 0 }]),
    );
    expect(queries(prom)).toEqual([HTTP_RATE]);
  });
});

describe('explanations', () => {
  it('name the check, the value, the range and the query', () => {
    const base = { name: 'm', kind: 'metric' as const, passed: false, message: 'x' };
    expect(explanation({ ...base, value: 1.5, min: 1, max: 1.2, query: 'q' })).toBe(
      ' (check m: value 1.5, range [1, 1.2]; query: q)',
    );
    expect(explanation({ ...base, value: 1.5, min: 2 }, '%')).toBe(' (check m: value 1.5%, range [2%, +Inf])');
    expect(explanation({ ...base, value: 80.00000000000001, min: 99.25 }, '%')).toBe(
      ' (check m: value 80%, range [99.25%, +Inf])',
    );
    expect(explanation({ ...base, value: 12.3456 })).toBe(' (check m: value 12.35)');
    expect(explanation({ ...base, query: 'q' })).toBe(' (check m; query: q)');
    expect(explanation(base)).toBe('');
  });

  it('cut long queries for status and Events', async () => {
    const long = `sum(rate(x{a="${'a'.repeat(600)}"}[1m]))`;
    expect(truncateQuery('short')).toBe('short');
    const cut = truncateQuery(long);
    expect(cut).toHaveLength(512);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);

    const prom = await prometheus(() => 5);
    const [e] = await checker({ metricsServer: prom.url }).evaluate(
      testCtx(),
      newCanary([{ name: 'long', query: long, thresholdRange: { max: 1 } }]),
    );
    expect(queries(prom)).toEqual([long]);
    expect(e?.result.query).toBe(cut);
    expect(e?.event?.message).toBe(
      `Halt podinfo.test advancement long 5.00 > 1 (check long: value 5, range [-Inf, 1]; query: ${cut})`,
    );
  });

  it('failingChecks summarises failed checks with their queries, for the rollback alert', () => {
    const at = '2026-01-01T00:00:00Z';
    expect(
      failingChecks([
        { name: 'ok', kind: 'metric', passed: true, message: 'ok 1.00', query: 'q0', lastUpdateTime: at },
        {
          name: 'request-success-rate',
          kind: 'metric',
          passed: false,
          message: 'Halt podinfo.test advancement success rate 80.00% < 99%',
          value: 80,
          min: 99,
          query: 'sum(rate(a[1m]))',
          lastUpdateTime: at,
        },
        { name: 'hook', kind: 'webhook', passed: false, message: '', lastUpdateTime: at },
      ]),
    ).toBe('Halt podinfo.test advancement success rate 80.00% < 99% (query: sum(rate(a[1m]))); hook');
    expect(failingChecks(undefined)).toBe('');
  });
});
