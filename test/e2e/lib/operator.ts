// Runs the operator under test as a separate process (`node src/main.ts`), scoped to one namespace,
// so e2e files can run side by side on one cluster. Logs are kept for assertions and failure reports.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { kubeconfigPath } from '../support/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface OperatorOptions {
  readonly namespace: string;
  readonly provider?: string;
  readonly args?: readonly string[];
  /** Environment on top of the test's own; an undefined value removes the variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Operator {
  /** Everything the process wrote to stdout/stderr (JSON log lines), across restarts. */
  logs(): string;
  /** SIGKILL, as a crash: no cleanup runs. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Starts the process again with the same arguments. */
  restart(): Promise<void>;
  readonly port: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the operator for one test and stops it when the test finishes. */
export async function startOperator(options: OperatorOptions): Promise<Operator> {
  const port = await freePort();
  const args = [
    '--disable-warning=ExperimentalWarning',
    path.join(root, 'src/main.ts'),
    '-kubeconfig',
    kubeconfigPath(),
    '-namespace',
    options.namespace,
    '-mesh-provider',
    options.provider ?? 'kubernetes',
    '-port',
    String(port),
    '-log-level',
    'debug',
    '-min-analysis-interval',
    '1s',
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  let output = '';
  let child: ChildProcess | undefined;
  const launch = (): void => {
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
    proc.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
    proc.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child = proc;
  };
  launch();
  const op: Operator = {
    port,
    logs: () => output,
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      await exited(child);
    },
    restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        return Promise.reject(new Error('operator still running'));
      }
      output += '\n--- restart ---\n';
      launch();
      return Promise.resolve();
    },
  };
  onTestFinished(async (ctx) => {
    await op.stop();
    if (ctx.task.result?.state === 'fail') {
      const tail = output.split('\n').slice(-80).join('\n');
      console.error(`operator logs (last 80 lines) for ${options.namespace}:\n${tail}`);
    }
  });
  return op;
}
