/**
 * Evaluates `analysis.metrics[]` (Flagger pkg/controller/scheduler_metrics.go): the builtin
 * `request-success-rate` and `request-duration` checks through the mesh provider's Observer,
 * inline `query` metrics against the canary's (or the operator's) Prometheus, and `templateRef`
 * metrics through their MetricTemplate's provider. Templates and Secrets come from informer caches:
 * a tick never reads them from the API server.
 *
 * This module decides and words; it records nothing. `AnalysisChecks` turns each evaluation into
 * an Event and a `flagger_canary_metric_analysis` sample.
 */
import { analysisOf, metricInterval, providerOf } from '../apis/flagger/v1beta1/defaults.ts';
import { ValidationError } from '../apis/flagger/v1beta1/errors.ts';
import { parseMetricTemplate } from '../apis/flagger/v1beta1/parse.ts';
import { CHECK_QUERY_MAX, type Canary, type CanaryMetric, type MetricTemplate } from '../apis/flagger/v1beta1/types.ts';
import type { HttpClient } from '../http/client.ts';
import { isRecord } from '../kube/json.ts';
import type { Informer } from '../kube/port.ts';
import { observerFor } from '../metrics/observers/factory.ts';
import type { MetricModel, Observer } from '../metrics/observers/observer.ts';
import { renderQuery } from '../metrics/observers/render.ts';
import { secretRedactor } from '../http/redact.ts';
import { NoValuesFoundError } from '../metrics/providers/errors.ts';
import { type ProviderConfig, type ProviderDeps, createProvider } from '../metrics/providers/factory.ts';
import { providerSecrets } from '../metrics/providers/redaction.ts';
import type { MetricsProvider } from '../metrics/providers/provider.ts';
import type { Ctx } from '../core/context.ts';
import type { CheckResult } from './ports.ts';

/** The two metric names with builtin queries. */
export const BUILTIN_METRICS = ['request-success-rate', 'request-duration'] as const;

/** A metric's check result: the rendered query goes to `status.checks[].query`. */
export type MetricCheckResult = CheckResult;

/** The outcome of one metric: its check result, plus what to tell the user and record. */
export interface MetricEvaluation {
  readonly result: MetricCheckResult;
  /** An Event to record: the failure in Flagger's wording (none for a pass). */
  readonly event?: { readonly type: 'Normal' | 'Warning'; readonly message: string };
  /** The `flagger_canary_metric_analysis` sample (seconds for request-duration, as Flagger). */
  readonly sample?: number;
}

/** Measures a canary's metrics. */
export interface MetricChecker {
  /** One evaluation per `analysis.metrics[]` entry, in spec order. Never throws for a bad metric. */
  evaluate(ctx: Ctx, canary: Canary): Promise<readonly MetricEvaluation[]>;
  /** Undefined when every provider the metrics use answers; else why not (Flagger checkMetricProviderAvailability). */
  availability(ctx: Ctx, canary: Canary): Promise<string | undefined>;
}

/** What {@link DefaultMetricChecker} reads and talks to. */
export interface MetricCheckerOptions {
  readonly http: HttpClient;
  /** `-metrics-server`: the Prometheus of builtin and inline metrics unless `spec.metricsServer` is set. */
  readonly metricsServer: string;
  /** `-mesh-provider`: picks the builtin queries when `spec.provider` is empty. */
  readonly meshProvider: string;
  /** MetricTemplate informer cache. */
  readonly templates: Pick<Informer, 'get'>;
  /** Secret informer cache (template credentials). */
  readonly secrets: Pick<Informer, 'get'>;
  /** Builds the observer of a provider (default: the observer factory). */
  readonly observer?: (provider: string, client: MetricsProvider) => Observer;
  /** Kubernetes access for the keptn provider; keptn templates fail clearly without it. */
  readonly kube?: ProviderDeps['kube'];
  /** Builds the provider of a MetricTemplate (default: the provider factory). */
  readonly provider?: (config: ProviderConfig, deps: ProviderDeps) => MetricsProvider;
}

