import { describe, expect, it } from 'vitest';
import type { Canary, CanaryPhase, CanaryWebhook } from '../apis/flagger/v1beta1/types.ts';
import { type HttpClient, type HttpRequest, HttpNetworkError } from '../http/client.ts';
import { testCtx } from '../http/server.fixture.ts';
import { AnalysisChecks } from './checks.ts';
import type { MetricChecker, MetricEvaluation } from './metric-checks.ts';
import type { EventSink, Recorder } from './ports.ts';

interface Sent {
  readonly hook: string;
  readonly phase: string;
}

/** An HttpClient double: hooks are addressed as `http://hooks/<name>` and answer `statuses[name]` (default 200). */
function fakeHttp(statuses: Record<string, number | 'down'> = {}): HttpClient & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    request(_ctx, req: HttpRequest) {
      const name = new URL(req.url).pathname.slice(1);
      const body = JSON.parse(req.body ?? '{}') as { phase: string };
      sent.push({ hook: name, phase: body.phase });
      const status = statuses[name] ?? 200;
      if (status === 'down')
        return Promise.reject(new HttpNetworkError(`POST http://hooks failed: connect ECONNREFUSED`, 'ECONNREFUSED'));
      return Promise.resolve({ status, statusText: '', headers: {}, body: status >= 300 ? 'nope' : '' });
    },
  };
}

interface Recorded {
  readonly type: string;
  readonly message: string;
}

function fakeEvents(): EventSink & { events: Recorded[] } {
  const events: Recorded[] = [];
  return {
    events,
    event(_ctx, _canary, type, message) {
      events.push({ type, message });
      return Promise.resolve();
    },
    alert() {
      return Promise.reject(new Error('checks must not alert'));
    },
  };
}

function fakeRecorder(): Recorder & { values: [string, number][] } {
  const values: [string, number][] = [];
  return {
    values,
    setStatus: () => undefined,
    setWeight: () => undefined,
    setDuration: () => undefined,
    incResult: () => undefined,
    setMetricValue: (_c, metric, value) => {
      values.push([metric, value]);
    },
  };
}

function fakeMetrics(evaluations: MetricEvaluation[] = [], availability?: string): MetricChecker & { calls: number } {
  const m = {
    calls: 0,
    evaluate: () => {
      m.calls++;
      return Promise.resolve(evaluations);
    },
    availability: () => Promise.resolve(availability),
  };
  return m;
}

const hook = (name: string, type?: CanaryWebhook['type'], extra: Partial<CanaryWebhook> = {}): CanaryWebhook => ({
  name,
  url: `http://hooks/${name}`,
  ...(type === undefined ? {} : { type }),
  ...extra,
});

function newCanary(webhooks: CanaryWebhook[], phase: CanaryPhase = 'Progressing'): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, analysis: { webhooks } },
    status: { phase },
  };
}

function setup(statuses: Record<string, number | 'down'> = {}, metrics = fakeMetrics()) {
  const http = fakeHttp(statuses);
  const events = fakeEvents();
  const recorder = fakeRecorder();
  const checks = new AnalysisChecks({ http, events, recorder, metrics, retryDelayMs: () => 1 });
  return { http, events, recorder, checks, metrics };
}

