// Signals the torture cluster's own control-plane processes (kwokctl --runtime binary): SIGSTOP /
// SIGCONT, SIGKILL, and a restart with the exact command line, working directory and environment
// the killed process had. Only processes whose command line names this cluster's directory are
// ever touched, and a guard refuses any cluster state but the one the torture setup provided.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { kubectl, waitFor } from '../../e2e/support/index.ts';

/** Components kwokctl runs for the cluster. */
export const COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok-controller',
] as const;
export type Component = (typeof COMPONENTS)[number];

interface Launch {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The torture cluster's processes. */
export class ControlPlane {
  readonly #clusterDir: string;
  /** What each killed component needs to start again. */
  readonly #launches = new Map<Component, Launch>();
  /** Components this test stopped or killed and has not brought back yet. */
  readonly #down = new Map<Component, 'stopped' | 'killed'>();
  #supervisor: ReturnType<typeof setInterval> | undefined;

  constructor() {
    const state = inject('clusterState');
    if (!state || !state.includes('torture')) {
      throw new Error(`refusing to signal the cluster in "${state}": not the torture cluster`);
    }
    this.#clusterDir = path.join(state, 'kwok', 'clusters', 'fledge');
  }

  /** The component's pid, checked to be a process of this cluster. */
  pid(component: Component): number {
    const pid = Number(readFileSync(this.#pidFile(component), 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(`${this.#clusterDir}/`))
      throw new Error(`pid ${pid} is not ${component} of ${this.#clusterDir}`);
    return pid;
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  stop(component: Component): void {
    const pid = this.pid(component);
    this.#capture(component, pid);
    process.kill(pid, 'SIGSTOP');
    this.#down.set(component, 'stopped');
  }

  /** SIGCONT after {@link stop}. */
  resume(component: Component): void {
    process.kill(this.pid(component), 'SIGCONT');
    this.#down.delete(component);
  }

  /** SIGKILL, remembering how to start it again; resolves once it is gone. */
  async kill(component: Component): Promise<void> {
    const pid = this.pid(component);
    this.#capture(component, pid);
    process.kill(pid, 'SIGKILL');
    this.#down.set(component, 'killed');
    while (alive(pid)) await sleep(20);
  }

  /** Starts a component again, detached, appending to its kwokctl log, and records its pid. */
  start(component: Component): void {
    const launch = this.#launches.get(component);
    if (!launch) throw new Error(`${component} was not captured by this test`);
    const [binary, ...args] = launch.argv;
    if (binary === undefined) throw new Error(`${component}: empty command line`);
    const log = openSync(path.join(this.#clusterDir, 'logs', `${component}.log`), 'a');
    const child = spawn(binary, args, {
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`${component} did not start`);
    writeFileSync(this.#pidFile(component), String(child.pid));
    this.#down.delete(component);
  }

  /**
   * Records how every component runs now, so that one that exits later (kube-scheduler and
   * kube-controller-manager exit when they lose their leader lease during an API server outage)
   * can be started again by {@link revive}.
   */
  captureAll(): void {
    for (const component of COMPONENTS) this.#capture(component, this.pid(component));
  }

  /**
   * Captures every component and, until {@link restore}, starts again within a second any that
   * exits on its own, as kubelet or systemd would (see {@link captureAll}).
   */
  supervise(): void {
    this.captureAll();
    this.#supervisor ??= setInterval(() => {
      for (const component of this.revive()) console.log(`torture: ${component} exited; started it again`);
    }, 1_000);
  }

  /** Starts again every captured component that is no longer running (not the ones this test killed). */
  revive(): Component[] {
    const revived: Component[] = [];
    for (const component of this.#launches.keys()) {
      if (this.#down.get(component) === 'killed' || this.#running(component)) continue;
      this.start(component);
      revived.push(component);
    }
    return revived;
  }

  /** Resolves once kube-apiserver answers /readyz with ok; returns when (epoch ms). */
  async waitReady(timeoutMs = 120_000): Promise<number> {
    await waitFor(
      async () => {
        const r = await kubectl(['get', '--raw=/readyz', '--request-timeout=2s'], {
          allowFailure: true,
          timeoutMs: 5_000,
        });
        return r.exitCode === 0 && r.stdout.trim() === 'ok';
      },
      { describe: 'kube-apiserver /readyz to answer ok', timeoutMs, intervalMs: 100 },
    );
    return Date.now();
  }

  /** Brings back whatever this test left stopped, killed or dead (call it when the test ends). */
  async restore(): Promise<void> {
    clearInterval(this.#supervisor);
    this.#supervisor = undefined;
    for (const [component, how] of [...this.#down]) {
      if (how === 'stopped') process.kill(this.pid(component), 'SIGCONT');
      else this.start(component);
    }
    this.#down.clear();
    await this.waitReady();
    await sleep(2_000);
    this.revive();
  }

  #capture(component: Component, pid: number): void {
    const env: NodeJS.ProcessEnv = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = entry.indexOf('=');
      if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
    }
    this.#launches.set(component, {
      argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== ''),
      cwd: readlinkSync(`/proc/${pid}/cwd`),
      env,
    });
  }

  #running(component: Component): boolean {
    try {
      return alive(this.pid(component));
    } catch {
      return false;
    }
  }

  #pidFile(component: Component): string {
    return path.join(this.#clusterDir, 'pids', `${component}.pid`);
  }
}
