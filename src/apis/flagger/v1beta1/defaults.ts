/**
 * Defaults and derived values of a Canary, as pure functions mirroring the `Get*()` methods of
 * Flagger's pkg/apis/flagger/v1beta1/canary.go (and the few defaults applied elsewhere in Flagger).
 */
import { ValidationError } from './errors.ts';
import type {
  AlertProvider,
  Canary,
  CanaryAnalysis,
  CanaryMetric,
  CanaryWebhook,
  DeploymentStrategy,
  SessionAffinity,
} from './types.ts';

/** Analysis interval when unset or unparsable (Flagger `AnalysisInterval`). */
export const ANALYSIS_INTERVAL_DEFAULT_MS = 60_000;
/** Shortest analysis interval; shorter ones are raised to it. */
export const ANALYSIS_INTERVAL_MIN_MS = 10_000;
/** `spec.progressDeadlineSeconds` default (Flagger `ProgressDeadlineSeconds`). */
export const PROGRESS_DEADLINE_SECONDS_DEFAULT = 600;
/** Query window of a metric without `interval` (Flagger `MetricInterval`). */
export const metricIntervalDefault = '1m';
/** Timeout of a webhook without (or with a shorter than 2 characters) `timeout`. */
export const WEBHOOK_TIMEOUT_DEFAULT = '10s';
/** `primaryReadyThreshold` / `canaryReadyThreshold` default: percent of updated replicas that must be available. */
export const READY_THRESHOLD_DEFAULT = 100;
/** `analysis.maxWeight` default and the total weight split between primary and canary. */
export const MAX_WEIGHT_DEFAULT = 100;
/** `analysis.sessionAffinity.maxAge` default (seconds), also the CRD default. */
export const SESSION_AFFINITY_MAX_AGE_DEFAULT = 86_400;
/** `service.portName` default. */
export const PORT_NAME_DEFAULT = 'http';
/** AlertProvider `spec.channel` default. */
export const ALERT_CHANNEL_DEFAULT = 'general';
/** AlertProvider `spec.username` default. */
export const ALERT_USERNAME_DEFAULT = 'flagger';

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const durationTerm = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration (`500ms`, `30s`, `1m`, `1h30m`, `-1.5h`; `0` alone is allowed) into
 * milliseconds, like Go's `time.ParseDuration`. Throws `ValidationError` on anything else.
 */
export function parseDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  let total = 0;
  let pos = 0;
  durationTerm.lastIndex = 0;
  while (pos < rest.length) {
    durationTerm.lastIndex = pos;
    const m = durationTerm.exec(rest);
    const value = m?.[1];
    const unit = m?.[2];
    const factor = unit === undefined ? undefined : unitMs[unit];
    if (value === undefined || factor === undefined) break;
    total += Number(value) * factor;
    pos = durationTerm.lastIndex;
  }
  if (rest === '' || pos !== rest.length) {
    throw new ValidationError([{ path: '', message: `invalid duration ${JSON.stringify(text)}` }]);
  }
  return sign * total;
}

/** Parses a Go duration, returning `fallbackMs` when it is invalid. */
function durationOr(text: string, fallbackMs: number): number {
  try {
    return parseDuration(text);
  } catch (e: unknown) {
    if (e instanceof ValidationError) return fallbackMs;
    throw e;
  }
}

/** The analysis of a canary: `spec.analysis`, else the deprecated `spec.canaryAnalysis` (Flagger `GetAnalysis`). */
export function analysisOf(c: Canary): CanaryAnalysis | undefined {
  return c.spec.analysis ?? c.spec.canaryAnalysis;
}

/**
 * The analysis tick period in ms (Flagger `GetAnalysisInterval`): 60s when unset or not a valid
 * duration, and at least 10s (`minMs`; the operator's `-min-analysis-interval` lowers it for tests).
 */
export function analysisIntervalMs(c: Canary, minMs: number = ANALYSIS_INTERVAL_MIN_MS): number {
  const interval = analysisOf(c)?.interval;
  if (interval === undefined || interval === '') return ANALYSIS_INTERVAL_DEFAULT_MS;
  const ms = durationOr(interval, ANALYSIS_INTERVAL_DEFAULT_MS);
  return Math.max(ms, minMs);
}

/** Failed checks tolerated before rollback (Flagger `GetAnalysisThreshold`): 1 when unset or ≤ 0. */
export function threshold(c: Canary): number {
  const t = analysisOf(c)?.threshold ?? 0;
  return t > 0 ? t : 1;
}

/**
 * The highest canary weight (Flagger scheduler `maxWeight`): with `stepWeights`, the last step
 * capped at 100; else `maxWeight` when > 0; else 100.
 */
export function maxWeight(c: Canary): number {
  const analysis = analysisOf(c);
  const steps = analysis?.stepWeights ?? [];
  const last = steps[steps.length - 1];
  if (last !== undefined) return Math.min(last, MAX_WEIGHT_DEFAULT);
  const max = analysis?.maxWeight ?? 0;
  return max > 0 ? max : MAX_WEIGHT_DEFAULT;
}

