/**
 * Command-line configuration of `fledge-loadtester`, compatible with Flagger's loadtester flags
 * (cmd/loadtester/main.go: `-port`, `-timeout`, `-namespace-regexp`, `-log-level`,
 * `-zap-encoding`, `-zap-replace-globals`) plus Fledge's: `-allow`, `-token`, `-token-scope`,
 * `-load-*`, `-cluster-domain`, `-max-connections`, `-gate-namespace`, `-gate-configmap`, `-kubeconfig`. Go `flag` syntax (`-f v`, `-f=v`, `--f`, booleans `-f`).
 *
 * Pure: {@link parseLoadtesterConfig} reads only its arguments.
 */
import { type FlagSpec, flagUsage, parseFlags, parseGoDuration } from '../cli/flags.ts';
import { type Level, isLevel } from '../log/logger.ts';
import { Allowlist, AllowlistError, splitAllowValue } from './allowlist.ts';
import { DEFAULT_GATE_CONFIGMAP } from './gates.ts';
import { DEFAULT_LOAD_POLICY, type LoadPolicy } from './load-policy.ts';

/** The loadtester's settings, after defaults and validation. */
export interface LoadtesterConfig {
  readonly port: number;
  /** `-timeout`: the longest one task may run, ms. */
  readonly timeoutMs: number;
  /** `-namespace-regexp`; undefined = every namespace. */
  readonly namespaceRegexp: RegExp | undefined;
  readonly logLevel: Level;
  /** `-allow` entries, parsed. */
  readonly allowlist: Allowlist;
  /** `-token` or `LOADTESTER_TOKEN`; undefined = no authentication. */
  readonly token: string | undefined;
  /** `-token-scope`: what the token protects. */
  readonly tokenScope: TokenScope;
  /** The built-in generator's open targets and bounds (`-load-*`, `-cluster-domain`). */
  readonly load: LoadPolicy;
  /** `-max-connections`: open client connections at once. */
  readonly maxConnections: number;
  readonly gateNamespace: string;
  readonly gateConfigMap: string;
  readonly kubeconfig: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
  /** Accepted flags without effect, for the log. */
  readonly warnings: readonly string[];
}

/**
 * What the bearer token protects. `all`: every endpoint but /healthz. `webhooks`: what Flagger's
 * Canary webhooks call without headers stays open (`/gate/check`, `/rollback/check`,
 * `/gate/approve`, `/gate/halt`, `/metrics`, and bounded generator runs against open targets);
 * commands, helm/kubectl/concord/ngrinder tasks, gate open/close and unknown paths need the token.
 */
export type TokenScope = 'all' | 'webhooks';

