import { describe, expect, it } from 'vitest';
import { type MetricTemplateProvider, metricProviderTypes } from '../../apis/flagger/v1beta1/types.ts';
import { createHttpClient } from '../../http/client.ts';
import { CloudWatchProvider } from './cloudwatch.ts';
import { DatadogProvider } from './datadog.ts';
import { DynatraceProvider } from './dynatrace.ts';
import { ProviderError } from './errors.ts';
import { ExternalMetricsProvider } from './externalmetrics.ts';
import { type ProviderConfig, createProvider } from './factory.ts';
import { GraphiteProvider } from './graphite.ts';
import { InfluxdbProvider } from './influxdb.ts';
import { KeptnProvider } from './keptn.ts';
import { FakeKube } from '../../kube/fake.ts';
import { NewRelicProvider } from './newrelic.ts';
import { PrometheusProvider } from './prometheus.ts';
import type { MetricsProvider } from './provider.ts';
import type { RedactingProvider } from './redaction.ts';
import { SplunkProvider } from './splunk.ts';
import { StackdriverProvider } from './stackdriver.ts';

const deps = { http: createHttpClient() };
const config = (provider: MetricTemplateProvider, credentials?: Record<string, string>): ProviderConfig => ({
  provider,
  credentials,
  metricInterval: '1m',
});

/** The provider inside the factory's redacting wrapper. */
const unwrap = (p: RedactingProvider): MetricsProvider => p.inner;

describe('createProvider', () => {
  it.each([
    [{ type: 'prometheus', address: 'http://prom:9090' }, undefined, PrometheusProvider],
    [{ type: 'datadog' }, { datadog_api_key: 'a', datadog_application_key: 'b' }, DatadogProvider],
    [{ type: 'newrelic' }, { newrelic_account_id: '1', newrelic_query_key: 'k' }, NewRelicProvider],
    [{ type: 'graphite', address: 'http://graphite' }, undefined, GraphiteProvider],
    [{ type: 'dynatrace', address: 'https://x.live.dynatrace.com' }, { dynatrace_token: 't' }, DynatraceProvider],
    [{ type: 'influxdb', address: 'http://influx:8086' }, { token: 't', org: 'o' }, InfluxdbProvider],
    [{ type: 'externalmetrics', address: 'https://metrics' }, undefined, ExternalMetricsProvider],
    [{ type: 'cloudwatch', region: 'us-east-1' }, undefined, CloudWatchProvider],
    [{ type: 'stackdriver' }, { project: 'p' }, StackdriverProvider],
    [{ type: 'splunk', address: 'https://api.us1.signalfx.com' }, { sf_token_key: 't' }, SplunkProvider],
  ] as const)('builds %o', (provider, credentials, type) => {
    expect(unwrap(createProvider(config(provider, credentials), deps))).toBeInstanceOf(type);
  });

  it('has a builder for every provider type of the CRD; invalid options say so', () => {
    for (const type of metricProviderTypes) {
      try {
        createProvider(config({ type, address: 'http://x' }, {}), deps);
      } catch (err) {
        expect(err).toBeInstanceOf(ProviderError);
        expect(String(err)).not.toContain('unknown metrics provider');
      }
    }
    expect(() => createProvider(config({ type: 'keptn' }), deps)).toThrow(
      'provider keptn needs a Kubernetes client, which is not configured',
    );
    expect(unwrap(createProvider(config({ type: 'keptn' }), { ...deps, kube: new FakeKube() }))).toBeInstanceOf(
      KeptnProvider,
    );
  });

  it('never falls back to Prometheus for an unknown type', () => {
    const provider = { type: 'prometheus2', address: 'http://x' } as unknown as MetricTemplateProvider;
    expect(() => createProvider(config(provider), deps)).toThrow('unknown metrics provider type "prometheus2"');
  });

  it('validates credentials without quoting them', () => {
    expect(() =>
      createProvider(config({ type: 'prometheus', address: 'http://p' }, { password: 'hunter2' }), deps),
    ).toThrow('prometheus credentials does not contain a username');
    expect(() => createProvider(config({ type: 'datadog' }, { datadog_api_key: 'hunter2' }), deps)).toThrow(
      /^datadog credentials does not contain datadog_application_key$/,
    );
  });
});
