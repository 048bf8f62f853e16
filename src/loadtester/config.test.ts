import { describe, expect, it } from 'vitest';
import {
  type LoadtesterConfig,
  LoadtesterConfigError,
  loadtesterUsage,
  parseLoadtesterConfig,
  redactedLoadtesterConfig,
} from './config.ts';

const ok = (argv: string[], env: Record<string, string> = {}): LoadtesterConfig => {
  const c = parseLoadtesterConfig(argv, env);
  if (c instanceof LoadtesterConfigError) throw c;
  return c;
};
const err = (argv: string[], env: Record<string, string> = {}): string => {
  const c = parseLoadtesterConfig(argv, env);
  if (!(c instanceof LoadtesterConfigError)) throw new Error('expected an error');
  return c.message;
};

describe('parseLoadtesterConfig', () => {
  it("has Flagger's defaults and Fledge's safe ones", () => {
    const c = ok([]);
    expect(c.port).toBe(9090);
    expect(c.timeoutMs).toBe(3_600_000);
    expect(c.namespaceRegexp).toBeUndefined();
    expect(c.logLevel).toBe('info');
    expect(c.allowlist.empty).toBe(true);
    expect(c.token).toBeUndefined();
    expect(c.gateNamespace).toBe('default');
    expect(c.gateConfigMap).toBe('fledge-loadtester-gates');
    expect(c.kubeconfig).toBeUndefined();
    expect(c.warnings).toEqual(['no -allow entries: every command is refused (gates work)']);
  });

  it("parses Flagger's flags as its chart passes them", () => {
    const c = ok(['-port=8080', '-log-level=warning', '-timeout=30m', '-namespace-regexp=^(test|staging)$']);
    expect(c.port).toBe(8080);
    expect(c.logLevel).toBe('warn');
    expect(c.timeoutMs).toBe(1_800_000);
    expect(c.namespaceRegexp?.test('staging')).toBe(true);
    expect(c.namespaceRegexp?.test('prod')).toBe(false);
  });

  it('collects -allow from repeated flags and comma lists', () => {
    const c = ok(['-allow', '^hey .*$,^helm test \\S{1,63}$', '--allow=bash:^curl -s x$']);
    expect(c.allowlist.entries.map((e) => [e.source, e.shell])).toEqual([
      ['^hey .*$', false],
      ['^helm test \\S{1,63}$', false],
      ['bash:^curl -s x$', true],
    ]);
    expect(c.warnings).toEqual([]);
  });

  it('takes the token from LOADTESTER_TOKEN (winning over -token) and never shows it', () => {
    expect(ok(['-token', 'flag']).token).toBe('flag');
    const c = ok(['-token', 'flag'], { LOADTESTER_TOKEN: 'env' });
    expect(c.token).toBe('env');
    expect(JSON.stringify(redactedLoadtesterConfig(c))).not.toContain('env"');
    expect(redactedLoadtesterConfig(c)['token']).toBe('<set>');
    expect(redactedLoadtesterConfig(ok([]))['token']).toBe('<unset>');
  });

  it('puts the gates in -gate-namespace, else POD_NAMESPACE, else default', () => {
    expect(ok([], { POD_NAMESPACE: 'flagger' }).gateNamespace).toBe('flagger');
    expect(ok(['-gate-namespace', 'ops'], { POD_NAMESPACE: 'flagger' }).gateNamespace).toBe('ops');
    expect(ok(['-gate-configmap', 'my-gates']).gateConfigMap).toBe('my-gates');
  });

  it('accepts the zap flags for compatibility, with a warning', () => {
    expect(ok(['-zap-encoding', 'console', '-zap-replace-globals']).warnings).toContain(
      '-zap-encoding=console has no effect: fledge-loadtester always logs JSON',
    );
  });

  it.each([
    [['-bogus'], 'flag provided but not defined: -bogus'],
    [['-port'], 'flag needs an argument: -port'],
    [['-port', 'x'], 'invalid value "x" for flag -port'],
    [['-timeout', '10'], 'invalid value "10" for flag -timeout'],
    [['-namespace-regexp', '('], 'invalid value "(" for flag -namespace-regexp'],
    [['-allow', '^(x$'], '-allow entry "^(x$" is not a valid regular expression'],
    [['-log-level', 'loud'], 'invalid value "loud" for flag -log-level'],
    [['-gate-configmap', 'Not_Valid'], 'invalid value "Not_Valid" for flag -gate-configmap'],
    [['stray'], 'unexpected argument "stray"'],
  ])('rejects %j', (argv, message) => {
    expect(err(argv)).toContain(message);
  });

  it('documents every flag in the usage', () => {
    const text = loadtesterUsage();
    for (const f of ['-port', '-timeout', '-namespace-regexp', '-log-level', '-allow', '-token', '-gate-namespace']) {
      expect(text).toContain(`  ${f}`);
    }
    expect(text).toContain('[env LOADTESTER_TOKEN]');
  });
});

describe('parseLoadtesterConfig: token scope, load bounds and connections', () => {
  it('defaults to -token-scope=webhooks, open in-cluster load tests and bounded runs', () => {
    const c = ok([], { POD_NAMESPACE: 'lt' });
    expect(c.tokenScope).toBe('webhooks');
    expect(c.load).toEqual({
      inCluster: true,
      hosts: undefined,
      clusterDomain: 'cluster.local',
      namespace: 'lt',
      maxConcurrency: 200,
      maxRate: 5000,
      maxDurationMs: 1_800_000,
      maxRuns: 20,
    });
    expect(c.maxConnections).toBe(1000);
  });

  it('parses every flag, and anchors -load-hosts case-insensitively', () => {
    const c = ok([
      '-token-scope=all',
      '-load-in-cluster=false',
      '-load-hosts=.*\\.example\\.com',
      '-cluster-domain=corp.internal.',
      '-load-max-concurrency=10',
      '-load-max-rate=50',
      '-load-max-duration=2m',
      '-load-max-runs=3',
      '-max-connections=64',
    ]);
    expect(c.tokenScope).toBe('all');
    expect(c.load).toMatchObject({
      inCluster: false,
      clusterDomain: 'corp.internal',
      maxConcurrency: 10,
      maxRate: 50,
      maxDurationMs: 120_000,
      maxRuns: 3,
    });
    expect(c.load.hosts?.test('WWW.example.com')).toBe(true);
    expect(c.load.hosts?.test('example.com.evil')).toBe(false);
    expect(c.maxConnections).toBe(64);
    expect(redactedLoadtesterConfig(c)).toMatchObject({
      tokenScope: 'all',
      load: { hosts: '^(?:.*\\.example\\.com)$' },
    });
  });

  it.each([
    [['-token-scope=some'], 'flag -token-scope: want all or webhooks'],
    [['-load-hosts=('], 'flag -load-hosts'],
    [['-load-max-concurrency=0'], 'flag -load-max-concurrency: want an integer from 1'],
    [['-load-max-duration=0s'], 'flag -load-max-duration'],
    [['-max-connections=x'], 'flag -max-connections'],
  ])('refuses %j', (argv, message) => {
    expect(err(argv)).toContain(message);
  });
});