/** One metric being evaluated. */
interface Job {
  readonly canary: Canary;
  readonly metric: CanaryMetric;
  readonly model: MetricModel;
  readonly session: Session;
}

/** Failure before any value could be read. */
class MetricFailure extends Error {}

/** MetricChecker over builtin checks (Prometheus observers), inline queries and MetricTemplates of every provider type. */
export class DefaultMetricChecker implements MetricChecker {
  readonly #o: MetricCheckerOptions;

  constructor(options: MetricCheckerOptions) {
    this.#o = options;
  }

  async evaluate(ctx: Ctx, canary: Canary): Promise<readonly MetricEvaluation[]> {
    const metrics = analysisOf(canary)?.metrics ?? [];
    const out: MetricEvaluation[] = [];
    const session = new Session(this.#o, canary);
    for (const metric of metrics) {
      let evaluation: Evaluated;
      try {
        evaluation = await this.#evaluate(ctx, canary, metric, session);
      } catch (err) {
        if (!(err instanceof MetricFailure)) throw err;
        evaluation = failed(metric, err.message);
      }
      out.push(applyPolicies(metric, evaluation));
    }
    return out;
  }

  async #evaluate(ctx: Ctx, canary: Canary, metric: CanaryMetric, session: Session): Promise<Evaluated> {
    const job: Job = { canary, metric, model: metricModel(canary, metric), session };
    // One source per metric: a template wins over an inline query, which wins over a builtin name
    // (Flagger runs every one that applies, e.g. a builtin check *and* a template named request-duration).
    if (metric.templateRef !== undefined) return this.#template(ctx, job);
    if (metric.query !== undefined && metric.query !== '') return this.#inline(ctx, job);
    if (metric.name === 'request-success-rate') return this.#successRate(ctx, job);
    if (metric.name === 'request-duration') return this.#duration(ctx, job);
    return failed(
      metric,
      `Metric query failed for ${metric.name}: no usable metrics template and query were configured`,
    );
  }

