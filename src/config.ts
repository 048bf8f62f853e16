/**
 * Command-line configuration, compatible with Flagger's flags (cmd/flagger/main.go): `-flag value`,
 * `-flag=value`, `--flag` and `--flag=value`, booleans as `-flag` or `-flag=false` (Go's `flag`
 * package rules). Secret-bearing values come from the environment as in Flagger: a non-empty
 * `SLACK_URL`, `SLACK_TOKEN`, `SLACK_PROXY_URL`, `MSTEAMS_URL`, `MSTEAMS_PROXY_URL` or
 * `EVENT_WEBHOOK_URL` takes precedence over its flag (Flagger's `fromEnv`). `POD_NAMESPACE` (set
 * by the chart from the downward API) is only the default of `-freeze-namespace`.
 *
 * Pure: {@link parseConfig} reads only its arguments, so it is unit-tested without a process.
 */
import { type FlagSpec, flagUsage, parseFlags, parseGoDuration, splitList } from './cli/flags.ts';
import { isMeshProvider, meshProviders } from './apis/flagger/v1beta1/types.ts';
import { SMI_PROVIDER } from './apis/smi/types.ts';
import { type Level, type LogFormat, isLevel, logFormatOf } from './log/logger.ts';

/** The operator's settings, after defaults and validation. */
export interface Config {
  /** `-kubeconfig`: path of a kubeconfig; undefined = KUBECONFIG, ~/.kube/config, then in-cluster. */
  readonly kubeconfig: string | undefined;
  readonly kubeconfigQps: number;
  readonly kubeconfigBurst: number;
  /** `-metrics-server`: default Prometheus for builtin metrics. */
  readonly metricsServer: string;
  /** `-mesh-provider`: used when a Canary has no `spec.provider`. */
  readonly meshProvider: string;
  /** `-control-loop-interval` in ms: how often the set of canary jobs is re-checked against the cache. */
  readonly controlLoopIntervalMs: number;
  /** `-min-analysis-interval` in ms: floor of `analysis.interval` (10 s as in Flagger; lower for tests). */
  readonly minAnalysisIntervalMs: number;
  readonly logLevel: Level;
  /** `-zap-encoding`: `json` or `text` (console). */
  readonly logFormat: LogFormat;
  /** `-port` of the /metrics, /healthz and /readyz server. */
  readonly port: number;
  readonly slack: {
    readonly url: string;
    readonly token: string;
    readonly proxyUrl: string;
    readonly user: string;
    readonly channel: string;
  };
  readonly msteams: { readonly url: string; readonly proxyUrl: string };
  /** `-event-webhook` (or `EVENT_WEBHOOK_URL`): receives every event of canaries without `type: event` hooks. */
  readonly eventWebhook: string;
  /** `-include-label-prefix`, split on commas (`*` = all labels). */
  readonly includeLabelPrefix: readonly string[];
  /** `-threadiness`: canary ticks running at the same time. */
  readonly threadiness: number;
  /** `-namespace`: watch only this namespace; undefined = all namespaces. */
  readonly namespace: string | undefined;
  /** `-selector-labels`, split on commas. */
  readonly selectorLabels: readonly string[];
  readonly ingressAnnotationsPrefix: string;
  readonly ingressClass: string;
  readonly enableLeaderElection: boolean;
  /** `-leader-election-namespace`; `-namespace` wins when set (as Flagger). */
  readonly leaderElectionNamespace: string;
  readonly enableConfigTracking: boolean;
  /** `-cluster-name`: the `Cluster` field of alerts. */
  readonly clusterName: string;
  readonly noCrossNamespaceRefs: boolean;
  /**
   * `-freeze-namespace` (Fledge): where a `fledge-freeze` ConfigMap freezes every canary the
   * operator manages. Default: `POD_NAMESPACE`, else the leader-election namespace; undefined
   * (`-freeze-namespace=`) disables the cluster-wide freeze.
   */
  readonly freezeNamespace: string | undefined;
  /** `-version`: print the version and exit. */
  readonly version: boolean;
  /** `-h` / `-help`: print usage and exit 0. */
  readonly help: boolean;
  /** Flags accepted for compatibility that have no effect here; main logs them. */
  readonly warnings: readonly string[];
}

/** A bad command line: the message names the flag; `usage` is the text to print with it (exit code 2). */
export class ConfigError extends Error {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.name = 'ConfigError';
    this.usage = usage;
  }
}

