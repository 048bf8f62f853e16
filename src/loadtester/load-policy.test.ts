import { describe, expect, it } from 'vitest';
import { Allowlist } from './allowlist.ts';
import { payload, rejection } from './tasks.fixture.ts';
import {
  DEFAULT_LOAD_POLICY,
  LoadLimitError,
  LoadSlots,
  boundLoadSpec,
  inClusterName,
  openTarget,
} from './load-policy.ts';
import { isGeneratorPayload, planTask } from './tasks.ts';

const none = Allowlist.parse([]);

describe('inClusterName', () => {
  it.each([
    ['podinfo-canary.test', 'podinfo-canary.test.svc.cluster.local'],
    ['podinfo-canary', 'podinfo-canary.lt-ns.svc.cluster.local'],
    ['podinfo.test.svc', 'podinfo.test.svc.cluster.local'],
    ['podinfo.test.svc.cluster.local', 'podinfo.test.svc.cluster.local'],
    ['podinfo.test.svc.cluster.local.', 'podinfo.test.svc.cluster.local'],
    ['Podinfo.Test', 'podinfo.test.svc.cluster.local'],
    ['pod-0.podinfo.test.svc', 'pod-0.podinfo.test.svc.cluster.local'],
    // Two labels are pinned, so a public name can never leave the cluster.
    ['example.com', 'example.com.svc.cluster.local'],
  ])('%s → %s', (host, fqdn) => {
    expect(inClusterName(host, 'lt-ns', 'cluster.local')).toBe(fqdn);
  });

  it.each(['www.example.com', 'podinfo.test.svc.evil.example', '10.0.0.1', '::1', 'a_b.test', ''])(
    '%s is not an in-cluster name',
    (host) => {
      expect(inClusterName(host, 'lt-ns', 'cluster.local')).toBeUndefined();
    },
  );
});

describe('openTarget', () => {
  it('pins in-cluster names to their FQDN and leaves -load-hosts matches alone', () => {
    expect(openTarget('http://podinfo-canary.test:9898/', DEFAULT_LOAD_POLICY)).toEqual({
      connectOrigin: 'http://podinfo-canary.test.svc.cluster.local:9898',
    });
    expect(openTarget('https://podinfo/', { ...DEFAULT_LOAD_POLICY, clusterDomain: 'corp.internal' })).toEqual({
      connectOrigin: 'https://podinfo.default.svc.corp.internal',
    });
    expect(openTarget('http://www.example.com/', DEFAULT_LOAD_POLICY)).toBeUndefined();
    const hosts = { ...DEFAULT_LOAD_POLICY, hosts: /^(?:.*\.example\.com)$/i };
    expect(openTarget('http://WWW.example.com/', hosts)).toEqual({});
    expect(openTarget('http://podinfo.test/', { ...DEFAULT_LOAD_POLICY, inCluster: false })).toBeUndefined();
  });
});

describe('boundLoadSpec', () => {
  const spec = {
    url: 'http://podinfo.test/',
    method: 'GET',
    headers: [],
    concurrency: 2,
    durationMs: 60_000,
    timeoutMs: 20_000,
    keepAlive: true,
    insecureSkipVerify: true,
  } as const;

  it('caps a run without a rate at -load-max-rate and keeps a run within the bounds as it is', () => {
    expect(boundLoadSpec(spec, DEFAULT_LOAD_POLICY).rate).toBe(5000);
    expect(boundLoadSpec({ ...spec, rate: 20 }, DEFAULT_LOAD_POLICY)).toEqual({ ...spec, rate: 20 });
  });

  it.each([
    [{ concurrency: 201 }, '-load-max-concurrency=200 (chart value load.maxConcurrency)'],
    [{ rate: 5001 }, '-load-max-rate=5000 (chart value load.maxRate)'],
    [{ durationMs: 31 * 60_000 }, '-load-max-duration=1800s (chart value load.maxDuration)'],
  ])('refuses %j naming the flag', (over, flag) => {
    expect(() => boundLoadSpec({ ...spec, ...over }, DEFAULT_LOAD_POLICY)).toThrow(LoadLimitError);
    expect(() => boundLoadSpec({ ...spec, ...over }, DEFAULT_LOAD_POLICY)).toThrow(flag);
  });
});

