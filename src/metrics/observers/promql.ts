/**
 * The builtin checks of one observer: renders its PromQL with the canary's model and runs it
 * through the metrics server's provider (Flagger's per-mesh Observer types, which differ only in
 * their queries).
 */
import type { Ctx } from '../../core/context.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import type { MetricModel, Observer } from './observer.ts';
import { type BuiltinQuery, type ObserverKind, builtinQueries, durationUnit, sampleCountQueries } from './queries.ts';
import { renderQuery } from './render.ts';

/** Observer running {@link builtinQueries} of `kind`. */
export class PromQLObserver implements Observer {
  readonly kind: ObserverKind;
  readonly #client: MetricsProvider;

  constructor(kind: ObserverKind, client: MetricsProvider) {
    this.kind = kind;
    this.#client = client;
  }

  /** The query text sent for `metric`: rendered, whitespace collapsed (exported for tests and explanations). */
  query(metric: BuiltinQuery, model: MetricModel): string {
    return this.#render(builtinQueries[this.kind][metric], model);
  }

  /** The request-count query of `minSamples`, rendered like {@link query}. */
  sampleQuery(model: MetricModel): string {
    return this.#render(sampleCountQueries[this.kind], model);
  }

  #render(template: string, model: MetricModel): string {
    const m = this.kind === 'skipper' ? skipperModel(model) : model;
    return renderQuery(template, m).replace(/\s+/g, ' ').trim();
  }

  async requestSuccessRate(ctx: Ctx, model: MetricModel): Promise<number> {
    return this.#client.runQuery(ctx, this.query('request-success-rate', model));
  }

  async requestCount(ctx: Ctx, model: MetricModel): Promise<number> {
    return this.#client.runQuery(ctx, this.sampleQuery(model));
  }

  /** Whole milliseconds, truncated toward zero as Go's `time.Duration(int64(v))`. */
  async requestDurationMs(ctx: Ctx, model: MetricModel): Promise<number> {
    const value = await this.#client.runQuery(ctx, this.query('request-duration', model));
    return Math.trunc(durationUnit[this.kind] === 's' ? value * 1000 : value);
  }
}

/** Skipper route names replace non-word characters by `_` (Flagger encodeModelForSkipper). */
function skipperModel(model: MetricModel): MetricModel {
  const enc = (s: string): string => s.replace(/[^0-9A-Za-z_]/g, '_');
  return {
    ...model,
    name: enc(model.name),
    namespace: enc(model.namespace),
    target: enc(model.target),
    service: enc(model.service),
    ingress: enc(model.ingress),
  };
}
