/**
 * `fledge`: the composition root (Flagger cmd/flagger/main.go). Flags → logger → Kubernetes client
 * (fails fast without a cluster) → the flagger.app CRDs must answer → factories, checks, events,
 * recorder → Scheduler → ControlLoop, gated by leader election when enabled. SIGTERM/SIGINT stop
 * gracefully: ticks are aborted and awaited, the Lease is released, the process exits 0.
 */
import { readFileSync } from 'node:fs';
import { parseCanary } from './apis/flagger/v1beta1/parse.ts';
import type { Canary } from './apis/flagger/v1beta1/types.ts';
import type { TargetMetadata } from './canary/target.ts';
import type { Ctx } from './core/context.ts';
import { targetFactory } from './canary/factory.ts';
import { ConfigError, type Config, parseConfig, redactedConfig, usage } from './config.ts';
import { CanaryStore } from './controller/canary-store.ts';
import { AnalysisChecks } from './controller/checks.ts';
import { KubeEventSink } from './controller/events.ts';
import { ControlLoop } from './controller/loop.ts';
import { DefaultMetricChecker } from './controller/metric-checks.ts';
import { Scheduler } from './controller/scheduler.ts';
import { freezeReader } from './controller/freeze-reader.ts';
import { createVerifier } from './controller/verify.ts';
import { createHttpClient } from './http/client.ts';
import { type ApiKubeClient, createKubeClient } from './kube/client.ts';
import { systemClock } from './core/clock.ts';
import { KubeApiError, NotFoundError } from './kube/errors.ts';
import { LeaderElector } from './kube/leader.ts';
import type { ObjectKey, ResourceType } from './kube/objects.ts';
import type { Informer, KubeClient } from './kube/port.ts';
import { Resources } from './kube/resources.ts';
import { type Logger, createLogger } from './log/logger.ts';
import { PromRecorder } from './metrics/recorder.ts';
import { collectDefaultMetrics } from 'prom-client';
import { globalNotifier, notifierBuilders } from './notifier/factory.ts';
import { routedProviders, routerFactory, routes, serviceRouterFactory } from './router/factory.ts';
import { type RunningHttpServer, startHttpServer } from './server/http.ts';
import { isEntryPoint, runMain, startAndServe } from './cli/process.ts';

/** The binary's name in usage and logs. */
export const BINARY = 'fledge';

/** The version in package.json (one level above both src/ and dist/). */
export function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>)['version'] : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** The three CRDs Fledge serves; each must be listable before anything starts. */
const CRDS: readonly { readonly type: ResourceType; readonly crd: string }[] = [
  { type: Resources.canary, crd: 'canaries.flagger.app' },
  { type: Resources.metricTemplate, crd: 'metrictemplates.flagger.app' },
  { type: Resources.alertProvider, crd: 'alertproviders.flagger.app' },
];

/**
 * Lists each Flagger CRD (Flagger's verifyCRDs). Throws an Error whose message says what to do:
 * install the CRDs, fix RBAC, or check the API server address.
 */
