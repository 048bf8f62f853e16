import type { Ctx } from '../../controller/context.ts';

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
}
