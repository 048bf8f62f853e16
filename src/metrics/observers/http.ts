/**
 * Builtin checks for the `kubernetes` and `gatewayapi:*` providers (Flagger
 * pkg/metrics/observers/http.go): the application itself must export the Prometheus client
 * histogram `http_request_duration_seconds` with a `status` label, scraped with the pod's
 * `kubernetes_namespace` and `kubernetes_pod_name` labels.
 */
import type { MetricsProvider } from '../providers/provider.ts';
import { PromQLObserver } from './promql.ts';
import { builtinQueries } from './queries.ts';

/** PromQL of the two builtin metrics (P99 latency in seconds). */
export const httpQueries = builtinQueries.http;

/** Observer over `http_request_duration_seconds_*` series. */
export class HttpObserver extends PromQLObserver {
  constructor(client: MetricsProvider) {
    super('http', client);
  }
}
