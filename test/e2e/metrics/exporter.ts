// A synthetic workload exporter written with prom-client: it serves the series the builtin checks
// of the `kubernetes` and `gatewayapi` providers read (Flagger's http observer), as if scraped from
// the canary's and the primary's pods. The test sets each workload's error rate and latency; a
// timer advances the counters in whole batches, so every scrape sees exactly the configured ratio.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Histogram, Registry } from 'prom-client';
import { onTestFinished } from 'vitest';

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
  set(workload: Workload, profile: WorkloadProfile): void;
  close(): Promise<void>;
}

/** Requests recorded per workload and tick. */
export const BATCH = 10;
const TICK_MS = 100;

/**
 * Starts the exporter for a canary whose target Deployment is `target` in `namespace`. Pod names
 * follow the Deployment pattern `<deployment>-<hash>-<suffix>`: the canary's match the builtin
 * queries' `<target>-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)`, the primary's (`<target>-primary-…`) do not.
 */
export async function startWorkloadExporter(o: {
  namespace: string;
  target?: string;
  canary: WorkloadProfile;
  primary: WorkloadProfile;
}): Promise<WorkloadExporter> {
  const target = o.target ?? 'podinfo';
  const pods: Record<Workload, string> = {
    canary: `${target}-7c9d8f6b5-x2k4p`,
    primary: `${target}-primary-5f6d7c8b9-q8w7e`,
  };
  const profiles: Record<Workload, WorkloadProfile> = { canary: check(o.canary), primary: check(o.primary) };
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds.',
    labelNames: ['kubernetes_namespace', 'kubernetes_pod_name', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const advance = (): void => {
    for (const w of ['canary', 'primary'] as const) {
      const p = profiles[w];
      const errors = Math.round(p.errorRate * BATCH);
      for (let i = 0; i < BATCH; i++) {
        duration.observe(
          { kubernetes_namespace: o.namespace, kubernetes_pod_name: pods[w], status: i < errors ? '500' : '200' },
          p.latencySeconds,
        );
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
    set(workload, profile) {
      profiles[workload] = check(profile);
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

function check(p: WorkloadProfile): WorkloadProfile {
  const errors = p.errorRate * BATCH;
  if (p.errorRate < 0 || p.errorRate > 1 || Math.abs(errors - Math.round(errors)) > 1e-9) {
    throw new Error(`error rate ${p.errorRate} is not a multiple of 1/${BATCH} in [0, 1]`);
  }
  if (!(p.latencySeconds >= 0)) throw new Error(`latency ${p.latencySeconds} must be >= 0`);
  return p;
}
