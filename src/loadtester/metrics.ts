/**
 * The loadtester's Prometheus metrics, in their own prom-client Registry (served on `/metrics`).
 * Flagger's loadtester exposes only the Go runtime metrics; these add what the built-in generator
 * measured and what the task runner did:
 *
 * - `fledge_loadtester_requests_total{status}`: generated requests by outcome (`2xx`…`5xx`,
 *   `error` for network errors, `timeout`);
 * - `fledge_loadtester_request_duration_seconds`: latency histogram of generated requests that got a response;
 * - `fledge_loadtester_tasks_total{type,result}`: webhook tasks (`success`, `failure`, `refused`,
 *   `duplicate` for a background command already running, `invalid`);
 * - `fledge_loadtester_tasks_running`: background tasks running now;
 * - `fledge_loadtester_gate_requests_total{gate,action,result}`: gate calls;
 * - the process metrics of prom-client's `collectDefaultMetrics` (`process_*`, `nodejs_*`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LoadObserver, Outcome } from './generator.ts';

/** Latency buckets in seconds, from 1 ms to hey's default 20 s timeout. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20,
];

/** Task results counted in `fledge_loadtester_tasks_total`. */
export type TaskResult = 'success' | 'failure' | 'refused' | 'duplicate' | 'invalid';

/** The metrics of one loadtester process. */
export class LoadtesterMetrics implements LoadObserver {
  readonly registry: Registry;
  readonly #requests: Counter<'status'>;
  readonly #duration: Histogram;
  readonly #tasks: Counter<'type' | 'result'>;
  readonly #running: Gauge;
  readonly #gates: Counter<'gate' | 'action' | 'result'>;

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'fledge_loadtester_requests_total',
      help: 'Requests sent by the built-in load generator, by outcome (status class, error or timeout).',
      labelNames: ['status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'fledge_loadtester_request_duration_seconds',
      help: 'Latency of the built-in load generator requests that got a response, in seconds.',
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    this.#tasks = new Counter({
      name: 'fledge_loadtester_tasks_total',
      help: 'Webhook tasks by type and result.',
      labelNames: ['type', 'result'],
      registers,
    });
    this.#running = new Gauge({
      name: 'fledge_loadtester_tasks_running',
      help: 'Background tasks running now.',
      registers,
    });
    this.#gates = new Counter({
      name: 'fledge_loadtester_gate_requests_total',
      help: 'Gate requests by gate (gate or rollback), action (check, open, close) and result.',
      labelNames: ['gate', 'action', 'result'],
      registers,
    });
  }

  /** {@link LoadObserver}: one generated request completed. */
  observe(outcome: Outcome, seconds: number | undefined): void {
    this.#requests.inc({ status: outcome });
    if (seconds !== undefined) this.#duration.observe(seconds);
  }

  task(type: string, result: TaskResult): void {
    this.#tasks.inc({ type, result });
  }

  setRunning(n: number): void {
    this.#running.set(n);
  }

  gate(gate: 'gate' | 'rollback', action: 'check' | 'open' | 'close', result: string): void {
    this.#gates.inc({ gate, action, result });
  }
}
