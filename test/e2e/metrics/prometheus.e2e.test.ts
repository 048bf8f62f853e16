// Builtin metric checks against a real Prometheus (Debian's package) scraping a synthetic workload
// exporter: the operator queries it through `-metrics-server` with the `kubernetes` provider's
// builtin queries, on Blue/Green iterations (no traffic shifting), one analysis tick per second.
import { describe, expect, it } from 'vitest';
import type { CanaryCheck } from '../../../src/apis/flagger/v1beta1/types.ts';
import { builtinQueries, sampleCountQueries } from '../../../src/metrics/observers/queries.ts';
import { renderQuery } from '../../../src/metrics/observers/render.ts';
import { type Operator, startOperator } from '../lib/operator.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  canary,
  condition,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from '../lib/workload.ts';
import { createTestNamespace, waitFor } from '../support/index.ts';
import { type WorkloadExporter, type WorkloadProfile, startWorkloadExporter } from './exporter.ts';
import { type PrometheusServer, startPrometheus } from './prometheus.ts';

const HEALTHY: WorkloadProfile = { errorRate: 0, latencySeconds: 0.04 };
/** What the primary reports in every test: bad enough to fail any check that wrongly counted it. */
const BAD_PRIMARY: WorkloadProfile = { errorRate: 0.5, latencySeconds: 2 };

const METRICS = [
  { name: 'request-success-rate', interval: '30s', thresholdRange: { min: 99 } },
  { name: 'request-duration', interval: '30s', thresholdRange: { max: 500 } },
];

/** The builtin queries as the operator renders them for the canary `podinfo` in `namespace`. */
function builtin(namespace: string, metric: 'request-success-rate' | 'request-duration' | 'samples'): string {
  const template = metric === 'samples' ? sampleCountQueries.http : builtinQueries.http[metric];
  return renderQuery(template, {
    name: 'podinfo',
    namespace,
    target: 'podinfo',
    service: 'podinfo',
    ingress: 'podinfo',
    route: 'podinfo',
    interval: '30s',
    variables: {},
  });
}

interface Rig {
  readonly ns: string;
  readonly exporter: WorkloadExporter;
  readonly prometheus: PrometheusServer;
  readonly operator: Operator;
}

/**
 * A namespace with podinfo and a Blue/Green canary checking both builtin metrics, the exporter, a
 * Prometheus that already has rates for the canary, and the operator; returns once the new
 * revision (v2) has been applied to the initialized canary.
 */
async function rig(
  name: string,
  o: { canary: WorkloadProfile; iterations: number; threshold: number; metrics?: Record<string, unknown>[] },
): Promise<Rig> {
  const ns = await createTestNamespace(name);
  const exporter = await startWorkloadExporter({ namespace: ns, canary: o.canary, primary: BAD_PRIMARY });
  const prometheus = await startPrometheus({ targets: [exporter.target] });
  await prometheus.waitForValue(builtin(ns, 'request-success-rate'));
  await prometheus.waitForValue(builtin(ns, 'request-duration'));
  await applyAll(
    [
      ...podinfo(ns),
      canary(ns, {
        analysis: {
          interval: '1s',
          iterations: o.iterations,
          threshold: o.threshold,
          stepWeight: undefined,
          maxWeight: undefined,
          metrics: o.metrics ?? METRICS,
        },
      }),
    ],
    ns,
  );
  const operator = await startOperator({ namespace: ns, args: ['-metrics-server', prometheus.url] });
  await waitForPhase(ns, 'Initialized');
  await setImage(ns, IMAGE_V2);
  return { ns, exporter, prometheus, operator };
}

/** `status.checks[]` of a canary as read from the cluster (all the fields the operator writes). */
function checkOf(c: { status?: { checks?: unknown[] } }, name: string): CanaryCheck | undefined {
  return (c.status?.checks as CanaryCheck[] | undefined)?.find((check) => check.name === name);
}

/** Event messages of the canary that contain `text`. */
async function eventsWith(ns: string, text: string): Promise<string[]> {
  return (await events(ns)).map((e) => e.message).filter((m) => m.includes(text));
}

