// fledge-loadtester as a separate process (`node src/loadtester/main.ts`) for e2e tests, with its
// gates in a ConfigMap of the cluster; stopped when the test finishes.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { kubeconfigPath, waitFor } from '../support/index.ts';
import { freePort } from './operator.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Loadtester {
  readonly url: string;
  logs(): string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** Starts the process again with the same arguments, and waits until it serves. */
  restart(): Promise<void>;
  post(p: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a loadtester for the current test; it is stopped when the test finishes. */
export async function startLoadtester(
  gateNamespace: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  kubeconfig = kubeconfigPath(),
): Promise<Loadtester> {
  const port = await freePort();
  const argv = [
    '--disable-warning=ExperimentalWarning',
    path.join(root, 'src/loadtester/main.ts'),
    '-kubeconfig',
    kubeconfig,
    '-port',
    String(port),
    '-gate-namespace',
    gateNamespace,
    '-log-level',
    'debug',
    ...args,
  ];
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn(process.execPath, argv, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    proc.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
    proc.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child = proc;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}: ${output.slice(-2000)}`);
        return (await fetch(`${url}/healthz`)).status === 200;
      },
      { describe: `fledge-loadtester on ${url} to answer /healthz`, timeoutMs: 30_000, intervalMs: 100 },
    );
  };
  await launch();
  const lt: Loadtester = {
    url,
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
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error('still running');
      output += '\n--- restart ---\n';
      await launch();
    },
    async post(p, body, headers = {}) {
      const res = await fetch(`${url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    },
  };
  onTestFinished(async (ctx) => {
    await lt.stop();
    if (ctx.task.result?.state === 'fail') {
      console.error(`fledge-loadtester logs (${url}):\n${output.split('\n').slice(-60).join('\n')}`);
    }
  });
  return lt;
}

/** `KEY=value` of test/cluster/versions.env. */
function pinnedVersion(key: string): string {
  const text = readFileSync(path.join(root, 'test/cluster/versions.env'), 'utf8');
  const value = new RegExp(`^${key}=(\\S+)`, 'm').exec(text)?.[1];
  if (!value) throw new Error(`test/cluster/versions.env has no ${key}`);
  return value;
}

/** `helm template <release> charts/loadtester` with the pinned helm (built by test/cluster/build.sh). */
export function helmTemplateLoadtester(release: string, namespace: string, values: object): Promise<string> {
  const cache =
    process.env.FLEDGE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'fledge');
  const helm = path.join(cache, 'bin', `helm-${pinnedVersion('HELM_VERSION')}`, 'helm');
  if (!existsSync(helm)) throw new Error(`helm is missing at ${helm}: run \`bash test/cluster/build.sh helm\``);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fledge-loadtester-chart-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const valuesFile = path.join(dir, 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  const args = ['template', release, path.join(root, 'charts/loadtester'), '--namespace', namespace];
  args.push('--kube-version', pinnedVersion('KUBE_VERSION'), '-f', valuesFile);
  return new Promise((resolve, reject) => {
    execFile(helm, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`helm template failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}
