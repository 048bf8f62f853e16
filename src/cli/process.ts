/** Process lifecycle shared by the `fledge` and `fledge-loadtester` entry points. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../log/logger.ts';

/**
 * Waits for SIGTERM or SIGINT, then runs `stop`. A second signal, or `stop` taking longer than
 * `timeoutMs`, exits at once with status 1. Resolves with the exit status (0).
 */
export async function serveUntilSignal(log: Logger, stop: () => Promise<void>, timeoutMs: number): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('shutting down', { signal });
  const force = (): void => {
    log.error('shutdown did not finish in time; exiting');
    process.exit(1);
  };
  const timer = setTimeout(force, timeoutMs);
  timer.unref();
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  try {
    await stop();
  } catch (err) {
    log.error('error during shutdown', { error: err });
  }
  log.info('stopped');
  return 0;
}

/**
 * Starts a service, then serves it until SIGTERM/SIGINT; `close` (the Kubernetes client) runs after
 * the service stopped, or at once when it could not start (exit status 1).
 */
export async function startAndServe(
  log: Logger,
  start: () => Promise<{ stop(): Promise<void> }>,
  close: () => void,
  timeoutMs: number,
): Promise<number> {
  let service: { stop(): Promise<void> };
  try {
    service = await start();
  } catch (err) {
    log.error('cannot start', { error: err });
    close();
    return 1;
  }
  return serveUntilSignal(
    log,
    async () => {
      try {
        await service.stop();
      } finally {
        close();
      }
    },
    timeoutMs,
  );
}

/** True when the module at `moduleUrl` is the script Node was started with (not an import). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** Runs `main` with the process's arguments and environment and exits with its status. */
export function runMain(binary: string, main: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>): void {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${binary}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
