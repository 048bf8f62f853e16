// The ngrinder task against a loopback HTTP server that answers like nGrinder's REST API
// (POST perftest/api/<clone>/clone_and_start → {"id"}; GET perftest/api/<id>/status →
// {"status": [{"status_id"}]}; PUT perftest/api/<id>?action=stop): exact requests with basic
// auth, terminal statuses, retried status errors, and the stop when the task's context ends.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../http/client.ts';
import { type Handler, type TestServer, json, startServer } from '../http/server.fixture.ts';
import { createLogger } from '../log/logger.ts';
import { TaskMetadataError } from './concord.ts';
import {
  type NGrinderSpec,
  Secret,
  ngrinderAllowlistArgv,
  ngrinderSpecFromMetadata,
  ngrinderUrls,
  runNGrinder,
} from './ngrinder.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function ngrinder(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

// "admin" / "s3cr3t-pw", as Flagger's metadata carries it: base64 of the password.
const PASSWORD = 's3cr3t-pw';
const PASSWD_B64 = Buffer.from(PASSWORD).toString('base64');
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

const metadata = (server: string, extra: Record<string, string> = {}): Record<string, string> => ({
  type: 'ngrinder',
  server,
  clone: '960',
  username: 'admin',
  passwd: PASSWD_B64,
  pollInterval: '10ms',
  ...extra,
});

const http = createHttpClient({ userAgent: 'fledge-loadtester' });

async function run(
  spec: NGrinderSpec,
  options: { signal?: AbortSignal; requestTimeoutMs?: number } = {},
): Promise<{ ok: boolean; error?: string; lines: string[] }> {
  const lines: string[] = [];
  const out = await runNGrinder(spec, {
    http,
    log: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    signal: options.signal ?? new AbortController().signal,
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    abortReason: () => 'the loadtester is shutting down',
  });
  return { ...out, lines };
}

/** nGrinder: clone 960 → test 961, whose status is `statuses[n]` at the n-th check (the last repeats). */
function scripted(statuses: (string | ((res: Parameters<Handler>[1]) => void))[]): Handler {
  let polls = 0;
  return (req, res) => {
    if (req.method === 'POST' && req.url === '/perftest/api/960/clone_and_start') {
      return json(res, 200, { status: 'READY', id: 961 });
    }
    if (req.method === 'GET' && req.url === '/perftest/api/961/status') {
      const s = statuses[Math.min(polls++, statuses.length - 1)];
      if (typeof s === 'function') return s(res);
      return json(res, 200, { status: [{ id: 961, status_id: s, name: 'canary test' }], success: true });
    }
    if (req.method === 'PUT' && req.url === '/perftest/api/961?action=stop') return json(res, 200, { success: true });
    json(res, 404, { success: false, message: 'not found' });
  };
}

describe('ngrinderSpecFromMetadata', () => {
  it("reads Flagger's keys; passwd is base64; pollInterval defaults to 1 s", () => {
    const spec = ngrinderSpecFromMetadata({
      server: 'http://ngrinder:8080',
      clone: '960',
      username: 'admin',
      passwd: 'YWRtaW4=',
    });
    expect(spec).toMatchObject({
      server: 'http://ngrinder:8080',
      cloneId: 960,
      username: 'admin',
      pollIntervalMs: 1000,
    });
    expect(spec.password.reveal()).toBe('admin');
    expect(ngrinderAllowlistArgv(spec)).toEqual(['ngrinder', 'http://ngrinder:8080', '960']);
    expect(ngrinderSpecFromMetadata({ ...metadata('http://n/'), pollInterval: '5' }).pollIntervalMs).toBe(5_000);
    expect(ngrinderSpecFromMetadata({ ...metadata('http://n/'), pollInterval: '2s' }).pollIntervalMs).toBe(2_000);
  });

  it.each([
    [{ server: 'http://n/', clone: '1', username: 'a' }, 'server, clone, username and passwd are required metadata'],
    [{ server: '', clone: '1', username: 'a', passwd: 'YQ==' }, 'server, clone, username and passwd are required'],
    [{ ...metadata('http://n/'), clone: 'abc' }, 'metadata clone must be integer: got "abc"'],
    [{ ...metadata('http://n/'), clone: '-1' }, 'metadata clone must be integer'],
    [{ ...metadata('http://n/'), passwd: 'not base64!' }, 'metadata password is invalid'],
    [{ ...metadata('http://n/'), passwd: 'YWRtaW4' }, 'metadata password is invalid'],
    [{ ...metadata('ngrinder:8080') }, '`server` must be an http or https URL'],
    [{ ...metadata('http://admin:pw@ngrinder/') }, '`server` must not contain credentials'],
    [{ ...metadata('http://n/'), pollInterval: 'often' }, 'unable to convert `pollInterval` to int'],
  ])('rejects %j', (m, message) => {
    let caught: unknown;
    try {
      ngrinderSpecFromMetadata(m);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TaskMetadataError);
    expect((caught as Error).message).toContain(message);
  });
});

describe('Secret', () => {
  it('never shows the password in JSON, strings or util.inspect', () => {
    const spec = ngrinderSpecFromMetadata(metadata('http://n/'));
    for (const text of [
      JSON.stringify(spec),
      String(spec.password),
      inspect(spec),
      inspect(new Secret(PASSWORD)),
      new Secret(PASSWORD).toString(),
    ]) {
      expect(text).not.toContain(PASSWORD);
    }
    expect(JSON.stringify(spec)).toContain('"password":"<redacted>"');
  });
});

