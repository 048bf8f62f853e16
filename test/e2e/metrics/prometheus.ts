// Runs Debian's `prometheus` (scripts/test.sh installs it) on loopback for one test: a generated
// config scraping the given targets every second, storage in a temporary directory, and optionally
// basic auth through a web config file. It can be stopped and started again on the same port and
// storage, to test how the operator rides out an outage of its metrics server.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import { freePort } from '../lib/operator.ts';
import { waitFor } from '../support/index.ts';

const run = promisify(execFile);

export interface PrometheusOptions {
  /** `host:port` scrape targets (path `/metrics`). */
  readonly targets: readonly string[];
  /** Require these credentials (web config with a bcrypt hash made by `htpasswd -nbB`). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The single value of an instant query; undefined when it returns no sample. */
  query(promql: string): Promise<number | undefined>;
  /** Waits until `promql` returns a sample (e.g. until a rate has two scrapes to work with). */
  waitForValue(promql: string, timeoutMs?: number): Promise<number>;
  /** SIGTERM and wait for exit; the port and storage are kept. */
  stop(): Promise<void>;
  /** Starts the stopped server again and waits until it is ready. */
  start(): Promise<void>;
  logs(): string;
}

export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fledge-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'workload', static_configs: [{ targets: [...o.targets] }] }],
  };
  // YAML is a superset of JSON.
  await writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const args = [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  const headers: Record<string, string> = {};
  if (o.basicAuth !== undefined) {
    const { stdout } = await run('htpasswd', ['-nbB', o.basicAuth.username, o.basicAuth.password]);
    const hash = stdout.trim().slice(o.basicAuth.username.length + 1);
    await writeFile(
      path.join(dir, 'web.yml'),
      JSON.stringify({ basic_auth_users: { [o.basicAuth.username]: hash } }, null, 2),
    );
    args.push(`--web.config.file=${path.join(dir, 'web.yml')}`);
    headers['authorization'] =
      `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password}`).toString('base64')}`;
  }

  let output = '';
  let child: ChildProcess | undefined;
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const launch = async (): Promise<void> => {
    const proc = spawn('prometheus', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
    proc.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
    let spawnError: Error | undefined;
    proc.once('error', (err) => (spawnError = err));
    child = proc;
    await waitFor(
      async () => {
        if (spawnError !== undefined) throw new Error(`cannot run prometheus: ${spawnError.message}`);
        if (!running()) throw new Error(`prometheus exited: ${output.slice(-2000)}`);
        const res = await fetch(`${url}/-/ready`, { headers, signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      { describe: () => `prometheus on ${url} to be ready (logs: ${output.slice(-1000)})`, timeoutMs: 60_000 },
    );
  };

  const query = async (promql: string): Promise<number | undefined> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
      headers,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`prometheus query ${promql}: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const result = body.data?.result ?? [];
    if (result.length > 1) throw new Error(`prometheus query ${promql}: ${result.length} series`);
    const value = result[0]?.value?.[1];
    return value === undefined ? undefined : Number(value);
  };

  const server: PrometheusServer = {
    url,
    query,
    async waitForValue(promql, timeoutMs = 60_000) {
      return waitFor(async () => (await query(promql)) ?? false, {
        describe: `prometheus on ${url} to return a value for ${promql}`,
        timeoutMs,
        intervalMs: 250,
      });
    },
    async stop() {
      const proc = child;
      if (proc === undefined || !running()) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      await exited;
    },
    async start() {
      if (running()) throw new Error('prometheus is still running');
      output += '\n--- restart ---\n';
      await launch();
    },
    logs: () => output,
  };
  onTestFinished(async (ctx) => {
    await server.stop();
    if (ctx.task.result?.state === 'fail') console.error(`prometheus logs:\n${output.slice(-4000)}`);
    await rm(dir, { recursive: true, force: true });
  });
  await launch();
  return server;
}
