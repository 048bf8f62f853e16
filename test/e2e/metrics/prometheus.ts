// Runs Debian's `prometheus` (scripts/test.sh installs it) on loopback for one test: a generated
// config scraping the given targets every second, storage in a temporary directory, and optionally
// basic auth and TLS (a certificate of a throw-away CA, src/http/ca.fixture.ts) through a web
// config file. It can be stopped and started again on the same port and storage, to test how the
// operator rides out an outage of its metrics server. startBearerGate puts a bearer-token check in
// front of it (Prometheus itself cannot check bearer tokens).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
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
  /**
   * Serve HTTPS with this certificate and key (`tls_server_config`); the harness trusts `caPem`
   * for its own calls. The certificate must be valid for IP 127.0.0.1.
   */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`, or `https://` with `tls` */
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
  const url = `${o.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
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
  const web: Record<string, unknown> = {};
  if (o.basicAuth !== undefined) {
    const { stdout } = await run('htpasswd', ['-nbB', o.basicAuth.username, o.basicAuth.password]);
    const hash = stdout.trim().slice(o.basicAuth.username.length + 1);
    web['basic_auth_users'] = { [o.basicAuth.username]: hash };
    headers['authorization'] =
      `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password}`).toString('base64')}`;
  }
  if (o.tls !== undefined) {
    await writeFile(path.join(dir, 'server.crt'), o.tls.certPem);
    await writeFile(path.join(dir, 'server.key'), o.tls.keyPem, { mode: 0o600 });
    web['tls_server_config'] = { cert_file: path.join(dir, 'server.crt'), key_file: path.join(dir, 'server.key') };
  }
  if (Object.keys(web).length > 0) {
    await writeFile(path.join(dir, 'web.yml'), JSON.stringify(web, null, 2));
    args.push(`--web.config.file=${path.join(dir, 'web.yml')}`);
  }
  const get = (p: string): Promise<{ status: number; text: string }> =>
    getText(`${url}${p}`, { headers, ...(o.tls === undefined ? {} : { caPem: o.tls.caPem }) });

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
        const res = await get('/-/ready');
        return res.status === 200;
      },
      { describe: () => `prometheus on ${url} to be ready (logs: ${output.slice(-1000)})`, timeoutMs: 60_000 },
    );
  };

  const query = async (promql: string): Promise<number | undefined> => {
    const res = await get(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (res.status !== 200) throw new Error(`prometheus query ${promql}: HTTP ${res.status} ${res.text}`);
    const body = JSON.parse(res.text) as { data?: { result?: { value?: [number, string] }[] } };
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

/**
 * GET with node:http(s) (fetch cannot trust an extra CA per call); a 5 s deadline. Rejects when
 * no response arrives.
 */
export function getText(
  url: string,
  o: { readonly headers?: Readonly<Record<string, string>>; readonly caPem?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const options = { headers: { ...o.headers }, timeout: 5000 };
    const req = url.startsWith('https:')
      ? httpsRequest(url, { ...options, ...(o.caPem === undefined ? {} : { ca: o.caPem }), agent: false }, onResponse)
      : httpRequest(url, { ...options, agent: false }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface BearerGate {
  /** `http://127.0.0.1:<port>`: use it as the Prometheus address. */
  readonly url: string;
  /** The `Authorization` header of every request, as received. */
  readonly authorizations: (string | undefined)[];
}

/**
 * A reverse proxy (node:http) in front of a Prometheus that answers 401 unless the request carries
 * `Authorization: Bearer <token>`, and otherwise forwards it (with the server's own basic auth and
 * CA, when given). Closed when the test finishes.
 */
export async function startBearerGate(o: {
  readonly upstream: string;
  readonly token: string;
  readonly caPem?: string;
  readonly basicAuth?: { readonly username: string; readonly password: string };
}): Promise<BearerGate> {
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${o.token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"status":"error","error":"bearer token required"}');
      return;
    }
    const headers: Record<string, string> = {};
    if (o.basicAuth !== undefined) {
      headers['authorization'] =
        `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password}`).toString('base64')}`;
    }
    getText(`${o.upstream}${req.url ?? '/'}`, { headers, ...(o.caPem === undefined ? {} : { caPem: o.caPem }) }).then(
      (up) => {
        res.writeHead(up.status, { 'Content-Type': 'application/json' });
        res.end(up.text);
      },
      (err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorizations };
}