describe('ngrinderUrls', () => {
  it("resolves the API against server as Flagger's ResolveReference (relative paths)", () => {
    const at = (server: string): ReturnType<typeof ngrinderUrls> =>
      ngrinderUrls(ngrinderSpecFromMetadata(metadata(server)), 961);
    expect(at('http://ngrinder:8080')).toEqual({
      cloneAndStart: 'http://ngrinder:8080/perftest/api/960/clone_and_start',
      status: 'http://ngrinder:8080/perftest/api/961/status',
      stop: 'http://ngrinder:8080/perftest/api/961?action=stop',
    });
    expect(at('http://ngrinder:8080/ngrinder/').cloneAndStart).toBe(
      'http://ngrinder:8080/ngrinder/perftest/api/960/clone_and_start',
    );
  });
});

describe('runNGrinder against an nGrinder-like server', () => {
  it('clones and starts the test with basic auth, polls its status until FINISHED: success', async () => {
    const s = await ngrinder(scripted(['READY', 'TESTING', 'FINISHED']));
    const out = await run(ngrinderSpecFromMetadata(metadata(s.url)));
    expect(out.ok).toBe(true);
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /perftest/api/960/clone_and_start',
      'GET /perftest/api/961/status',
      'GET /perftest/api/961/status',
      'GET /perftest/api/961/status',
    ]);
    for (const r of s.requests) {
      expect(r.headers['authorization']).toBe(BASIC);
      expect(r.headers['user-agent']).toBe('fledge-loadtester');
      expect(r.body).toBe('');
    }
    const logged = out.lines.join('\n');
    expect(logged).not.toContain(PASSWORD);
    expect(logged).not.toContain(BASIC.slice('Basic '.length));
    expect(logged).toContain('"status":"TESTING"');
  });

  it.each(['STOP_BY_ERROR', 'CANCELED', 'UNKNOWN'])(
    'fails when the test ends with %s, without stopping it',
    async (status) => {
      const s = await ngrinder(scripted(['TESTING', status]));
      const out = await run(ngrinderSpecFromMetadata(metadata(s.url)));
      expect(out.ok).toBe(false);
      expect(out.error).toBe(`ngrinder test 961 ended with status ${status}`);
      expect(s.requests.some((r) => r.method === 'PUT')).toBe(false);
    },
  );

  it('retries failed status checks (error status, malformed or success:false bodies), as Flagger', async () => {
    const s = await ngrinder(
      scripted([
        (res) => json(res, 500, { success: false }),
        (res) => {
          res.writeHead(200);
          res.end('not json');
        },
        (res) => json(res, 200, { status: [], success: true }),
        (res) => json(res, 200, { status: [{ status_id: 'FINISHED' }], success: false }),
        'FINISHED',
      ]),
    );
    const out = await run(ngrinderSpecFromMetadata(metadata(s.url)));
    expect(out.ok).toBe(true);
    expect(s.requests.filter((r) => r.method === 'GET')).toHaveLength(5);
    expect(out.lines.filter((l) => l.includes('ngrinder status check failed; retrying'))).toHaveLength(4);
  });

  it('fails when clone_and_start is refused, answers an error status or no test id', async () => {
    for (const [status, body, message] of [
      [
        200,
        { success: false, message: `bad password ${PASSWORD}` },
        'answered 200 with no test id (not the expected JSON): {"success":false,"message":"bad password <redacted>"}',
      ],
      [401, { message: 'Unauthorized' }, 'answered 401 Unauthorized: {"message":"Unauthorized"}'],
      [200, { status: 'READY' }, 'answered 200 with no test id (not the expected JSON): {"status":"READY"}'],
      [200, { id: '961' }, 'answered 200 with no test id (not the expected JSON): {"id":"961"}'],
    ] as const) {
      const s = await ngrinder((_req, res) => json(res, status, body));
      const out = await run(ngrinderSpecFromMetadata(metadata(s.url)));
      expect(out.error).toBe(
        `failed to clone and start ngrinder test 960: POST ${s.url}/perftest/api/960/clone_and_start ${message}`,
      );
      expect(s.requests).toHaveLength(1);
    }
  });

  it('fails when clone_and_start times out', async () => {
    const s = await ngrinder(() => undefined);
    const out = await run(ngrinderSpecFromMetadata(metadata(s.url)), { requestTimeoutMs: 100 });
    expect(out.error).toBe(`failed to clone and start ngrinder test 960: POST ${s.url} timed out after 100ms`);
  });

  it("stops the test with PUT ?action=stop when the task's context ends", async () => {
    const abort = new AbortController();
    let checks = 0;
    const s = await ngrinder((req, res) => {
      if (req.method === 'GET' && ++checks === 2) abort.abort();
      return scripted(['TESTING'])(req, res);
    });
    const out = await run(ngrinderSpecFromMetadata(metadata(s.url)), { signal: abort.signal });
    expect(out.ok).toBe(false);
    expect(out.error).toBe('ngrinder test 961 did not finish: the loadtester is shutting down; stopped');
    const stop = s.requests.at(-1);
    expect(`${stop?.method} ${stop?.url}`).toBe('PUT /perftest/api/961?action=stop');
    expect(stop?.headers['authorization']).toBe(BASIC);
    expect(s.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('says so when the stop fails', async () => {
    const abort = new AbortController();
    const s = await ngrinder((req, res) => {
      if (req.method === 'PUT') return json(res, 200, { success: false, message: 'no such test' });
      if (req.method === 'GET') abort.abort();
      return scripted(['TESTING'])(req, res);
    });
    const out = await run(ngrinderSpecFromMetadata(metadata(s.url)), { signal: abort.signal });
    expect(out.error).toBe(
      `ngrinder test 961 did not finish: the loadtester is shutting down; stop failed: PUT ${s.url}/perftest/api/961 answered 200 with success: false (not the expected JSON): {"success":false,"message":"no such test"}`,
    );
  });
});
