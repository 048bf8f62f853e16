import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../../core/errors.ts';
import { ValidationError } from './errors.ts';
import { example, exampleManifests, withField } from './examples.fixture.ts';
import type { ExampleName } from './examples.fixture.ts';
import { parseAlertProvider, parseCanary, parseMetricTemplate } from './parse.ts';

/** The ValidationError thrown by `fn`; fails the test when nothing (or something else) is thrown. */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

/** Parses the canary example with one field replaced and returns the error message. */
function rejectCanary(path: string, value: unknown, base: ExampleName = 'istioCanary'): string {
  return validationError(() => parseCanary(withField(example(base), path, value))).message;
}

const canaryExamples: ExampleName[] = [
  'istioCanary',
  'abTesting',
  'blueGreen',
  'gatewayApi',
  'stepWeights',
  'nginx',
  'knative',
  'withStatus',
];

describe('parseCanary', () => {
  it.each(canaryExamples)('accepts the %s example', (name) => {
    const canary = parseCanary(example(name));
    expect(canary.apiVersion).toBe('flagger.app/v1beta1');
    expect(canary.kind).toBe('Canary');
    expect(canary.metadata.namespace).toBe('test');
    expect(canary.spec.targetRef.name).toMatch(/^(podinfo|abtest)$/);
  });

  it('keeps the typed values of the podinfo canary', () => {
    const canary = parseCanary(example('istioCanary'));
    expect(canary.spec.provider).toBe('istio');
    expect(canary.spec.targetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' });
    expect(canary.spec.autoscalerRef?.kind).toBe('HorizontalPodAutoscaler');
    expect(canary.spec.service?.port).toBe(9898);
    expect(canary.spec.service?.targetPort).toBe(9898);
    expect(canary.spec.service?.retries).toEqual({
      attempts: 3,
      perTryTimeout: '1s',
      retryOn: 'gateway-error,connect-failure,refused-stream',
    });
    const analysis = canary.spec.analysis;
    expect(analysis?.stepWeight).toBe(10);
    expect(analysis?.maxWeight).toBe(30);
    expect(analysis?.metrics?.map((m) => m.name)).toEqual(['request-success-rate', 'request-duration', 'latency']);
    expect(analysis?.metrics?.[2]?.templateRef).toEqual({ name: 'latency', namespace: 'istio-system' });
    expect(analysis?.metrics?.[2]?.thresholdRange).toEqual({ max: 0.5 });
    expect(analysis?.webhooks?.[0]).toMatchObject({ name: 'acceptance-test', type: 'pre-rollout', timeout: '30s' });
    expect(analysis?.webhooks?.[1]?.type).toBeUndefined();
    expect(analysis?.alerts?.[0]).toEqual({
      name: 'on-call Slack',
      severity: 'error',
      providerRef: { name: 'on-call', namespace: 'flagger' },
    });
    expect(canary.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'podinfo' });
  });

  it("keeps a webhook's headersSecretRef (Fledge extension)", () => {
    const canary = parseCanary(
      withField(example('istioCanary'), 'spec.analysis.webhooks.0.headersSecretRef', { name: 'auth' }),
    );
    expect(canary.spec.analysis?.webhooks?.[0]?.headersSecretRef).toEqual({ name: 'auth' });
    expect(canary.spec.analysis?.webhooks?.[1]?.headersSecretRef).toBeUndefined();
  });

  it('keeps A/B match conditions and a named target port', () => {
    const canary = parseCanary(example('abTesting'));
    expect(canary.spec.service?.targetPort).toBe('http');
    expect(canary.spec.analysis?.iterations).toBe(10);
    expect(canary.spec.analysis?.match?.[0]?.headers?.['x-canary']).toEqual({ regex: '.*insider.*' });
    expect(canary.spec.service?.match?.[0]?.uri).toEqual({ prefix: '/' });
  });

  it('keeps the status Flagger and Fledge write', () => {
    const canary = parseCanary(example('withStatus'));
    expect(canary.metadata.finalizers).toEqual(['finalizer.flagger.app']);
    expect(canary.metadata.generation).toBe(3);
    expect(canary.status?.phase).toBe('Succeeded');
    expect(canary.status?.trackedConfigs).toEqual({ 'configmap/podinfo-config': '1c7a2d0e3f4b5a69' });
    expect(canary.status?.conditions?.map((c) => c.type)).toEqual(['Promoted', 'Ready']);
    expect(canary.status?.conditions?.[1]?.observedGeneration).toBe(3);
    expect(canary.status?.checks?.[0]).toMatchObject({ kind: 'metric', value: 99.8, min: 99, passed: true });
    expect(canary.status?.checks?.[1]?.value).toBeUndefined();
  });

  it('ignores and drops unknown fields', () => {
    const input = withField(withField(example('istioCanary'), 'spec.futureField', { a: 1 }), 'spec.service.extra', 1);
    const canary = parseCanary(input);
    expect(canary.spec).not.toHaveProperty('futureField');
    expect(canary.spec.service).not.toHaveProperty('extra');
  });

  it('treats null as an absent field, as the API server does', () => {
    const canary = parseCanary(withField(example('istioCanary'), 'spec.autoscalerRef', null));
    expect(canary.spec).not.toHaveProperty('autoscalerRef');
  });

  it('fills in apiVersion and kind missing from list items but rejects wrong ones', () => {
    const bare = withField(withField(example('blueGreen'), 'apiVersion', undefined), 'kind', undefined);
    expect(parseCanary(bare).kind).toBe('Canary');
    expect(rejectCanary('apiVersion', 'flagger.app/v1alpha3')).toBe(
      'apiVersion: must be one of "flagger.app/v1beta1", got "flagger.app/v1alpha3"',
    );
    expect(rejectCanary('kind', 'MetricTemplate')).toBe('kind: must be one of "Canary", got "MetricTemplate"');
  });

  it('converts Date timestamps to RFC 3339 strings', () => {
    const when = new Date('2026-11-20T08:00:00Z');
    const canary = parseCanary(withField(example('withStatus'), 'status.lastTransitionTime', when));
    expect(canary.status?.lastTransitionTime).toBe('2026-11-20T08:00:00.000Z');
  });

  it('accepts the deprecated canaryAnalysis alone and requires one of the two', () => {
    const analysis = example('istioCanary')['spec'];
    const legacy = withField(
      withField(example('istioCanary'), 'spec.canaryAnalysis', (analysis as { analysis: unknown }).analysis),
      'spec.analysis',
      undefined,
    );
    expect(parseCanary(legacy).spec.canaryAnalysis?.stepWeight).toBe(10);
    expect(rejectCanary('spec.analysis', undefined)).toBe('spec.analysis: is required');
  });

  it('is an OperatorError listing every issue', () => {
    const input = withField(withField(example('istioCanary'), 'spec.provider', 'bogus'), 'spec.service.port', 'http');
    const error = validationError(() => parseCanary(input));
    expect(error).toBeInstanceOf(OperatorError);
    expect(error.name).toBe('ValidationError');
    expect(error.issues.map((i) => i.path)).toEqual(['spec.provider', 'spec.service.port']);
    expect(error.message).toContain('; spec.service.port: must be an integer, got "http"');
  });

  it.each([
    ['not an object', 'podinfo', 'must be an object, got "podinfo"'],
    ['null', null, 'must be an object, got null'],
    ['an array', [], 'must be an object, got an array'],
  ])('rejects input that is %s', (_what, input, message) => {
    expect(validationError(() => parseCanary(input)).message).toBe(message);
  });

  it.each([
    ['spec.analysis.stepWeight', 'ten', 'spec.analysis.stepWeight: must be an integer, got "ten"'],
    ['spec.analysis.stepWeight', 2.5, 'spec.analysis.stepWeight: must be an integer, got 2.5'],
    [
      'spec.targetRef.kind',
      'StatefulSet',
      'spec.targetRef.kind: must be one of "DaemonSet", "Deployment", "Service", got "StatefulSet"',
    ],
    ['spec.targetRef.name', undefined, 'spec.targetRef.name: is required'],
    ['spec.targetRef', undefined, 'spec.targetRef: is required'],
    ['spec', undefined, 'spec: is required'],
    ['metadata.name', undefined, 'metadata.name: is required'],
    ['spec.analysis.interval', '1h', 'spec.analysis.interval: must match ^[0-9]+(m|s), got "1h"'],
    [
      'spec.analysis.metrics.1.interval',
      'soon',
      'spec.analysis.metrics[1].interval: must match ^[0-9]+(m|s), got "soon"',
    ],
    ['spec.analysis.metrics.0.name', undefined, 'spec.analysis.metrics[0].name: is required'],
    [
      'spec.analysis.metrics.0.thresholdRange.min',
      '99',
      'spec.analysis.metrics[0].thresholdRange.min: must be a number, got "99"',
    ],
    ['spec.analysis.webhooks.1.timeout', '5', 'spec.analysis.webhooks[1].timeout: must match ^[0-9]+(m|s), got "5"'],
    [
      'spec.analysis.webhooks.1.url',
      'loadtester',
      'spec.analysis.webhooks[1].url: must be an absolute URL, got "loadtester"',
    ],
    [
      'spec.analysis.webhooks.1.type',
      'pre',
      'spec.analysis.webhooks[1].type: must be one of "", "confirm-rollout", "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event", "rollback", "confirm-traffic-increase", got "pre"',
    ],
    ['spec.analysis.webhooks.0.metadata.cmd', 5, 'spec.analysis.webhooks[0].metadata.cmd: must be a string, got 5'],
    ['spec.analysis.webhooks.0.headersSecretRef', {}, 'spec.analysis.webhooks[0].headersSecretRef.name: is required'],
    [
      'spec.analysis.webhooks.0.headersSecretRef',
      'auth',
      'spec.analysis.webhooks[0].headersSecretRef: must be an object, got "auth"',
    ],
    [
      'spec.analysis.alerts.0.severity',
      'critical',
      'spec.analysis.alerts[0].severity: must be one of "", "info", "warn", "error", got "critical"',
    ],
    ['spec.analysis.alerts.0.providerRef', undefined, 'spec.analysis.alerts[0].providerRef: is required'],
    ['spec.service.port', undefined, 'spec.service.port: is required'],
    ['spec.service.targetPort', 1.5, 'spec.service.targetPort: must be an integer or a string, got 1.5'],
    [
      'spec.service.trafficDistribution',
      'Nearby',
      'spec.service.trafficDistribution: must be one of "PreferClose", "PreferSameZone", "PreferSameNode", got "Nearby"',
    ],
    [
      'spec.service.trafficPolicy.tls.mode',
      'STRICT',
      'spec.service.trafficPolicy.tls.mode: must be one of "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", got "STRICT"',
    ],
    ['spec.service.hosts', 'app.example.com', 'spec.service.hosts: must be an array, got "app.example.com"'],
    [
      'spec.autoscalerRef.kind',
      'VerticalPodAutoscaler',
      'spec.autoscalerRef.kind: must be one of "HorizontalPodAutoscaler", "ScaledObject", got "VerticalPodAutoscaler"',
    ],
    [
      'spec.autoscalerRef.primaryScalerReplicas',
      { minReplicas: 0 },
      'spec.autoscalerRef.primaryScalerReplicas.minReplicas: must be greater than or equal to 1, got 0',
    ],
    ['spec.progressDeadlineSeconds', '60s', 'spec.progressDeadlineSeconds: must be an integer, got "60s"'],
    ['spec.skipAnalysis', 'true', 'spec.skipAnalysis: must be a boolean, got "true"'],
    [
      'spec.ingressRef',
      { apiVersion: 'v1', kind: 'Service', name: 'x' },
      'spec.ingressRef.kind: must be one of "Ingress", got "Service"',
    ],
  ])('rejects %s = %j', (path, value, message) => {
    expect(rejectCanary(path, value)).toBe(message);
  });

  it('rejects an unknown provider naming every supported one', () => {
    const message = rejectCanary('spec.provider', 'bogus');
    expect(message).toMatch(/^spec\.provider: must be one of "apisix", "appmesh", .*"traefik", got "bogus"$/);
  });

  describe('analysis oneOf [interval, threshold] + one of iterations, stepWeight, stepWeights', () => {
    const sets =
      '[interval, threshold, iterations] | [interval, threshold, stepWeight] | [interval, threshold, stepWeights]';

    it('rejects an analysis matching none', () => {
      expect(rejectCanary('spec.analysis.stepWeight', undefined)).toBe(
        `spec.analysis: must set exactly one of the field sets ${sets}; none is complete`,
      );
      expect(rejectCanary('spec.analysis.threshold', undefined)).toContain('none is complete');
      expect(rejectCanary('spec.analysis.interval', undefined)).toContain('none is complete');
    });

    it('rejects an analysis matching two', () => {
      expect(rejectCanary('spec.analysis.iterations', 10)).toBe(
        `spec.analysis: must set exactly one of the field sets ${sets}; [interval, threshold, iterations] and [interval, threshold, stepWeight] are all complete`,
      );
      expect(rejectCanary('spec.analysis.stepWeights', [10, 20])).toContain('are all complete');
    });
  });

  describe('checks Flagger makes in code', () => {
    it.each([[[10, 5]], [[10, 10]], [[0, 10]], [[50, 101]]])('rejects stepWeights %j', (steps) => {
      expect(rejectCanary('spec.analysis.stepWeights', steps, 'stepWeights')).toBe(
        `spec.analysis.stepWeights: invalid stepWeights [${steps.join(', ')}]: weights must be strictly increasing and within 1..100`,
      );
    });

    it('accepts increasing stepWeights ending at 100', () => {
      const canary = parseCanary(withField(example('stepWeights'), 'spec.analysis.stepWeights', [1, 50, 100]));
      expect(canary.spec.analysis?.stepWeights).toEqual([1, 50, 100]);
    });

    it.each([101, -5])('rejects maxWeight %d', (max) => {
      expect(rejectCanary('spec.analysis.maxWeight', max)).toMatch(
        /^spec\.analysis\.maxWeight: must be (greater|less) than or equal to (0|100), got -?\d+$/,
      );
    });

    it('accepts maxWeight 0, which Flagger reads as 100', () => {
      const canary = parseCanary(withField(example('istioCanary'), 'spec.analysis.maxWeight', 0));
      expect(canary.spec.analysis?.maxWeight).toBe(0);
    });

    it('rejects a primary cookie named like the canary cookie', () => {
      expect(rejectCanary('spec.analysis.sessionAffinity.primaryCookieName', 'flagger-cookie', 'gatewayApi')).toBe(
        'spec.analysis.sessionAffinity.primaryCookieName: must differ from cookieName "flagger-cookie"',
      );
    });

    it('requires the session affinity cookie name', () => {
      expect(rejectCanary('spec.analysis.sessionAffinity.cookieName', undefined, 'gatewayApi')).toBe(
        'spec.analysis.sessionAffinity.cookieName: is required',
      );
    });
  });

  describe('service routing rules of the CRD', () => {
    it('rejects a string match with two operators', () => {
      expect(rejectCanary('spec.service.match.0.uri', { exact: '/', prefix: '/api' }, 'abTesting')).toBe(
        'spec.service.match[0].uri: must set at most one of exact, prefix, regex, got exact, prefix',
      );
    });

    it('rejects an A/B header match without an operator and accepts suffix', () => {
      expect(rejectCanary('spec.analysis.match.0.headers.x-canary', {}, 'abTesting')).toBe(
        'spec.analysis.match[0].headers.x-canary: must set exactly one of exact, prefix, suffix, regex, got none',
      );
      const ok = parseCanary(
        withField(example('abTesting'), 'spec.analysis.match.0.headers.x-canary', { suffix: 'x' }),
      );
      expect(ok.spec.analysis?.match?.[0]?.headers?.['x-canary']).toEqual({ suffix: 'x' });
    });

    it('names odd map keys with brackets', () => {
      expect(rejectCanary('spec.analysis.match.0.headers', { 'x.canary': { exact: 1 } }, 'abTesting')).toBe(
        'spec.analysis.match[0].headers["x.canary"].exact: must be a string, got 1',
      );
    });

    it('rejects a load balancer with both simple and consistentHash', () => {
      const lb = { simple: 'ROUND_ROBIN', consistentHash: { useSourceIp: true } };
      expect(rejectCanary('spec.service.trafficPolicy.loadBalancer', lb)).toBe(
        'spec.service.trafficPolicy.loadBalancer: must set exactly one of simple, consistentHash, got simple, consistentHash',
      );
    });

    it('requires a port on a Service mirror backend', () => {
      expect(rejectCanary('spec.service.mirror.0.backendRef.port', undefined, 'gatewayApi')).toBe(
        'spec.service.mirror[0].backendRef: must have port for Service reference',
      );
      const other = withField(example('gatewayApi'), 'spec.service.mirror.0.backendRef', {
        group: 'example.io',
        kind: 'Backend',
        name: 'shadow',
      });
      expect(parseCanary(other).spec.service?.mirror?.[0]?.backendRef.name).toBe('shadow');
    });

    it('applies Gateway API name rules to gatewayRefs', () => {
      expect(rejectCanary('spec.service.gatewayRefs.0.namespace', 'Istio_Ingress', 'gatewayApi')).toBe(
        'spec.service.gatewayRefs[0].namespace: must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, got "Istio_Ingress"',
      );
      const many = Array.from({ length: 33 }, (_, i) => ({ name: `gw-${i}` }));
      expect(rejectCanary('spec.service.gatewayRefs', many, 'gatewayApi')).toBe(
        'spec.service.gatewayRefs: must have at most 32 items, got 33',
      );
    });
  });

  describe('status', () => {
    it.each([
      [
        'status.phase',
        'Done',
        'status.phase: must be one of "", "Initializing", "Initialized", "Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising", "Succeeded", "Failed", "Terminating", "Terminated", got "Done"',
      ],
      ['status.canaryWeight', '10', 'status.canaryWeight: must be an integer, got "10"'],
      [
        'status.lastTransitionTime',
        'yesterday',
        'status.lastTransitionTime: must be an RFC 3339 date-time, got "yesterday"',
      ],
      [
        'status.conditions.0.status',
        'Yes',
        'status.conditions[0].status: must be one of "True", "False", "Unknown", got "Yes"',
      ],
      ['status.conditions.0.reason', undefined, 'status.conditions[0].reason: is required'],
      ['status.checks.0.kind', 'probe', 'status.checks[0].kind: must be one of "metric", "webhook", got "probe"'],
      ['status.checks.1.passed', undefined, 'status.checks[1].passed: is required'],
    ])('rejects %s = %j', (path, value, message) => {
      expect(rejectCanary(path, value, 'withStatus')).toBe(message);
    });

    it('accepts any condition type', () => {
      const canary = parseCanary(withField(example('withStatus'), 'status.conditions.1.type', 'Stalled'));
      expect(canary.status?.conditions?.[1]?.type).toBe('Stalled');
    });
  });
});

