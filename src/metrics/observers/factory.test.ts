import { describe, expect, it } from 'vitest';
import { meshProviders } from '../../apis/flagger/v1beta1/types.ts';
import { testCtx } from '../../http/server.fixture.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import { UnsupportedObserverError, hasObserver, observerFor, observerKindOf } from './factory.ts';
import type { MetricModel } from './observer.ts';
import { PromQLObserver } from './promql.ts';
import { type ObserverKind, observerKinds } from './queries.ts';

/** Distinct values for every model function, with `-` so Skipper's encoding shows. */
const model: MetricModel = {
  name: 'podinfo',
  namespace: 'app-ns',
  target: 'podinfo',
  service: 'podinfo-svc',
  ingress: 'podinfo-ing',
  route: 'podinfo-route',
  interval: '1m',
  variables: {},
};

/** Flagger's queries (pkg/metrics/observers/*.go), rendered with `model`, whitespace collapsed. */
const expected: Record<ObserverKind, Record<'request-success-rate' | 'request-duration', string>> = {
  istio: {
    'request-success-rate':
      'sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="app-ns", destination_workload=~"podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="app-ns", destination_workload=~"podinfo" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( istio_request_duration_milliseconds_bucket{ reporter="destination", destination_workload_namespace="app-ns", destination_workload=~"podinfo" }[1m] ) ) by (le) )',
  },
  linkerd: {
    'request-success-rate':
      'sum( rate( response_total{ namespace="app-ns", deployment=~"podinfo", classification!="failure", direction="inbound" }[1m] ) ) / sum( rate( response_total{ namespace="app-ns", deployment=~"podinfo", direction="inbound" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{ namespace="app-ns", deployment=~"podinfo", direction="inbound" }[1m] ) ) by (le) )',
  },
  appmesh: {
    'request-success-rate':
      'sum( rate( envoy_cluster_upstream_rq{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) by (le) )',
  },
  contour: {
    'request-success-rate':
      'sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns_podinfo-svc-canary_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns_podinfo-svc-canary_[0-9a-zA-Z-]+", }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"app-ns_podinfo-svc-canary_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )',
  },
  gloo: {
    'request-success-rate':
      'sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"app-ns-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )',
  },
  nginx: {
    'request-success-rate':
      'sum( rate( nginx_ingress_controller_requests{ namespace="app-ns", ingress="podinfo-ing", canary!="", status!~"5.*" }[1m] ) ) / sum( rate( nginx_ingress_controller_requests{ namespace="app-ns", ingress="podinfo-ing", canary!="" }[1m] ) ) * 100',
    'request-duration':
      'sum( rate( nginx_ingress_controller_response_duration_seconds_sum{ namespace="app-ns", ingress="podinfo-ing", canary!="" }[1m] ) ) / sum( rate( nginx_ingress_controller_response_duration_seconds_count{ namespace="app-ns", ingress="podinfo-ing", canary!="" }[1m] ) ) * 1000',
  },
  skipper: {
    'request-success-rate':
      'sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_app_ns__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?",code!~"5..",le="+Inf"}[1m])) / sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_app_ns__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?",le="+Inf"}[1m])) * 100',
    'request-duration':
      'sum(rate(skipper_serve_route_duration_seconds_sum{route=~"kube(ew)?_app_ns__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?"}[1m])) / sum(rate(skipper_serve_route_duration_seconds_count{route=~"kube(ew)?_app_ns__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?"}[1m])) * 1000',
  },
  traefik: {
    'request-success-rate':
      'sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"app-ns-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", code!~"5..", le="+Inf" }[1m] ) ) / sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"app-ns-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", le="+Inf" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"app-ns-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd" }[1m] ) ) by (le) ) * 1000',
  },
  osm: {
    'request-success-rate':
      'sum( rate( osm_request_total{ destination_namespace="app-ns", destination_kind="Deployment", destination_name="podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( osm_request_total{ destination_namespace="app-ns", destination_kind="Deployment", destination_name="podinfo" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( osm_request_duration_ms_bucket{ destination_namespace="app-ns", destination_kind="Deployment", destination_name="podinfo" }[1m] ) ) by (le) )',
  },
  kuma: {
    'request-success-rate':
      'sum( rate( envoy_cluster_upstream_rq{ service=~"podinfo-canary_app-ns_svc_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ service=~"podinfo-canary_app-ns_svc_[0-9a-zA-Z-]+", }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ service=~"podinfo-canary_app-ns_svc_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )',
  },
  apisix: {
    'request-success-rate':
      'sum( rate( apisix_http_status{ route=~"app-ns_podinfo-route-podinfo-canary_.+", code!~"5.." }[1m] ) ) / sum( rate( apisix_http_status{ route=~"app-ns_podinfo-route-podinfo-canary_.+" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( apisix_http_latency_bucket{ type=~"request", route=~"app-ns_podinfo-route-podinfo-canary_.+" }[1m] ) ) by (le) )',
  },
  knative: {
    'request-success-rate':
      'sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns/podinfo-route", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns/podinfo-route", }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"app-ns/podinfo-route", }[1m] ) ) by (le) )',
  },
  http: {
    'request-success-rate':
      'sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*" }[1m] ) ) / sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100',
    'request-duration':
      'histogram_quantile( 0.99, sum( rate( http_request_duration_seconds_bucket{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) by (le) )',
  },
};

/** A provider recording the queries it is asked, answering `value`. */
function recorder(value: number): { client: MetricsProvider; queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    client: {
      runQuery: (_ctx, q) => {
        queries.push(q);
        return Promise.resolve(value);
      },
      isOnline: () => Promise.resolve(true),
    },
  };
}

