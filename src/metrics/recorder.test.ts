import { describe, expect, it } from 'vitest';
import type { Canary, CanaryAnalysis } from '../apis/flagger/v1beta1/types.ts';
import { PromRecorder, statusValue } from './recorder.ts';

function newCanary(analysis: CanaryAnalysis = { stepWeight: 10 }): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'my-canary', namespace: 'test' },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, analysis },
  };
}

/** The sample lines of the exposition text (no HELP/TYPE comments). */
async function samples(r: PromRecorder): Promise<string[]> {
  return (await r.registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('PromRecorder', () => {
  it('exposes Flagger metric names, types and help texts', async () => {
    const text = await new PromRecorder().registry.metrics();
    for (const line of [
      '# TYPE flagger_info gauge',
      '# TYPE flagger_canary_total gauge',
      '# TYPE flagger_canary_status gauge',
      '# TYPE flagger_canary_weight gauge',
      '# TYPE flagger_canary_duration_seconds histogram',
      '# TYPE flagger_canary_metric_analysis gauge',
      '# TYPE flagger_canary_successes_total counter',
      '# TYPE flagger_canary_failures_total counter',
      '# HELP flagger_canary_status Last canary analysis result',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('labels per-canary series with the target name, as Flagger', async () => {
    const r = new PromRecorder();
    r.setInfo('1.2.3', 'kubernetes');
    r.setTotal('test', 3);
    r.setStatus(newCanary(), 'Failed');
    r.setWeight(newCanary(), 70, 30);
    r.setMetricValue(newCanary(), 'request-success-rate', 99.5);
    r.incResult(newCanary(), 'success', 'completed');
    r.incResult(newCanary({ iterations: 5 }), 'failure', 'skipped');
    expect(await samples(r)).toEqual(
      expect.arrayContaining([
        'flagger_info{version="1.2.3",mesh_provider="kubernetes"} 1',
        'flagger_canary_total{namespace="test"} 3',
        'flagger_canary_status{name="podinfo",namespace="test"} 2',
        'flagger_canary_weight{workload="podinfo-primary",namespace="test"} 70',
        'flagger_canary_weight{workload="podinfo",namespace="test"} 30',
        'flagger_canary_metric_analysis{name="podinfo",namespace="test",metric="request-success-rate"} 99.5',
        'flagger_canary_successes_total{name="podinfo",namespace="test",deployment_strategy="canary",analysis_status="completed"} 1',
        'flagger_canary_failures_total{name="podinfo",namespace="test",deployment_strategy="blue-green",analysis_status="skipped"} 1',
      ]),
    );
  });

  it('maps phases to 0 Progressing, 2 Failed, 1 otherwise', () => {
    expect(statusValue('Progressing')).toBe(0);
    expect(statusValue('Failed')).toBe(2);
    for (const phase of ['Succeeded', 'Initialized', 'Waiting', 'WaitingPromotion', 'Promoting', ''] as const) {
      expect(statusValue(phase)).toBe(1);
    }
  });

  it('observes durations in the Go default buckets', async () => {
    const r = new PromRecorder();
    r.setDuration(newCanary(), 0.3);
    const lines = await samples(r);
    expect(lines).toContain('flagger_canary_duration_seconds_bucket{le="0.25",name="podinfo",namespace="test"} 0');
    expect(lines).toContain('flagger_canary_duration_seconds_bucket{le="0.5",name="podinfo",namespace="test"} 1');
    expect(lines).toContain('flagger_canary_duration_seconds_bucket{le="10",name="podinfo",namespace="test"} 1');
    expect(lines).toContain('flagger_canary_duration_seconds_count{name="podinfo",namespace="test"} 1');
  });

  it('keeps registries apart and forgets a deleted canary', async () => {
    const a = new PromRecorder();
    const b = new PromRecorder();
    a.setStatus(newCanary(), 'Progressing');
    a.setWeight(newCanary(), 100, 0);
    a.setMetricValue(newCanary(), 'latency', 1);
    expect((await samples(b)).some((l) => l.includes('podinfo'))).toBe(false);
    a.forget(newCanary());
    expect((await samples(a)).filter((l) => l.includes('podinfo'))).toEqual([]);
  });
});
