// Runs the cluster's kubectl against the e2e cluster (kubeconfig from the global setup).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Adds `--namespace <namespace>`. */
  namespace?: string;
  /** Resolve with the result instead of throwing when kubectl exits non-zero. */
  allowFailure?: boolean;
  /** Kills kubectl after this long. Default 60 s. */
  timeoutMs?: number;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class KubectlError extends Error {
  readonly result: KubectlResult;
  constructor(args: readonly string[], result: KubectlResult) {
    super(`kubectl ${args.join(' ')} exited with ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'KubectlError';
    this.result = result;
  }
}

/** Path of the e2e cluster's kubeconfig. */
export function kubeconfigPath(): string {
  const provided = inject('kubeconfig');
  const kubeconfig = provided || process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('no kubeconfig: run the tests with `vitest --project e2e` (global setup)');
  return kubeconfig;
}

function kubectlBinary(): string {
  const dir = inject('kubectlDir');
  return dir ? path.join(dir, 'kubectl') : 'kubectl';
}

/** Runs `kubectl ARGS…`; throws a {@link KubectlError} on a non-zero exit unless `allowFailure`. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const fullArgs = ['--kubeconfig', kubeconfigPath(), ...args];
  if (options.namespace !== undefined) fullArgs.push('--namespace', options.namespace);
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlBinary(), fullArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: KubectlResult = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr:
          Buffer.concat(stderr).toString('utf8') +
          (signal ? `\n(kubectl killed by ${signal} after ${timeoutMs} ms)` : ''),
        exitCode: code ?? 128,
      };
      if (result.exitCode !== 0 && !options.allowFailure) reject(new KubectlError(args, result));
      else resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `kubectl ARGS… -o json` and parses the output. The caller vouches for the shape `T`. */
export async function kubectlJson<T>(args: readonly string[], options: KubectlOptions = {}): Promise<T> {
  const { stdout } = await kubectl([...args, '-o', 'json'], options);
  const parsed: unknown = JSON.parse(stdout);
  return parsed as T;
}

/** `kubectl apply -f -` of one or more objects (given as objects or as a YAML/JSON string). */
export async function apply(manifest: string | object, options: KubectlOptions = {}): Promise<KubectlResult> {
  const input = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  return kubectl(['apply', '-f', '-'], { ...options, input });
}