describe('AnalysisChecks.gate', () => {
  it('is open without hooks of the type', async () => {
    const { checks, http, events } = setup();
    await expect(checks.gate(testCtx(), newCanary([hook('pre', 'pre-rollout')]), 'confirm-rollout')).resolves.toEqual({
      open: true,
      muted: false,
    });
    expect(http.sent).toEqual([]);
    expect(events.events).toEqual([]);
  });

  it('confirm-rollout sends the current phase and records each passed hook', async () => {
    const { checks, http, events } = setup();
    const canary = newCanary([hook('a', 'confirm-rollout'), hook('b', 'confirm-rollout')], 'Succeeded');
    await expect(checks.gate(testCtx(), canary, 'confirm-rollout')).resolves.toEqual({ open: true, muted: false });
    expect(http.sent).toEqual([
      { hook: 'a', phase: 'Succeeded' },
      { hook: 'b', phase: 'Succeeded' },
    ]);
    expect(events.events).toEqual([
      { type: 'Normal', message: 'Confirm-rollout check a passed' },
      { type: 'Normal', message: 'Confirm-rollout check b passed' },
    ]);
  });

  it('confirm-rollout closes at the first closed hook, with one Event per wait', async () => {
    const { checks, http, events } = setup({ a: 403 });
    const hooks = [hook('a', 'confirm-rollout', { muteAlert: true }), hook('b', 'confirm-rollout')];
    await expect(checks.gate(testCtx(), newCanary(hooks, 'Succeeded'), 'confirm-rollout')).resolves.toEqual({
      open: false,
      muted: true,
    });
    expect(http.sent.map((s) => s.hook)).toEqual(['a']);
    expect(events.events).toEqual([
      { type: 'Warning', message: 'Halt podinfo.test advancement waiting for approval a' },
    ]);
    // Already Waiting: no new Event.
    await expect(checks.gate(testCtx(), newCanary(hooks, 'Waiting'), 'confirm-rollout')).resolves.toEqual({
      open: false,
      muted: true,
    });
    expect(events.events).toHaveLength(1);
  });

  it('confirm-promotion sends Progressing and records its halt only outside WaitingPromotion', async () => {
    const { checks, http, events } = setup({ p: 500 });
    const hooks = [hook('p', 'confirm-promotion')];
    await expect(checks.gate(testCtx(), newCanary(hooks, 'Progressing'), 'confirm-promotion')).resolves.toEqual({
      open: false,
      muted: false,
    });
    await checks.gate(testCtx(), newCanary(hooks, 'WaitingPromotion'), 'confirm-promotion');
    expect(http.sent).toEqual([
      { hook: 'p', phase: 'Progressing' },
      { hook: 'p', phase: 'Progressing' },
    ]);
    expect(events.events).toEqual([
      { type: 'Warning', message: 'Halt podinfo.test advancement waiting for promotion approval p' },
    ]);
  });

  it('confirm-traffic-increase records its halt every time', async () => {
    const { checks, events } = setup({ t: 403 });
    const canary = newCanary([hook('t', 'confirm-traffic-increase')]);
    await checks.gate(testCtx(), canary, 'confirm-traffic-increase');
    await checks.gate(testCtx(), canary, 'confirm-traffic-increase');
    expect(events.events).toEqual([
      { type: 'Warning', message: 'Halt podinfo.test advancement waiting for traffic increase approval t' },
      { type: 'Warning', message: 'Halt podinfo.test advancement waiting for traffic increase approval t' },
    ]);
  });

  it('accepts 204 from a gate', async () => {
    const { checks, events } = setup({ t: 204 });
    await expect(
      checks.gate(testCtx(), newCanary([hook('t', 'confirm-traffic-increase')]), 'confirm-traffic-increase'),
    ).resolves.toEqual({ open: true, muted: false });
    expect(events.events).toEqual([{ type: 'Normal', message: 'Confirm-traffic-increase check t passed' }]);
  });
});

describe('AnalysisChecks.preRollout', () => {
  it('runs pre-rollout hooks with Progressing and stops at the first failure', async () => {
    const { checks, http, events } = setup({ b: 500 });
    const canary = newCanary([
      hook('a', 'pre-rollout'),
      hook('b', 'pre-rollout'),
      hook('c', 'pre-rollout'),
      hook('r', 'rollout'),
    ]);
    const outcome = await checks.preRollout(testCtx(), canary);
    expect(http.sent).toEqual([
      { hook: 'a', phase: 'Progressing' },
      { hook: 'b', phase: 'Progressing' },
    ]);
    expect(events.events).toEqual([
      { type: 'Normal', message: 'Pre-rollout check a passed' },
      {
        type: 'Warning',
        message: 'Halt podinfo.test advancement pre-rollout check b failed HTTP 500 Internal Server Error: nope',
      },
    ]);
    expect(outcome).toEqual({
      passed: false,
      results: [
        { name: 'a', kind: 'webhook', passed: true, message: 'Pre-rollout check a passed' },
        {
          name: 'b',
          kind: 'webhook',
          passed: false,
          message: 'Halt podinfo.test advancement pre-rollout check b failed HTTP 500 Internal Server Error: nope',
        },
      ],
    });
  });
});

describe('AnalysisChecks.analysis', () => {
  const pass: MetricEvaluation = {
    result: {
      name: 'request-success-rate',
      kind: 'metric',
      passed: true,
      message: 'success rate 100.00%',
      value: 100,
      min: 99,
    },
    sample: 100,
  };
  const fail: MetricEvaluation = {
    result: {
      name: 'request-duration',
      kind: 'metric',
      passed: false,
      message: 'Halt podinfo.test advancement request duration 600ms > 500ms',
      value: 600,
      max: 500,
    },
    event: { type: 'Warning', message: 'Halt podinfo.test advancement request duration 600ms > 500ms' },
    sample: 0.6,
  };

  it('runs untyped and rollout hooks, then metrics, recording samples and failure Events', async () => {
    const { checks, http, events, recorder, metrics } = setup({}, fakeMetrics([pass, fail]));
    const canary = newCanary([hook('load'), hook('smoke', 'rollout'), hook('pre', 'pre-rollout')]);
    const outcome = await checks.analysis(testCtx(), canary);
    expect(http.sent).toEqual([
      { hook: 'load', phase: 'Progressing' },
      { hook: 'smoke', phase: 'Progressing' },
    ]);
    expect(metrics.calls).toBe(1);
    expect(recorder.values).toEqual([
      ['request-success-rate', 100],
      ['request-duration', 0.6],
    ]);
    expect(events.events).toEqual([
      { type: 'Warning', message: 'Halt podinfo.test advancement request duration 600ms > 500ms' },
    ]);
    expect(outcome.passed).toBe(false);
    expect(outcome.results.map((r) => [r.kind, r.name, r.passed])).toEqual([
      ['webhook', 'load', true],
      ['webhook', 'smoke', true],
      ['metric', 'request-success-rate', true],
      ['metric', 'request-duration', false],
    ]);
  });

  it('stops before the metrics when a rollout hook fails', async () => {
    const { checks, events, metrics } = setup({ load: 'down' }, fakeMetrics([pass]));
    const outcome = await checks.analysis(testCtx(), newCanary([hook('load', undefined, { retries: 1 })]));
    expect(metrics.calls).toBe(0);
    expect(events.events).toEqual([
      {
        type: 'Warning',
        message:
          'Halt podinfo.test advancement external check load failed POST http://hooks failed: connect ECONNREFUSED (after 2 attempts)',
      },
    ]);
    expect(outcome.passed).toBe(false);
    expect(outcome.results).toHaveLength(1);
  });

  it('passes when every hook and metric passes', async () => {
    const { checks, events } = setup({}, fakeMetrics([pass]));
    await expect(checks.analysis(testCtx(), newCanary([]))).resolves.toEqual({ passed: true, results: [pass.result] });
    expect(events.events).toEqual([]);
  });
});

