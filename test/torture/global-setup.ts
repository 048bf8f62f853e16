// Global setup of the `torture` vitest project: a cluster of its own, never the one e2e tests
// share, because these tests SIGSTOP and kill its control-plane processes. Its state lives in
// FLEDGE_TORTURE_STATE (default .fledge-torture in this checkout); the rest is the e2e setup
// (test/cluster/up.sh, kubeconfig for the workers, down.sh afterwards when this run created it).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import e2eSetup from '../e2e/global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** FLEDGE_STATE of the torture cluster (its kwok pids and logs are below it). */
    clusterState: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = path.resolve(process.env.FLEDGE_TORTURE_STATE ?? path.join(root, '.fledge-torture'));
  // Overrides a FLEDGE_STATE exported for the shared e2e cluster: up.sh, down.sh and the workers
  // all see the torture cluster only.
  process.env.FLEDGE_STATE = state;
  project.provide('clusterState', state);
  console.log(`torture: cluster state in ${state}`);
  return e2eSetup(project);
}
