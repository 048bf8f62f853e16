import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, parseConfig, parseGoDuration, redactedConfig, usage } from './config.ts';

function ok(argv: string[], env: Record<string, string> = {}): Config {
  const c = parseConfig(argv, env);
  if (c instanceof ConfigError) throw new Error(`unexpected error: ${c.message}`);
  return c;
}

function err(argv: string[], env: Record<string, string> = {}): ConfigError {
  const c = parseConfig(argv, env);
  if (!(c instanceof ConfigError)) throw new Error('expected a ConfigError');
  return c;
}

describe('parseConfig', () => {
  it('applies Flagger defaults (log level info, threadiness 4)', () => {
    const c = ok([]);
    expect(c).toMatchObject({
      kubeconfig: undefined,
      metricsServer: 'http://prometheus:9090',
      meshProvider: 'istio',
      controlLoopIntervalMs: 10_000,
      logLevel: 'info',
      port: 8080,
      slack: { url: '', token: '', proxyUrl: '', user: 'flagger', channel: '' },
      msteams: { url: '', proxyUrl: '' },
      eventWebhook: '',
      includeLabelPrefix: [],
      threadiness: 4,
      namespace: undefined,
      selectorLabels: ['app', 'name', 'app.kubernetes.io/name'],
      enableLeaderElection: false,
      leaderElectionNamespace: 'kube-system',
      enableConfigTracking: true,
      clusterName: '',
      noCrossNamespaceRefs: false,
      freezeNamespace: 'kube-system',
      version: false,
      help: false,
      warnings: [],
    });
  });

  it('accepts -flag value, -flag=value, --flag and --flag=value', () => {
    const c = ok([
      '-mesh-provider',
      'kubernetes',
      '-port=9090',
      '--threadiness',
      '8',
      '--cluster-name=prod',
      '-control-loop-interval=1m30s',
      '-log-level',
      'warning',
    ]);
    expect(c.meshProvider).toBe('kubernetes');
    expect(c.port).toBe(9090);
    expect(c.threadiness).toBe(8);
    expect(c.clusterName).toBe('prod');
    expect(c.controlLoopIntervalMs).toBe(90_000);
    expect(c.logLevel).toBe('warn');
  });

  it('treats a bare boolean flag as true and takes =false', () => {
    const c = ok(['-enable-leader-election', '--no-cross-namespace-refs', '-enable-config-tracking=false']);
    expect(c.enableLeaderElection).toBe(true);
    expect(c.noCrossNamespaceRefs).toBe(true);
    expect(c.enableConfigTracking).toBe(false);
  });

  it('does not consume the next argument for a boolean flag (Go flag semantics)', () => {
    expect(err(['-version', 'false']).message).toContain('unexpected argument "false"');
  });

  it('splits list flags on commas', () => {
    const c = ok(['-selector-labels', 'app, team ,', '-include-label-prefix=app.kubernetes.io,team']);
    expect(c.selectorLabels).toEqual(['app', 'team']);
    expect(c.includeLabelPrefix).toEqual(['app.kubernetes.io', 'team']);
  });

  it('lets -namespace win over -leader-election-namespace', () => {
    expect(ok(['-leader-election-namespace', 'flagger']).leaderElectionNamespace).toBe('flagger');
    const c = ok(['-namespace', 'apps', '-leader-election-namespace', 'flagger']);
    expect(c.namespace).toBe('apps');
    expect(c.leaderElectionNamespace).toBe('apps');
  });

  it('defaults -freeze-namespace to POD_NAMESPACE, else the leader-election namespace; -freeze-namespace= disables it', () => {
    expect(ok([]).freezeNamespace).toBe('kube-system');
    expect(ok(['-namespace', 'apps']).freezeNamespace).toBe('apps');
    expect(ok(['-leader-election-namespace', 'ops']).freezeNamespace).toBe('ops');
    expect(ok(['-namespace', 'apps'], { POD_NAMESPACE: 'fledge-system' }).freezeNamespace).toBe('fledge-system');
    expect(ok([], { POD_NAMESPACE: '' }).freezeNamespace).toBe('kube-system');
    // The flag wins over the environment, and an explicit empty value turns the freeze off.
    expect(ok(['-freeze-namespace', 'freezes'], { POD_NAMESPACE: 'fledge-system' }).freezeNamespace).toBe('freezes');
    expect(ok(['-freeze-namespace='], { POD_NAMESPACE: 'fledge-system' }).freezeNamespace).toBeUndefined();
    expect(ok(['-freeze-namespace', '']).freezeNamespace).toBeUndefined();
  });

  it('rejects a -freeze-namespace or POD_NAMESPACE that is no namespace name', () => {
    expect(err(['-freeze-namespace', 'Not_A_Namespace']).message).toContain(
      'invalid value "Not_A_Namespace" for flag -freeze-namespace',
    );
    expect(err([], { POD_NAMESPACE: 'a/b' }).message).toContain('invalid value "a/b" for flag -freeze-namespace');
    expect(err(['-freeze-namespace', 'x'.repeat(64)]).message).toContain('for flag -freeze-namespace');
  });

  it('takes secret-bearing values from a non-empty environment variable before the flag (Flagger fromEnv)', () => {
    const env = {
      SLACK_URL: 'https://hooks.slack/env',
      SLACK_TOKEN: 'xoxb-env',
      SLACK_PROXY_URL: 'http://proxy:3128',
      MSTEAMS_URL: 'https://teams/env',
      MSTEAMS_PROXY_URL: 'http://proxy2:3128',
      EVENT_WEBHOOK_URL: 'http://events/env',
    };
    const c = ok(['-slack-url', 'https://hooks.slack/flag', '-event-webhook', 'http://events/flag'], env);
    expect(c.slack).toMatchObject({ url: 'https://hooks.slack/env', token: 'xoxb-env', proxyUrl: 'http://proxy:3128' });
    expect(c.msteams).toEqual({ url: 'https://teams/env', proxyUrl: 'http://proxy2:3128' });
    expect(c.eventWebhook).toBe('http://events/env');
    expect(ok(['-event-webhook', 'http://events/flag'], { EVENT_WEBHOOK_URL: '' }).eventWebhook).toBe(
      'http://events/flag',
    );
  });

  it('rejects an unknown flag with usage', () => {
    const e = err(['-mesh-providr', 'istio']);
    expect(e.message).toBe('flag provided but not defined: -mesh-providr');
    expect(e.usage).toContain('-mesh-provider string');
    expect(e.usage).toContain('(default "istio")');
  });

  it('rejects a missing value, a bad number, a bad duration, a bad level and an unknown provider', () => {
    expect(err(['-port']).message).toBe('flag needs an argument: -port');
    expect(err(['-port', '80a']).message).toContain('-port');
    expect(err(['-port', '70000']).message).toContain('from 0 to 65535');
    expect(err(['-threadiness', '0']).message).toContain('-threadiness');
    expect(err(['-control-loop-interval', '10']).message).toContain('-control-loop-interval');
    expect(err(['-control-loop-interval', '100ms']).message).toContain('at least 1s');
    expect(err(['-log-level', 'verbose']).message).toContain('-log-level');
    expect(err(['-mesh-provider', 'gatewayapi']).message).toContain('-mesh-provider');
    expect(err(['-mesh-provider', 'smi:v1alpha4:istio']).message).toContain('-mesh-provider');
    expect(err(['-enable-leader-election=maybe']).message).toContain('invalid boolean');
  });

  it("accepts Flagger's smi:<version>:<mesh> form for -mesh-provider", () => {
    expect(ok(['-mesh-provider', 'smi:v1alpha3:istio']).meshProvider).toBe('smi:v1alpha3:istio');
  });

  it('reports every problem at once', () => {
    const e = err(['-port', 'x', '-threadiness', 'y']);
    expect(e.message).toContain('-port');
    expect(e.message).toContain('-threadiness');
  });

  it('refuses Flagger flags that would silently target another cluster', () => {
    expect(err(['-master', 'https://x']).message).toContain('-master is not supported');
    expect(err(['-kubeconfig-service-mesh=/k']).message).toContain('not supported');
  });

  it('logs text for -zap-encoding console and JSON for json; -zap-replace-globals only warns', () => {
    const c = ok(['-zap-encoding', 'console', '-zap-replace-globals']);
    expect(c.logFormat).toBe('text');
    expect(c.warnings).toEqual(['-zap-replace-globals has no effect in Fledge']);
    expect(ok(['-zap-encoding', 'json']).logFormat).toBe('json');
    expect(err(['-zap-encoding', 'xml']).message).toContain('-zap-encoding');
  });

  it('parses -version, -help and -h', () => {
    expect(ok(['--version']).version).toBe(true);
    expect(ok(['-h']).help).toBe(true);
    expect(ok(['--help']).help).toBe(true);
  });

  it('rejects positional arguments', () => {
    expect(err(['run']).message).toBe('unexpected argument "run"');
    expect(err(['--', 'x']).message).toBe('unexpected argument "x"');
    expect(ok(['-port', '1', '--']).port).toBe(1);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['0', 0],
  ])('%s = %d ms', (s, ms) => expect(parseGoDuration(s)).toBe(ms));

  it.each(['', '10', 's', '1d', '10s ', '-1s'])('rejects %j', (s) => expect(parseGoDuration(s)).toBeUndefined());
});

describe('redactedConfig', () => {
  it('never shows URLs or tokens', () => {
    const c = ok([
      '-slack-url',
      'https://hooks/secret',
      '-slack-token',
      'xoxb-secret',
      '-event-webhook',
      'http://e/secret',
    ]);
    const text = JSON.stringify(redactedConfig(c));
    expect(text).not.toContain('secret');
    expect(text).toContain('<set>');
  });
});

describe('usage', () => {
  it('lists every flag with its environment variable', () => {
    const text = usage();
    expect(text).toContain('-event-webhook string');
    expect(text).toContain('[env EVENT_WEBHOOK_URL]');
    expect(text).toContain('-enable-leader-election\n');
  });
});