const flags: readonly FlagSpec[] = [
  { name: 'kubeconfig', kind: 'string', default: '', help: 'Path to a kubeconfig. Only required if out-of-cluster.' },
  { name: 'kubeconfig-qps', kind: 'int', default: '100', help: 'Kubernetes API requests per second.' },
  { name: 'kubeconfig-burst', kind: 'int', default: '250', help: 'Kubernetes API request burst above the QPS.' },
  { name: 'metrics-server', kind: 'string', default: 'http://prometheus:9090', help: 'Prometheus URL.' },
  {
    name: 'mesh-provider',
    kind: 'string',
    default: 'istio',
    help: `Default traffic provider, one of: ${meshProviders.join(', ')}. The operator logs at start whether it routes with it (docs/routers.md).`,
  },
  { name: 'control-loop-interval', kind: 'duration', default: '10s', help: 'How often canary jobs are reconciled.' },
  {
    name: 'min-analysis-interval',
    kind: 'duration',
    default: '10s',
    help: 'Floor of analysis.interval (Flagger: 10s). Lower it only for tests and demos.',
  },
  { name: 'log-level', kind: 'string', default: 'info', help: 'Log level: debug, info, warn (warning), error.' },
  {
    name: 'zap-encoding',
    kind: 'string',
    default: 'json',
    help: 'Log encoding: json, or console (text); default text on a terminal, else json.',
  },
  {
    name: 'zap-replace-globals',
    kind: 'bool',
    default: 'false',
    help: 'Accepted for Flagger compatibility; no effect.',
  },
  { name: 'port', kind: 'int', default: '8080', help: 'Port of /metrics, /healthz and /readyz (0 picks a free port).' },
  { name: 'slack-url', kind: 'string', default: '', env: 'SLACK_URL', help: 'Slack hook URL.' },
  { name: 'slack-token', kind: 'string', default: '', env: 'SLACK_TOKEN', help: 'Slack bot token.' },
  { name: 'slack-proxy-url', kind: 'string', default: '', env: 'SLACK_PROXY_URL', help: 'Slack proxy URL.' },
  { name: 'slack-user', kind: 'string', default: 'flagger', help: 'Slack user name.' },
  { name: 'slack-channel', kind: 'string', default: '', help: 'Slack channel.' },
  { name: 'msteams-url', kind: 'string', default: '', env: 'MSTEAMS_URL', help: 'MS Teams incoming webhook URL.' },
  { name: 'msteams-proxy-url', kind: 'string', default: '', env: 'MSTEAMS_PROXY_URL', help: 'MS Teams proxy URL.' },
  {
    name: 'event-webhook',
    kind: 'string',
    default: '',
    env: 'EVENT_WEBHOOK_URL',
    help: 'Webhook receiving every canary event.',
  },
  {
    name: 'include-label-prefix',
    kind: 'string',
    default: '',
    help: 'Comma-separated label prefixes copied to primary workloads; * for all.',
  },
  { name: 'threadiness', kind: 'int', default: '4', help: 'Canary ticks run concurrently (one at a time per canary).' },
  { name: 'namespace', kind: 'string', default: '', help: 'Watch only this namespace.' },
  {
    name: 'selector-labels',
    kind: 'string',
    default: 'app,name,app.kubernetes.io/name',
    help: 'Comma-separated pod labels used to build selectors.',
  },
  {
    name: 'ingress-annotations-prefix',
    kind: 'string',
    default: 'nginx.ingress.kubernetes.io',
    help: 'Annotations prefix for NGINX ingresses.',
  },
  { name: 'ingress-class', kind: 'string', default: '', help: 'Ingress class for HTTPProxy objects (Contour).' },
  { name: 'enable-leader-election', kind: 'bool', default: 'false', help: 'Enable leader election.' },
  {
    name: 'leader-election-namespace',
    kind: 'string',
    default: 'kube-system',
    help: 'Namespace of the leader election Lease (-namespace wins when set).',
  },
  { name: 'enable-config-tracking', kind: 'bool', default: 'true', help: 'Track ConfigMaps and Secrets.' },
  { name: 'cluster-name', kind: 'string', default: '', help: 'Cluster name included in alerts.' },
  {
    name: 'no-cross-namespace-refs',
    kind: 'bool',
    default: 'false',
    help: 'Refuse references to objects in other namespaces.',
  },
  {
    name: 'freeze-namespace',
    kind: 'string',
    default: '',
    help: 'Namespace whose fledge-freeze ConfigMap holds every canary (Fledge). Default: $POD_NAMESPACE, else the leader election namespace; -freeze-namespace= disables it.',
  },
  { name: 'version', kind: 'bool', default: 'false', help: 'Print the version and exit.' },
  { name: 'help', kind: 'bool', default: 'false', help: 'Print this help and exit.' },
];

/** A namespace name (RFC 1123 label). */
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Flagger flags Fledge refuses: ignoring them would silently talk to another cluster. */
const refused: Readonly<Record<string, string>> = {
  master: 'use -kubeconfig (or the kubeconfig context) to choose the API server',
  'kubeconfig-service-mesh': 'routing objects in a separate cluster are not supported',
};

/** The usage text printed with `-help` and after a bad flag. */
export function usage(binary = 'fledge'): string {
  return flagUsage(binary, flags);
}