describe('parseMetricTemplate', () => {
  it('accepts a Prometheus template', () => {
    const template = parseMetricTemplate(example('metricTemplate'));
    expect(template.kind).toBe('MetricTemplate');
    expect(template.spec.provider).toEqual({
      type: 'prometheus',
      address: 'http://prometheus.istio-system:9090',
      headers: { 'X-Scope-OrgID': ['tenant-1'] },
    });
    expect(template.spec.query).toContain('histogram_quantile');
  });

  it.each([
    [
      'spec.provider.type',
      'graphana',
      'spec.provider.type: must be one of "prometheus", "influxdb", "datadog", "externalmetrics", "stackdriver", "cloudwatch", "newrelic", "graphite", "dynatrace", "keptn", "splunk", got "graphana"',
    ],
    ['spec.query', undefined, 'spec.query: is required'],
    ['spec.provider.secretRef', { key: 'x' }, 'spec.provider.secretRef.name: is required'],
    ['spec.provider.headers', { a: 'b' }, 'spec.provider.headers.a: must be an array, got "b"'],
  ])('rejects %s = %j', (path, value, message) => {
    expect(validationError(() => parseMetricTemplate(withField(example('metricTemplate'), path, value))).message).toBe(
      message,
    );
  });
});

describe('parseAlertProvider', () => {
  it('accepts a provider with a secretRef or an address', () => {
    expect(parseAlertProvider(example('alertProvider')).spec).toEqual({
      type: 'slack',
      channel: 'on-call-alerts',
      username: 'flagger',
      secretRef: { name: 'on-call-url' },
    });
    const byAddress = withField(
      withField(example('alertProvider'), 'spec.secretRef', undefined),
      'spec.address',
      'https://hooks.slack.com/services/T/B/X',
    );
    expect(parseAlertProvider(byAddress).spec.address).toBe('https://hooks.slack.com/services/T/B/X');
  });

  it('requires exactly one of address and secretRef', () => {
    const sets = '[type, address] | [type, secretRef]';
    const both = withField(example('alertProvider'), 'spec.address', 'https://hooks.slack.com/x');
    expect(validationError(() => parseAlertProvider(both)).message).toBe(
      `spec: must set exactly one of the field sets ${sets}; [type, address] and [type, secretRef] are all complete`,
    );
    const neither = withField(example('alertProvider'), 'spec.secretRef', undefined);
    expect(validationError(() => parseAlertProvider(neither)).message).toBe(
      `spec: must set exactly one of the field sets ${sets}; none is complete`,
    );
  });

  it('rejects an unknown type', () => {
    const bad = withField(example('alertProvider'), 'spec.type', 'pagerduty');
    expect(validationError(() => parseAlertProvider(bad)).message).toBe(
      'spec.type: must be one of "slack", "msteams", "discord", "rocket", "gchat", "webhook", got "pagerduty"',
    );
  });
});

