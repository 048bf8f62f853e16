import { describe, expect, it } from 'vitest';
import { testCtx } from '../../http/server.fixture.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { KeptnProvider, keptnAnalysisType, keptnMetricType, parseKeptnQuery } from './keptn.ts';

const metric = (value: unknown): KubeObject => ({
  apiVersion: 'metrics.keptn.sh/v1beta1',
  kind: 'KeptnMetric',
  metadata: { name: 'error-rate', namespace: 'test' },
  spec: { provider: { name: 'prom' }, query: 'x', fetchIntervalSeconds: 10 },
  ...(value === undefined ? {} : { status: { value, rawValue: 'x', lastUpdated: '2024-03-01T10:00:00Z' } }),
});

describe('KeptnProvider', () => {
  it('reads a KeptnMetric status.value (query lower-cased like Flagger)', async () => {
    const kube = new FakeKube([metric('12.5')]);
    await expect(new KeptnProvider({ kube }).runQuery(testCtx(), 'KeptnMetric/Test/Error-Rate\n')).resolves.toBe(12.5);
  });

  it('fails on a missing or unparsable KeptnMetric', async () => {
    await expect(
      new KeptnProvider({ kube: new FakeKube() }).runQuery(testCtx(), 'keptnmetric/test/error-rate'),
    ).rejects.toThrow('could not retrieve KeptnMetric test/error-rate: not found');
    for (const bad of ['lots', '', ' 1', '0x10', '1_000']) {
      const err = await new KeptnProvider({ kube: new FakeKube([metric(bad)]) })
        .runQuery(testCtx(), 'keptnmetric/test/error-rate')
        .catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(ProviderError);
      expect(err, bad).not.toBeInstanceOf(NoValuesFoundError);
      expect(String(err)).toContain('could not parse value of KeptnMetric test/error-rate to float');
    }
  });

  // A KeptnMetric holds one value (no series): its empty and NaN shapes are the missing status or
  // value, and Keptn's formatting of a NaN float.
  it.each([
    ['no status', metric(undefined)],
    ['a status without value', { ...metric('1'), status: { rawValue: '', lastUpdated: '2024-03-01T10:00:00Z' } }],
    ['a null value', metric(null)],
    ['the value NaN', metric('NaN')],
    ['the value nan', metric('nan')],
  ])('reports a KeptnMetric with %s as no values (Flagger: an error, or NaN)', async (_name, obj) => {
    const err = await new KeptnProvider({ kube: new FakeKube([obj]) })
      .runQuery(testCtx(), 'keptnmetric/test/error-rate')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoValuesFoundError);
  });

  it('reads values as Go strconv.ParseFloat does', async () => {
    for (const [raw, expected] of [
      ['-1.5e3', -1500],
      ['.5', 0.5],
      ['7.', 7],
      ['+Inf', Infinity],
      ['-infinity', -Infinity],
    ] as const) {
      const kube = new FakeKube([metric(raw)]);
      await expect(new KeptnProvider({ kube }).runQuery(testCtx(), 'keptnmetric/test/error-rate'), raw).resolves.toBe(
        expected,
      );
    }
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('creates an Analysis, waits until Completed (pass=%s → %d) and deletes it', async (pass, expected) => {
    const kube = new FakeKube();
    let polls = 0;
    const sleep = (): Promise<void> => {
      polls++;
      const created = kube.writes({ verb: 'create' })[0];
      const name = (created?.key ?? '').split('/')[1] ?? '';
      if (polls === 2) kube.setStatus(keptnAnalysisType, { namespace: 'test', name }, { state: 'Completed', pass });
      return Promise.resolve();
    };
    const value = await new KeptnProvider({ kube, sleep }).runQuery(testCtx(), 'analysis/test/my-def/5m/a=1;b=2;bad');
    expect(value).toBe(expected);
    const [create] = kube.writes({ verb: 'create' });
    const obj = create?.body as KubeObject & { spec?: unknown };
    expect(obj.kind).toBe('Analysis');
    expect(obj.metadata.name).toMatch(/^my-def-[0-9a-f]{6}$/);
    expect(obj.spec).toEqual({
      analysisDefinition: { name: 'my-def' },
      timeframe: { recent: '5m' },
      args: { a: '1', b: '2' },
    });
    expect(kube.writes({ verb: 'delete' })).toHaveLength(1);
    expect(kube.peek(keptnAnalysisType, { namespace: 'test', name: obj.metadata.name })).toBeUndefined();
  });

  it('times out, deleting the Analysis', async () => {
    const kube = new FakeKube();
    let t = 0;
    const provider = new KeptnProvider({
      kube,
      sleep: () => {
        t += 1000;
        return Promise.resolve();
      },
      now: () => t,
    });
    await expect(provider.runQuery(testCtx(), 'analysis/test/slow')).rejects.toThrow(
      'encountered timeout while waiting for Keptn Analysis test/slow to be finished',
    );
    expect(kube.writes({ verb: 'delete' })).toHaveLength(1);
    await expect(provider.isOnline()).resolves.toBe(true);
  });

  it('parses queries like Flagger', () => {
    expect(parseKeptnQuery('analysis/ns/def')).toEqual({
      kind: 'analysis',
      namespace: 'ns',
      name: 'def',
      duration: '1m',
      args: {},
    });
    expect(() => parseKeptnQuery('keptnmetric/ns')).toThrow('unexpected query format');
    expect(() => parseKeptnQuery('pods/ns/x')).toThrow('unexpected resource kind');
    expect(keptnMetricType.plural).toBe('keptnmetrics');
  });
});
