// A synthetic workload exporter written with prom-client: it serves the series the builtin checks of
// every observer read (see src/metrics/observers/queries.ts), as if scraped from the mesh or ingress
// in front of the canary's and the primary's pods: the Prometheus client histogram of the
// `kubernetes` / `gatewayapi` providers, Istio's and Linkerd's proxy metrics, Envoy's cluster stats
// as App Mesh, Contour, Gloo, Kuma and Knative label them, NGINX, Skipper, Traefik, OSM and APISIX.
//
// Each series carries exactly the labels the observer's queries select for the canary; the primary's
// series carry the primary's names (and the primary's numbers), and a few decoys (Istio's source
// reporter, Linkerd's outbound direction, APISIX's upstream latency) carry the canary's names with
// the primary's numbers, so a query that drops or mistypes a selector reads a different value. The
// test sets each workload's error rate and latency, optionally per observer; a timer advances every
// counter in whole batches, so every scrape sees exactly the configured ratio.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { onTestFinished } from 'vitest';
import type { ObserverKind } from '../../../src/metrics/observers/queries.ts';

/** What one workload reports from now on. */
export interface WorkloadProfile {
  /** Fraction of requests answered with status 500, in [0, 1], as a multiple of 1/{@link BATCH}. */
  readonly errorRate: number;
  /** Latency of every request, in seconds. */
  readonly latencySeconds: number;
}

export type Workload = 'canary' | 'primary';

export interface WorkloadExporter {
  /** `127.0.0.1:<port>`, the scrape target. */
  readonly target: string;
  /** The pod name of each workload's series. */
  readonly pods: Readonly<Record<Workload, string>>;
  /** Sets what `workload` reports: for every observer, or for the series of one observer only. */
  set(workload: Workload, profile: WorkloadProfile, kind?: ObserverKind): void;
  close(): Promise<void>;
}

/** Requests recorded per workload, observer and tick. */
export const BATCH = 10;
const TICK_MS = 100;

/** Bucket bounds of the millisecond histograms (Istio, Linkerd, Envoy, OSM, APISIX). */
export const MS_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
/** Bucket bounds of the second histograms (Prometheus client, Traefik, Skipper, NGINX). */
export const SECONDS_BUCKETS = MS_BUCKETS.map((b) => b / 1000);

/** The names of the canary the series describe (as the operator's metric model has them). */
export interface CanaryNames {
  readonly namespace: string;
  /** The target Deployment (default `podinfo`). */
  readonly target?: string;
  /** `spec.service.name`, `spec.ingressRef.name`, `spec.routeRef.name` (default: the target). */
  readonly service?: string;
  readonly ingress?: string;
  readonly route?: string;
}

/**
 * Starts the exporter for a canary whose target Deployment is `target` in `namespace`. Pod names
 * follow the Deployment pattern `<deployment>-<hash>-<suffix>`: the canary's match the builtin
 * queries' `<target>-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)`, the primary's (`<target>-primary-…`) do not.
 */
