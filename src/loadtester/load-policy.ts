/**
 * What the built-in generator (`hey` commands and `type: load`) may do without an `-allow` entry,
 * and the bounds every run must stay within.
 *
 * - **In-cluster targets are open.** Flagger's documented webhook
 *   `hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/` runs without an allowlist entry and
 *   without the bearer token (Flagger's webhooks cannot send headers), as long as its host is an
 *   in-cluster name: `*.svc`, `*.svc.<cluster domain>`, `<service>.<namespace>` or a bare
 *   `<service>`. Those names are pinned to `<…>.svc.<cluster domain>` for the connection (the
 *   request keeps its Host header), so a two-label public name such as `example.com` can never
 *   resolve outside the cluster. `-load-hosts` adds a host pattern of your own (not pinned).
 * - **Bounds.** Concurrency, total rate and duration have flags with safe defaults; a run asking
 *   for more is refused with a 400 naming the flag. A run without a rate runs at most at the
 *   maximum rate. `-load-max-runs` bounds how many runs go at once.
 *
 * Pure: no I/O.
 */
import type { LoadSpec } from './generator.ts';

/** Flags of the generator's policy. */
export interface LoadPolicy {
  /** `-load-in-cluster`: in-cluster hosts need no `-allow` entry (and no token). */
  readonly inCluster: boolean;
  /** `-load-hosts`: more hosts treated as open, matched in full (case-insensitive); undefined = none. */
  readonly hosts: RegExp | undefined;
  /** `-cluster-domain`, for pinning in-cluster names. */
  readonly clusterDomain: string;
  /** The loadtester's namespace: where a bare service name resolves, as in the pod's DNS search path. */
  readonly namespace: string;
  /** `-load-max-concurrency`: workers of one run. */
  readonly maxConcurrency: number;
  /** `-load-max-rate`: total requests per second of one run. */
  readonly maxRate: number;
  /** `-load-max-duration`, ms. */
  readonly maxDurationMs: number;
  /** `-load-max-runs`: runs at once. */
  readonly maxRuns: number;
}

/** Defaults of the flags (see docs/loadtester.md for why these numbers). */
export const DEFAULT_LOAD_POLICY: LoadPolicy = {
  inCluster: true,
  hosts: undefined,
  clusterDomain: 'cluster.local',
  namespace: 'default',
  maxConcurrency: 200,
  maxRate: 5000,
  maxDurationMs: 30 * 60_000,
  maxRuns: 20,
};

/** A bound exceeded; the message names the flag and the chart value. */
export class LoadLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const BARE = new RegExp(`^${LABEL}$`);
const TWO_LABELS = new RegExp(`^${LABEL}\\.${LABEL}$`);
const DNS_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/**
 * The in-cluster FQDN a host name stands for, or undefined when it is not an in-cluster form:
 * `a.b.svc` and `a.b.svc.<domain>` → `a.b.svc.<domain>`; `svc.ns` → `svc.ns.svc.<domain>`;
 * `svc` → `svc.<namespace>.svc.<domain>`. A trailing dot is ignored; IP literals are never in-cluster.
 */
export function inClusterName(hostname: string, namespace: string, clusterDomain: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME.test(host)) return undefined;
  const domain = clusterDomain.toLowerCase().replace(/\.$/, '');
  if (host.endsWith(`.svc.${domain}`)) return host;
  if (host.endsWith('.svc')) return `${host}.${domain}`;
  if (TWO_LABELS.test(host)) return `${host}.svc.${domain}`;
  if (BARE.test(host)) return `${host}.${namespace}.svc.${domain}`;
  return undefined;
}

/** How an open target is reached. */
export interface OpenTarget {
  /** Origin to connect to instead of the URL's, when the host was pinned to its cluster name. */
  readonly connectOrigin?: string;
}

/** The open target for `url` under `policy`, or undefined when the URL needs an `-allow` entry. */
export function openTarget(url: string, policy: LoadPolicy): OpenTarget | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  if (policy.hosts?.test(hostname)) return {};
  if (!policy.inCluster) return undefined;
  const fqdn = inClusterName(hostname, policy.namespace, policy.clusterDomain);
  if (fqdn === undefined) return undefined;
  return { connectOrigin: `${u.protocol}//${fqdn}${u.port === '' ? '' : `:${u.port}`}` };
}

/** What the 403 for a generator target that is not open says, naming the flags and chart values that allow it. */
export function openTargetHint(url: string, policy: LoadPolicy): string {
  let host = url;
  try {
    host = new URL(url).hostname;
  } catch {
    // the whole string, then
  }
  const open = policy.inCluster
    ? 'the built-in generator runs hey and type load without an -allow entry only against in-cluster hosts (*.svc, *.svc.cluster.local, <service>.<namespace>, <service>)'
    : 'in-cluster hosts are not open either (-load-in-cluster=false, chart value load.inCluster)';
  return `${open}${policy.hosts ? ` or hosts matching -load-hosts` : ''}; ${JSON.stringify(host)} is not one: allow it with -load-hosts (chart value load.hosts) or an -allow entry (chart value cmd.allow)`;
}

/**
 * Checks `spec` against the bounds and returns it with the rate capped (a run without a rate
 * runs at most at `maxRate`). Throws {@link LoadLimitError} naming the flag.
 */
export function boundLoadSpec(spec: LoadSpec, policy: LoadPolicy): LoadSpec {
  const over = (what: string, flag: string, limit: string, chart: string): LoadLimitError =>
    new LoadLimitError(
      `${what} is above the loadtester's -${flag}=${limit} (chart value load.${chart}); ask for less or raise the limit`,
    );
  const max = policy;
  if (spec.concurrency > max.maxConcurrency) {
    throw over(`concurrency ${spec.concurrency}`, 'load-max-concurrency', `${max.maxConcurrency}`, 'maxConcurrency');
  }
  if (spec.rate !== undefined && spec.rate > max.maxRate) {
    throw over(`rate ${spec.rate} requests/s`, 'load-max-rate', `${max.maxRate}`, 'maxRate');
  }
  if (spec.durationMs !== undefined && spec.durationMs > max.maxDurationMs) {
    throw over(
      `duration ${spec.durationMs / 1000}s`,
      'load-max-duration',
      `${max.maxDurationMs / 1000}s`,
      'maxDuration',
    );
  }
  return spec.rate === undefined ? { ...spec, rate: max.maxRate } : spec;
}

/** Counts generator runs against `-load-max-runs`. */
export class LoadSlots {
  readonly #max: number;
  #running = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get running(): number {
    return this.#running;
  }

  get full(): boolean {
    return this.#running >= this.#max;
  }

  /** Takes a slot; false when all are taken. */
  take(): boolean {
    if (this.full) return false;
    this.#running++;
    return true;
  }

  release(): void {
    if (this.#running > 0) this.#running--;
  }

  /** Why a run was refused. */
  get message(): string {
    return `too many load tests running: ${this.#running} of the loadtester's -load-max-runs=${this.#max} (chart value load.maxRuns)`;
  }
}
