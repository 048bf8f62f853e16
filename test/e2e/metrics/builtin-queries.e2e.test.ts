// The builtin request-success-rate and request-duration queries of EVERY mesh provider of the CRD
// enum, rendered by the real observer code for a canary as the operator models it, run through the
// real Prometheus provider against a real Prometheus scraping the synthetic exporter. The exporter
// labels each provider's series as that mesh or ingress does, with other numbers for the primary and
// for decoy series, and gives each observer its own canary numbers: a wrong label, a dropped selector
// or a query that reads another observer's series yields a value other than the one expected.
import { describe, expect, it } from 'vitest';
import { parseCanary } from '../../../src/apis/flagger/v1beta1/parse.ts';
import { type Canary, type CanaryMetric, meshProviders } from '../../../src/apis/flagger/v1beta1/types.ts';
import { DefaultMetricChecker, builtinProvider, metricModel } from '../../../src/controller/metric-checks.ts';
import { createHttpClient } from '../../../src/http/client.ts';
import { testCtx } from '../../../src/http/server.fixture.ts';
import { hasObserver, observerFor, observerKindOf } from '../../../src/metrics/observers/factory.ts';
import { type ObserverKind, observerKinds } from '../../../src/metrics/observers/queries.ts';
import { PrometheusProvider } from '../../../src/metrics/providers/prometheus.ts';
import { waitFor } from '../support/index.ts';
import { MS_BUCKETS, type WorkloadExporter, type WorkloadProfile, startWorkloadExporter } from './exporter.ts';
import { startPrometheus } from './prometheus.ts';

const http = createHttpClient();

/** Names that differ from one another (and contain `-`, so Skipper's encoding is exercised). */
const NAMESPACE = 'shop-prod';
const NAMES = { target: 'podinfo', service: 'podinfo-svc', ingress: 'podinfo-ing', route: 'podinfo-route' };
/** Short, so a new canary profile fills the whole window quickly (production defaults to 1m). */
const INTERVAL = '10s';

/** What every primary (and every decoy series) reports: unlike any canary profile below. */
const PRIMARY: WorkloadProfile = { errorRate: 0.5, latencySeconds: 9 };
/** Error rates other than the primary's, and latencies each in another bucket than the primary's. */
const ERROR_RATES = [0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] as const;
const LATENCIES_MS = [3, 7, 20, 40, 80, 200, 400, 800, 2000, 4000] as const;

/**
 * A canary profile per observer, no two alike: observers `i` and `j` share an error rate only when
 * `i ≡ j (mod 9)` and a latency only when `i ≡ j (mod 10)`, so mixing any two series shows.
 */
function profiles(shift: number): Record<ObserverKind, WorkloadProfile> {
  return Object.fromEntries(
    observerKinds.map((kind, i) => [
      kind,
      {
        errorRate: ERROR_RATES[(i + shift) % ERROR_RATES.length] ?? 0,
        latencySeconds: (LATENCIES_MS[(i + shift) % LATENCIES_MS.length] ?? 1) / 1000,
      },
    ]),
  ) as Record<ObserverKind, WorkloadProfile>;
}

/** Observers whose request-duration is the mean (sum / count) rather than a histogram's P99. */
const MEAN_DURATION: ReadonlySet<ObserverKind> = new Set(['nginx', 'skipper']);

/**
 * The P99 Prometheus interpolates when every request takes `ms`: `lo + 0.99 (hi - lo)` of the
 * bucket `(lo, hi]` holding it (the same bounds in ms and, scaled, in seconds); the mean is `ms`.
 */
function expectedDurationMs(kind: ObserverKind, ms: number): number {
  if (MEAN_DURATION.has(kind)) return ms;
  const hi = MS_BUCKETS.find((b) => ms <= b);
  if (hi === undefined) throw new Error(`${ms}ms is above the last bucket`);
  const lo = [0, ...MS_BUCKETS][MS_BUCKETS.indexOf(hi)] ?? 0;
  return lo + 0.99 * (hi - lo);
}

/** A Canary of `provider` as users write it, parsed as the operator parses it. */
function canaryOf(provider: string, metrics: CanaryMetric[]): Canary {
  return parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: NAMESPACE },
    spec: {
      provider,
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: NAMES.target },
      service: { name: NAMES.service, port: 9898 },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: NAMES.ingress },
      routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: NAMES.route },
      analysis: { interval: '1m', threshold: 5, iterations: 10, metrics },
    },
  });
}

