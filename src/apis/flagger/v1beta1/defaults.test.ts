import { describe, expect, it } from 'vitest';
import {
  alertChannel,
  alertUsername,
  analysisIntervalMs,
  analysisOf,
  canaryReadyThreshold,
  deploymentStrategy,
  isKnativeTarget,
  maxWeight,
  metricInterval,
  metricIntervalDefault,
  parseDuration,
  primaryReadyThreshold,
  progressDeadlineSeconds,
  providerOf,
  serviceNames,
  servicePortName,
  serviceTargetPort,
  sessionAffinityMaxAge,
  skipAnalysis,
  threshold,
  webhookTimeoutMs,
} from './defaults.ts';
import { ValidationError } from './errors.ts';
import { example, minimalCanary } from './examples.fixture.ts';
import { parseAlertProvider, parseCanary } from './parse.ts';
import type { AlertProvider, CanaryAnalysis } from './types.ts';

const canary = minimalCanary;

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['250us', 0.25],
    ['-2s', -2000],
    ['0', 0],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '10', 's', '1d', '10sec', '1m 30s', '-', 'abc'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(ValidationError);
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}`);
  });
});

describe('analysisOf', () => {
  it('prefers analysis over the deprecated canaryAnalysis', () => {
    const current: CanaryAnalysis = { interval: '1m', threshold: 1, stepWeight: 5 };
    const legacy: CanaryAnalysis = { interval: '2m', threshold: 2, stepWeight: 10 };
    expect(analysisOf(canary(current, { canaryAnalysis: legacy }))).toBe(current);
    expect(analysisOf(canary(undefined, { canaryAnalysis: legacy }))).toBe(legacy);
    expect(analysisOf(canary(undefined))).toBeUndefined();
  });
});

describe('analysisIntervalMs', () => {
  it.each([
    [undefined, 60_000],
    ['', 60_000],
    ['30s', 30_000],
    ['2m', 120_000],
    ['5s', 10_000],
    ['0s', 10_000],
    ['10sec', 60_000],
  ])('interval %j → %d ms', (interval, ms) => {
    const analysis: CanaryAnalysis = interval === undefined ? {} : { interval };
    expect(analysisIntervalMs(canary(analysis))).toBe(ms);
  });

  it('is 60s without any analysis', () => {
    expect(analysisIntervalMs(canary(undefined))).toBe(60_000);
  });
});

describe('threshold', () => {
  it.each([
    [undefined, 1],
    [0, 1],
    [-3, 1],
    [5, 5],
  ])('threshold %j → %d', (t, want) => {
    expect(threshold(canary(t === undefined ? {} : { threshold: t }))).toBe(want);
  });
});

describe('maxWeight', () => {
  it.each<[CanaryAnalysis | undefined, number]>([
    [undefined, 100],
    [{}, 100],
    [{ maxWeight: 0 }, 100],
    [{ maxWeight: 50 }, 50],
    [{ stepWeights: [10, 20, 60], maxWeight: 30 }, 60],
    [{ stepWeights: [50, 150] }, 100],
    [{ stepWeights: [], maxWeight: 40 }, 40],
  ])('%j → %d', (analysis, want) => {
    expect(maxWeight(canary(analysis))).toBe(want);
  });
});

describe('progressDeadlineSeconds', () => {
  it('defaults to 600', () => {
    expect(progressDeadlineSeconds(canary({}))).toBe(600);
    expect(progressDeadlineSeconds(canary({}, { progressDeadlineSeconds: 60 }))).toBe(60);
  });
});

describe('serviceNames', () => {
  it('derives primary and canary names from the apex, which defaults to the target name', () => {
    expect(serviceNames(canary({}))).toEqual({ apex: 'podinfo', primary: 'podinfo-primary', canary: 'podinfo-canary' });
    expect(serviceNames(canary({}, { service: { port: 80, name: 'frontend' } }))).toEqual({
      apex: 'frontend',
      primary: 'frontend-primary',
      canary: 'frontend-canary',
    });
    expect(serviceNames(canary({}, { service: { port: 80, name: '' } })).apex).toBe('podinfo');
  });
});

describe('deploymentStrategy', () => {
  it.each<[CanaryAnalysis | undefined, string]>([
    [undefined, 'canary'],
    [{ stepWeight: 10 }, 'canary'],
    [{ iterations: 0, match: [{ headers: { x: { exact: 'y' } } }] }, 'canary'],
    [{ iterations: 10 }, 'blue-green'],
    [{ iterations: 10, match: [] }, 'blue-green'],
    [{ iterations: 10, match: [{ headers: { x: { exact: 'y' } } }] }, 'ab-testing'],
  ])('%j → %s', (analysis, want) => {
    expect(deploymentStrategy(canary(analysis))).toBe(want);
  });

  it('matches the documentation examples', () => {
    expect(deploymentStrategy(parseCanary(example('istioCanary')))).toBe('canary');
    expect(deploymentStrategy(parseCanary(example('abTesting')))).toBe('ab-testing');
    expect(deploymentStrategy(parseCanary(example('blueGreen')))).toBe('blue-green');
  });
});

describe('skipAnalysis', () => {
  it('is true with skipAnalysis or without any analysis', () => {
    expect(skipAnalysis(canary({ stepWeight: 10 }))).toBe(false);
    expect(skipAnalysis(canary({ stepWeight: 10 }, { skipAnalysis: true }))).toBe(true);
    expect(skipAnalysis(canary(undefined))).toBe(true);
    expect(skipAnalysis(canary(undefined, { canaryAnalysis: { stepWeight: 1 } }))).toBe(false);
  });
});

describe('small defaults', () => {
  it('providerOf prefers spec.provider', () => {
    expect(providerOf(canary({}), 'istio')).toBe('istio');
    expect(providerOf(canary({}, { provider: 'linkerd' }), 'istio')).toBe('linkerd');
  });

  it('isKnativeTarget needs kind Service in serving.knative.dev', () => {
    expect(isKnativeTarget(parseCanary(example('knative')))).toBe(true);
    const plainService = canary({}, { targetRef: { apiVersion: 'v1', kind: 'Service', name: 'x' } });
    expect(isKnativeTarget(plainService)).toBe(false);
    expect(isKnativeTarget(canary({}))).toBe(false);
  });

  it('service port name defaults to http and target port to port', () => {
    expect(servicePortName(canary({}))).toBe('http');
    expect(servicePortName(canary({}, { service: { port: 80, portName: 'grpc' } }))).toBe('grpc');
    expect(serviceTargetPort(canary({}))).toBeUndefined();
    expect(serviceTargetPort(canary({}, { service: { port: 80 } }))).toBe(80);
    expect(serviceTargetPort(canary({}, { service: { port: 80, targetPort: 'http' } }))).toBe('http');
    expect(serviceTargetPort(canary({}, { service: { port: 80, targetPort: 9898 } }))).toBe(9898);
  });

  it('ready thresholds default to 100', () => {
    expect(primaryReadyThreshold(canary({}))).toBe(100);
    expect(canaryReadyThreshold(canary(undefined))).toBe(100);
    expect(primaryReadyThreshold(canary({ primaryReadyThreshold: 50 }))).toBe(50);
    expect(canaryReadyThreshold(canary({ canaryReadyThreshold: 80 }))).toBe(80);
  });

  it('metric interval defaults to 1m', () => {
    expect(metricIntervalDefault).toBe('1m');
    expect(metricInterval({ name: 'request-success-rate' })).toBe('1m');
    expect(metricInterval({ name: 'request-success-rate', interval: '30s' })).toBe('30s');
  });

  it('session affinity max age defaults to one day', () => {
    expect(sessionAffinityMaxAge({ cookieName: 'c' })).toBe(86_400);
    expect(sessionAffinityMaxAge({ cookieName: 'c', maxAge: 60 })).toBe(60);
  });

  it('alert channel and username default to general and flagger', () => {
    const bare: AlertProvider = parseAlertProvider({
      metadata: { name: 'slack' },
      spec: { type: 'slack', address: 'https://hooks.slack.com/x' },
    });
    expect(alertChannel(bare)).toBe('general');
    expect(alertUsername(bare)).toBe('flagger');
    const full = parseAlertProvider(example('alertProvider'));
    expect(alertChannel(full)).toBe('on-call-alerts');
    expect(alertUsername(full)).toBe('flagger');
  });
});

describe('webhookTimeoutMs', () => {
  const hook = { name: 'load-test', url: 'http://loadtester/' };

  it('defaults to 10s when unset or shorter than 2 characters', () => {
    expect(webhookTimeoutMs(hook)).toBe(10_000);
    expect(webhookTimeoutMs({ ...hook, timeout: '5' })).toBe(10_000);
    expect(webhookTimeoutMs({ ...hook, timeout: '30s' })).toBe(30_000);
    expect(webhookTimeoutMs({ ...hook, timeout: '2m' })).toBe(120_000);
  });

  it('throws a ValidationError for an invalid duration', () => {
    expect(() => webhookTimeoutMs({ ...hook, timeout: '10sec' })).toThrow('timeout: invalid duration "10sec"');
  });
});