  async #successRate(ctx: Ctx, job: Job): Promise<Evaluated> {
    const { canary, metric, model, session: s } = job;
    const observer = s.observer();
    const query = renderedOrUndefined(() => observer.query('request-success-rate', model));
    const few = await this.#builtinSamples(ctx, job, observer);
    if (few !== undefined) return few;
    let value: number;
    try {
      value = numberOrNoData(await observer.requestSuccessRate(ctx, model));
    } catch (err) {
      return failed(metric, builtinQueryError(canary, metric, s.provider, err), {
        noData: err instanceof NoValuesFoundError,
        query,
      });
    }
    const range = bounds(metric, 'min');
    const who = canaryName(canary);
    let message: string | undefined;
    if (range.min !== undefined && value < range.min) {
      message = `Halt ${who} advancement success rate ${fixed2(value)}% < ${goFloat(range.min)}%`;
    } else if (range.max !== undefined && value > range.max) {
      message = `Halt ${who} advancement success rate ${fixed2(value)}% > ${goFloat(range.max)}%`;
    }
    return measured(metric, {
      value,
      range,
      sample: value,
      failure: message,
      passed: `success rate ${fixed2(value)}%`,
      query,
      unit: '%',
    });
  }

  async #duration(ctx: Ctx, job: Job): Promise<Evaluated> {
    const { canary, metric, model, session: s } = job;
    const observer = s.observer();
    const query = renderedOrUndefined(() => observer.query('request-duration', model));
    const few = await this.#builtinSamples(ctx, job, observer);
    if (few !== undefined) return few;
    let ms: number;
    try {
      ms = numberOrNoData(await observer.requestDurationMs(ctx, model));
    } catch (err) {
      return failed(metric, builtinQueryError(canary, metric, s.provider, err), {
        noData: err instanceof NoValuesFoundError,
        query,
      });
    }
    // Thresholds are milliseconds, truncated to whole ones as Go's time.Duration(float) conversion does.
    const raw = bounds(metric, 'max');
    const range = {
      ...(raw.min === undefined ? {} : { min: Math.trunc(raw.min) }),
      ...(raw.max === undefined ? {} : { max: Math.trunc(raw.max) }),
    };
    const who = canaryName(canary);
    let message: string | undefined;
    if (range.min !== undefined && ms < range.min) {
      message = `Halt ${who} advancement request duration ${goDuration(ms)} < ${goDuration(range.min)}`;
    } else if (range.max !== undefined && ms > range.max) {
      message = `Halt ${who} advancement request duration ${goDuration(ms)} > ${goDuration(range.max)}`;
    }
    return measured(metric, {
      value: ms,
      range,
      sample: ms / 1000,
      failure: message,
      passed: `request duration ${goDuration(ms)}`,
      query,
      unit: 'ms',
    });
  }

  /**
   * `minSamples` of a builtin metric: counted with `sampleQuery` when set, else with the observer's
   * request-count query. Undefined when the check may go on.
   */
  async #builtinSamples(ctx: Ctx, job: Job, observer: Observer): Promise<Evaluated | undefined> {
    const { metric, model, session: s } = job;
    if ((metric.minSamples ?? 0) <= 0) return undefined;
    let query: string;
    try {
      query =
        metric.sampleQuery !== undefined && metric.sampleQuery !== ''
          ? renderQuery(metric.sampleQuery, model)
          : observer.sampleQuery(model);
    } catch (err) {
      return failed(metric, `Metric ${metric.name} sampleQuery render error: ${errorText(err)}`);
    }
    return samplesCheck(ctx, job, s.prometheus(), query);
  }

  /** `minSamples` of an inline or template metric, counted with its `sampleQuery` by `provider`. */
  async #customSamples(ctx: Ctx, job: Job, provider: MetricsProvider): Promise<Evaluated | undefined> {
    const { metric, model } = job;
    if ((metric.minSamples ?? 0) <= 0) return undefined;
    if (metric.sampleQuery === undefined || metric.sampleQuery === '') {
      // parseCanary rejects this; kept for callers that build a Canary by hand.
      return failed(metric, `Metric ${metric.name} has minSamples but no sampleQuery`);
    }
    let query: string;
    try {
      query = renderQuery(metric.sampleQuery, model);
    } catch (err) {
      return failed(metric, `Metric ${metric.name} sampleQuery render error: ${errorText(err)}`);
    }
    return samplesCheck(ctx, job, provider, query);
  }

  async #inline(ctx: Ctx, job: Job): Promise<Evaluated> {
    const { canary, metric, model, session: s } = job;
    let query: string;
    try {
      query = renderQuery(metric.query ?? '', model);
    } catch (err) {
      return failed(metric, `Metric ${metric.name} query render error: ${errorText(err)}`);
    }
    const prometheus = s.prometheus();
    const few = await this.#customSamples(ctx, job, prometheus);
    if (few !== undefined) return few;
    let value: number;
    try {
      value = numberOrNoData(await prometheus.runQuery(ctx, query));
    } catch (err) {
      if (err instanceof NoValuesFoundError)
        return failed(metric, `Halt advancement no values found for metric: ${metric.name}`, { noData: true, query });
      return failed(metric, `Prometheus query failed for ${metric.name}: ${errorText(err)}`, { query });
    }
    return custom(canary, metric, value, query);
  }

  async #template(ctx: Ctx, job: Job): Promise<Evaluated> {
    const { canary, metric, model } = job;
    const { template, label } = this.#lookupTemplate(canary, metric);
    const provider = this.#templateProvider(template, label, metric);
    let query: string;
    try {
      query = renderQuery(template.spec.query, model);
    } catch (err) {
      return failed(metric, `Metric template ${label} query render error: ${errorText(err)}`);
    }
    ctx.log.debug('metric template query', { template: label, query });
    const few = await this.#customSamples(ctx, job, provider);
    if (few !== undefined) return few;
    let value: number;
    try {
      value = numberOrNoData(await provider.runQuery(ctx, query));
    } catch (err) {
      if (err instanceof NoValuesFoundError) {
        return failed(metric, `Halt advancement no values found for custom metric: ${metric.name}: ${errorText(err)}`, {
          noData: true,
          query,
        });
      }
      return failed(metric, `Metric query failed for ${metric.name}: ${errorText(err)}`, { query });
    }
    return custom(canary, metric, value, query);
  }

  /** The template of a `templateRef` (default namespace: the canary's); throws MetricFailure. */
  #lookupTemplate(canary: Canary, metric: CanaryMetric): { template: MetricTemplate; label: string } {
    const ref = metric.templateRef;
    const name = ref?.name ?? '';
    const namespace =
      ref?.namespace !== undefined && ref.namespace !== '' ? ref.namespace : (canary.metadata.namespace ?? '');
    const label = `${name}.${namespace}`;
    const obj = this.#o.templates.get({ namespace, name });
    if (obj === undefined)
      throw new MetricFailure(`Metric template ${label} error: metrictemplate.flagger.app "${name}" not found`);
    try {
      return { template: parseMetricTemplate(obj), label };
    } catch (err) {
      if (err instanceof ValidationError) throw new MetricFailure(`Metric template ${label} error: ${err.message}`);
      throw err;
    }
  }

  /**
   * The provider of a template (any MetricTemplate type, through the provider factory), with
   * credentials from its Secret in the template's namespace, read from the informer cache; throws
   * MetricFailure.
   */
  #templateProvider(template: MetricTemplate, label: string, metric: CanaryMetric): MetricsProvider {
    const spec = template.spec.provider;
    const namespace = template.metadata.namespace ?? '';
    let credentials: Record<string, string> | undefined;
    if (spec.secretRef !== undefined) {
      const secretName = spec.secretRef.name;
      const secret = this.#o.secrets.get({ namespace, name: secretName });
      if (secret === undefined) {
        throw new MetricFailure(
          `Metric template ${label} secret ${secretName} error: secrets "${secretName}" not found`,
        );
      }
      credentials = secretData(secret);
    }
    try {
      return (this.#o.provider ?? createProvider)(
        { provider: spec, credentials, metricInterval: metricInterval(metric) },
        { http: this.#o.http, ...(this.#o.kube === undefined ? {} : { kube: this.#o.kube }) },
      );
    } catch (err) {
      throw new MetricFailure(`Metric template ${label} provider ${spec.type} error: ${errorText(err)}`);
    }
  }

  async availability(ctx: Ctx, canary: Canary): Promise<string | undefined> {
    const session = new Session(this.#o, canary);
    let prometheusChecked = false;
    for (const metric of analysisOf(canary)?.metrics ?? []) {
      try {
        if (metric.templateRef !== undefined) {
          const { template, label } = this.#lookupTemplate(canary, metric);
          const provider = this.#templateProvider(template, label, metric);
          try {
            if (!(await provider.isOnline(ctx)))
              return `${template.spec.provider.type} in metric template ${label} not available`;
          } catch (err) {
            return `${template.spec.provider.type} in metric template ${label} not available: ${errorText(err)}`;
          }
        } else if (!prometheusChecked && (isBuiltin(metric.name) || (metric.query ?? '') !== '')) {
          prometheusChecked = true;
          try {
            if (!(await session.prometheus().isOnline(ctx))) return 'prometheus not available';
          } catch (err) {
            if (err instanceof MetricFailure) throw err;
            return `prometheus not available: ${errorText(err)}`;
          }
        }
      } catch (err) {
        if (err instanceof MetricFailure) return err.message;
        throw err;
      }
    }
    return undefined;
  }
}

