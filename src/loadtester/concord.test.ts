// The concord task against a loopback HTTP server that answers like Concord's process API
// (POST /api/v1/process → {"instanceId", "ok"}; GET /api/v1/process/<id> → {"status"}): exact
// requests, terminal statuses, the poll timeout, errors and malformed answers, and the API key
// kept out of logs and messages.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../http/client.ts';
import { type Handler, type RecordedRequest, type TestServer, json, startServer } from '../http/server.fixture.ts';
import { createLogger } from '../log/logger.ts';
import {
  type ConcordSpec,
  TaskMetadataError,
  checkApiKeyFile,
  concordAllowlistArgv,
  concordSpecFromMetadata,
  parsePollDuration,
  processForm,
  responseSnippet,
  runConcord,
} from './concord.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fledge-concord-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'auBy4eDWrKWsyhiDp3AQiw';
const keyFile = path.join(dir, 'api-key');
// Secrets mounted from files often end with a newline; it is not part of the key.
writeFileSync(keyFile, `${KEY}\n`);

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function concord(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

const metadata = (server: string, extra: Record<string, string> = {}): Record<string, string> => ({
  type: 'concord',
  server,
  org: 'my org',
  project: 'my project',
  repo: 'my repo',
  entrypoint: 'my-entrypoint',
  apiKeyPath: keyFile,
  endpoint: 'http://podinfo-canary.test:9898/',
  pollInterval: '10ms',
  pollTimeout: '5s',
  ...extra,
});

/** A logger that keeps every line, to prove what is (not) logged. */
function recordingLogger(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

const http = createHttpClient({ userAgent: 'fledge-loadtester' });

async function run(
  spec: ConcordSpec,
  options: { signal?: AbortSignal; requestTimeoutMs?: number } = {},
): Promise<{ ok: boolean; error?: string; lines: string[] }> {
  const { lines, log } = recordingLogger();
  const out = await runConcord(spec, {
    http,
    log,
    signal: options.signal ?? new AbortController().signal,
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    abortReason: () => 'the loadtester is shutting down',
  });
  return { ...out, lines };
}

/** The fields of a multipart/form-data body, in order. */
function formFields(req: RecordedRequest): [string, string][] {
  const m = /^multipart\/form-data; boundary=(\S+)$/.exec(req.headers['content-type'] ?? '');
  if (!m?.[1]) throw new Error(`not multipart: ${req.headers['content-type']}`);
  const parts = req.body.split(`--${m[1]}`);
  expect(parts.at(-1)).toBe('--\r\n');
  return parts.slice(1, -1).map((p): [string, string] => {
    const head = /^\r\nContent-Disposition: form-data; name="([^"]+)"\r\n\r\n([\s\S]*)\r\n$/.exec(p);
    if (!head?.[1] || head[2] === undefined) throw new Error(`bad part ${JSON.stringify(p)}`);
    return [head[1], head[2]];
  });
}

/** Concord: the start answer, then one status per poll (the last one repeats). */
function scripted(statuses: string[], id = '0c8ab1f6-5f8a-4c5e-9d8c-1f2e3d4c5b6a'): Handler {
  let polls = 0;
  return (req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/process') {
      json(res, 200, { instanceId: id, ok: true });
      return;
    }
    if (req.method === 'GET' && req.url === `/api/v1/process/${id}`) {
      const status = statuses[Math.min(polls++, statuses.length - 1)];
      json(res, 200, { instanceId: id, status, projectName: 'my project' });
      return;
    }
    json(res, 404, { message: 'not found' });
  };
}

