// Runs a real Flagger (built from its Go module by test/cluster/build.sh, cached per version)
// against the e2e cluster, scoped to one namespace, so that tests can start from statuses Flagger
// itself wrote. Only the adoption tests use it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import { kubeconfigPath } from '../support/index.ts';
import { freePort } from './operator.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function flaggerVersion(): string {
  const env = readFileSync(path.join(root, 'test/cluster/versions.env'), 'utf8');
  const version = /^FLAGGER_VERSION=(\S+)$/m.exec(env)?.[1];
  if (version === undefined) throw new Error('test/cluster/versions.env has no FLAGGER_VERSION');
  return version;
}

/** Where build.sh caches the binary ($FLEDGE_CACHE/bin/flagger-<version>/flagger). */
function flaggerPath(): string {
  const cache =
    process.env['FLEDGE_CACHE'] ??
    path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'fledge');
  return path.join(cache, 'bin', `flagger-${flaggerVersion()}`, 'flagger');
}

/** The Flagger binary, built on first use (a few minutes of CPU; then cached). */
export async function flaggerBinary(): Promise<string> {
  const bin = flaggerPath();
  if (!existsSync(bin)) {
    await promisify(execFile)('bash', [path.join(root, 'test/cluster/build.sh'), 'flagger'], {
      cwd: root,
      timeout: 30 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  return bin;
}

export interface Flagger {
  /** Everything Flagger wrote (zap JSON lines). */
  logs(): string;
  /** SIGTERM and wait for exit: Flagger stops between ticks or in the middle of one, as a scale-down. */
  stop(): Promise<void>;
}

/** Starts Flagger with the kubernetes provider for one namespace; stopped when the test finishes. */
export async function startFlagger(namespace: string): Promise<Flagger> {
  const bin = await flaggerBinary();
  const port = await freePort();
  // No metrics server answers: Blue/Green canaries without metrics never query one.
  const args = [
    '-kubeconfig',
    kubeconfigPath(),
    '-mesh-provider',
    'kubernetes',
    '-namespace',
    namespace,
    '-metrics-server',
    'http://127.0.0.1:1',
    '-port',
    String(port),
    '-log-level',
    'info',
  ];
  let output = '';
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  onTestFinished(async (ctx) => {
    await stop();
    if (ctx.task.result?.state === 'fail') {
      console.error(`flagger logs (last 40 lines) for ${namespace}:\n${output.split('\n').slice(-40).join('\n')}`);
    }
  });
  return { logs: () => output, stop };
}