/** Per-evaluation lazies: the Prometheus client and observer are built only when a metric needs them. */
class Session {
  readonly provider: string;
  readonly #o: MetricCheckerOptions;
  readonly #server: string;
  #prometheus: MetricsProvider | undefined;
  #observer: Observer | undefined;

  constructor(o: MetricCheckerOptions, canary: Canary) {
    this.#o = o;
    this.#server =
      canary.spec.metricsServer !== undefined && canary.spec.metricsServer !== ''
        ? canary.spec.metricsServer
        : o.metricsServer;
    this.provider = builtinProvider(canary, o.meshProvider);
  }

  /** Throws MetricFailure when the metrics server address is invalid. */
  prometheus(): MetricsProvider {
    if (this.#prometheus === undefined) {
      // Through the factory, so a user:password in -metrics-server is redacted like a template's Secret.
      try {
        this.#prometheus = createProvider(
          { provider: { type: 'prometheus', address: this.#server }, credentials: undefined, metricInterval: '1m' },
          { http: this.#o.http },
        );
      } catch (err) {
        const server = secretRedactor(providerSecrets(undefined, this.#server))(this.#server);
        throw new MetricFailure(`Error building Prometheus client for ${server} ${errorText(err)}`);
      }
    }
    return this.#prometheus;
  }

  /** Throws MetricFailure when the provider has no builtin queries. */
  observer(): Observer {
    if (this.#observer === undefined) {
      const make = this.#o.observer ?? observerFor;
      const client = this.prometheus();
      try {
        this.#observer = make(this.provider, client);
      } catch (err) {
        throw new MetricFailure(errorText(err));
      }
    }
    return this.#observer;
  }
}

/**
 * The provider whose builtin queries apply (Flagger runBuiltinMetricChecks): `spec.provider`, else
 * `-mesh-provider`; when the operator runs with Linkerd, Linkerd's metrics are used for every
 * canary. Unlike Flagger, a Service target does not switch to `<provider>:service` (which fell
 * through to Istio's queries for most providers).
 */
export function builtinProvider(canary: Canary, meshProvider: string): string {
  const provider = providerOf(canary, meshProvider);
  // Flagger's rule: only a canary that names its own provider is switched to Linkerd's metrics.
  const named = (canary.spec.provider ?? '') !== '';
  return named && meshProvider.includes('linkerd') ? 'linkerd' : provider;
}

/** The template model of a metric (Flagger toMetricModel). */
export function metricModel(canary: Canary, metric: CanaryMetric): MetricModel {
  const target = canary.spec.targetRef.name;
  const orTarget = (s: string | undefined): string => (s === undefined || s === '' ? target : s);
  return {
    name: canary.metadata.name,
    namespace: canary.metadata.namespace ?? '',
    target,
    service: orTarget(canary.spec.service?.name),
    ingress: orTarget(canary.spec.ingressRef?.name),
    route: orTarget(canary.spec.routeRef?.name),
    interval: metricInterval(metric),
    variables: { ...metric.templateVariables },
  };
}

/**
 * A NaN from any provider is no data (a ratio over no traffic is 0/0), never a value: NaN compares
 * false with every bound, so it would pass any threshold.
 */
export function numberOrNoData(value: number): number {
  if (Number.isNaN(value)) throw new NoValuesFoundError('the query returned NaN');
  return value;
}

/**
 * The accepted range of a metric: `thresholdRange` when set; else the deprecated `threshold`
 * (default 0) as the minimum (success rate) or the maximum (everything else), as Flagger does.
 */
export function bounds(metric: CanaryMetric, deprecatedAs: 'min' | 'max'): { min?: number; max?: number } {
  const range = metric.thresholdRange;
  if (range !== undefined) {
    return {
      ...(range.min === undefined ? {} : { min: range.min }),
      ...(range.max === undefined ? {} : { max: range.max }),
    };
  }
  const t = metric.threshold ?? 0;
  return deprecatedAs === 'min' ? { min: t } : { max: t };
}

function custom(canary: Canary, metric: CanaryMetric, value: number, query: string): Evaluated {
  const range = bounds(metric, 'max');
  const who = canaryName(canary);
  let message: string | undefined;
  if (range.min !== undefined && value < range.min) {
    message = `Halt ${who} advancement ${metric.name} ${fixed2(value)} < ${goFloat(range.min)}`;
  } else if (range.max !== undefined && value > range.max) {
    message = `Halt ${who} advancement ${metric.name} ${fixed2(value)} > ${goFloat(range.max)}`;
  }
  return measured(metric, {
    value,
    range,
    sample: value,
    failure: message,
    passed: `${metric.name} ${fixed2(value)}`,
    query,
  });
}

function measured(
  metric: CanaryMetric,
  m: {
    value: number;
    range: { min?: number; max?: number };
    sample: number;
    failure: string | undefined;
    passed: string;
    query: string | undefined;
    /** Unit of `value` in explanations. */
    unit?: string;
  },
): Evaluated {
  const result: MetricCheckResult = {
    name: metric.name,
    kind: 'metric',
    passed: m.failure === undefined,
    message: m.failure ?? m.passed,
    value: m.value,
    ...(m.range.min === undefined ? {} : { min: m.range.min }),
    ...(m.range.max === undefined ? {} : { max: m.range.max }),
    ...(m.query === undefined ? {} : { query: truncateQuery(m.query) }),
  };
  return {
    result,
    sample: m.sample,
    ...(m.failure === undefined ? {} : { event: { type: 'Warning' as const, message: m.failure } }),
    ...(m.unit === undefined ? {} : { unit: m.unit }),
  };
}

/**
 * An evaluation before the `noData` and `dryRun` policies: `noData` marks a query that found no
 * values (or too few samples); `unit` is the unit of the measured value, for explanations.
 */
interface Evaluated extends MetricEvaluation {
  readonly noData?: true;
  readonly unit?: string;
}

function failed(
  metric: CanaryMetric,
  message: string,
  o: { noData?: boolean; query?: string | undefined } = {},
): Evaluated {
  return {
    result: {
      name: metric.name,
      kind: 'metric',
      passed: false,
      message,
      ...(o.query === undefined ? {} : { query: truncateQuery(o.query) }),
    },
    event: { type: 'Warning', message },
    ...(o.noData === true ? { noData: true as const } : {}),
  };
}

/**
 * Runs the sample-count `query` of a metric with `minSamples`: fewer samples (rounded to whole
 * requests; a query without values counts as 0) is a no-data failure, left to the `noData` policy.
 * Undefined when there are enough.
 */
async function samplesCheck(
  ctx: Ctx,
  job: Job,
  provider: MetricsProvider,
  query: string,
): Promise<Evaluated | undefined> {
  const { canary, metric } = job;
  const min = metric.minSamples ?? 0;
  let raw: number;
  try {
    raw = await provider.runQuery(ctx, query);
  } catch (err) {
    if (!(err instanceof NoValuesFoundError))
      return failed(metric, `Sample query failed for ${metric.name}: ${errorText(err)}`, { query });
    raw = 0;
  }
  const samples = Number.isFinite(raw) ? Math.round(raw) : 0;
  if (samples >= min) return undefined;
  return failed(
    metric,
    `Halt ${canaryName(canary)} advancement ${metric.name} ${samples} samples < minSamples ${min}`,
    { noData: true, query },
  );
}

/** A rendered query cut to {@link CHECK_QUERY_MAX} characters for status and Events. */
export function truncateQuery(query: string): string {
  return query.length <= CHECK_QUERY_MAX ? query : `${query.slice(0, CHECK_QUERY_MAX - 1)}…`;
}

function renderedOrUndefined(render: () => string): string | undefined {
  try {
    return render();
  } catch {
    return undefined;
  }
}

/**
 * What a failed check is about, appended to its Event after Flagger's words: the metric, the
 * measured value, the accepted range and the query as rendered, e.g.
 * ` (check request-success-rate: value 80%, range [99%, +Inf]; query: sum(…))`. Empty when there
 * is nothing to add.
 */
export function explanation(result: MetricCheckResult, unit = ''): string {
  const parts: string[] = [];
  // Two decimals at most, as Flagger's words print the value: a value flickering in its last digits
  // from tick to tick must not turn one repeated Event into many.
  if (result.value !== undefined) parts.push(`value ${goFloat(Number(result.value.toFixed(2)))}${unit}`);
  if (result.min !== undefined || result.max !== undefined) {
    const lo = result.min === undefined ? '-Inf' : `${goFloat(result.min)}${unit}`;
    const hi = result.max === undefined ? '+Inf' : `${goFloat(result.max)}${unit}`;
    parts.push(`range [${lo}, ${hi}]`);
  }
  const head = parts.length === 0 ? `check ${result.name}` : `check ${result.name}: ${parts.join(', ')}`;
  if (result.query === undefined) return parts.length === 0 ? '' : ` (${head})`;
  return ` (${head}; query: ${result.query})`;
}

/**
 * Applies the Fledge extensions of a metric to its evaluation: `noData: pass|skip` turns a query
 * that found no values into a passed or skipped check (Flagger always fails it, #1035, which stays
 * the default), and `dryRun` reports the outcome, Normal Event included, without ever failing.
 */
export function applyPolicies(metric: CanaryMetric, evaluation: Evaluated): MetricEvaluation {
  // Computed before the policies change `passed`: only a failure is explained.
  const why = evaluation.result.passed ? '' : explanation(evaluation.result, evaluation.unit);
  let out: MetricEvaluation = {
    result: evaluation.result,
    ...(evaluation.event === undefined ? {} : { event: evaluation.event }),
    ...(evaluation.sample === undefined ? {} : { sample: evaluation.sample }),
  };
  const policy = metric.noData ?? 'fail';
  if (evaluation.noData === true && !out.result.passed && policy !== 'fail') {
    const message =
      policy === 'pass'
        ? `${out.result.message} (noData: pass, counted as passed)`
        : `${out.result.message} (noData: skip, check skipped)`;
    out = { result: { ...out.result, passed: true, message }, event: { type: 'Normal', message } };
  }
  if (metric.dryRun === true) {
    const message = `Dry-run metric ${metric.name} ${out.result.passed ? 'passed' : 'would have failed'}: ${out.result.message}`;
    out = { ...out, result: { ...out.result, passed: true, message }, event: { type: 'Normal', message } };
  }
  // The Event keeps Flagger's words first; the explanation is stable from tick to tick (value,
  // range and query), so repeats still aggregate into one Event.
  if (why !== '' && out.event !== undefined)
    out = { ...out, event: { ...out.event, message: out.event.message + why } };
  return out;
}

function builtinQueryError(canary: Canary, metric: CanaryMetric, provider: string, err: unknown): string {
  if (err instanceof MetricFailure) return err.message;
  if (err instanceof NoValuesFoundError) {
    return (
      `Halt advancement no values found for ${provider} metric ${metric.name} probably ` +
      `${canary.spec.targetRef.name}.${canary.metadata.namespace ?? ''} is not receiving traffic: ${errorText(err)}`
    );
  }
  return `Prometheus query failed: ${errorText(err)}`;
}

function isBuiltin(name: string): boolean {
  return (BUILTIN_METRICS as readonly string[]).includes(name);
}

function canaryName(canary: Canary): string {
  return `${canary.metadata.name}.${canary.metadata.namespace ?? ''}`;
}

/** A Secret's `data`, base64-decoded. */
function secretData(secret: unknown): Record<string, string> {
  const data = isRecord(secret) ? secret['data'] : undefined;
  const out: Record<string, string> = {};
  if (!isRecord(data)) return out;
  for (const [k, v] of Object.entries(data))
    if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Go's `%.2f`. */
export function fixed2(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return x.toFixed(2);
}

/** Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 on (`1e+06`). */
export function goFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa = '', exponent = '0'] = x.toExponential().split('e');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x);
}

/** Go's `time.Duration.String()` of a whole number of milliseconds: `600ms`, `1.5s`, `1m0s`, `1h2m3.004s`. */
export function goDuration(ms: number): string {
  if (!Number.isFinite(ms)) return ms > 0 ? '+Inf' : '-Inf';
  const whole = Math.trunc(ms);
  if (whole === 0) return '0s';
  const sign = whole < 0 ? '-' : '';
  let rest = Math.abs(whole);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest % 1000;
  const frac = millis === 0 ? '' : `.${String(millis).padStart(3, '0').replace(/0+$/, '')}`;
  return `${sign}${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}${frac}s`;
}