describe('concordSpecFromMetadata', () => {
  it("reads Flagger's keys, with its defaults: poll every 5 s, for 30 s", () => {
    const spec = concordSpecFromMetadata({
      server: ' https://concord.example.com ',
      org: 'o',
      project: 'p',
      repo: 'r',
      entrypoint: 'e',
      apiKeyPath: '/etc/concord/key',
      endpoint: 'http://podinfo-canary.test:9898/',
      'arguments.zeta': 'z',
      'arguments.alpha': 'a',
      other: 'ignored',
    });
    expect(spec).toEqual({
      server: 'https://concord.example.com',
      org: 'o',
      project: 'p',
      repo: 'r',
      entrypoint: 'e',
      apiKeyPath: '/etc/concord/key',
      endpoint: 'http://podinfo-canary.test:9898/',
      arguments: [
        ['alpha', 'a'],
        ['zeta', 'z'],
      ],
      pollIntervalMs: 5_000,
      pollTimeoutMs: 30_000,
    });
    expect(concordAllowlistArgv(spec)).toEqual([
      'concord',
      'https://concord.example.com',
      '/etc/concord/key',
      'o',
      'p',
      'r',
      'e',
    ]);
  });

  it('reads poll durations as whole seconds (Flagger) or Go durations', () => {
    expect(parsePollDuration({ pollInterval: '7' }, 'pollInterval', 1)).toBe(7_000);
    expect(parsePollDuration({ pollInterval: '250ms' }, 'pollInterval', 1)).toBe(250);
    expect(parsePollDuration({ pollInterval: '1m30s' }, 'pollInterval', 1)).toBe(90_000);
    expect(parsePollDuration({}, 'pollInterval', 42)).toBe(42);
  });

  const full = metadata('http://concord:8001');
  const without = (key: string): Record<string, string> =>
    Object.fromEntries(Object.entries(full).filter(([k]) => k !== key));
  it.each([
    [without('server'), '`server` is required with type concord'],
    [without('org'), '`org` is required with type concord'],
    [without('project'), '`project` is required with type concord'],
    [without('repo'), '`repo` is required with type concord'],
    [without('entrypoint'), '`entrypoint` is required with type concord'],
    [without('apiKeyPath'), '`apiKeyPath` is required with type concord'],
    [without('endpoint'), '`endpoint` is required with type concord'],
    [{ ...full, org: '  ' }, '`org` is required with type concord'],
    [{ ...full, server: 'concord:8001' }, '`server` must be an http or https URL, got "concord:8001"'],
    [{ ...full, server: 'ftp://concord/' }, '`server` must be an http or https URL'],
    [{ ...full, server: 'http://u:p@concord/' }, '`server` must not contain credentials'],
    [{ ...full, pollInterval: 'soon' }, 'unable to convert `pollInterval` to int'],
    [{ ...full, pollTimeout: '0' }, 'unable to convert `pollTimeout` to int'],
    [{ ...full, pollTimeout: '-5' }, 'unable to convert `pollTimeout` to int'],
    [
      { ...full, 'arguments.endpoint': 'http://elsewhere/' },
      'You cannot override Endpoint through arguments. You must override Endpoint directly',
    ],
    [{ ...full, 'arguments.': 'x' }, 'argument names must be non-empty'],
    [{ ...full, 'arguments.a"b': 'x' }, 'argument names must be non-empty, without blanks, quotes or backslashes'],
  ])('rejects %j', (m, message) => {
    let caught: unknown;
    try {
      concordSpecFromMetadata(m);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TaskMetadataError);
    expect((caught as Error).message).toContain(message);
  });
});

describe('checkApiKeyFile', () => {
  it("accepts a file; names a missing path with Flagger's message, and a directory", () => {
    expect(() => checkApiKeyFile(keyFile)).not.toThrow();
    expect(() => checkApiKeyFile(path.join(dir, 'nope'))).toThrow(
      `\`apiKeyPath\` file doesn't exist ${path.join(dir, 'nope')}`,
    );
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    expect(() => checkApiKeyFile(sub)).toThrow(`\`apiKeyPath\` ${sub} is not a file`);
  });
});

describe('processForm', () => {
  it("writes Flagger's fields in its order, then the arguments sorted by name", () => {
    const spec = concordSpecFromMetadata({ ...metadata('http://c/'), 'arguments.b': 'two\nlines', 'arguments.a': '1' });
    expect(processForm(spec, 'XYZ')).toEqual({
      contentType: 'multipart/form-data; boundary=XYZ',
      body:
        '--XYZ\r\nContent-Disposition: form-data; name="org"\r\n\r\nmy org\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="project"\r\n\r\nmy project\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="repo"\r\n\r\nmy repo\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="entryPoint"\r\n\r\nmy-entrypoint\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="arguments.endpoint"\r\n\r\nhttp://podinfo-canary.test:9898/\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="arguments.a"\r\n\r\n1\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="arguments.b"\r\n\r\ntwo\nlines\r\n' +
        '--XYZ--\r\n',
    });
  });

  it('never uses a boundary that occurs in a value', () => {
    const spec = concordSpecFromMetadata({ ...metadata('http://c/'), org: 'has XYZ inside' });
    const form = processForm(spec, 'XYZ');
    expect(form.contentType).not.toBe('multipart/form-data; boundary=XYZ');
    expect(form.body).toContain('has XYZ inside');
  });
});

