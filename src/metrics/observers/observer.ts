import type { Ctx } from '../../core/context.ts';
import type { BuiltinQuery } from './queries.ts';

/** Values the builtin queries are rendered with (Flagger's MetricTemplateModel). */
export interface MetricModel {
  readonly name: string;
  readonly namespace: string;
  readonly target: string;
  readonly service: string;
  readonly ingress: string;
  readonly route: string;
  readonly interval: string;
  readonly variables: Readonly<Record<string, string>>;
}

/** Observer runs the builtin `request-success-rate` and `request-duration` checks of one provider. */
export interface Observer {
  /** Percent of non-5xx responses of the canary. */
  requestSuccessRate(ctx: Ctx, model: MetricModel): Promise<number>;
  /** P99 (or average, per provider) latency of the canary in milliseconds. */
  requestDurationMs(ctx: Ctx, model: MetricModel): Promise<number>;
  /** Fledge extension (`minSamples`): requests served by the canary in the model's interval. */
  requestCount(ctx: Ctx, model: MetricModel): Promise<number>;
  /** The text sent for a builtin metric, as rendered for `model` (for status and explanations). */
  query(metric: BuiltinQuery, model: MetricModel): string;
  /** The text sent by {@link requestCount}. */
  sampleQuery(model: MetricModel): string;
}
