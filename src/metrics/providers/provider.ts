import type { Ctx } from '../../core/context.ts';

/** MetricsProvider runs one query against a metrics backend (Flagger pkg/metrics/providers). */
export interface MetricsProvider {
  /** The query's single value. Throws NoValuesFoundError when the backend returns no data. */
  runQuery(ctx: Ctx, query: string): Promise<number>;
  isOnline(ctx: Ctx): Promise<boolean>;
}