describe('runConcord against a Concord-like server', () => {
  it('starts the process with the key and the form, polls until FINISHED: success', async () => {
    const s = await concord(scripted(['ENQUEUED', 'RUNNING', 'FINISHED']));
    // Like Flagger's ResolveReference with an absolute path: a path in `server` is replaced.
    const spec = concordSpecFromMetadata(metadata(`${s.url}/ui/`, { 'arguments.version': '6.0.1' }));
    const out = await run(spec);
    expect(out.ok).toBe(true);
    expect(out.error).toBeUndefined();

    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/v1/process',
      'GET /api/v1/process/0c8ab1f6-5f8a-4c5e-9d8c-1f2e3d4c5b6a',
      'GET /api/v1/process/0c8ab1f6-5f8a-4c5e-9d8c-1f2e3d4c5b6a',
      'GET /api/v1/process/0c8ab1f6-5f8a-4c5e-9d8c-1f2e3d4c5b6a',
    ]);
    const [startReq, ...polls] = s.requests;
    expect(startReq?.headers['authorization']).toBe(KEY);
    expect(startReq?.headers['user-agent']).toBe('fledge-loadtester');
    expect(formFields(startReq as RecordedRequest)).toEqual([
      ['org', 'my org'],
      ['project', 'my project'],
      ['repo', 'my repo'],
      ['entryPoint', 'my-entrypoint'],
      ['arguments.endpoint', 'http://podinfo-canary.test:9898/'],
      ['arguments.version', '6.0.1'],
    ]);
    for (const p of polls) {
      expect(p.headers['authorization']).toBe(KEY);
      expect(p.headers['content-type']).toBeUndefined();
      expect(p.body).toBe('');
    }
    expect(out.lines.join('\n')).not.toContain(KEY);
    expect(out.lines.some((l) => l.includes('"status":"RUNNING"'))).toBe(true);
  });

  it("fails on FAILED with Flagger's message, and on CANCELLED and TIMED_OUT", async () => {
    const s = await concord(scripted(['RUNNING', 'FAILED'], 'abc'));
    const failed = await run(concordSpecFromMetadata(metadata(s.url)));
    expect(failed.ok).toBe(false);
    expect(failed.error).toBe('concord instanceID: abc failed');
    for (const status of ['CANCELLED', 'TIMED_OUT']) {
      const c = await concord(scripted([status], 'def'));
      const out = await run(concordSpecFromMetadata(metadata(c.url)));
      expect(out.error).toBe(`concord instanceID: def failed with status ${status}`);
    }
  });

  it('gives up after pollTimeout while the process is still running', async () => {
    const s = await concord(scripted(['RUNNING']));
    const out = await run(concordSpecFromMetadata(metadata(s.url, { pollInterval: '10ms', pollTimeout: '150ms' })));
    expect(out.ok).toBe(false);
    expect(out.error).toBe(
      'concord process timed out, after 0.15 seconds (instanceID: 0c8ab1f6-5f8a-4c5e-9d8c-1f2e3d4c5b6a)',
    );
    expect(s.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(0);
  });

  it('times out at the poll deadline when a status check hangs', async () => {
    let first = true;
    const s = await concord((req, res) => {
      if (req.method === 'POST') return json(res, 200, { instanceId: 'hang', ok: true });
      if (first) {
        first = false;
        return json(res, 200, { status: 'RUNNING' });
      }
      // never answers
    });
    const out = await run(concordSpecFromMetadata(metadata(s.url, { pollInterval: '10ms', pollTimeout: '300ms' })));
    expect(out.error).toBe('concord process timed out, after 0.3 seconds (instanceID: hang)');
  });

  it('fails when the start answers an error status; the key is redacted from the echoed body', async () => {
    const s = await concord((_req, res) => json(res, 401, { message: `invalid API key ${KEY}` }));
    const out = await run(concordSpecFromMetadata(metadata(s.url)));
    expect(out.ok).toBe(false);
    expect(out.error).toBe(
      `failed to start process: POST ${s.url}/api/v1/process answered 401 Unauthorized: {"message":"invalid API key <redacted>"}`,
    );
    expect(s.requests).toHaveLength(1);
    expect(out.lines.join('\n')).not.toContain(KEY);
  });

  it.each([
    [
      'not JSON',
      '<html>proxy error</html>',
      'answered 200 with no instanceId (not the expected JSON): <html>proxy error</html>',
    ],
    ['JSON without instanceId', '{"ok":true}', 'answered 200 with no instanceId (not the expected JSON): {"ok":true}'],
    ['an empty body', '', 'answered 200 with no instanceId (not the expected JSON)'],
  ])('fails when the start answers %s', async (_what, body, message) => {
    const s = await concord((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(body);
    });
    const out = await run(concordSpecFromMetadata(metadata(s.url)));
    expect(out.error).toBe(`failed to start process: POST ${s.url}/api/v1/process ${message}`);
  });

  it('fails when Concord says ok=false', async () => {
    const s = await concord((_req, res) => json(res, 200, { instanceId: 'x1', ok: false }));
    const out = await run(concordSpecFromMetadata(metadata(s.url)));
    expect(out.error).toBe('failed to start process: Concord answered ok=false for instanceID: x1');
  });

  it('fails when a status check answers an error status or a malformed body', async () => {
    for (const [status, body, message] of [
      [500, '{"message":"db down"}', 'answered 500 Internal Server Error: {"message":"db down"}'],
      [200, '{"instanceId":"s"}', 'answered 200 with no status (not the expected JSON): {"instanceId":"s"}'],
      [200, '[]', 'answered 200 with no status (not the expected JSON): []'],
    ] as const) {
      const s = await concord((req, res) => {
        if (req.method === 'POST') return json(res, 200, { instanceId: 's', ok: true });
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(body);
      });
      const out = await run(concordSpecFromMetadata(metadata(s.url)));
      expect(out.error).toBe(`failed checking status: GET ${s.url}/api/v1/process/s ${message}`);
    }
  });

  it('fails with the HTTP client error when the start call times out or nothing listens', async () => {
    const s = await concord(() => undefined);
    const out = await run(concordSpecFromMetadata(metadata(s.url)), { requestTimeoutMs: 100 });
    expect(out.error).toBe(`failed to start process: POST ${s.url} timed out after 100ms`);

    const closed = await concord(() => undefined);
    await closed.close();
    const refused = await run(concordSpecFromMetadata(metadata(closed.url)));
    expect(refused.error).toMatch(/^failed to start process: POST http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });

  it('stops polling when the task is aborted (shutdown), saying why', async () => {
    const abort = new AbortController();
    const s = await concord((req, res) => {
      if (req.method === 'POST') return json(res, 200, { instanceId: 'ab', ok: true });
      abort.abort();
      json(res, 200, { status: 'RUNNING' });
    });
    const out = await run(concordSpecFromMetadata(metadata(s.url, { pollTimeout: '1h' })), { signal: abort.signal });
    expect(out.error).toMatch(/^concord process ab not finished: the loadtester is shutting down$/);
  });

  it('reads the key file at run time: an empty or unreadable one fails before any request', async () => {
    const s = await concord(scripted(['FINISHED']));
    const empty = path.join(dir, 'empty-key');
    writeFileSync(empty, '\n');
    const out = await run(concordSpecFromMetadata(metadata(s.url, { apiKeyPath: empty })));
    expect(out.error).toBe(`the concord API key file ${empty} is empty`);
    const gone = await run(concordSpecFromMetadata(metadata(s.url, { apiKeyPath: path.join(dir, 'gone') })));
    expect(gone.error).toBe(`cannot read the concord API key file ${path.join(dir, 'gone')}: ENOENT`);
    const twoLines = path.join(dir, 'two-line-key');
    writeFileSync(twoLines, 'a\nInjected: header');
    const bad = await run(concordSpecFromMetadata(metadata(s.url, { apiKeyPath: twoLines })));
    expect(bad.error).toBe(`the concord API key file ${twoLines} holds control characters`);
    expect(s.requests).toHaveLength(0);
  });
});

describe('responseSnippet', () => {
  it('redacts every secret, flattens whitespace and caps the length', () => {
    expect(responseSnippet('a s3 b\n\ns3', ['s3'])).toBe('a <redacted> b <redacted>');
    expect(responseSnippet('x'.repeat(300), [])).toBe(`${'x'.repeat(200)}…`);
  });
});