describe('AnalysisChecks.rollbackRequested', () => {
  it('is true at the first 2xx rollback hook, sent the current phase', async () => {
    const { checks, http, events } = setup({ a: 403, b: 200 });
    const canary = newCanary([hook('a', 'rollback'), hook('b', 'rollback'), hook('c', 'rollback')], 'WaitingPromotion');
    await expect(checks.rollbackRequested(testCtx(), canary)).resolves.toBe(true);
    expect(http.sent).toEqual([
      { hook: 'a', phase: 'WaitingPromotion' },
      { hook: 'b', phase: 'WaitingPromotion' },
    ]);
    expect(events.events).toEqual([
      { type: 'Normal', message: 'Rollback hook a not signaling a rollback' },
      { type: 'Warning', message: 'Rollback check b passed' },
    ]);
  });

  it('is false when no hook answers 2xx', async () => {
    const { checks } = setup({ a: 404 });
    await expect(checks.rollbackRequested(testCtx(), newCanary([hook('a', 'rollback')]))).resolves.toBe(false);
  });
});

describe('AnalysisChecks.postRollout', () => {
  it('sends the final phase and stops at the first failure', async () => {
    const { checks, http, events } = setup({ b: 500 });
    await checks.postRollout(
      testCtx(),
      newCanary([hook('a', 'post-rollout'), hook('b', 'post-rollout'), hook('c', 'post-rollout')]),
      'Failed',
    );
    expect(http.sent).toEqual([
      { hook: 'a', phase: 'Failed' },
      { hook: 'b', phase: 'Failed' },
    ]);
    expect(events.events).toEqual([
      { type: 'Normal', message: 'Post-rollout check a passed' },
      { type: 'Warning', message: 'Post-rollout hook b failed HTTP 500 Internal Server Error: nope' },
    ]);
  });
});

describe('AnalysisChecks.checkProviders', () => {
  it('reports availability as Events', async () => {
    const ok = setup({}, fakeMetrics([], undefined));
    await ok.checks.checkProviders(testCtx(), newCanary([]));
    expect(ok.events.events).toEqual([{ type: 'Normal', message: 'all the metrics providers are available!' }]);
    const down = setup({}, fakeMetrics([], 'prometheus not available: boom'));
    await down.checks.checkProviders(testCtx(), newCanary([]));
    expect(down.events.events).toEqual([
      { type: 'Warning', message: 'Error checking metric providers: prometheus not available: boom' },
    ]);
  });
});

describe('AnalysisChecks with headersSecretRef', () => {
  it('sends the Secret headers from the cache, and a missing Secret fails the hook without naming a value', async () => {
    const headers: (string | readonly string[] | undefined)[] = [];
    const http: HttpClient = {
      request(_ctx, req: HttpRequest) {
        headers.push(req.headers?.['Authorization']);
        return Promise.resolve({ status: 500, statusText: '', headers: {}, body: 'boom' });
      },
    };
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'auth', namespace: 'test' },
      data: { Authorization: Buffer.from('Bearer t0p-s3cret').toString('base64') },
    };
    let present = true;
    const events = fakeEvents();
    const checks = new AnalysisChecks({
      http,
      events,
      recorder: fakeRecorder(),
      metrics: fakeMetrics(),
      secrets: { get: (key) => (present && key.namespace === 'test' && key.name === 'auth' ? secret : undefined) },
    });
    const canary = newCanary([hook('pre', 'pre-rollout', { headersSecretRef: { name: 'auth' } })]);
    expect((await checks.preRollout(testCtx(), canary)).passed).toBe(false);
    expect(headers).toEqual(['Bearer t0p-s3cret']);
    present = false;
    expect((await checks.preRollout(testCtx(), canary)).passed).toBe(false);
    expect(headers).toHaveLength(1);
    expect(events.events.map((e) => e.message)).toEqual([
      'Halt podinfo.test advancement pre-rollout check pre failed HTTP 500 Internal Server Error: boom',
      'Halt podinfo.test advancement pre-rollout check pre failed headers secret "auth" not found in namespace test',
    ]);
    expect(JSON.stringify(events.events)).not.toContain('s3cret');
  });
});
