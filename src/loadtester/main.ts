/**
 * `fledge-loadtester`: the second entry point (Flagger cmd/loadtester/main.go). Flags → logger →
 * Kubernetes client (gates live in a ConfigMap) → metrics, executor, background runner → HTTP API.
 * SIGTERM/SIGINT: stop accepting requests, kill running commands and load tests, exit 0.
 */
import { readFileSync } from 'node:fs';
import { type ApiKubeClient, createKubeClient } from '../kube/client.ts';
import { createLogger } from '../log/logger.ts';
import {
  type LoadtesterConfig,
  LoadtesterConfigError,
  loadtesterUsage,
  parseLoadtesterConfig,
  redactedLoadtesterConfig,
} from './config.ts';
import { ConfigMapGateStore } from './gates.ts';
import { LoadSlots } from './load-policy.ts';
import { LogLimiter, limitedLogger } from './log-limiter.ts';
import { LoadtesterMetrics } from './metrics.ts';
import { TaskRunner } from './runner.ts';
import { type RunningServer, createHandler, listen } from './server.ts';
import { createExecutor } from './tasks.ts';
import { isEntryPoint, runMain, startAndServe } from '../cli/process.ts';

export const BINARY = 'fledge-loadtester';

const SHUTDOWN_TIMEOUT_MS = 30_000;

/** At most 20 lines of one kind per 10 s from what clients cause. */
const CLIENT_LOG_LIMIT = { burst: 20, intervalMs: 10_000 };

/** The version in package.json (two levels above src/loadtester/ and dist/loadtester/). */
export function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const v = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>)['version'] : undefined;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A started loadtester. */
export interface Loadtester {
  readonly port: number;
  stop(): Promise<void>;
}

/** Builds and starts everything for `config`, with `kube` for the gates. */
export async function startLoadtester(
  config: LoadtesterConfig,
  kube: ApiKubeClient,
  log = createLogger({ level: config.logLevel, name: BINARY }),
): Promise<Loadtester> {
  const metrics = new LoadtesterMetrics();
  const loadSlots = new LoadSlots(config.load.maxRuns);
  const execute = createExecutor({ timeoutMs: config.timeoutMs, log, observer: metrics, loadSlots });
  // Lines a client can cause go through one limiter, so that no client can flood the log.
  const clientLog = limitedLogger(log.child({ logger: 'http' }), new LogLimiter(CLIENT_LOG_LIMIT));
  const runner = new TaskRunner({
    execute,
    log,
    onRunning: (n) => metrics.setRunning(n),
    onDone: (task, out) => metrics.task(task.type, out.ok ? 'success' : 'failure'),
  });
  const gates = new ConfigMapGateStore({ kube, namespace: config.gateNamespace, name: config.gateConfigMap });
  const shutdown = new AbortController();
  const handler = createHandler({
    gates,
    allowlist: config.allowlist,
    namespaceRegexp: config.namespaceRegexp,
    token: config.token,
    tokenScope: config.tokenScope,
    load: config.load,
    loadSlots,
    runner,
    execute,
    metrics,
    log: clientLog,
    signal: shutdown.signal,
  });
  // Read the gates once, so that RBAC or connection problems show at start, not at the first check.
  gates.isOpen('startup-probe').then(
    () => log.info('gate storage ready', { configMap: gates.location }),
    (err: unknown) =>
      log.warn('cannot read the gates ConfigMap; gate requests will fail until this is fixed', {
        configMap: gates.location,
        error: err,
      }),
  );
  const server: RunningServer = await listen(handler, {
    port: config.port,
    log: clientLog,
    maxConnections: config.maxConnections,
  });
  log.info(`starting ${BINARY} API`, { port: server.port });
  return {
    port: server.port,
    stop: async () => {
      const closed = server.close();
      shutdown.abort();
      await runner.stop();
      await closed;
    },
  };
}

/** Runs the loadtester; resolves with the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseLoadtesterConfig(argv, env);
  if (parsed instanceof LoadtesterConfigError) {
    process.stderr.write(`${BINARY}: ${parsed.message}\n${loadtesterUsage(BINARY)}\n`);
    return 2;
  }
  const config = parsed;
  const version = packageVersion();
  if (config.help) {
    process.stdout.write(`${loadtesterUsage(BINARY)}\n`);
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${BINARY} version ${version}\n`);
    return 0;
  }
  const log = createLogger({ level: config.logLevel, name: BINARY });
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', { error: reason }));
  for (const w of config.warnings) log.warn(w);
  log.info(`starting ${BINARY}`, { version, config: redactedLoadtesterConfig(config) });

  let kube: ApiKubeClient;
  try {
    kube = createKubeClient({ ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }), log });
  } catch (err) {
    log.error('cannot start: gates are stored in a ConfigMap and need a Kubernetes API server', { error: err });
    return 1;
  }
  return startAndServe(
    log,
    () => startLoadtester(config, kube, log),
    () => kube.close(),
    SHUTDOWN_TIMEOUT_MS,
  );
}

if (isEntryPoint(import.meta.url)) runMain(BINARY, main);