/**
 * Parses `argv` (without node and script) with `env` for the Flagger env overrides.
 * Returns a {@link ConfigError} (never throws) for unknown flags, missing or malformed values.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config | ConfigError {
  const text = usage();
  const fail = (message: string): ConfigError => new ConfigError(message, text);
  const parsed = parseFlags(argv, env, flags, refused);
  if (typeof parsed === 'string') return fail(parsed);
  const { str, bool, int, errors, given } = parsed;

  const logLevelRaw = str('log-level').toLowerCase();
  const logLevel = logLevelRaw === 'warning' ? 'warn' : logLevelRaw;
  if (!isLevel(logLevel))
    errors.push(`invalid value "${str('log-level')}" for flag -log-level: want debug, info, warn or error`);

  const intervalMs = parseGoDuration(str('control-loop-interval'));
  if (intervalMs === undefined || intervalMs < 1000) {
    errors.push(
      `invalid value "${str('control-loop-interval')}" for flag -control-loop-interval: want a duration of at least 1s, e.g. 10s`,
    );
  }

  const minIntervalMs = parseGoDuration(str('min-analysis-interval'));
  if (minIntervalMs === undefined || minIntervalMs < 100) {
    errors.push(
      `invalid value "${str('min-analysis-interval')}" for flag -min-analysis-interval: want a duration of at least 100ms, e.g. 10s`,
    );
  }

  const meshProvider = str('mesh-provider');
  if (!isMeshProvider(meshProvider) && !SMI_PROVIDER.test(meshProvider)) {
    errors.push(
      `invalid value "${meshProvider}" for flag -mesh-provider: want one of ${meshProviders.join(', ')} (or smi:<version>:<mesh>)`,
    );
  }

  const selectorLabels = splitList(str('selector-labels'));
  if (selectorLabels.length === 0) errors.push('flag -selector-labels needs at least one label');

  const warnings: string[] = [];
  const logFormat = logFormatOf(given.has('zap-encoding') ? str('zap-encoding') : undefined) ?? 'json';
  if (given.has('zap-encoding') && logFormatOf(str('zap-encoding')) === undefined)
    errors.push(`invalid value "${str('zap-encoding')}" for flag -zap-encoding: want json or console`);
  if (given.has('zap-replace-globals')) warnings.push('-zap-replace-globals has no effect in Fledge');

  const namespace = str('namespace');
  const leaderElectionNamespace = namespace === '' ? str('leader-election-namespace') : namespace;
  // An explicit `-freeze-namespace=` disables the cluster-wide freeze; unset, it follows the pod.
  const freezeNamespace = given.has('freeze-namespace')
    ? str('freeze-namespace')
    : env['POD_NAMESPACE'] || leaderElectionNamespace;
  if (freezeNamespace !== '' && !DNS_LABEL.test(freezeNamespace)) {
    errors.push(`invalid value "${freezeNamespace}" for flag -freeze-namespace: want a namespace name`);
  }
  const config: Config = {
    kubeconfig: str('kubeconfig') === '' ? undefined : str('kubeconfig'),
    kubeconfigQps: int('kubeconfig-qps', 1),
    kubeconfigBurst: int('kubeconfig-burst', 1),
    metricsServer: str('metrics-server'),
    meshProvider,
    controlLoopIntervalMs: intervalMs ?? 10_000,
    minAnalysisIntervalMs: minIntervalMs ?? 10_000,
    logLevel: isLevel(logLevel) ? logLevel : 'info',
    logFormat,
    port: int('port', 0, 65535),
    slack: {
      url: str('slack-url'),
      token: str('slack-token'),
      proxyUrl: str('slack-proxy-url'),
      user: str('slack-user'),
      channel: str('slack-channel'),
    },
    msteams: { url: str('msteams-url'), proxyUrl: str('msteams-proxy-url') },
    eventWebhook: str('event-webhook'),
    includeLabelPrefix: splitList(str('include-label-prefix')),
    threadiness: int('threadiness', 1, 1000),
    namespace: namespace === '' ? undefined : namespace,
    selectorLabels,
    ingressAnnotationsPrefix: str('ingress-annotations-prefix'),
    ingressClass: str('ingress-class'),
    enableLeaderElection: bool('enable-leader-election'),
    leaderElectionNamespace,
    enableConfigTracking: bool('enable-config-tracking'),
    clusterName: str('cluster-name'),
    noCrossNamespaceRefs: bool('no-cross-namespace-refs'),
    freezeNamespace: freezeNamespace === '' ? undefined : freezeNamespace,
    version: bool('version'),
    help: bool('help'),
    warnings,
  };
  if (errors.length > 0) return fail(errors.join('; '));
  return config;
}

/** The configuration as it may be logged: URLs and tokens replaced by `<set>` / `<unset>`. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const secret = (s: string): string => (s === '' ? '<unset>' : '<set>');
  const { version: _v, help: _h, warnings: _w, ...settings } = config;
  return {
    ...settings,
    slack: {
      ...config.slack,
      url: secret(config.slack.url),
      token: secret(config.slack.token),
      proxyUrl: secret(config.slack.proxyUrl),
    },
    msteams: { url: secret(config.msteams.url), proxyUrl: secret(config.msteams.proxyUrl) },
    eventWebhook: secret(config.eventWebhook),
  };
}

// Kept for callers that imported it from here.
export { parseGoDuration };