describe('builtin queries', () => {
  it.each(observerKinds)('%s sends exactly Flagger’s PromQL', async (kind) => {
    const { client, queries } = recorder(12.9);
    const observer = new PromQLObserver(kind, client);
    await observer.requestSuccessRate(testCtx(), model);
    await observer.requestDurationMs(testCtx(), model);
    expect(queries).toEqual([expected[kind]['request-success-rate'], expected[kind]['request-duration']]);
  });

  it('converts durations: milliseconds truncated, seconds for the http observer', async () => {
    await expect(new PromQLObserver('istio', recorder(12.9).client).requestDurationMs(testCtx(), model)).resolves.toBe(
      12,
    );
    await expect(new PromQLObserver('http', recorder(0.4567).client).requestDurationMs(testCtx(), model)).resolves.toBe(
      456,
    );
    await expect(
      new PromQLObserver('linkerd', recorder(99.5).client).requestSuccessRate(testCtx(), model),
    ).resolves.toBe(99.5);
  });

  it('propagates provider errors', async () => {
    const client: MetricsProvider = {
      runQuery: () => Promise.reject(new Error('boom')),
      isOnline: () => Promise.resolve(true),
    };
    await expect(new PromQLObserver('nginx', client).requestSuccessRate(testCtx(), model)).rejects.toThrow('boom');
  });
});

/** Fledge's request-count queries (minSamples), rendered with `model`: the success-rate denominators' selectors. */
const expectedSamples: Record<ObserverKind, string> = {
  istio:
    'sum( increase( istio_requests_total{ reporter="destination", destination_workload_namespace="app-ns", destination_workload=~"podinfo" }[1m] ) )',
  linkerd: 'sum( increase( response_total{ namespace="app-ns", deployment=~"podinfo", direction="inbound" }[1m] ) )',
  appmesh:
    'sum( increase( envoy_cluster_upstream_rq{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) )',
  contour:
    'sum( increase( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns_podinfo-svc-canary_[0-9a-zA-Z-]+" }[1m] ) )',
  gloo: 'sum( increase( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+" }[1m] ) )',
  nginx:
    'sum( increase( nginx_ingress_controller_requests{ namespace="app-ns", ingress="podinfo-ing", canary!="" }[1m] ) )',
  skipper:
    'sum(increase(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_app_ns__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?",le="+Inf"}[1m]))',
  traefik:
    'sum( increase( traefik_service_request_duration_seconds_bucket{ service=~"app-ns-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", le="+Inf" }[1m] ) )',
  osm: 'sum( increase( osm_request_total{ destination_namespace="app-ns", destination_kind="Deployment", destination_name="podinfo" }[1m] ) )',
  kuma: 'sum( increase( envoy_cluster_upstream_rq{ service=~"podinfo-canary_app-ns_svc_[0-9a-zA-Z-]+" }[1m] ) )',
  apisix: 'sum( increase( apisix_http_status{ route=~"app-ns_podinfo-route-podinfo-canary_.+" }[1m] ) )',
  knative: 'sum( increase( envoy_cluster_upstream_rq{ envoy_cluster_name=~"app-ns/podinfo-route" }[1m] ) )',
  http: 'sum( increase( http_request_duration_seconds_count{ kubernetes_namespace="app-ns", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) )',
};

describe('sample-count queries (minSamples)', () => {
  it.each(observerKinds)('%s counts the canary requests with its success-rate selectors', async (kind) => {
    const { client, queries } = recorder(1234);
    const observer = new PromQLObserver(kind, client);
    await expect(observer.requestCount(testCtx(), model)).resolves.toBe(1234);
    expect(queries).toEqual([expectedSamples[kind]]);
    expect(observer.sampleQuery(model)).toBe(expectedSamples[kind]);
  });

  it.each(observerKinds)('%s: query() is the text requestSuccessRate sends', async (kind) => {
    const { client, queries } = recorder(1);
    const observer = new PromQLObserver(kind, client);
    await observer.requestSuccessRate(testCtx(), model);
    expect(observer.query('request-success-rate', model)).toBe(queries[0]);
  });
});

describe('observerFor', () => {
  const client = recorder(1).client;

  it.each([
    ['istio', 'istio'],
    ['smi:v1alpha1', 'istio'],
    ['smi:v1alpha2', 'istio'],
    ['smi:v1alpha3', 'istio'],
    ['appmesh', 'appmesh'],
    ['appmesh:v1beta2', 'appmesh'],
    ['kubernetes', 'http'],
    ['gatewayapi:v1', 'http'],
    ['gatewayapi:v1beta1', 'http'],
    ['linkerd', 'linkerd'],
    ['contour', 'contour'],
    ['gloo', 'gloo'],
    ['nginx', 'nginx'],
    ['skipper', 'skipper'],
    ['traefik', 'traefik'],
    ['osm', 'osm'],
    ['kuma', 'kuma'],
    ['apisix', 'apisix'],
    ['knative', 'knative'],
  ])('maps %s to the %s queries as Flagger does', (provider, kind) => {
    const observer = observerFor(provider, client);
    expect(observer).toBeInstanceOf(PromQLObserver);
    expect((observer as PromQLObserver).kind).toBe(kind);
  });

  it('covers every provider of the CRD enum', () => {
    expect(Object.keys(observerKindOf).sort()).toEqual([...meshProviders].sort());
    expect(meshProviders.every(hasObserver)).toBe(true);
  });

  it('rejects unknown providers instead of falling back to Istio', () => {
    expect(() => observerFor('gatewayapi', client)).toThrow(
      new UnsupportedObserverError('builtin metrics: unknown provider "gatewayapi"'),
    );
    expect(hasObserver('gatewayapi')).toBe(false);
  });
});