async function sample(operator: Operator, ns: string, metric: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('flagger_canary_metric_analysis{') &&
        l.includes(`metric="${metric}"`) &&
        l.includes(`namespace="${ns}"`) &&
        l.includes('name="podinfo"'),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('builtin metric checks against a real Prometheus', () => {
  it('sees exactly the configured error rate and latency through the builtin queries', async () => {
    const ns = await createTestNamespace('prom-data');
    const exporter = await startWorkloadExporter({
      namespace: ns,
      canary: { errorRate: 0.2, latencySeconds: 0.8 },
      primary: HEALTHY,
    });
    const prometheus = await startPrometheus({ targets: [exporter.target] });
    // Only the canary's pods match `podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)`; the primary's are left out.
    expect(await prometheus.waitForValue(builtin(ns, 'request-success-rate'))).toBeCloseTo(80, 6);
    // Every request falls in the (0.5, 1] bucket: P99 interpolates to 0.995 s.
    expect(await prometheus.waitForValue(builtin(ns, 'request-duration'))).toBeCloseTo(0.995, 6);
  });

  it('promotes a canary whose exporter reports no errors and low latency', async () => {
    const { ns, operator } = await rig('prom-ok', { canary: HEALTHY, iterations: 4, threshold: 2 });
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
    expect(condition(done, 'Promoted')?.status).toBe('True');
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    expect(await eventsWith(ns, 'Halt')).toEqual([]);
    // The values measured through Prometheus: 100% success, P99 of 40 ms requests = 49.75 ms.
    expect(await sample(operator, ns, 'request-success-rate')).toBe(100);
    expect(await sample(operator, ns, 'request-duration')).toBeCloseTo(0.049, 6);
  });

  it('fails a canary with 20% errors after `threshold` failed checks', async () => {
    const { ns } = await rig('prom-errors', {
      canary: { errorRate: 0.2, latencySeconds: 0.04 },
      iterations: 20,
      threshold: 3,
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(3);
    expect(condition(failed, 'Stalled')?.status).toBe('True');
    // Flagger's words first, then the explanation: check, value, range and the query as rendered.
    const rate = builtin(ns, 'request-success-rate');
    expect(await eventsWith(ns, `Halt podinfo.${ns} advancement success rate 80.00% < 99%`)).toEqual([
      `Halt podinfo.${ns} advancement success rate 80.00% < 99% (check request-success-rate: value 80%, range [99%, +Inf]; query: ${rate})`,
    ]);
    expect(await eventsWith(ns, 'request duration')).toEqual([]);
    // The status of the failed check says the same, with the query it ran.
    const check = checkOf(failed, 'request-success-rate');
    expect(check).toMatchObject({
      kind: 'metric',
      passed: false,
      message: `Halt podinfo.${ns} advancement success rate 80.00% < 99%`,
      min: 99,
      query: rate,
    });
    expect(check?.value).toBeCloseTo(80, 6);
    expect(checkOf(failed, 'request-duration')).toMatchObject({
      passed: true,
      query: builtin(ns, 'request-duration'),
    });
    const evs = (await events(ns)).map((e) => e.message);
    expect(evs).toContain(`Rolling back podinfo.${ns} failed checks threshold reached 3`);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
  });

  it('treats fewer samples than minSamples as no data: the canary fails with the sample query in status and Event', async () => {
    const { ns } = await rig('prom-samples', {
      canary: HEALTHY,
      iterations: 20,
      threshold: 2,
      metrics: [
        { name: 'request-success-rate', interval: '30s', thresholdRange: { min: 99 }, minSamples: 1_000_000_000 },
        // Enough samples: measured as usual (and it passes).
        { name: 'request-duration', interval: '30s', thresholdRange: { max: 500 }, minSamples: 10 },
      ],
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    const samples = builtin(ns, 'samples');
    const check = checkOf(failed, 'request-success-rate');
    expect(check?.passed).toBe(false);
    expect(check?.query).toBe(samples);
    const words = new RegExp(
      `^Halt podinfo\\.${ns} advancement request-success-rate (\\d+) samples < minSamples 1000000000$`,
    );
    const count = Number(words.exec(check?.message ?? '')?.[1]);
    // The exporter has served the canary's requests for at least the whole 30s window by now.
    expect(count).toBeGreaterThan(10);
    const evs = await eventsWith(ns, 'samples < minSamples 1000000000');
    expect(evs.length).toBeGreaterThan(0);
    for (const e of evs) expect(e).toMatch(/samples < minSamples 1000000000 \(check request-success-rate; query: /);
    expect(evs.some((e) => e.endsWith(`; query: ${samples})`))).toBe(true);
    expect(checkOf(failed, 'request-duration')).toMatchObject({
      passed: true,
      message: 'request duration 49ms',
    });
  });

  it('fails a canary whose latency is over the request-duration maximum', async () => {
    const { ns } = await rig('prom-latency', {
      canary: { errorRate: 0, latencySeconds: 0.8 },
      iterations: 20,
      threshold: 2,
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    expect(await eventsWith(ns, `Halt podinfo.${ns} advancement request duration 995ms > 500ms`)).not.toEqual([]);
    expect(await eventsWith(ns, 'success rate')).toEqual([]);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
  });

  it('counts a Prometheus outage as failed checks and carries on when it comes back within the threshold', async () => {
    const { ns, prometheus, operator } = await rig('prom-outage', { canary: HEALTHY, iterations: 8, threshold: 30 });
    await waitFor(
      async () => {
        const c = await getCanary(ns);
        return c.status?.phase === 'Progressing' && (c.status.iterations ?? 0) >= 2;
      },
      { describe: 'two passed analysis iterations', timeoutMs: 120_000, intervalMs: 200 },
    );
    expect((await getCanary(ns)).status?.failedChecks).toBe(0);

    await prometheus.stop();
    const during = await waitFor(
      async () => {
        const c = await getCanary(ns);
        return (c.status?.failedChecks ?? 0) >= 2 ? c : undefined;
      },
      { describe: 'failed checks while Prometheus is down', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(during.status?.phase).toBe('Progressing');
    const outage = await eventsWith(ns, 'Prometheus query failed');
    expect(outage.length).toBeGreaterThan(0);
    // The Event says what failed and why: the connection to the metrics server.
    expect(outage.join('\n')).toMatch(/request failed.*(ECONNREFUSED|connect|refused)/i);
    // The operator is still alive and serving.
    expect((await fetch(`http://127.0.0.1:${operator.port}/metrics`)).status).toBe(200);

    await prometheus.start();
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    const failedChecks = done.status?.failedChecks ?? 0;
    expect(failedChecks).toBeGreaterThanOrEqual(2);
    expect(failedChecks).toBeLessThan(30);
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);
    expect(operator.logs()).not.toMatch(/uncaught|unhandled/i);
  });
});

describe('a MetricTemplate with variables and basic-auth credentials', () => {
  const AUTH = { username: 'fledge', password: 'correct horse battery staple' };
  /** Percentage of canary requests whose status matches the variable `errors` (0 when there are none). */
  const ERROR_RATE = [
    '(sum(rate(http_request_duration_seconds_count{kubernetes_namespace="{{ namespace }}",',
    ' kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status=~"{{ variables.errors }}"}[{{ interval }}]))',
    ' or vector(0))',
    ' / sum(rate(http_request_duration_seconds_count{kubernetes_namespace="{{ namespace }}",',
    ' kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{ interval }}])) * 100',
  ].join('');

  async function templateRig(name: string, o: { canary: WorkloadProfile; password: string }): Promise<Rig> {
    const ns = await createTestNamespace(name);
    const exporter = await startWorkloadExporter({ namespace: ns, canary: o.canary, primary: BAD_PRIMARY });
    const prometheus = await startPrometheus({ targets: [exporter.target], basicAuth: AUTH });
    // The server really requires the credentials.
    expect((await fetch(`${prometheus.url}/api/v1/query?query=up`)).status).toBe(401);
    await prometheus.waitForValue(builtin(ns, 'request-success-rate'));
    await applyAll(
      [
        ...podinfo(ns),
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'prom-auth', namespace: ns },
          type: 'Opaque',
          stringData: { username: AUTH.username, password: o.password },
        },
        {
          apiVersion: 'flagger.app/v1beta1',
          kind: 'MetricTemplate',
          metadata: { name: 'error-rate', namespace: ns },
          spec: {
            provider: { type: 'prometheus', address: prometheus.url, secretRef: { name: 'prom-auth' } },
            query: ERROR_RATE,
          },
        },
        canary(ns, {
          analysis: {
            interval: '1s',
            iterations: 4,
            threshold: 2,
            stepWeight: undefined,
            maxWeight: undefined,
            metrics: [
              {
                name: 'error-rate',
                interval: '30s',
                templateRef: { name: 'error-rate' },
                templateVariables: { errors: '5.*' },
                thresholdRange: { max: 1 },
              },
            ],
          },
        }),
      ],
      ns,
    );
    // No -metrics-server: the template names its own Prometheus.
    const operator = await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    return { ns, exporter, prometheus, operator };
  }

  it('promotes a healthy canary, querying with the credentials of the Secret', async () => {
    const { ns, operator } = await templateRig('prom-tpl-ok', { canary: HEALTHY, password: AUTH.password });
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
    expect(await sample(operator, ns, 'error-rate')).toBe(0);
    expect(await eventsWith(ns, 'Halt')).toEqual([]);
  });

  it('renders the variables into the query: 20% 5xx errors fail the canary', async () => {
    const { ns } = await templateRig('prom-tpl-errors', {
      canary: { errorRate: 0.2, latencySeconds: 0.04 },
      password: AUTH.password,
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    expect(await eventsWith(ns, `Halt podinfo.${ns} advancement error-rate 20.00 > 1`)).not.toEqual([]);
  });

  it('fails the checks with a clear Event when the Secret holds a wrong password', async () => {
    const { ns } = await templateRig('prom-tpl-auth', { canary: HEALTHY, password: 'wrong' });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    expect(await eventsWith(ns, 'Metric query failed for error-rate: error response: Status 401')).not.toEqual([]);
  });
});

describe('Fledge extensions noData and dryRun against a real Prometheus', () => {
  it('promotes despite a failing dry-run metric and a metric without data under noData: pass', async () => {
    const ns = await createTestNamespace('prom-dryrun');
    const exporter = await startWorkloadExporter({
      namespace: ns,
      canary: { errorRate: 0.2, latencySeconds: 0.04 },
      primary: BAD_PRIMARY,
    });
    const prometheus = await startPrometheus({ targets: [exporter.target] });
    await prometheus.waitForValue(builtin(ns, 'request-success-rate'));
    await applyAll(
      [
        ...podinfo(ns),
        canary(ns, {
          analysis: {
            interval: '1s',
            iterations: 4,
            threshold: 2,
            stepWeight: undefined,
            maxWeight: undefined,
            metrics: [
              { name: 'request-success-rate', interval: '30s', thresholdRange: { min: 99 }, dryRun: true },
              {
                name: 'grpc-errors',
                query: 'sum(rate(grpc_server_handled_total{namespace="{{ namespace }}"}[{{ interval }}]))',
                thresholdRange: { max: 1 },
                noData: 'pass',
              },
            ],
          },
        }),
      ],
      ns,
    );
    const operator = await startOperator({ namespace: ns, args: ['-metrics-server', prometheus.url] });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
    expect(
      await eventsWith(
        ns,
        `Dry-run metric request-success-rate would have failed: Halt podinfo.${ns} advancement success rate 80.00% < 99%`,
      ),
    ).not.toEqual([]);
    expect(
      await eventsWith(
        ns,
        'Halt advancement no values found for metric: grpc-errors (noData: pass, counted as passed)',
      ),
    ).not.toEqual([]);
    // The dry-run metric was measured and exported all the same.
    expect(await sample(operator, ns, 'request-success-rate')).toBeCloseTo(80, 6);
  });
});
