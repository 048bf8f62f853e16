// Global setup of the `e2e` vitest project: runs once per `vitest run`, before any e2e file.
// Starts (or reuses) the local control plane with test/cluster/up.sh, which builds the binaries on
// first use, and hands the kubeconfig to the tests. Tears the cluster down afterwards only when this
// run created it; set FLEDGE_KEEP_CLUSTER=1 to keep it anyway.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the local cluster's kubeconfig. */
    kubeconfig: string;
    /** Directory holding the kubectl matching the cluster's Kubernetes version. */
    kubectlDir: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface ClusterInfo {
  kubeconfig: string;
  kubectlDir: string;
  server: string;
  kubernetesVersion: string;
  lastUp: 'created' | 'reused';
}

function runScript(script: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    // stdio inherited: the build (first run) and the cluster's progress show in the terminal.
    const child = spawn('bash', [path.join(root, script)], { cwd: root, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function readClusterInfo(file: string): ClusterInfo {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file}: not a JSON object`);
  const field = (key: string): string => {
    const value: unknown = (parsed as Record<string, unknown>)[key];
    if (typeof value !== 'string' || value === '') throw new Error(`${file}: missing "${key}"`);
    return value;
  };
  const lastUp = field('lastUp');
  if (lastUp !== 'created' && lastUp !== 'reused') throw new Error(`${file}: bad lastUp "${lastUp}"`);
  return {
    kubeconfig: field('kubeconfig'),
    kubectlDir: field('kubectlDir'),
    server: field('server'),
    kubernetesVersion: field('kubernetesVersion'),
    lastUp,
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const code = await runScript('test/cluster/up.sh');
  if (code !== 0) {
    throw new Error(`test/cluster/up.sh failed (exit ${code}); see its output above and test/cluster/README.md`);
  }
  const info = readClusterInfo(
    path.join(process.env.FLEDGE_STATE ?? path.join(root, '.fledge'), 'cluster/cluster.json'),
  );

  // Child processes of the tests (kubectl, the operator under test) get this cluster by default;
  // the workers are started after global setup and inherit this environment.
  process.env.KUBECONFIG = info.kubeconfig;
  process.env.PATH = [info.kubectlDir, process.env.PATH].filter(Boolean).join(path.delimiter);
  project.provide('kubeconfig', info.kubeconfig);
  project.provide('kubectlDir', info.kubectlDir);
  console.log(`e2e: Kubernetes ${info.kubernetesVersion} at ${info.server} (${info.lastUp})`);

  return async () => {
    if (info.lastUp !== 'created') {
      console.log('e2e: leaving the cluster running (it was already up before this run)');
      return;
    }
    if (process.env.FLEDGE_KEEP_CLUSTER === '1') {
      console.log(`e2e: FLEDGE_KEEP_CLUSTER=1, leaving the cluster running (KUBECONFIG=${info.kubeconfig})`);
      return;
    }
    const downCode = await runScript('test/cluster/down.sh');
    if (downCode !== 0) throw new Error(`test/cluster/down.sh failed (exit ${downCode})`);
  };
}
