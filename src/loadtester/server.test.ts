// The loadtester's HTTP API on a real loopback socket, with the in-memory gate store: every
// endpoint's status codes and bodies. Commands are real processes (echo, sh, and stand-ins for
// helm and kubectl put first on PATH).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type Logger, createLogger, silentLogger } from '../log/logger.ts';
import type { TokenScope } from './config.ts';
import { DEFAULT_LOAD_POLICY, type LoadPolicy, LoadSlots } from './load-policy.ts';
import { Allowlist } from './allowlist.ts';
import { MemoryGateStore } from './gates.fixture.ts';
import { LogLimiter, limitedLogger } from './log-limiter.ts';
import { LoadtesterMetrics } from './metrics.ts';
import { TaskRunner } from './runner.ts';
import {
  type ListenOptions,
  MAX_BODY_BYTES,
  type RunningServer,
  authorized,
  createHandler,
  listen,
  requestPath,
} from './server.ts';
import { createExecutor } from './tasks.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fledge-loadtester-test-'));
const originalPath = process.env['PATH'];

beforeAll(() => {
  // Stand-ins for helm and kubectl that print their arguments.
  for (const bin of ['helm', 'kubectl']) {
    writeFileSync(path.join(dir, bin), `#!/bin/sh\necho ${bin} "$@"\n`);
    chmodSync(path.join(dir, bin), 0o755);
  }
  process.env['PATH'] = `${dir}${path.delimiter}${originalPath ?? ''}`;
});
afterAll(() => {
  process.env['PATH'] = originalPath;
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  readonly url: string;
  readonly gates: MemoryGateStore;
  readonly runner: TaskRunner;
  readonly metrics: LoadtesterMetrics;
  post(p: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
}

const open: RunningServer[] = [];
const runners: TaskRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface StartOptions {
  allow?: string[];
  token?: string;
  tokenScope?: TokenScope;
  namespaceRegexp?: RegExp;
  timeoutMs?: number;
  load?: Partial<LoadPolicy>;
  loadSlots?: LoadSlots;
  listen?: Partial<ListenOptions>;
  log?: Logger;
}

async function start(options: StartOptions = {}): Promise<Harness> {
  const gates = new MemoryGateStore();
  const metrics = new LoadtesterMetrics({ defaultMetrics: false });
  const execute = createExecutor({ timeoutMs: options.timeoutMs ?? 10_000, log: silentLogger, observer: metrics });
  const runner = new TaskRunner({
    execute,
    log: silentLogger,
    onDone: (t, out) => metrics.task(t.type, out.ok ? 'success' : 'failure'),
  });
  runners.push(runner);
  const handler = createHandler({
    gates,
    allowlist: Allowlist.parse(options.allow ?? []),
    namespaceRegexp: options.namespaceRegexp,
    token: options.token,
    ...(options.tokenScope === undefined ? {} : { tokenScope: options.tokenScope }),
    load: { ...DEFAULT_LOAD_POLICY, ...options.load },
    ...(options.loadSlots === undefined ? {} : { loadSlots: options.loadSlots }),
    runner,
    execute,
    metrics,
    log: options.log ?? silentLogger,
    signal: new AbortController().signal,
  });
  const server = await listen(handler, {
    port: 0,
    host: '127.0.0.1',
    log: options.log ?? silentLogger,
    ...options.listen,
  });
  open.push(server);
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    gates,
    runner,
    metrics,
    async post(p, body, headers = {}) {
      const res = await fetch(`${url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    },
  };
}

const canary = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'x' };
const task = (metadata: Record<string, string>): Record<string, unknown> => ({ ...canary, metadata });

describe('fledge-loadtester HTTP API', () => {
  it('GET /healthz answers 200 OK, without a token even when one is required', async () => {
    const h = await start({ token: 's3cret' });
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('OK');
  });

  it('requires the bearer token on every other endpoint with -token-scope=all', async () => {
    const h = await start({ token: 's3cret', tokenScope: 'all', allow: ['echo .*'] });
    for (const p of ['/metrics', '/gate/approve', '/gate/check', '/gate/open', '/rollback/check', '/', '/nope']) {
      const none = await h.post(p, canary);
      expect(none.status, p).toBe(401);
      expect(none.text).toContain('Authorization: Bearer');
      expect((await h.post(p, canary, { authorization: 'Bearer wrong' })).status, p).toBe(401);
    }
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer s3cret' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect((await h.post('/gate/open', canary, { authorization: 'bearer s3cret' })).status).toBe(202);
    expect(h.gates.open.has('podinfo.test')).toBe(true);
  });

  it('GET /metrics serves the fledge_loadtester_* metrics', async () => {
    const h = await start({ allow: ['echo .*'] });
    await h.post('/', task({ type: 'bash', cmd: 'echo hi' }));
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toContain('# TYPE fledge_loadtester_requests_total counter');
    expect(text).toContain('# TYPE fledge_loadtester_request_duration_seconds histogram');
    expect(text).toContain('fledge_loadtester_tasks_total{type="bash",result="success"} 1');
  });

  it('/gate/approve answers 200 and /gate/halt 403, whatever the body', async () => {
    const h = await start();
    expect(await h.post('/gate/approve', '')).toEqual({ status: 200, text: 'OK' });
    expect(await h.post('/gate/halt', '')).toEqual({ status: 403, text: 'Forbidden' });
  });

  it('/gate/check is 403 until /gate/open (202), 200 Approved after, 403 again after /gate/close (202)', async () => {
    const h = await start();
    expect(await h.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect(await h.post('/gate/open', canary)).toEqual({ status: 202, text: '' });
    expect([...h.gates.open]).toEqual(['podinfo.test']);
    expect(await h.post('/gate/check', canary)).toEqual({ status: 200, text: 'Approved' });
    expect(await h.post('/gate/check', { ...canary, name: 'other' })).toEqual({ status: 403, text: 'Forbidden' });
    expect(await h.post('/rollback/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect(await h.post('/gate/close', canary)).toEqual({ status: 202, text: '' });
    expect(await h.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
  });

  it('/rollback/check is 200 only while rollback.<name>.<namespace> is open', async () => {
    const h = await start();
    expect((await h.post('/rollback/check', canary)).status).toBe(403);
    expect((await h.post('/rollback/open', canary)).status).toBe(202);
    expect([...h.gates.open]).toEqual(['rollback.podinfo.test']);
    expect(await h.post('/rollback/check', canary)).toEqual({ status: 200, text: 'Approved' });
    expect((await h.post('/gate/check', canary)).status).toBe(403);
    expect((await h.post('/rollback/close', canary)).status).toBe(202);
    expect((await h.post('/rollback/check', canary)).status).toBe(403);
  });

  it('gate endpoints answer 400 for a bad payload and 500 when the store fails', async () => {
    const h = await start();
    expect((await h.post('/gate/open', '{not json')).status).toBe(400);
    expect((await h.post('/gate/open', { namespace: 'test' })).status).toBe(400);
    expect((await h.post('/gate/check', { name: 'a/b', namespace: 'test' })).status).toBe(400);
    h.gates.failure = new Error('connection refused');
    const res = await h.post('/gate/check', canary);
    expect(res.status).toBe(500);
    expect(res.text).toBe('gate storage failed: connection refused');
    expect((await h.post('/gate/open', canary)).status).toBe(500);
  });

  it('refuses payloads whose namespace does not match -namespace-regexp with 403', async () => {
    const h = await start({ namespaceRegexp: /^test$/, allow: ['echo .*'] });
    const other = { ...canary, namespace: 'prod' };
    for (const p of ['/gate/check', '/gate/open', '/rollback/open', '/']) {
      const res = await h.post(p, { ...other, metadata: { cmd: 'echo hi' } });
      expect(res.status, p).toBe(403);
      expect(res.text).toContain('"prod" does not match');
    }
    expect(h.gates.open.size).toBe(0);
    expect((await h.post('/gate/open', canary)).status).toBe(202);
  });

  it('POST / answers 400 without metadata, for unknown types and for concord/ngrinder tasks without their fields', async () => {
    const h = await start({ allow: ['echo .*'] });
    expect(await h.post('/', canary)).toEqual({ status: 400, text: 'metadata not found in payload' });
    expect(await h.post('/', '[]')).toMatchObject({ status: 400 });
    expect(await h.post('/', task({ type: 'x', cmd: 'echo' }))).toEqual({ status: 400, text: 'unknown task type x' });
    expect(await h.post('/', task({ type: 'concord' }))).toEqual({
      status: 400,
      text: '`server` is required with type concord',
    });
    expect(await h.post('/', task({ type: 'ngrinder' }))).toEqual({
      status: 400,
      text: 'server, clone, username and passwd are required metadata',
    });
  });

  it('POST / type concord blocks until the process ends (200, or 500 with the reason); ngrinder answers 202', async () => {
    const keyFile = path.join(dir, 'concord-key');
    writeFileSync(keyFile, 'k3y\n');
    let status = 'FINISHED';
    const vendor = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (req.url === '/api/v1/process') res.end('{"instanceId":"i1","ok":true}');
        else if (req.url === '/api/v1/process/i1') res.end(JSON.stringify({ status }));
        else if (req.url === '/perftest/api/960/clone_and_start') res.end('{"id":961}');
        else res.end('{"status":[{"status_id":"FINISHED"}]}');
      });
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    const server = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
    try {
      const h = await start({ allow: ['concord http://127\\.0\\.0\\.1:\\d+ \\S+ o p r e', 'ngrinder \\S+ 960'] });
      const concord = {
        type: 'concord',
        server,
        org: 'o',
        project: 'p',
        repo: 'r',
        entrypoint: 'e',
        apiKeyPath: keyFile,
        endpoint: 'http://podinfo-canary.test:9898/',
        pollInterval: '10ms',
      };
      expect(await h.post('/', task(concord))).toEqual({ status: 200, text: '' });
      status = 'FAILED';
      expect(await h.post('/', task(concord))).toEqual({ status: 500, text: 'concord instanceID: i1 failed' });
      expect(await h.post('/', task({ ...concord, project: 'other' }))).toMatchObject({ status: 403 });
      const ngrinder = { type: 'ngrinder', server, clone: '960', username: 'u', passwd: 'cHc=', pollInterval: '10ms' };
      expect(await h.post('/', task(ngrinder))).toEqual({ status: 202, text: '' });
      await h.runner.idle();
      const text = await h.metrics.registry.metrics();
      expect(text).toContain('fledge_loadtester_tasks_total{type="concord",result="success"} 1');
      expect(text).toContain('fledge_loadtester_tasks_total{type="concord",result="failure"} 1');
      expect(text).toContain('fledge_loadtester_tasks_total{type="concord",result="refused"} 1');
      expect(text).toContain('fledge_loadtester_tasks_total{type="ngrinder",result="success"} 1');
    } finally {
      vendor.closeAllConnections();
      await new Promise((resolve) => vendor.close(resolve));
    }
  });

  it('POST / type cmd runs in the background (202 at once), once at a time per canary and command', async () => {
    const h = await start({ allow: ['sh -c .*'] });
    const marker = path.join(dir, 'ran');
    const cmd = `sh -c 'sleep 0.3; echo x >> ${marker}'`;
    const started = Date.now();
    expect(await h.post('/', task({ cmd }))).toEqual({ status: 202, text: '' });
    expect(Date.now() - started).toBeLessThan(250);
    expect(await h.post('/', task({ type: 'cmd', cmd }))).toEqual({ status: 202, text: '' });
    expect(h.runner.size).toBe(1);
    await h.runner.idle();
    expect(readFileSync(marker, 'utf8')).toBe('x\n');
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('fledge_loadtester_tasks_total{type="cmd",result="duplicate"} 1');
    expect(text).toContain('fledge_loadtester_tasks_total{type="cmd",result="success"} 1');
  });

  it('POST / type bash blocks: 200 (with stdout when returnCmdOutput is true) or 500 with the error', async () => {
    const h = await start({ allow: ['echo .*', 'sh -c .*'] });
    expect(await h.post('/', task({ type: 'bash', cmd: 'echo hello world' }))).toEqual({ status: 200, text: '' });
    expect(await h.post('/', task({ type: 'bash', cmd: 'echo "hello world"', returnCmdOutput: 'true' }))).toEqual({
      status: 200,
      text: 'hello world\n',
    });
    expect(await h.post('/', task({ type: 'bash', cmd: `sh -c 'echo bad >&2; exit 2'` }))).toEqual({
      status: 500,
      text: `command sh -c 'echo bad >&2; exit 2' failed: exit code 2: bad\n`,
    });
  });

  it('POST / stops a blocking task when its caller goes away', async () => {
    const h = await start({ allow: ['sh -c .*'] });
    const marker = path.join(dir, 'late');
    const caller = new AbortController();
    const request = fetch(`${h.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(task({ type: 'bash', cmd: `sh -c 'sleep 1; echo x >> ${marker}'` })),
      signal: caller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    caller.abort();
    await expect(request).rejects.toThrow();
    await vi.waitFor(async () => {
      expect(await h.metrics.registry.metrics()).toContain(
        'fledge_loadtester_tasks_total{type="bash",result="failure"} 1',
      );
    });
    // Had the command outlived its caller, it would have written the marker by now.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(existsSync(marker)).toBe(false);
  });

  it('POST / type bash with a bash: entry runs the script through bash', async () => {
    const h = await start({ allow: ['bash:echo abc \\| tr a-c x-z'] });
    expect(await h.post('/', task({ type: 'bash', cmd: 'echo abc | tr a-c x-z', returnCmdOutput: 't' }))).toEqual({
      status: 200,
      text: 'xyz\n',
    });
  });

  it('POST / types helm, helmv3 and kubectl run their program with the args', async () => {
    const h = await start({ allow: ['helm test podinfo', 'kubectl get pods'] });
    const ret = { returnCmdOutput: 'true' };
    expect(await h.post('/', task({ type: 'helm', cmd: 'test podinfo', ...ret }))).toEqual({
      status: 200,
      text: 'helm test podinfo\n',
    });
    expect((await h.post('/', task({ type: 'helmv3', cmd: 'test  podinfo', ...ret }))).text).toBe(
      'helm test podinfo\n',
    );
    expect(await h.post('/', task({ type: 'kubectl', cmd: 'get pods', ...ret }))).toEqual({
      status: 200,
      text: 'kubectl get pods\n',
    });
    expect((await h.post('/', task({ type: 'kubectl', cmd: 'delete pods --all' }))).status).toBe(403);
  });

  it('POST / refuses commands outside the allowlist and shell metacharacters with 403 and a clear message', async () => {
    const h = await start({ allow: ['echo .*'] });
    expect(await h.post('/', task({ cmd: 'rm -rf /' }))).toEqual({
      status: 403,
      text: 'command refused: "rm -rf /" matches no -allow entry of fledge-loadtester',
    });
    const meta = await h.post('/', task({ type: 'bash', cmd: 'echo hi; rm -rf /' }));
    expect(meta.status).toBe(403);
    expect(meta.text).toContain('shell metacharacter ";"');
    expect(await h.metrics.registry.metrics()).toContain(
      'fledge_loadtester_tasks_total{type="cmd",result="refused"} 1',
    );
    const none = await start();
    expect((await none.post('/', task({ cmd: 'echo hi' }))).text).toContain('without -allow entries');
  });

  it('POST / runs hey and type load on the built-in generator; wait=true answers with the JSON report', async () => {
    let hits = 0;
    const target = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const port = (target.address() as AddressInfo).port;
    try {
      const h = await start({ allow: ['hey .*', 'load GET http://127\\.0\\.0\\.1:\\d+/.*'] });
      const res = await h.post(
        '/',
        task({ type: 'bash', cmd: `hey -n 20 -c 2 http://127.0.0.1:${port}/`, returnCmdOutput: 'true' }),
      );
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ requests: 20, outcomes: { '2xx': 20 }, errors: 0 });
      const load = await h.post(
        '/',
        task({ type: 'load', url: `http://127.0.0.1:${port}/x`, requests: '5', wait: 'true' }),
      );
      expect(load.status).toBe(200);
      expect(JSON.parse(load.text)).toMatchObject({ target: `http://127.0.0.1:${port}/x`, requests: 5 });
      expect(await h.post('/', task({ type: 'load', url: `http://127.0.0.1:${port}/`, requests: '5' }))).toEqual({
        status: 202,
        text: '',
      });
      await h.runner.idle();
      expect(hits).toBe(30);
      expect(await h.metrics.registry.metrics()).toContain('fledge_loadtester_requests_total{status="2xx"} 30');
      expect((await h.post('/', task({ type: 'load', url: 'http://example.org.evil/', requests: '5' }))).status).toBe(
        403,
      );
    } finally {
      await new Promise((r) => target.close(r));
    }
  });

  it('answers 404 for unknown paths and 413 for oversized bodies', async () => {
    const h = await start();
    expect((await h.post('/gate', canary)).status).toBe(404);
    expect((await h.post('/', 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413);
  });
});

describe('authorized', () => {
  it('accepts only the exact bearer token', () => {
    expect(authorized('Bearer abc', 'abc')).toBe(true);
    expect(authorized('bearer  abc ', 'abc')).toBe(true);
    expect(authorized('Bearer abcd', 'abc')).toBe(false);
    expect(authorized('Basic abc', 'abc')).toBe(false);
    expect(authorized(undefined, 'abc')).toBe(false);
  });
});

/** A local HTTP server that counts requests; closed when the test ends. */
async function countingServer(host: string): Promise<{ port: number; hits(): number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

const rawSockets: Socket[] = [];
afterEach(() => {
  for (const s of rawSockets.splice(0)) s.destroy();
});

/** A raw TCP client: what it received, and whether the server closed the connection. */
interface RawClient {
  readonly socket: Socket;
  received(): string;
  closed(): boolean;
}

async function raw(url: string, first: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  let closed = false;
  socket.on('data', (b: Buffer) => (data += b.toString('utf8')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  if (first !== '') socket.write(first);
  rawSockets.push(socket);
  return { socket, received: () => data, closed: () => closed };
}

/** Writes one byte every 50 ms until the connection closes or the test ends. */
function dribble(c: RawClient): void {
  const t = setInterval(() => {
    if (c.closed()) clearInterval(t);
    else c.socket.write('x');
  }, 50);
  onTestFinished(() => clearInterval(t));
}

describe('fledge-loadtester HTTP API: hostile clients', () => {
  it('answers 4xx for malformed paths such as // and *, after the token check', async () => {
    expect(requestPath('//')).toBe('//');
    expect(requestPath('/gate/check?x=1')).toBe('/gate/check');
    expect(requestPath('http://lt/gate/check')).toBe('/gate/check');
    expect(requestPath('*')).toBeUndefined();
    const h = await start({ allow: ['echo .*'] });
    expect((await h.post('//', canary)).status).toBe(404);
    expect((await h.post('//gate//check', canary)).status).toBe(404);
    const star = await raw(h.url, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(star.received()).toMatch(/^HTTP\/1\.1 400 /));

    const t = await start({ token: 's3cret', allow: ['echo .*'] });
    expect((await t.post('//', canary)).status).toBe(401);
    const starNoToken = await raw(t.url, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(starNoToken.received()).toMatch(/^HTTP\/1\.1 401 /));
    expect((await t.post('//', canary, { authorization: 'Bearer s3cret' })).status).toBe(404);
  });

  it('closes a connection whose body dribbles in slower than the request timeout', async () => {
    const h = await start({ listen: { requestTimeoutMs: 300, headersTimeoutMs: 200 } });
    const body = JSON.stringify(canary);
    const c = await raw(
      h.url,
      `POST /gate/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 1000}\r\n\r\n${body}`,
    );
    dribble(c);
    await vi.waitFor(() => expect(c.closed()).toBe(true), { timeout: 10_000, interval: 50 });
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a blocking task answer after the request timeout: it bounds receiving the request only', async () => {
    const h = await start({ allow: ['sh -c .*'], listen: { requestTimeoutMs: 200, headersTimeoutMs: 200 } });
    const res = await h.post('/', task({ type: 'bash', cmd: `sh -c 'sleep 0.8; echo done'`, returnCmdOutput: 'true' }));
    expect(res).toEqual({ status: 200, text: 'done\n' });
  });

  it('closes a connection whose headers dribble in slower than the headers timeout', async () => {
    const h = await start({ listen: { headersTimeoutMs: 200, requestTimeoutMs: 300 } });
    const c = await raw(h.url, 'POST /gate/check HTTP/1.1\r\nX-Slow: ');
    dribble(c);
    await vi.waitFor(() => expect(c.closed()).toBe(true), { timeout: 10_000, interval: 50 });
  });

  it('answers an unauthenticated request 401 with Connection: close, and closes it while its body still dribbles', async () => {
    const h = await start({ token: 's3cret' });
    const c = await raw(h.url, 'POST /gate/open HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{');
    dribble(c);
    await vi.waitFor(() => expect(c.closed()).toBe(true), { timeout: 10_000, interval: 50 });
    expect(c.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(c.received().toLowerCase()).toContain('connection: close');
    expect(h.gates.open.size).toBe(0);
  });

  it('refuses connections beyond -max-connections and keeps serving the others', async () => {
    const h = await start({ listen: { maxConnections: 2 } });
    const a = await raw(h.url, '');
    const b = await raw(h.url, '');
    const c = await raw(h.url, '');
    await vi.waitFor(() => expect(c.closed()).toBe(true), { timeout: 5000, interval: 20 });
    expect(a.closed() || b.closed()).toBe(false);
    a.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(a.received()).toMatch(/^HTTP\/1\.1 200 /));
  });

  it('logs a client that goes away mid-body at debug level, never as an error, and rate-limits repeated lines', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    const limiter = new LogLimiter({ burst: 3, intervalMs: 60_000 });
    const h = await start({ log: limitedLogger(log, limiter), allow: ['echo .*'] });
    for (let i = 0; i < 3; i++) {
      const c = await raw(h.url, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"na');
      await new Promise((r) => setTimeout(r, 50));
      c.socket.destroy();
    }
    await vi.waitFor(() => expect(lines.filter((l) => l.includes('client went away'))).toHaveLength(3));
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    for (let i = 0; i < 10; i++) expect((await h.post('/', task({ cmd: 'rm -rf /' }))).status).toBe(403);
    expect(lines.filter((l) => l.includes('"msg":"task refused"'))).toHaveLength(3);
  });
});

describe('fledge-loadtester HTTP API: what Flagger webhooks reach with a token set (-token-scope=webhooks)', () => {
  it('keeps gate checks, /metrics and in-cluster load tests open, and guards commands and gate writes', async () => {
    // Two targets: 127.0.0.1 is an open host (-load-hosts), 127.0.0.2 only allowlisted.
    const open = await countingServer('127.0.0.1');
    const other = await countingServer('127.0.0.2');
    const port = open.port;
    const h = await start({
      token: 's3cret',
      allow: ['echo .*', `hey -n \\d+ -c \\d+ http://127\\.0\\.0\\.2:${other.port}/`],
      load: { hosts: /127\.0\.0\.1/ },
    });
    const bearer = { authorization: 'Bearer s3cret' };
    expect(await h.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect((await h.post('/rollback/check', canary)).status).toBe(403);
    expect((await h.post('/gate/approve', canary)).status).toBe(200);
    expect((await fetch(`${h.url}/metrics`)).status).toBe(200);
    expect((await h.post('/gate/open', canary)).status).toBe(401);
    expect((await h.post('/nope', canary)).status).toBe(401);
    expect((await h.post('/gate/open', canary, bearer)).status).toBe(202);
    expect(await h.post('/gate/check', canary)).toEqual({ status: 200, text: 'Approved' });

    const echo = await h.post('/', task({ type: 'bash', cmd: 'echo hi', returnCmdOutput: 'true' }));
    expect(echo.status).toBe(401);
    expect(await h.post('/', task({ type: 'bash', cmd: 'echo hi', returnCmdOutput: 'true' }), bearer)).toEqual({
      status: 200,
      text: 'hi\n',
    });

    // An open host: no token, no -allow entry.
    const run = await h.post(
      '/',
      task({ type: 'bash', cmd: `hey -n 4 -c 2 http://127.0.0.1:${port}/`, returnCmdOutput: 'true' }),
    );
    expect(run.status).toBe(200);
    expect(JSON.parse(run.text)).toMatchObject({ requests: 4, outcomes: { '2xx': 4 } });
    expect(open.hits()).toBe(4);
    // An allowlisted host that is not open needs the token.
    const cmd = `hey -n 4 -c 2 http://127.0.0.2:${other.port}/`;
    const guarded = await h.post('/', task({ type: 'bash', cmd, returnCmdOutput: 'true' }));
    expect(guarded.status).toBe(401);
    expect(guarded.text).toContain('not in-cluster');
    expect((await h.post('/', task({ type: 'bash', cmd, returnCmdOutput: 'true' }), bearer)).status).toBe(200);
    expect(other.hits()).toBe(4);
    // Bounds hold without the token too, and the answer names the flag.
    const big = await h.post('/', task({ cmd: `hey -z 1m -c 300000 http://127.0.0.1:${port}/` }));
    expect(big).toEqual({
      status: 400,
      text: "concurrency 300000 is above the loadtester's -load-max-concurrency=200 (chart value load.maxConcurrency); ask for less or raise the limit",
    });
  });

  it('answers 429 naming -load-max-runs while every load slot is taken', async () => {
    const slots = new LoadSlots(1);
    expect(slots.take()).toBe(true);
    const h = await start({ loadSlots: slots, load: { hosts: /127\.0\.0\.1/ } });
    const res = await h.post('/', task({ type: 'load', url: 'http://127.0.0.1:9/', requests: '1' }));
    expect(res.status).toBe(429);
    expect(res.text).toContain('-load-max-runs=1 (chart value load.maxRuns)');
  });
});
