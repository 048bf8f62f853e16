/**
 * Builtin checks for the `kubernetes` and `gatewayapi:*` providers (Flagger
 * pkg/metrics/observers/http.go): the application itself must export the Prometheus client
 * histogram `http_request_duration_seconds` with a `status` label, scraped with the pod's
 * `kubernetes_namespace` and `kubernetes_pod_name` labels.
 */
import type { Ctx } from '../../controller/context.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import type { MetricModel, Observer } from './observer.ts';
import { renderQuery } from './render.ts';

/** The canary's pods (`<target>-<replicaset hash>-<pod suffix>`), not the primary's. */
const CANARY_PODS =
  'kubernetes_namespace="{{ namespace }}",kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"';

/** PromQL of the two builtin metrics; exported so tests compare the rendered text exactly. */
export const httpQueries = {
  /** Percent of non-5xx requests over the interval. */
  'request-success-rate':
    `sum(rate(http_request_duration_seconds_count{${CANARY_PODS},status!~"5.*"}[{{ interval }}]))` +
    ` / sum(rate(http_request_duration_seconds_count{${CANARY_PODS}}[{{ interval }}])) * 100`,
  /** P99 latency in seconds. */
  'request-duration': `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{${CANARY_PODS}}[{{ interval }}])) by (le))`,
} as const;

/** Observer over `http_request_duration_seconds_*` series. */
export class HttpObserver implements Observer {
  readonly #client: MetricsProvider;

  constructor(client: MetricsProvider) {
    this.#client = client;
  }

  async requestSuccessRate(ctx: Ctx, model: MetricModel): Promise<number> {
    return this.#client.runQuery(ctx, renderQuery(httpQueries['request-success-rate'], model));
  }

  /** Whole milliseconds (truncated, as Flagger's `time.Duration(int64(seconds*1000))`). */
  async requestDurationMs(ctx: Ctx, model: MetricModel): Promise<number> {
    const seconds = await this.#client.runQuery(ctx, renderQuery(httpQueries['request-duration'], model));
    return Math.trunc(seconds * 1000);
  }
}