/** A bad command line; exit code 2 with the usage. */
export class LoadtesterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const FLAGS: readonly FlagSpec[] = [
  { name: 'port', kind: 'int', default: '9090', help: 'Port to listen on.' },
  { name: 'timeout', kind: 'duration', default: '1h', help: 'Longest time one command or load test may run.' },
  {
    name: 'namespace-regexp',
    kind: 'string',
    default: '',
    help: 'Serve only payloads whose namespace matches this regular expression (unanchored).',
  },
  { name: 'log-level', kind: 'string', default: 'info', help: 'Log level: debug, info, warn (warning), error.' },
  { name: 'zap-encoding', kind: 'string', default: 'json', help: 'Log encoding; fledge-loadtester always logs JSON.' },
  {
    name: 'zap-replace-globals',
    kind: 'bool',
    default: 'false',
    help: 'Accepted for Flagger compatibility; no effect.',
  },
  {
    name: 'allow',
    kind: 'list',
    default: '',
    help: 'Regular expression a command line must match in full to run (repeatable, or comma-separated). "bash:<re>" lets type bash scripts matching <re> run through bash -c. None: no command runs.',
  },
  {
    name: 'token',
    kind: 'string',
    default: '',
    env: 'LOADTESTER_TOKEN',
    help: 'Require "Authorization: Bearer <token>" (see -token-scope).',
  },
  {
    name: 'token-scope',
    kind: 'string',
    default: 'webhooks',
    help: 'What the token protects: "all" (every endpoint but /healthz) or "webhooks" (all but what Flagger\'s header-less webhooks call: gate and rollback checks, /gate/approve, /gate/halt, /metrics, and in-cluster load tests).',
  },
  {
    name: 'load-in-cluster',
    kind: 'bool',
    default: 'true',
    help: 'Run hey and type load against in-cluster hosts (*.svc, *.svc.<cluster-domain>, <service>.<namespace>, <service>) without an -allow entry and without the token.',
  },
  {
    name: 'load-hosts',
    kind: 'string',
    default: '',
    help: 'Regular expression of more host names (matched in full, case-insensitive) that hey and type load may target like in-cluster ones.',
  },
  { name: 'cluster-domain', kind: 'string', default: 'cluster.local', help: 'The cluster DNS domain.' },
  { name: 'load-max-concurrency', kind: 'int', default: '200', help: 'Most workers of one load test (hey -c).' },
  {
    name: 'load-max-rate',
    kind: 'int',
    default: '5000',
    help: 'Most requests per second of one load test, in total; a test without a rate runs at most this fast.',
  },
  { name: 'load-max-duration', kind: 'duration', default: '30m', help: 'Longest duration of one load test (hey -z).' },
  { name: 'load-max-runs', kind: 'int', default: '20', help: 'Most load tests running at once.' },
  { name: 'max-connections', kind: 'int', default: '1000', help: 'Most client connections open at once.' },
  {
    name: 'gate-namespace',
    kind: 'string',
    default: '',
    help: 'Namespace of the gates ConfigMap (default: POD_NAMESPACE, else "default").',
  },
  { name: 'gate-configmap', kind: 'string', default: DEFAULT_GATE_CONFIGMAP, help: 'Name of the gates ConfigMap.' },
  {
    name: 'kubeconfig',
    kind: 'string',
    default: '',
    help: 'Path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, then in-cluster).',
  },
  { name: 'version', kind: 'bool', default: 'false', help: 'Print the version and exit.' },
  { name: 'help', kind: 'bool', default: 'false', help: 'Print this help and exit.' },
];