export async function verifyCrds(
  kube: Pick<KubeClient, 'list'>,
  namespace: string | undefined,
  server: string,
): Promise<void> {
  for (const { type, crd } of CRDS) {
    try {
      await kube.list(type, namespace === undefined ? {} : { namespace });
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new Error(
          `the ${crd} CRD is not installed in the cluster at ${server}: kubectl apply -f artifacts/flagger/crd.yaml`,
          {
            cause: err,
          },
        );
      }
      if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
        throw new Error(
          `not allowed to list ${type.plural}.flagger.app at ${server} (HTTP ${err.status}): check the RBAC of Fledge's service account`,
          {
            cause: err,
          },
        );
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot reach the Kubernetes API server at ${server}: ${message}`, { cause: err });
    }
  }
}

/**
 * A `get` over the per-namespace informer of the object's namespace (the same shared informers
 * the target controllers read), or the `-namespace` one.
 */
function namespacedCache(kube: KubeClient, type: ResourceType, scope: string | undefined): Pick<Informer, 'get'> {
  return { get: (key: ObjectKey) => kube.informer(type, scope ?? key.namespace).get(key) };
}

/** The running operator, for shutdown. */
interface Operator {
  stop(): Promise<void>;
}

/** Builds everything and starts the loop (directly, or when elected). */
async function startOperator(config: Config, log: Logger, kube: ApiKubeClient, version: string): Promise<Operator> {
  const clock = systemClock;
  const scope = config.namespace;
  const http = createHttpClient({ userAgent: `${BINARY}/${version}` });
  const recorder = new PromRecorder();
  recorder.setInfo(version, config.meshProvider);
  // process_* and nodejs_* (RSS, heap, event-loop lag) next to flagger_*.
  collectDefaultMetrics({ register: recorder.registry });

  const canaries = kube.informer(Resources.canary, scope);
  const store = new CanaryStore({ kube, cache: canaries, clock });
  const notifier = globalNotifier(config, notifierBuilders(http));
  if (notifier.type !== 'none') log.info('global notifications enabled', { provider: notifier.type });
  const secrets = namespacedCache(kube, Resources.secret, scope);
  const events = new KubeEventSink({
    kube,
    secrets,
    http,
    eventWebhook: config.eventWebhook,
    clusterName: config.clusterName,
    globalNotifier: notifier.notifier,
    noCrossNamespaceRefs: config.noCrossNamespaceRefs,
    ...(scope === undefined ? {} : { namespace: scope }),
    clock,
  });
  const metrics = new DefaultMetricChecker({
    http,
    metricsServer: config.metricsServer,
    meshProvider: config.meshProvider,
    templates: kube.informer(Resources.metricTemplate, scope),
    secrets,
    kube,
  });
  const checks = new AnalysisChecks({ http, events, recorder, metrics, secrets });
  const target = targetFactory({
    kube,
    clock,
    selectorLabels: config.selectorLabels,
    includeLabelPrefix: config.includeLabelPrefix,
    configTracking: config.enableConfigTracking,
    log,
  });
  const metadata = (ctx: Ctx, canary: Canary): TargetMetadata => target(canary).metadata(ctx, canary);
  const router = routerFactory({
    kube,
    metadata,
    ingressClass: config.ingressClass,
    ingressAnnotationsPrefix: config.ingressAnnotationsPrefix,
    includeLabelPrefix: config.includeLabelPrefix,
  });
  const services = serviceRouterFactory({ kube, metadata });
  if (!routes(config.meshProvider)) {
    log.warn(
      `-mesh-provider ${config.meshProvider} is not supported yet: Canaries without spec.provider will report it in their status; use one of ${routedProviders.join(', ')}`,
    );
  }
  const scheduler = new Scheduler({
    meshProvider: config.meshProvider,
    clock,
    factories: { target, services, router },
    checks,
    events,
    recorder,
    status: store,
    verify: createVerifier({ noCrossNamespaceRefs: config.noCrossNamespaceRefs, canaries: (ns) => canaries.list(ns) }),
    // `fledge-freeze` ConfigMaps: the canary's namespace's and the cluster-wide one (-freeze-namespace).
    freeze: freezeReader({ kube, scope, freezeNamespace: config.freezeNamespace, clock }),
  });

  let loop: ControlLoop | undefined;
  /** Runs one loop until `signal` aborts (one leadership term, or the whole process). */
  const runLoop = async (signal: AbortSignal): Promise<void> => {
    const current = new ControlLoop({
      kube,
      advance: (ctx, obj) => scheduler.advance(ctx, obj),
      read: (key) => store.latest(key),
      log,
      ...(scope === undefined ? {} : { namespace: scope }),
      threadiness: config.threadiness,
      controlLoopIntervalMs: config.controlLoopIntervalMs,
      minAnalysisIntervalMs: config.minAnalysisIntervalMs,
      targets: target,
      clock,
      setCanaryTotal: (ns, n) => recorder.setTotal(ns, n),
      onCanaryDeleted: (obj) => {
        store.forget({ namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
        try {
          recorder.forget(parseCanary(obj));
        } catch {
          // An invalid Canary never got metric series.
        }
      },
    });
    loop = current;
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await Promise.race([current.start(), stopped]);
      await stopped;
    } finally {
      await current.stop();
      if (loop === current) loop = undefined;
    }
  };

  const shutdown = new AbortController();
  let elector: LeaderElector | undefined;
  let running: Promise<void> | undefined;
  if (config.enableLeaderElection) {
    elector = new LeaderElector({
      kube,
      namespace: config.leaderElectionNamespace,
      log,
      onStartedLeading: (signal) => runLoop(signal),
    });
    elector.start();
    log.info('leader election enabled; waiting for the lease', { namespace: config.leaderElectionNamespace });
  } else {
    running = runLoop(shutdown.signal).catch((err: unknown) => log.error('control loop failed', { error: err }));
  }

  const server: RunningHttpServer = await startHttpServer({
    port: config.port,
    metrics: recorder.registry,
    readiness: () => {
      if (elector && !elector.isLeader())
        return { ready: true, reason: `standby (leader: ${elector.leader() || 'none'})` };
      if (loop?.ready()) return { ready: true, reason: elector ? 'leader, caches synced' : 'caches synced' };
      return { ready: false, reason: 'caches not synced' };
    },
    log,
  });

  return {
    stop: async () => {
      shutdown.abort();
      await Promise.all([elector?.stop(), running]);
      await server.close();
    },
  };
}

/** Runs the operator; resolves with the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseConfig(argv, env);
  if (parsed instanceof ConfigError) {
    process.stderr.write(`${BINARY}: ${parsed.message}\n${parsed.usage}\n`);
    return 2;
  }
  const config = parsed;
  const version = packageVersion();
  if (config.help) {
    process.stdout.write(`${usage(BINARY)}\n`);
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${BINARY} version ${version}\n`);
    return 0;
  }

  const log = createLogger({ level: config.logLevel, name: BINARY, format: config.logFormat });
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', { error: reason }));
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; exiting', { error: err });
    process.exit(1);
  });
  for (const warning of config.warnings) log.warn(warning);
  log.info(`starting ${BINARY}`, { version, config: redactedConfig(config) });

  let kube: ApiKubeClient;
  try {
    kube = createKubeClient({
      ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
      log,
      qps: config.kubeconfigQps,
      burst: config.kubeconfigBurst,
      // One watch per type over the operator's scope, however many namespaces hold canaries.
      watchScope: config.namespace === undefined ? {} : { namespace: config.namespace },
    });
    await verifyCrds(kube, config.namespace, kube.server);
  } catch (err) {
    log.error('cannot start', { error: err });
    return 1;
  }
  log.info('connected to Kubernetes', { server: kube.server });

  return startAndServe(
    log,
    () => startOperator(config, log, kube, version),
    () => kube.close(),
    SHUTDOWN_TIMEOUT_MS,
  );
}

if (isEntryPoint(import.meta.url)) runMain(BINARY, main);