describe('planTask with the default load policy (Flagger drop-in)', () => {
  it("runs Flagger's documented hey webhook without an -allow entry and without the token, pinned in-cluster", () => {
    const plan = planTask(payload({ cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/' }), none);
    expect(plan.needsToken).toBe(false);
    expect(plan.background).toBe(true);
    expect(plan.plan).toMatchObject({
      kind: 'load',
      spec: {
        url: 'http://podinfo-canary.test:9898/',
        connectOrigin: 'http://podinfo-canary.test.svc.cluster.local:9898',
        concurrency: 2,
        rate: 20,
        durationMs: 60_000,
      },
    });
    const load = planTask(payload({ type: 'load', url: 'http://podinfo.test.svc:9898/', duration: '30s' }), none);
    expect(load.needsToken).toBe(false);
  });

  it('refuses hey against other hosts with a 403 naming the flags and chart values that allow it', () => {
    const r = rejection(() => planTask(payload({ cmd: 'hey -z 1m http://www.example.com/' }), none));
    expect(r.status).toBe(403);
    expect(r.message).toBe(
      'command refused: "hey -z 1m http://www.example.com/": the built-in generator runs hey and type load without an -allow entry only against in-cluster hosts (*.svc, *.svc.cluster.local, <service>.<namespace>, <service>); "www.example.com" is not one: allow it with -load-hosts (chart value load.hosts) or an -allow entry (chart value cmd.allow)',
    );
    const closed = { ...DEFAULT_LOAD_POLICY, inCluster: false };
    const off = rejection(() => planTask(payload({ cmd: 'hey http://podinfo.test/' }), none, closed));
    expect(off.message).toContain('-load-in-cluster=false, chart value load.inCluster');
  });

  it('runs an allowlisted hey against another host, but only with the token', () => {
    const list = Allowlist.parse(['hey -n 100 http://www\\.example\\.com/']);
    const plan = planTask(payload({ cmd: 'hey -n 100 http://www.example.com/' }), list);
    expect(plan.needsToken).toBe(true);
    expect(plan.plan).toMatchObject({ kind: 'load', spec: { url: 'http://www.example.com/' } });
    expect(plan.plan.kind === 'load' ? plan.plan.spec.connectOrigin : 'none').toBeUndefined();
  });

  it('refuses runs above the bounds with 400 naming the flag, before anything else', () => {
    const c = rejection(() => planTask(payload({ cmd: 'hey -z 1m -c 300000 http://podinfo.test/' }), none));
    expect(c.status).toBe(400);
    expect(c.message).toContain("concurrency 300000 is above the loadtester's -load-max-concurrency=200");
    const load = rejection(() =>
      planTask(payload({ type: 'load', url: 'http://podinfo.test/', concurrency: '200000', duration: '1m' }), none),
    );
    expect(load.status).toBe(400);
    expect(load.message).toContain('-load-max-concurrency');
    const z = rejection(() => planTask(payload({ cmd: 'hey -z 24h http://podinfo.test/' }), none));
    expect(z.message).toContain('-load-max-duration=1800s');
  });

  it('every task that is not the generator needs the token', () => {
    const list = Allowlist.parse(['echo .*', 'bash:hey .*']);
    expect(planTask(payload({ cmd: 'echo hi' }), list).needsToken).toBe(true);
    // a bash: entry runs a real shell (and a hey binary), so it is guarded too
    expect(planTask(payload({ type: 'bash', cmd: 'hey http://podinfo.test/' }), list).needsToken).toBe(true);
  });
});

describe('isGeneratorPayload', () => {
  it('is true for type load and hey commands only', () => {
    expect(isGeneratorPayload(payload({ type: 'load', url: 'x' }))).toBe(true);
    expect(isGeneratorPayload(payload({ cmd: 'hey -z 1m http://x/' }))).toBe(true);
    expect(isGeneratorPayload(payload({ type: 'bash', cmd: 'hey http://x/' }))).toBe(true);
    expect(isGeneratorPayload(payload({ type: 'kubectl', cmd: 'hey' }))).toBe(false);
    expect(isGeneratorPayload(payload({ cmd: 'echo hey' }))).toBe(false);
    expect(isGeneratorPayload(payload({ cmd: "hey 'open" }))).toBe(false);
  });
});

describe('LoadSlots', () => {
  it('hands out at most max slots and takes them back', () => {
    const s = new LoadSlots(2);
    expect([s.take(), s.take(), s.take()]).toEqual([true, true, false]);
    expect(s.message).toContain("2 of the loadtester's -load-max-runs=2");
    s.release();
    expect(s.take()).toBe(true);
  });
});