/** `spec.progressDeadlineSeconds`, default 600 (Flagger `GetProgressDeadlineSeconds`). */
export function progressDeadlineSeconds(c: Canary): number {
  return c.spec.progressDeadlineSeconds ?? PROGRESS_DEADLINE_SECONDS_DEFAULT;
}

/** The apex, primary and canary Service names (Flagger `GetServiceNames`); apex defaults to `targetRef.name`. */
export function serviceNames(c: Canary): { readonly apex: string; readonly primary: string; readonly canary: string } {
  const name = c.spec.service?.name;
  const apex = name === undefined || name === '' ? c.spec.targetRef.name : name;
  return { apex, primary: `${apex}-primary`, canary: `${apex}-canary` };
}

/**
 * How traffic is shifted (Flagger `DeploymentStrategy`): `ab-testing` with `match` and
 * `iterations > 0`, `blue-green` with `iterations > 0` only, else `canary`.
 */
export function deploymentStrategy(c: Canary): DeploymentStrategy {
  const analysis = analysisOf(c);
  const iterations = analysis?.iterations ?? 0;
  if (iterations > 0 && (analysis?.match ?? []).length > 0) return 'ab-testing';
  if (iterations > 0) return 'blue-green';
  return 'canary';
}

/** True when the canary is promoted without analysis: `spec.skipAnalysis`, or no analysis at all. */
export function skipAnalysis(c: Canary): boolean {
  return analysisOf(c) === undefined || c.spec.skipAnalysis === true;
}

/**
 * The provider that routes a canary: `spec.provider`, else the operator-wide default
 * (`-mesh-provider`), as Flagger decides it. Every provider-dependent choice starts from this one.
 */
export function providerOf(c: Canary, defaultProvider: string): string {
  const spec: string | undefined = c.spec.provider;
  return spec === undefined || spec === '' ? defaultProvider : spec;
}

/** True when the target is a Knative Service (`serving.knative.dev/v1`, kind Service). */
export function isKnativeTarget(c: Canary): boolean {
  const ref = c.spec.targetRef;
  return ref.kind === 'Service' && ref.apiVersion.startsWith('serving.knative.dev/');
}

/** `service.portName`, default `http`. */
export function servicePortName(c: Canary): string {
  const name = c.spec.service?.portName;
  return name === undefined || name === '' ? PORT_NAME_DEFAULT : name;
}

/** `service.targetPort` (number or container port name), default `service.port`; undefined without a service. */
export function serviceTargetPort(c: Canary): number | string | undefined {
  const service = c.spec.service;
  if (service === undefined) return undefined;
  const target = service.targetPort;
  return target === undefined || target === '' || target === 0 ? service.port : target;
}

/** `primaryReadyThreshold`, default 100 (percent). */
export function primaryReadyThreshold(c: Canary): number {
  return analysisOf(c)?.primaryReadyThreshold ?? READY_THRESHOLD_DEFAULT;
}

/** `canaryReadyThreshold`, default 100 (percent). */
export function canaryReadyThreshold(c: Canary): number {
  return analysisOf(c)?.canaryReadyThreshold ?? READY_THRESHOLD_DEFAULT;
}

/** A metric's query window, default `1m` (Flagger `GetMetricInterval`). */
export function metricInterval(m: CanaryMetric): string {
  return m.interval === undefined || m.interval === '' ? metricIntervalDefault : m.interval;
}

/**
 * A webhook's timeout in ms: 10s when unset or shorter than 2 characters (as Flagger's webhook
 * caller). Throws `ValidationError` when it is not a valid duration; the webhook call fails then.
 */
export function webhookTimeoutMs(w: CanaryWebhook): number {
  const timeout = w.timeout ?? '';
  if (timeout.length < 2) return parseDuration(WEBHOOK_TIMEOUT_DEFAULT);
  try {
    return parseDuration(timeout);
  } catch (e: unknown) {
    if (e instanceof ValidationError) {
      throw new ValidationError([{ path: 'timeout', message: `invalid duration ${JSON.stringify(timeout)}` }], {
        cause: e,
      });
    }
    throw e;
  }
}

/** Session affinity cookie Max-Age in seconds, default 86400. */
export function sessionAffinityMaxAge(sa: SessionAffinity): number {
  return sa.maxAge ?? SESSION_AFFINITY_MAX_AGE_DEFAULT;
}

/** AlertProvider channel, default `general`. */
export function alertChannel(p: AlertProvider): string {
  const channel = p.spec.channel;
  return channel === undefined || channel === '' ? ALERT_CHANNEL_DEFAULT : channel;
}

/** AlertProvider username, default `flagger`. */
export function alertUsername(p: AlertProvider): string {
  const username = p.spec.username;
  return username === undefined || username === '' ? ALERT_USERNAME_DEFAULT : username;
}