const METRICS: CanaryMetric[] = [
  { name: 'request-success-rate', interval: INTERVAL, thresholdRange: { min: 99 } },
  { name: 'request-duration', interval: INTERVAL, thresholdRange: { max: 500 } },
];

/** The providers of the CRD enum with builtin queries: all of them (the factory is exhaustive). */
const PROVIDERS = meshProviders.filter(hasObserver);

interface Measured {
  readonly successRate: number;
  readonly durationMs: number;
}

/** Both builtin checks of every provider, through the observer factory and the Prometheus provider. */
async function measureAll(prometheusUrl: string): Promise<Record<string, Measured | string>> {
  const client = new PrometheusProvider({ address: prometheusUrl }, http);
  const out: Record<string, Measured | string> = {};
  for (const provider of PROVIDERS) {
    const canary = canaryOf(provider, METRICS);
    const observer = observerFor(builtinProvider(canary, 'kubernetes'), client);
    const [rate, duration] = METRICS;
    if (rate === undefined || duration === undefined) throw new Error('unreachable');
    try {
      out[provider] = {
        successRate: await observer.requestSuccessRate(testCtx(), metricModel(canary, rate)),
        durationMs: await observer.requestDurationMs(testCtx(), metricModel(canary, duration)),
      };
    } catch (err) {
      out[provider] = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return out;
}

/** Provider → what its queries must return for the canary profiles `p`. */
function expectations(p: Record<ObserverKind, WorkloadProfile>): Record<string, Measured> {
  return Object.fromEntries(
    PROVIDERS.map((provider) => {
      const kind = observerKindOf[provider];
      const profile = p[kind];
      return [
        provider,
        {
          successRate: (1 - profile.errorRate) * 100,
          // requestDurationMs truncates to whole milliseconds, as Flagger's time.Duration does.
          durationMs: Math.trunc(expectedDurationMs(kind, profile.latencySeconds * 1000) + 1e-6),
        },
      ];
    }),
  );
}

/** Differences between measured and expected, beyond float noise (1e-6 % and 1 ms). */
function mismatches(got: Record<string, Measured | string>, want: Record<string, Measured>): string[] {
  const out: string[] = [];
  for (const [provider, w] of Object.entries(want)) {
    const g = got[provider];
    if (typeof g !== 'object') {
      out.push(`${provider}: ${g ?? 'missing'}`);
      continue;
    }
    if (Math.abs(g.successRate - w.successRate) > 1e-6 || Math.abs(g.durationMs - w.durationMs) > 1) {
      out.push(
        `${provider} (${observerKindOf[provider as keyof typeof observerKindOf]}): got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`,
      );
    }
  }
  return out;
}

async function rig(): Promise<{ exporter: WorkloadExporter; url: string }> {
  const exporter = await startWorkloadExporter({
    namespace: NAMESPACE,
    ...NAMES,
    canary: PRIMARY,
    canaryByKind: profiles(0),
    primary: PRIMARY,
  });
  const prometheus = await startPrometheus({ targets: [exporter.target] });
  return { exporter, url: prometheus.url };
}

describe('builtin queries of every provider against a real Prometheus', () => {
  it('covers every mesh provider of the CRD enum, and the profiles are all distinct', () => {
    expect(PROVIDERS).toEqual([...meshProviders]);
    expect(new Set(PROVIDERS.map((p) => observerKindOf[p]))).toEqual(new Set(observerKinds));
    const seen = new Set(Object.values(profiles(0)).map((p) => JSON.stringify(p)));
    expect(seen.size).toBe(observerKinds.length);
  });

  it('reads exactly each canary’s error rate and latency, and follows a change of profile', async () => {
    const { exporter, url } = await rig();
    const first = expectations(profiles(0));
    let last: Record<string, Measured | string> = {};
    // Rates need two scrapes; until then some queries find no values.
    await waitFor(
      async () => {
        last = await measureAll(url);
        return mismatches(last, first).length === 0;
      },
      { describe: () => `builtin queries to match:\n${mismatches(last, first).join('\n')}`, timeoutMs: 60_000 },
    );
    expect(mismatches(last, first)).toEqual([]);

    // A new profile for every canary: once the old samples leave the window, every value follows.
    const next = profiles(4);
    for (const kind of observerKinds) exporter.set('canary', next[kind], kind);
    const second = expectations(next);
    for (const provider of PROVIDERS) expect(second[provider]).not.toEqual(first[provider]);
    await waitFor(
      async () => {
        last = await measureAll(url);
        return mismatches(last, second).length === 0;
      },
      {
        describe: () => `builtin queries to follow the new profiles:\n${mismatches(last, second).join('\n')}`,
        timeoutMs: 90_000,
      },
    );
    expect(mismatches(last, second)).toEqual([]);
  });

  it('counts the canary’s requests for minSamples and fails checks below it as no data', async () => {
    const { url } = await rig();
    const client = new PrometheusProvider({ address: url }, http);
    const counts: Record<string, number> = {};
    await waitFor(
      async () => {
        for (const provider of PROVIDERS) {
          const canary = canaryOf(provider, METRICS);
          const observer = observerFor(builtinProvider(canary, 'kubernetes'), client);
          counts[provider] = await observer
            .requestCount(testCtx(), metricModel(canary, METRICS[0] ?? { name: 'x' }))
            .catch(() => 0);
        }
        return Object.values(counts).every((c) => c > 0);
      },
      { describe: () => `sample counts for every provider: ${JSON.stringify(counts)}`, timeoutMs: 60_000 },
    );

    // Every canary series grows by BATCH requests in the same exporter tick, so at one instant the
    // sample-count query of every observer counts the same number; a query that also counted the
    // primary's or a decoy's series would count more.
    const atOnce = async (): Promise<Record<string, number>> => {
      const time = String(Math.floor(Date.now() / 1000) - 1);
      const out: Record<string, number> = {};
      for (const provider of PROVIDERS) {
        const canary = canaryOf(provider, METRICS);
        const observer = observerFor(builtinProvider(canary, 'kubernetes'), client);
        const query = observer.sampleQuery(metricModel(canary, METRICS[0] ?? { name: 'x' }));
        const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query, time }).toString()}`);
        const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
        out[provider] = Number(body.data?.result?.[0]?.value?.[1] ?? 'NaN');
      }
      return out;
    };
    let same: Record<string, number> = {};
    await waitFor(
      async () => {
        same = await atOnce();
        const values = Object.values(same);
        const max = Math.max(...values);
        return values.every((v) => Math.abs(v - max) <= 1e-6 * max) && max > 0;
      },
      { describe: () => `equal sample counts at one instant: ${JSON.stringify(same)}`, timeoutMs: 60_000 },
    );

    // The operator's checker, end to end: enough samples → the check runs; far too few → no data.
    const checker = new DefaultMetricChecker({
      http,
      metricsServer: url,
      meshProvider: 'kubernetes',
      templates: { get: () => undefined },
      secrets: { get: () => undefined },
    });
    for (const provider of PROVIDERS) {
      const profile = profiles(0)[observerKindOf[provider]];
      const [enough, tooFew, skipped] = await checker.evaluate(
        testCtx(),
        canaryOf(provider, [
          { name: 'request-success-rate', interval: INTERVAL, thresholdRange: { min: 0 }, minSamples: 1 },
          { name: 'request-success-rate', interval: INTERVAL, thresholdRange: { min: 0 }, minSamples: 1_000_000_000 },
          {
            name: 'request-duration',
            interval: INTERVAL,
            thresholdRange: { max: 1 },
            minSamples: 1_000_000_000,
            noData: 'skip',
          },
        ]),
      );
      expect(enough?.result.passed, provider).toBe(true);
      expect(enough?.result.value, provider).toBeCloseTo((1 - profile.errorRate) * 100, 6);
      expect(tooFew?.result.passed, provider).toBe(false);
      expect(tooFew?.result.message, provider).toMatch(
        new RegExp(
          `^Halt podinfo\\.${NAMESPACE} advancement request-success-rate \\d+ samples < minSamples 1000000000$`,
        ),
      );
      expect(tooFew?.event?.message, provider).toContain(`; query: sum(`);
      // Too few samples under noData: skip: not failed, whatever the (never read) duration.
      expect(skipped?.result, provider).toMatchObject({ passed: true });
      expect(skipped?.result.message, provider).toMatch(
        /samples < minSamples 1000000000 \(noData: skip, check skipped\)$/,
      );
    }
  });
});
