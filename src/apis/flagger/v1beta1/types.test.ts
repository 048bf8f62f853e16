import { describe, expect, expectTypeOf, it } from 'vitest';
import type { KubeObject } from '../../../kube/objects.ts';
import { Resources } from '../../../kube/resources.ts';
import { example } from './examples.fixture.ts';
import { parseCanary } from './parse.ts';
import {
  ALERT_PROVIDER_KIND,
  API_GROUP,
  API_VERSION,
  CANARY_KIND,
  FINALIZER,
  isAlertProviderType,
  isAlertSeverity,
  isAutoscalerKind,
  isCanaryPhase,
  isMeshProvider,
  isMetricProviderType,
  isTargetKind,
  isWebhookType,
  memberOf,
  METRIC_TEMPLATE_KIND,
  VERSION,
} from './types.ts';
import type { AlertProvider, Canary, MeshProvider, MetricTemplate } from './types.ts';

describe('type guards', () => {
  it.each<[string, (v: unknown) => boolean, unknown, unknown]>([
    ['isMeshProvider', isMeshProvider, 'gatewayapi:v1', 'gatewayapi'],
    ['isTargetKind', isTargetKind, 'DaemonSet', 'StatefulSet'],
    ['isAutoscalerKind', isAutoscalerKind, 'ScaledObject', 'VerticalPodAutoscaler'],
    ['isMetricProviderType', isMetricProviderType, 'datadog', 'Prometheus'],
    ['isAlertProviderType', isAlertProviderType, 'msteams', 'teams'],
    ['isWebhookType', isWebhookType, '', 'pre'],
    ['isCanaryPhase', isCanaryPhase, 'WaitingPromotion', 'Done'],
    ['isAlertSeverity', isAlertSeverity, 'warn', 'warning'],
  ])('%s accepts members only', (_name, guard, member, other) => {
    expect(guard(member)).toBe(true);
    expect(guard(other)).toBe(false);
    expect(guard(undefined)).toBe(false);
    expect(guard(1)).toBe(false);
  });

  it('narrow unknown values to the union', () => {
    const value: unknown = 'linkerd';
    if (!isMeshProvider(value)) throw new Error('expected a provider');
    expectTypeOf(value).toEqualTypeOf<MeshProvider>();
    expect(memberOf(['a', 'b'])('b')).toBe(true);
  });
});

describe('names', () => {
  it('match Flagger and the kube resource table', () => {
    expect(API_GROUP).toBe('flagger.app');
    expect(VERSION).toBe('v1beta1');
    expect(API_VERSION).toBe(`${API_GROUP}/${VERSION}`);
    expect(FINALIZER).toBe('finalizer.flagger.app');
    expect(Resources.canary).toMatchObject({ apiVersion: API_VERSION, kind: CANARY_KIND });
    expect(Resources.metricTemplate).toMatchObject({ apiVersion: API_VERSION, kind: METRIC_TEMPLATE_KIND });
    expect(Resources.alertProvider).toMatchObject({ apiVersion: API_VERSION, kind: ALERT_PROVIDER_KIND });
  });

  it('parsed objects can be handed to the KubeClient port as KubeObjects', () => {
    expectTypeOf<Canary>().toExtend<KubeObject>();
    expectTypeOf<MetricTemplate>().toExtend<KubeObject>();
    expectTypeOf<AlertProvider>().toExtend<KubeObject>();
    const obj: KubeObject = parseCanary(example('blueGreen'));
    expect(obj.metadata.name).toBe('podinfo');
  });
});