describe('examples', () => {
  it('are all exercised by a test', () => {
    expect(Object.keys(exampleManifests).sort()).toEqual([...canaryExamples, 'metricTemplate', 'alertProvider'].sort());
  });
});

describe('Fledge metric extensions', () => {
  it('reads noData and dryRun', () => {
    const c = parseCanary(
      withField(
        withField(example('istioCanary'), 'spec.analysis.metrics.0.noData', 'skip'),
        'spec.analysis.metrics.0.dryRun',
        true,
      ),
    );
    expect(c.spec.analysis?.metrics?.[0]).toMatchObject({ noData: 'skip', dryRun: true });
    expect(c.spec.analysis?.metrics?.[1]).not.toHaveProperty('noData');
  });

  it('rejects an unknown noData policy and a non-boolean dryRun', () => {
    expect(rejectCanary('spec.analysis.metrics.0.noData', 'ignore')).toBe(
      'spec.analysis.metrics[0].noData: must be one of "fail", "pass", "skip", got "ignore"',
    );
    expect(rejectCanary('spec.analysis.metrics.1.dryRun', 'yes')).toBe(
      'spec.analysis.metrics[1].dryRun: must be a boolean, got "yes"',
    );
  });

  it('reads minSamples on builtin metrics, with or without sampleQuery', () => {
    const c = parseCanary(
      withField(
        withField(example('istioCanary'), 'spec.analysis.metrics.0.minSamples', 100),
        'spec.analysis.metrics.1.sampleQuery',
        'sum(increase(x[{{ interval }}]))',
      ),
    );
    expect(c.spec.analysis?.metrics?.[0]).toMatchObject({ name: 'request-success-rate', minSamples: 100 });
    expect(c.spec.analysis?.metrics?.[0]).not.toHaveProperty('sampleQuery');
    expect(c.spec.analysis?.metrics?.[1]).toMatchObject({ sampleQuery: 'sum(increase(x[{{ interval }}]))' });
  });

  it('requires sampleQuery with minSamples on templateRef and query metrics', () => {
    // metrics[2] of the example is the templateRef metric "latency".
    expect(rejectCanary('spec.analysis.metrics.2.minSamples', 50)).toBe(
      'spec.analysis.metrics[2].sampleQuery: is required with minSamples for metric "latency": only the builtin request-success-rate and request-duration have a sample-count query of their own',
    );
    const inline = withField(
      withField(example('istioCanary'), 'spec.analysis.metrics.0.query', 'up'),
      'spec.analysis.metrics.0.minSamples',
      1,
    );
    expect(validationError(() => parseCanary(inline)).message).toMatch(
      /^spec\.analysis\.metrics\[0\]\.sampleQuery: is required/,
    );
    // minSamples 0 is off and needs nothing; with a sampleQuery, any metric may set it.
    expect(() => parseCanary(withField(example('istioCanary'), 'spec.analysis.metrics.2.minSamples', 0))).not.toThrow();
    const ok = withField(
      withField(example('istioCanary'), 'spec.analysis.metrics.2.minSamples', 50),
      'spec.analysis.metrics.2.sampleQuery',
      'count',
    );
    expect(parseCanary(ok).spec.analysis?.metrics?.[2]).toMatchObject({ minSamples: 50, sampleQuery: 'count' });
  });

  it('rejects a negative or fractional minSamples', () => {
    expect(rejectCanary('spec.analysis.metrics.0.minSamples', -1)).toMatch(
      /^spec\.analysis\.metrics\[0\]\.minSamples: /,
    );
    expect(rejectCanary('spec.analysis.metrics.0.minSamples', 1.5)).toBe(
      'spec.analysis.metrics[0].minSamples: must be an integer, got 1.5',
    );
  });

  it('keeps the rendered query of a status check', () => {
    const c = parseCanary(withField(example('withStatus'), 'status.checks.0.query', 'sum(rate(x[1m]))'));
    expect(c.status?.checks?.[0]).toMatchObject({ name: 'request-success-rate', query: 'sum(rate(x[1m]))' });
    expect(c.status?.checks?.[1]).not.toHaveProperty('query');
  });
});