/** The usage text. */
export function loadtesterUsage(binary = 'fledge-loadtester'): string {
  return flagUsage(binary, FLAGS);
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Parses `argv` (without node and script). Returns a {@link LoadtesterConfigError} for unknown
 * flags, missing or malformed values and invalid regular expressions.
 */
export function parseLoadtesterConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LoadtesterConfig | LoadtesterConfigError {
  const parsed = parseFlags(argv, env, FLAGS);
  if (typeof parsed === 'string') return new LoadtesterConfigError(parsed);
  const { str, bool, errors, given } = parsed;

  const portText = str('port');
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) errors.push(`invalid value "${portText}" for flag -port: want 0 to 65535`);

  const timeoutMs = parseGoDuration(str('timeout'));
  if (timeoutMs === undefined || timeoutMs < 1000) {
    errors.push(`invalid value "${str('timeout')}" for flag -timeout: want a duration of at least 1s, e.g. 1h`);
  }

  let namespaceRegexp: RegExp | undefined;
  const nsText = str('namespace-regexp');
  if (nsText !== '') {
    try {
      namespaceRegexp = new RegExp(nsText);
    } catch (err) {
      errors.push(`invalid value "${nsText}" for flag -namespace-regexp: ${err instanceof Error ? err.message : ''}`);
    }
  }

  const levelText = str('log-level').toLowerCase();
  const level = levelText === 'warning' ? 'warn' : levelText;
  if (!isLevel(level))
    errors.push(`invalid value "${str('log-level')}" for flag -log-level: want debug, info, warn or error`);

  let allowlist = Allowlist.parse([]);
  try {
    allowlist = Allowlist.parse(parsed.list('allow').flatMap(splitAllowValue));
  } catch (err) {
    if (!(err instanceof AllowlistError)) throw err;
    errors.push(err.message);
  }

  const gateNamespace = str('gate-namespace') || env['POD_NAMESPACE'] || 'default';
  if (!K8S_NAME.test(gateNamespace)) errors.push(`invalid namespace "${gateNamespace}" for the gates ConfigMap`);
  const gateConfigMap = str('gate-configmap');
  if (!K8S_NAME.test(gateConfigMap)) errors.push(`invalid value "${gateConfigMap}" for flag -gate-configmap`);

  const warnings: string[] = [];
  const encoding = str('zap-encoding');
  if (encoding === 'console') warnings.push('-zap-encoding=console has no effect: fledge-loadtester always logs JSON');
  else if (encoding !== 'json') errors.push(`invalid value "${encoding}" for flag -zap-encoding: want json or console`);
  if (given.has('zap-replace-globals')) bool('zap-replace-globals');
  if (given.has('zap-replace-globals')) warnings.push('-zap-replace-globals has no effect in fledge-loadtester');
  if (allowlist.empty) warnings.push('no -allow entries: every command is refused (gates work)');

  const tokenScope = str('token-scope');
  if (tokenScope !== 'all' && tokenScope !== 'webhooks') {
    errors.push(`invalid value "${tokenScope}" for flag -token-scope: want all or webhooks`);
  }
  let hosts: RegExp | undefined;
  const hostsText = str('load-hosts');
  if (hostsText !== '') {
    try {
      hosts = new RegExp(`^(?:${hostsText})$`, 'i');
    } catch (err) {
      errors.push(`invalid value "${hostsText}" for flag -load-hosts: ${err instanceof Error ? err.message : ''}`);
    }
  }
  const clusterDomain = str('cluster-domain').replace(/\.$/, '');
  if (!K8S_NAME.test(clusterDomain)) errors.push(`invalid value "${clusterDomain}" for flag -cluster-domain`);
  const maxDurationMs = parseGoDuration(str('load-max-duration'));
  if (maxDurationMs === undefined || maxDurationMs < 1000) {
    errors.push(
      `invalid value "${str('load-max-duration')}" for flag -load-max-duration: want a duration of at least 1s`,
    );
  }
  const load: LoadPolicy = {
    inCluster: bool('load-in-cluster'),
    hosts,
    clusterDomain,
    namespace: env['POD_NAMESPACE'] || 'default',
    maxConcurrency: parsed.int('load-max-concurrency', 1, 100_000),
    maxRate: parsed.int('load-max-rate', 1, 10_000_000),
    maxDurationMs: maxDurationMs ?? DEFAULT_LOAD_POLICY.maxDurationMs,
    maxRuns: parsed.int('load-max-runs', 1, 10_000),
  };

  const token = str('token');
  const kubeconfig = str('kubeconfig');
  const config: LoadtesterConfig = {
    port,
    timeoutMs: timeoutMs ?? 3_600_000,
    namespaceRegexp,
    logLevel: isLevel(level) ? level : 'info',
    allowlist,
    token: token === '' ? undefined : token,
    tokenScope: tokenScope === 'all' ? 'all' : 'webhooks',
    load,
    maxConnections: parsed.int('max-connections', 1, 1_000_000),
    gateNamespace,
    gateConfigMap,
    kubeconfig: kubeconfig === '' ? undefined : kubeconfig,
    help: bool('help'),
    version: bool('version'),
    warnings,
  };
  if (errors.length > 0) return new LoadtesterConfigError(errors.join('; '));
  return config;
}

/** The configuration as it may be logged: the token shown as `<set>`/`<unset>`. */
export function redactedLoadtesterConfig(c: LoadtesterConfig): Record<string, unknown> {
  return {
    port: c.port,
    timeoutSeconds: c.timeoutMs / 1000,
    namespaceRegexp: c.namespaceRegexp?.source ?? null,
    logLevel: c.logLevel,
    allow: c.allowlist.entries.map((e) => e.source),
    token: c.token === undefined ? '<unset>' : '<set>',
    tokenScope: c.tokenScope,
    load: { ...c.load, hosts: c.load.hosts?.source ?? null },
    maxConnections: c.maxConnections,
    gateConfigMap: `${c.gateNamespace}/${c.gateConfigMap}`,
    kubeconfig: c.kubeconfig ?? null,
  };
}
