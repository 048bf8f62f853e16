/**
 * Builds the provider of a MetricTemplate (Flagger pkg/metrics/providers/factory.go). Exhaustive
 * over the CRD's provider types; unlike Flagger, an unknown type is an error, never a silent
 * fallback to Prometheus. Constructors validate their options (address, Secret keys, interval)
 * and throw ProviderError naming what is missing, never a credential's value.
 *
 * Every provider is built here with a redacting HTTP client and wrapped in a redacting provider
 * (./redaction.ts), so no provider type, present or future, can quote a credential in an error.
 */
import {
  type MetricProviderType,
  type MetricTemplateProvider,
  isMetricProviderType,
} from '../../apis/flagger/v1beta1/types.ts';
import type { HttpClient } from '../../http/client.ts';
import { secretRedactor } from '../../http/redact.ts';
import type { KubeClient } from '../../kube/port.ts';
import { CloudWatchProvider } from './cloudwatch.ts';
import { DatadogProvider } from './datadog.ts';
import { DynatraceProvider } from './dynatrace.ts';
import { ProviderError } from './errors.ts';
import { ExternalMetricsProvider } from './externalmetrics.ts';
import { GraphiteProvider } from './graphite.ts';
import { InfluxdbProvider } from './influxdb.ts';
import { KeptnProvider } from './keptn.ts';
import { NewRelicProvider } from './newrelic.ts';
import { PrometheusProvider, prometheusCredentials } from './prometheus.ts';
import type { MetricsProvider } from './provider.ts';
import {
  type RedactingProvider,
  providerSecrets,
  redactedError,
  redactingHttp,
  redactingProvider,
} from './redaction.ts';
import { SplunkProvider } from './splunk.ts';
import { StackdriverProvider } from './stackdriver.ts';

/** Everything a provider is built from. */
export interface ProviderConfig {
  /** The template's `spec.provider`. */
  readonly provider: MetricTemplateProvider;
  /** The decoded data of `spec.provider.secretRef`'s Secret; undefined when there is no secretRef. */
  readonly credentials: Readonly<Record<string, string>> | undefined;
  /** The metric's query window (`interval`, default `1m`). */
  readonly metricInterval: string;
}

/** What providers talk through. */
export interface ProviderDeps {
  readonly http: HttpClient;
  /** Clock in epoch milliseconds (tests). */
  readonly now?: () => number;
  /** Kubernetes access of the keptn provider (KeptnMetric, Analysis). */
  readonly kube?: Pick<KubeClient, 'get' | 'create' | 'delete'>;
  /** Environment of cloud credentials (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type Builder = (c: ProviderConfig, d: ProviderDeps) => MetricsProvider;

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

const builders = {
  prometheus: ({ provider: p, credentials }, { http }) =>
    new PrometheusProvider(
      {
        address: p.address ?? '',
        ...optional('headers', p.headers),
        ...(p.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
        ...(credentials === undefined ? {} : prometheusCredentials(credentials)),
      },
      http,
    ),
  datadog: ({ provider: p, credentials, metricInterval }, { http, now }) =>
    new DatadogProvider(
      { ...optional('address', p.address), credentials: credentials ?? {}, metricInterval, ...optional('now', now) },
      http,
    ),
  newrelic: ({ provider: p, credentials, metricInterval }, { http }) =>
    new NewRelicProvider({ ...optional('address', p.address), credentials: credentials ?? {}, metricInterval }, http),
  graphite: ({ provider: p, credentials }, { http }) =>
    new GraphiteProvider(
      {
        address: p.address ?? '',
        ...optional('credentials', credentials),
        ...(p.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
      },
      http,
    ),
  dynatrace: ({ provider: p, credentials, metricInterval }, { http, now }) =>
    new DynatraceProvider(
      { ...optional('address', p.address), credentials: credentials ?? {}, metricInterval, ...optional('now', now) },
      http,
    ),
  influxdb: ({ provider: p, credentials }, { http }) =>
    new InfluxdbProvider(
      {
        address: p.address ?? '',
        ...optional('credentials', credentials),
        ...(p.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
      },
      http,
    ),
  externalmetrics: ({ provider: p, credentials }, { http }) =>
    new ExternalMetricsProvider(
      {
        ...optional('address', p.address),
        ...optional('credentials', credentials),
        ...(p.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
      },
      http,
    ),
  cloudwatch: ({ provider: p, metricInterval }, { http, now, env }) =>
    new CloudWatchProvider(
      {
        ...optional('region', p.region),
        ...optional('address', p.address),
        metricInterval,
        ...optional('now', now),
        ...optional('env', env),
      },
      http,
    ),
  stackdriver: ({ provider: p, credentials }, { http, now, env }) =>
    new StackdriverProvider(
      {
        ...optional('address', p.address),
        ...optional('credentials', credentials),
        ...optional('now', now),
        ...optional('env', env),
      },
      http,
    ),
  splunk: ({ provider: p, credentials, metricInterval }, { http, now }) =>
    new SplunkProvider(
      { ...optional('address', p.address), credentials: credentials ?? {}, metricInterval, ...optional('now', now) },
      http,
    ),
  keptn: (_c, { kube }) => {
    if (kube === undefined)
      throw new ProviderError('provider keptn needs a Kubernetes client, which is not configured');
    return new KeptnProvider({ kube });
  },
} satisfies Record<MetricProviderType, Builder>;

/**
 * The provider of a template; throws ProviderError for an unknown type or invalid options. Neither
 * those errors nor any the provider throws later quote a value of the template's Secret or the
 * address's userinfo, in any form (see redaction.ts).
 */
export function createProvider(config: ProviderConfig, deps: ProviderDeps): RedactingProvider {
  const type: string = config.provider.type;
  if (!isMetricProviderType(type)) throw new ProviderError(`unknown metrics provider type "${type}"`);
  const secrets = providerSecrets(config.credentials, config.provider.address);
  const redact = secretRedactor(secrets);
  let provider: MetricsProvider;
  try {
    provider = builders[type](config, { ...deps, http: redactingHttp(deps.http, secrets) });
  } catch (err) {
    throw redactedError(err, redact);
  }
  return redactingProvider(provider, redact);
}
