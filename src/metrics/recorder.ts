/**
 * Fledge's own Prometheus metrics, with Flagger's names, labels and values (pkg/metrics/recorder.go)
 * so existing dashboards and alerts keep working. Every metric lives in the recorder's own
 * prom-client Registry (never the global one), which `/metrics` serves.
 *
 * As in Flagger, the `name` label of the per-canary metrics is the **target's** name
 * (`spec.targetRef.name`), not the Canary's.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { deploymentStrategy } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary, CanaryPhase } from '../apis/flagger/v1beta1/types.ts';
import type { Recorder } from '../controller/ports.ts';

/** Go client's `prometheus.DefBuckets`, the buckets of `flagger_canary_duration_seconds`. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `flagger_canary_status` value of a phase: 0 Progressing, 2 Failed, 1 anything else. */
export function statusValue(phase: CanaryPhase): number {
  if (phase === 'Progressing') return 0;
  if (phase === 'Failed') return 2;
  return 1;
}

/** Records `flagger_*` metrics into its own Registry. */
export class PromRecorder implements Recorder {
  readonly registry: Registry;
  readonly #info: Gauge<'version' | 'mesh_provider'>;
  readonly #duration: Histogram<'name' | 'namespace'>;
  readonly #total: Gauge<'namespace'>;
  readonly #status: Gauge<'name' | 'namespace'>;
  readonly #weight: Gauge<'workload' | 'namespace'>;
  readonly #analysis: Gauge<'name' | 'namespace' | 'metric'>;
  readonly #successes: Counter<'name' | 'namespace' | 'deployment_strategy' | 'analysis_status'>;
  readonly #failures: Counter<'name' | 'namespace' | 'deployment_strategy' | 'analysis_status'>;
  /** `namespace/name` → metric names with a `flagger_canary_metric_analysis` series, for `forget`. */
  readonly #metricNames = new Map<string, Set<string>>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#info = new Gauge({
      name: 'flagger_info',
      help: 'Flagger version and mesh provider information',
      labelNames: ['version', 'mesh_provider'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'flagger_canary_duration_seconds',
      help: 'Seconds spent performing canary analysis.',
      labelNames: ['name', 'namespace'],
      buckets: [...DEFAULT_BUCKETS],
      registers,
    });
    this.#total = new Gauge({
      name: 'flagger_canary_total',
      help: 'Total number of canary object',
      labelNames: ['namespace'],
      registers,
    });
    this.#status = new Gauge({
      name: 'flagger_canary_status',
      help: 'Last canary analysis result',
      labelNames: ['name', 'namespace'],
      registers,
    });
    this.#weight = new Gauge({
      name: 'flagger_canary_weight',
      help: 'The virtual service destination weight current value',
      labelNames: ['workload', 'namespace'],
      registers,
    });
    this.#analysis = new Gauge({
      name: 'flagger_canary_metric_analysis',
      help: 'Last canary analysis result per metric',
      labelNames: ['name', 'namespace', 'metric'],
      registers,
    });
    this.#successes = new Counter({
      name: 'flagger_canary_successes_total',
      help: 'Total number of canary successes',
      labelNames: ['name', 'namespace', 'deployment_strategy', 'analysis_status'],
      registers,
    });
    this.#failures = new Counter({
      name: 'flagger_canary_failures_total',
      help: 'Total number of canary failures',
      labelNames: ['name', 'namespace', 'deployment_strategy', 'analysis_status'],
      registers,
    });
  }

  /** `flagger_info{version,mesh_provider} 1`. */
  setInfo(version: string, meshProvider: string): void {
    this.#info.set({ version, mesh_provider: meshProvider }, 1);
  }

  /** `flagger_canary_total{namespace}`: canaries per namespace. */
  setTotal(namespace: string, total: number): void {
    this.#total.set({ namespace }, total);
  }

  setStatus(canary: Canary, phase: CanaryPhase): void {
    this.#status.set(labels(canary), statusValue(phase));
  }

  /** Two series: `<target>-primary` gets the primary weight, `<target>` the canary weight. */
  setWeight(canary: Canary, primary: number, canaryWeight: number): void {
    const { name, namespace } = labels(canary);
    this.#weight.set({ workload: `${name}-primary`, namespace }, primary);
    this.#weight.set({ workload: name, namespace }, canaryWeight);
  }

  setDuration(canary: Canary, seconds: number): void {
    this.#duration.observe(labels(canary), seconds);
  }

  incResult(canary: Canary, result: 'success' | 'failure', analysisStatus: 'completed' | 'skipped'): void {
    const l = { ...labels(canary), deployment_strategy: deploymentStrategy(canary), analysis_status: analysisStatus };
    if (result === 'success') this.#successes.inc(l);
    else this.#failures.inc(l);
  }

  setMetricValue(canary: Canary, metric: string, value: number): void {
    const l = labels(canary);
    this.#analysis.set({ ...l, metric }, value);
    const key = `${l.namespace}/${l.name}`;
    const names = this.#metricNames.get(key) ?? new Set<string>();
    names.add(metric);
    this.#metricNames.set(key, names);
  }

  /** Drops every series of a canary that no longer exists, so `/metrics` does not report it forever. */
  forget(canary: Canary): void {
    const { name, namespace } = labels(canary);
    this.#status.remove({ name, namespace });
    this.#duration.remove({ name, namespace });
    this.#weight.remove({ workload: `${name}-primary`, namespace });
    this.#weight.remove({ workload: name, namespace });
    const key = `${namespace}/${name}`;
    for (const metric of this.#metricNames.get(key) ?? []) this.#analysis.remove({ name, namespace, metric });
    this.#metricNames.delete(key);
  }
}

function labels(canary: Canary): { name: string; namespace: string } {
  return { name: canary.spec.targetRef.name, namespace: canary.metadata.namespace ?? '' };
}