export async function startWorkloadExporter(
  o: CanaryNames & {
    canary: WorkloadProfile;
    primary: WorkloadProfile;
    /** Per-observer canary profiles, overriding `canary` for that observer's series. */
    canaryByKind?: Partial<Record<ObserverKind, WorkloadProfile>>;
  },
): Promise<WorkloadExporter> {
  const target = o.target ?? 'podinfo';
  const pods: Record<Workload, string> = {
    canary: `${target}-7c9d8f6b5-x2k4p`,
    primary: `${target}-primary-5f6d7c8b9-q8w7e`,
  };
  const profiles: Record<Workload, WorkloadProfile> = { canary: check(o.canary), primary: check(o.primary) };
  const overrides = new Map<string, WorkloadProfile>();
  for (const [kind, p] of Object.entries(o.canaryByKind ?? {})) overrides.set(`canary/${kind}`, check(p));
  const profileOf = (w: Workload, kind: ObserverKind): WorkloadProfile => overrides.get(`${w}/${kind}`) ?? profiles[w];

  const registry = new Registry();
  const series = seriesRecorders(registry, {
    namespace: o.namespace,
    target,
    service: o.service ?? target,
    ingress: o.ingress ?? target,
    route: o.route ?? target,
    pods,
  });
  const advance = (): void => {
    for (const w of ['canary', 'primary'] as const) {
      for (const [kind, record] of Object.entries(series) as [ObserverKind, Recorder][]) {
        const p = profileOf(w, kind);
        const errors = Math.round(p.errorRate * BATCH);
        for (let i = 0; i < BATCH; i++) record(w, i < errors ? 500 : 200, p.latencySeconds);
      }
    }
  };
  advance();
  const timer = setInterval(advance, TICK_MS);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const exporter: WorkloadExporter = {
    target: `127.0.0.1:${port}`,
    pods,
    set(workload, profile, kind) {
      if (kind === undefined) {
        profiles[workload] = check(profile);
        for (const key of [...overrides.keys()]) if (key.startsWith(`${workload}/`)) overrides.delete(key);
      } else {
        overrides.set(`${workload}/${kind}`, check(profile));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => exporter.close());
  return exporter;
}

/** Records one request of `workload` with HTTP `status` and `latency` seconds. */
type Recorder = (workload: Workload, status: number, latency: number) => void;

interface Names {
  readonly namespace: string;
  readonly target: string;
  readonly service: string;
  readonly ingress: string;
  readonly route: string;
  readonly pods: Readonly<Record<Workload, string>>;
}

/** Skipper route names: every non-word character becomes `_`. */
const skipperName = (s: string): string => s.replace(/[^0-9A-Za-z_]/g, '_');

/** The series of every observer, each a recorder labelling them as that mesh or ingress does. */
function seriesRecorders(registry: Registry, n: Names): Record<ObserverKind, Recorder> {
  const registers = [registry];
  const counter = (name: string, labelNames: string[]): Counter =>
    new Counter({ name, help: `${name} (synthetic)`, labelNames, registers });
  const histogram = (name: string, labelNames: string[], buckets: readonly number[]): Histogram =>
    new Histogram({ name, help: `${name} (synthetic)`, labelNames, buckets: [...buckets], registers });

  const httpDuration = histogram(
    'http_request_duration_seconds',
    ['kubernetes_namespace', 'kubernetes_pod_name', 'status'],
    SECONDS_BUCKETS,
  );
  const istioRequests = counter('istio_requests_total', [
    'reporter',
    'destination_workload_namespace',
    'destination_workload',
    'response_code',
  ]);
  const istioDuration = histogram(
    'istio_request_duration_milliseconds',
    ['reporter', 'destination_workload_namespace', 'destination_workload', 'response_code'],
    MS_BUCKETS,
  );
  const linkerdResponses = counter('response_total', [
    'namespace',
    'deployment',
    'direction',
    'classification',
    'status_code',
  ]);
  const linkerdLatency = histogram('response_latency_ms', ['namespace', 'deployment', 'direction'], MS_BUCKETS);
  // Envoy's cluster stats, labelled as each Envoy-based provider's Prometheus setup does.
  const envoyLabels = ['kubernetes_namespace', 'kubernetes_pod_name', 'envoy_cluster_name', 'service'];
  const envoyRequests = counter('envoy_cluster_upstream_rq', [...envoyLabels, 'envoy_response_code']);
  const envoyTime = histogram('envoy_cluster_upstream_rq_time', envoyLabels, MS_BUCKETS);
  const envoy =
    (labels: (w: Workload) => Record<string, string>): Recorder =>
    (w, status, latency) => {
      envoyRequests.inc({ ...labels(w), envoy_response_code: String(status) });
      envoyTime.observe(labels(w), latency * 1000);
    };
  const nginxRequests = counter('nginx_ingress_controller_requests', [
    'namespace',
    'ingress',
    'service',
    'canary',
    'status',
  ]);
  const nginxDuration = histogram(
    'nginx_ingress_controller_response_duration_seconds',
    ['namespace', 'ingress', 'service', 'canary', 'status'],
    SECONDS_BUCKETS,
  );
  const skipperResponse = histogram('skipper_response_duration_seconds', ['route', 'code'], SECONDS_BUCKETS);
  const skipperServe = histogram('skipper_serve_route_duration_seconds', ['route'], SECONDS_BUCKETS);
  const traefikDuration = histogram('traefik_service_request_duration_seconds', ['service', 'code'], SECONDS_BUCKETS);
  const osmRequests = counter('osm_request_total', [
    'destination_namespace',
    'destination_kind',
    'destination_name',
    'response_code',
  ]);
  const osmDuration = histogram(
    'osm_request_duration_ms',
    ['destination_namespace', 'destination_kind', 'destination_name'],
    MS_BUCKETS,
  );
  const apisixStatus = counter('apisix_http_status', ['route', 'code']);
  const apisixLatency = histogram('apisix_http_latency', ['type', 'route'], MS_BUCKETS);

  const role = (w: Workload): string => (w === 'canary' ? 'canary' : 'primary');
  const deployment = (w: Workload): string => (w === 'canary' ? n.target : `${n.target}-primary`);
  const { namespace } = n;

  return {
    http: (w, status, latency) =>
      httpDuration.observe(
        { kubernetes_namespace: namespace, kubernetes_pod_name: n.pods[w], status: String(status) },
        latency,
      ),
    istio: (w, status, latency) => {
      const at = (reporter: string, workload: string): Record<string, string> => ({
        reporter,
        destination_workload_namespace: namespace,
        destination_workload: workload,
        response_code: String(status),
      });
      istioRequests.inc(at('destination', deployment(w)));
      istioDuration.observe(at('destination', deployment(w)), latency * 1000);
      // Decoy: the client-side report of calls to the canary, with the primary's numbers.
      if (w === 'primary') {
        istioRequests.inc(at('source', n.target));
        istioDuration.observe(at('source', n.target), latency * 1000);
      }
    },
    linkerd: (w, status, latency) => {
      const at = (direction: string, dep: string): Record<string, string> => ({
        namespace,
        deployment: dep,
        direction,
      });
      const classification = status >= 500 ? 'failure' : 'success';
      linkerdResponses.inc({ ...at('inbound', deployment(w)), classification, status_code: String(status) });
      linkerdLatency.observe(at('inbound', deployment(w)), latency * 1000);
      // Decoy: calls the canary makes to others, with the primary's numbers.
      if (w === 'primary') {
        linkerdResponses.inc({ ...at('outbound', n.target), classification, status_code: String(status) });
        linkerdLatency.observe(at('outbound', n.target), latency * 1000);
      }
    },
    appmesh: envoy((w) => ({ kubernetes_namespace: namespace, kubernetes_pod_name: n.pods[w] })),
    contour: envoy((w) => ({ envoy_cluster_name: `${namespace}_${n.service}-${role(w)}_9898` })),
    gloo: envoy((w) => ({ envoy_cluster_name: `${namespace}-${n.target}-${role(w)}upstream-9898_gloo-system` })),
    kuma: envoy((w) => ({ service: `${n.target}-${role(w)}_${namespace}_svc_9898` })),
    knative: envoy((w) => ({
      envoy_cluster_name: w === 'canary' ? `${namespace}/${n.route}` : `${namespace}/${n.route}-primary`,
    })),
    nginx: (w, status, latency) => {
      const labels = {
        namespace,
        ingress: n.ingress,
        service: `${n.service}-${role(w)}`,
        // The canary ingress' series name the canary upstream; the primary's have no canary label.
        ...(w === 'canary' ? { canary: `${namespace}-${n.service}-canary-80` } : {}),
        status: String(status),
      };
      nginxRequests.inc(labels);
      nginxDuration.observe(labels, latency);
    },
    skipper: (w, status, latency) => {
      const ns = skipperName(namespace);
      const route =
        w === 'canary'
          ? `kube_${ns}__${skipperName(n.ingress)}_canary__app_example_org____${skipperName(n.service)}_canary`
          : `kube_${ns}__${skipperName(n.ingress)}__app_example_org____${skipperName(n.service)}_primary`;
      skipperResponse.observe({ route, code: String(status) }, latency);
      skipperServe.observe({ route }, latency);
    },
    traefik: (w, status, latency) =>
      traefikDuration.observe(
        { service: `${namespace}-${n.target}-${role(w)}-9898@kubernetescrd`, code: String(status) },
        latency,
      ),
    osm: (w, status, latency) => {
      const labels = {
        destination_namespace: namespace,
        destination_kind: 'Deployment',
        destination_name: deployment(w),
      };
      osmRequests.inc({ ...labels, response_code: String(status) });
      osmDuration.observe(labels, latency * 1000);
    },
    apisix: (w, status, latency) => {
      const route = `${namespace}_${n.route}-${n.target}-${role(w)}_9898`;
      apisixStatus.inc({ route, code: String(status) });
      apisixLatency.observe({ type: 'request', route }, latency * 1000);
      // Decoy: the canary route's upstream latency, with the primary's numbers.
      if (w === 'primary') {
        apisixLatency.observe(
          { type: 'upstream', route: `${namespace}_${n.route}-${n.target}-canary_9898` },
          latency * 1000,
        );
      }
    },
  };
}

function check(p: WorkloadProfile): WorkloadProfile {
  const errors = p.errorRate * BATCH;
  if (p.errorRate < 0 || p.errorRate > 1 || Math.abs(errors - Math.round(errors)) > 1e-9) {
    throw new Error(`error rate ${p.errorRate} is not a multiple of 1/${BATCH} in [0, 1]`);
  }
  if (!(p.latencySeconds >= 0)) throw new Error(`latency ${p.latencySeconds} must be >= 0`);
  return p;
}
