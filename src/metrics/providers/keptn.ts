/**
 * Keptn (Flagger pkg/metrics/providers/keptn.go) through the Kubernetes API, `metrics.keptn.sh/v1beta1`:
 *
 * - `keptnmetric/<namespace>/<name>` reads a KeptnMetric's `status.value`;
 * - `analysis/<namespace>/<analysisDefinition>/<duration, default 1m>/<k=v;k=v>` creates an
 *   Analysis over the recent `duration` with those arguments, polls it every second for up to 10s
 *   until `status.state` is `Completed`, answers 1 when `status.pass` is true and 0 otherwise, and
 *   deletes it.
 *
 * As in Flagger the whole query is lower-cased. Availability is always true (Flagger's too).
 */
import { randomUUID } from 'node:crypto';
import type { Ctx } from '../../core/context.ts';
import { isRecord } from '../../kube/json.ts';
import type { ResourceType } from '../../kube/objects.ts';
import type { KubeClient } from '../../kube/port.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export const keptnMetricType: ResourceType = {
  apiVersion: 'metrics.keptn.sh/v1beta1',
  kind: 'KeptnMetric',
  plural: 'keptnmetrics',
  namespaced: true,
};
export const keptnAnalysisType: ResourceType = {
  apiVersion: 'metrics.keptn.sh/v1beta1',
  kind: 'Analysis',
  plural: 'analyses',
  namespaced: true,
};

export interface KeptnQuery {
  readonly kind: 'keptnmetric' | 'analysis';
  readonly namespace: string;
  readonly name: string;
  readonly duration: string;
  readonly args: Readonly<Record<string, string>>;
}

/** Parses a query like Flagger's parseQuery. */
export function parseKeptnQuery(query: string): KeptnQuery {
  const parts = query.toLowerCase().trim().split('/');
  if (parts.length < 3) {
    throw new ProviderError(
      'unexpected query format. query must be in the format <keptnmetric|analysis>/<namespace>/<resourceName>/<duration>/<arguments>',
    );
  }
  const [kind = '', namespace = '', name = '', duration, rawArgs] = parts;
  if (kind === 'keptnmetric' || kind === 'keptnmetrics')
    return { kind: 'keptnmetric', namespace, name, duration: '', args: {} };
  if (kind !== 'analysis' && kind !== 'analyses') {
    throw new ProviderError(
      "unexpected resource kind provided in the query. must be one of: ['keptnmetric', 'analysis']",
    );
  }
  const args: Record<string, string> = {};
  for (const pair of (rawArgs ?? '').split(';')) {
    const kv = pair.split('=');
    if (kv.length === 2 && kv[0] !== undefined && kv[1] !== undefined) args[kv[0]] = kv[1];
  }
  return { kind: 'analysis', namespace, name, duration: duration ?? '1m', args };
}

export interface KeptnOptions {
  readonly kube: Pick<KubeClient, 'get' | 'create' | 'delete'>;
  /** Waits between polls (default 1s timers; tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly analysisTimeoutMs?: number;
  readonly now?: () => number;
}

export class KeptnProvider implements MetricsProvider {
  readonly #o: KeptnOptions;

  constructor(o: KeptnOptions) {
    this.#o = o;
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const q = parseKeptnQuery(query);
    return q.kind === 'keptnmetric' ? this.#metric(q) : this.#analysis(ctx, q);
  }

  async #metric(q: KeptnQuery): Promise<number> {
    let obj;
    try {
      obj = await this.#o.kube.get(keptnMetricType, { namespace: q.namespace, name: q.name });
    } catch (err) {
      throw new ProviderError(`could not retrieve KeptnMetric ${q.namespace}/${q.name}: ${errText(err)}`);
    }
    if (obj === undefined)
      throw new ProviderError(`could not retrieve KeptnMetric ${q.namespace}/${q.name}: not found`);
    const status = (obj as { status?: unknown }).status;
    const value = isRecord(status) ? status['value'] : undefined;
    // Flagger fails a KeptnMetric without a value with a plain error and returns a "NaN" value as
    // NaN (which passes any threshold). Both are the metric having no data yet, so Fledge reports
    // them as no values: the check still fails, unless the metric's `noData` policy says otherwise.
    if (typeof value !== 'string') {
      throw new NoValuesFoundError(
        `could not retrieve KeptnMetric - no value found in resource ${q.namespace}/${q.name}`,
      );
    }
    const n = parseGoFloat(value);
    if (n === undefined) {
      throw new ProviderError(`could not parse value of KeptnMetric ${q.namespace}/${q.name} to float`);
    }
    if (Number.isNaN(n)) throw new NoValuesFoundError(`KeptnMetric ${q.namespace}/${q.name} has the value NaN`);
    return n;
  }

  async #analysis(ctx: Ctx, q: KeptnQuery): Promise<number> {
    const sleep = this.#o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = this.#o.now ?? Date.now;
    const deadline = now() + (this.#o.analysisTimeoutMs ?? 10_000);
    const name = `${q.name}-${randomUUID().slice(0, 6)}`;
    const key = { namespace: q.namespace, name };
    try {
      await this.#o.kube.create({
        apiVersion: keptnAnalysisType.apiVersion,
        kind: keptnAnalysisType.kind,
        metadata: { name, namespace: q.namespace },
        spec: { analysisDefinition: { name: q.name }, timeframe: { recent: q.duration }, args: q.args },
      });
    } catch (err) {
      throw new ProviderError(`could not create Keptn Analysis ${q.namespace}/${q.name}: ${errText(err)}`);
    }
    try {
      for (;;) {
        if (now() >= deadline || ctx.signal.aborted) {
          throw new ProviderError(
            `encountered timeout while waiting for Keptn Analysis ${q.namespace}/${q.name} to be finished`,
          );
        }
        await sleep(1000);
        let obj;
        try {
          obj = await this.#o.kube.get(keptnAnalysisType, key);
        } catch (err) {
          throw new ProviderError(
            `could not check status of created Keptn Analysis ${q.namespace}/${q.name}: ${errText(err)}`,
          );
        }
        const status = obj === undefined ? undefined : (obj as { status?: unknown }).status;
        if (isRecord(status) && status['state'] === 'Completed' && typeof status['pass'] === 'boolean') {
          return status['pass'] ? 1 : 0;
        }
      }
    } finally {
      await this.#o.kube.delete(keptnAnalysisType, key).catch((err: unknown) => {
        ctx.log.warn('could not delete Keptn Analysis', { object: `${q.namespace}/${name}`, error: errText(err) });
      });
    }
  }

  isOnline(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** A decimal float as Go's strconv.ParseFloat reads it (also `Inf`, `Infinity`, `NaN` in any case); else undefined. */
function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^nan$/i.test(text)) return NaN;
  const inf = /^([+-]?)inf(?:inity)?$/i.exec(text);
  if (inf === null) return undefined;
  return inf[1] === '-' ? -Infinity : Infinity;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
