/**
 * Runs one program from an argv, **never through a shell** (`shell: false`): the words reach the
 * program exactly as tokenized. The child gets its own process group, so a timeout or shutdown
 * kills everything it started (Go's `exec.CommandContext` kills only the direct child). Output is
 * captured up to a limit per stream; stdin is closed. The loadtester's bearer token is removed
 * from the child's environment.
 */
import { spawn } from 'node:child_process';

/** Options of {@link execArgv}. */
export interface ExecOptions {
  /** Kill the process group after this long (ms). */
  readonly timeoutMs: number;
  /** Kill the process group when this aborts. */
  readonly signal?: AbortSignal;
  /** Environment of the child (default: this process's, without {@link SECRET_ENV}). */
  readonly env?: NodeJS.ProcessEnv;
  /** Bytes kept per stream (default 1 MiB); the rest is dropped and the result says so. */
  readonly maxOutputBytes?: number;
}

/** How a run ended. */
export interface ExecResult {
  /** Exit code; null when killed by a signal or not started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed because `timeoutMs` passed. */
  readonly timedOut: boolean;
  /** Killed because the abort signal fired. */
  readonly aborted: boolean;
  /** The program could not be started (`ENOENT`, `EACCES`, …). */
  readonly spawnError?: string;
  /** Output beyond `maxOutputBytes` was dropped. */
  readonly truncated: boolean;
}

/** Environment variables never passed to commands. */
export const SECRET_ENV: readonly string[] = ['LOADTESTER_TOKEN'];

/** This process's environment without the loadtester's secrets. */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const k of SECRET_ENV) delete out[k];
  return out;
}

/** True when the run exited 0. */
export function succeeded(r: ExecResult): boolean {
  return r.exitCode === 0 && r.spawnError === undefined;
}

/** One line saying how a failed run ended: `exit code 2`, `timed out after 1h`, `not found`… */
export function describeFailure(r: ExecResult, timeoutMs: number): string {
  if (r.spawnError !== undefined) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)}s and was killed`;
  if (r.aborted) return 'killed at shutdown';
  if (r.signal !== null) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode ?? 'unknown'}`;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;

/** Runs `argv[0]` with `argv[1..]`; resolves when it has exited (never rejects). */
export function execArgv(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [file, ...args] = argv;
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve) => {
    if (file === undefined || file === '') {
      resolve({ ...empty(), spawnError: 'empty command' });
      return;
    }
    if (options.signal?.aborted) {
      resolve({ ...empty(), aborted: true });
      return;
    }
    const child = spawn(file, args, {
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? childEnv(),
    });
    const out = collector(max);
    const err = collector(max);
    child.stdout.on('data', out.push);
    child.stderr.on('data', err.push);
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    const kill = (): void => {
      try {
        // The negative pid addresses the process group made by `detached: true`.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? `${file}: command not found` : `${file}: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: spawnError === undefined ? code : null,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        timedOut,
        aborted,
        ...(spawnError === undefined ? {} : { spawnError }),
        truncated: out.truncated() || err.truncated(),
      });
    });
  });
}

function empty(): ExecResult {
  return { exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, truncated: false };
}

function collector(max: number): { push: (b: Buffer) => void; text: () => string; truncated: () => boolean } {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  return {
    push: (b: Buffer) => {
      if (size >= max) {
        dropped = true;
        return;
      }
      const keep = b.subarray(0, max - size);
      if (keep.length < b.length) dropped = true;
      chunks.push(keep);
      size += keep.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    truncated: () => dropped,
  };
}
