/**
 * Command-line configuration of `fledge-loadtester`, compatible with Flagger's loadtester flags
 * (cmd/loadtester/main.go: `-port`, `-timeout`, `-namespace-regexp`, `-log-level`,
 * `-zap-encoding`, `-zap-replace-globals`) plus Fledge's: `-allow`, `-token`, `-gate-namespace`,
 * `-gate-configmap`, `-kubeconfig`. Go `flag` syntax (`-f v`, `-f=v`, `--f`, booleans `-f`).
 *
 * Pure: {@link parseLoadtesterConfig} reads only its arguments.
 */
import { type FlagSpec, flagUsage, parseFlags, parseGoDuration } from '../cli/flags.ts';
import { type Level, isLevel } from '../log/logger.ts';
import { Allowlist, AllowlistError, splitAllowValue } from './allowlist.ts';
import { DEFAULT_GATE_CONFIGMAP } from './gates.ts';

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
  readonly gateNamespace: string;
  readonly gateConfigMap: string;
  readonly kubeconfig: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
  /** Accepted flags without effect, for the log. */
  readonly warnings: readonly string[];
}

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
    help: 'Require "Authorization: Bearer <token>" on every endpoint but /healthz.',
  },
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

  const token = str('token');
  const kubeconfig = str('kubeconfig');
  const config: LoadtesterConfig = {
    port,
    timeoutMs: timeoutMs ?? 3_600_000,
    namespaceRegexp,
    logLevel: isLevel(level) ? level : 'info',
    allowlist,
    token: token === '' ? undefined : token,
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
    gateConfigMap: `${c.gateNamespace}/${c.gateConfigMap}`,
    kubeconfig: c.kubeconfig ?? null,
  };
}
