import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, startServer } from '../http/server.fixture.ts';
import { silentLogger } from '../log/logger.ts';
import { Allowlist } from './allowlist.ts';
import { payload, rejection } from './tasks.fixture.ts';
import {
  PayloadError,
  createExecutor,
  displayCommand,
  loadSpecFromMetadata,
  parseGoBool,
  parsePayload,
  planTask,
} from './tasks.ts';

const allow = Allowlist.parse([
  'hey -z \\S+ -q \\d+ -c \\d+ http://podinfo-canary\\.test:9898/',
  'echo .*',
  'helm test \\S+ --timeout \\S+',
  'kubectl get pods -n test',
  'load (GET|POST) http://podinfo-canary\\.test:9898/.*',
  'bash:curl -sf http://podinfo-canary\\.test:9898/healthz \\| grep -q OK',
]);

describe('parsePayload', () => {
  it("reads Flagger's CanaryWebhookPayload; missing fields are empty as with Go's json.Unmarshal", () => {
    expect(parsePayload('{"name":"podinfo","namespace":"test","metadata":{"cmd":"x"},"extra":1}')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: '',
      checksum: '',
      metadata: { cmd: 'x' },
    });
    expect(parsePayload('{"metadata":null}').metadata).toBeUndefined();
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '[1]'],
    ['a non-string name', '{"name":1}'],
    ['a non-string metadata value', '{"metadata":{"cmd":["a"]}}'],
    ['metadata that is not an object', '{"metadata":"cmd"}'],
  ])('rejects %s', (_what, body) => {
    expect(() => parsePayload(body)).toThrow(PayloadError);
  });
});

describe('parseGoBool', () => {
  it("accepts strconv.ParseBool's spellings only", () => {
    expect(['1', 't', 'T', 'true', 'TRUE', 'True'].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'false', 'FALSE', 'False'].map(parseGoBool)).toEqual(Array(6).fill(false));
    expect(parseGoBool('yes')).toBeUndefined();
    expect(parseGoBool(undefined)).toBeUndefined();
  });
});

describe('planTask', () => {
  it('runs an allowed hey command in the background on the built-in generator', () => {
    const plan = planTask(
      payload({ cmd: 'hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/', logCmdOutput: 'true' }),
      allow,
    );
    expect(plan.type).toBe('cmd');
    expect(plan.background).toBe(true);
    expect(plan.logOutput).toBe(true);
    expect(plan.canary).toBe('podinfo.test');
    expect(plan.plan.kind).toBe('load');
    if (plan.plan.kind === 'load') {
      expect(plan.plan.spec.rate).toBe(20);
      expect(plan.plan.spec.durationMs).toBe(60_000);
    }
  });

  it('deduplicates by canary and command: same key for the same task, another for another canary', () => {
    const cmd = { cmd: 'echo one' };
    const a = planTask(payload(cmd), allow);
    expect(planTask(payload(cmd), allow).key).toBe(a.key);
    expect(planTask({ ...payload(cmd), name: 'other' }, allow).key).not.toBe(a.key);
    expect(planTask(payload({ cmd: 'echo two' }), allow).key).not.toBe(a.key);
  });

  it('tokenizes cmd into argv; quoting is honoured and the canonical line is what the allowlist saw', () => {
    const plan = planTask(payload({ type: 'bash', cmd: `echo 'a b' "c"` }), allow);
    expect(plan.plan).toEqual({ kind: 'exec', argv: ['echo', 'a b', 'c'] });
    expect(plan.command).toBe("echo 'a b' c");
    expect(plan.background).toBe(false);
  });

  it('prefixes helm and kubectl tasks with their program (helm and helmv3 alike)', () => {
    for (const type of ['helm', 'helmv3']) {
      expect(planTask(payload({ type, cmd: 'test podinfo --timeout 3m' }), allow).plan).toEqual({
        kind: 'exec',
        argv: ['helm', 'test', 'podinfo', '--timeout', '3m'],
      });
    }
    expect(planTask(payload({ type: 'kubectl', cmd: 'get pods -n test' }), allow).plan).toEqual({
      kind: 'exec',
      argv: ['kubectl', 'get', 'pods', '-n', 'test'],
    });
  });

  it('runs a bash script through bash -c only when a bash: entry allows it', () => {
    const plan = planTask(
      payload({
        type: 'bash',
        cmd: 'curl -sf http://podinfo-canary.test:9898/healthz | grep -q OK',
        returnCmdOutput: 'true',
      }),
      allow,
    );
    expect(plan.plan).toEqual({
      kind: 'shell',
      script: 'curl -sf http://podinfo-canary.test:9898/healthz | grep -q OK',
    });
    expect(plan.returnOutput).toBe(true);
  });

  it('refuses a command outside the allowlist with 403 naming the command', () => {
    const r = rejection(() => planTask(payload({ cmd: 'curl http://evil.example/' }), allow));
    expect(r.status).toBe(403);
    expect(r.result).toBe('refused');
    expect(r.message).toBe('command refused: "curl http://evil.example/" matches no -allow entry of fledge-loadtester');
  });

  it('refuses shell metacharacters with 403, also in bash tasks without a matching bash: entry', () => {
    for (const [type, cmd] of [
      ['cmd', 'echo hi; id'],
      ['cmd', 'echo $(id)'],
      ['bash', 'echo hi | sh'],
      ['bash', 'curl -sf http://podinfo-canary.test:9898/healthz | grep -q OK; id'],
      ['kubectl', 'get pods -n test && id'],
    ] as const) {
      const r = rejection(() => planTask(payload({ type, cmd }), allow));
      expect(r.status).toBe(403);
      expect(r.message).toContain('shell metacharacter');
    }
  });

  it('refuses everything with an empty allowlist, and says why', () => {
    const r = rejection(() => planTask(payload({ cmd: 'echo hi' }), Allowlist.parse([])));
    expect(r.status).toBe(403);
    expect(r.message).toContain('without -allow entries');
  });

  it('refuses what hey itself would refuse, with 400', () => {
    const hey = Allowlist.parse(['hey .*']);
    const r = rejection(() => planTask(payload({ cmd: 'hey -n 1 -c 5 http://x/' }), hey));
    expect(r.status).toBe(400);
    expect(r.message).toBe('hey: -n cannot be less than -c.');
  });

  it.each([
    [undefined, 400, 'metadata not found in payload'],
    [{}, 400, 'metadata not found in payload'],
    [{ type: 'cmd' }, 400, 'cmd not found in metadata'],
    [{ type: 'bash', cmd: '  ' }, 400, 'cmd not found in metadata'],
    [{ type: 'nope', cmd: 'x' }, 400, 'unknown task type nope'],
    [{ type: 'concord', server: 'http://concord:8001' }, 400, '`org` is required with type concord'],
    [{ type: 'ngrinder' }, 400, 'server, clone, username and passwd are required metadata'],
    [{ cmd: "echo 'open" }, 400, 'invalid cmd: unterminated single quote at offset 5'],
  ])('rejects metadata %j with %i', (metadata, status, message) => {
    const r = rejection(() => planTask(payload(metadata), allow));
    expect(r.status).toBe(status);
    expect(r.message).toBe(message);
  });

  it('plans a native load task, checked against the allowlist as "load <METHOD> <url>"', () => {
    const plan = planTask(
      payload({ type: 'load', url: 'http://podinfo-canary.test:9898/', rate: '10', duration: '30s' }),
      allow,
    );
    expect(plan.command).toBe('load GET http://podinfo-canary.test:9898/');
    expect(plan.background).toBe(true);
    const waiting = planTask(
      payload({ type: 'load', url: 'http://podinfo-canary.test:9898/x', method: 'post', requests: '5', wait: 'true' }),
      allow,
    );
    expect(waiting.background).toBe(false);
    expect(waiting.returnOutput).toBe(true);
    expect(
      rejection(() => planTask(payload({ type: 'load', url: 'http://evil.example.org/', duration: '1s' }), allow))
        .status,
    ).toBe(403);
  });
});

describe('loadSpecFromMetadata', () => {
  it('reads every field, with defaults', () => {
    expect(
      loadSpecFromMetadata({
        url: 'http://podinfo:9898/api',
        method: 'put',
        rate: '12.5',
        duration: '1m30s',
        concurrency: '3',
        headers: '{"Authorization":"Bearer t","X-A":"1"}',
        body: '{"x":1}',
        timeout: '2s',
        host: 'podinfo.example.com',
        keepAlive: 'false',
        insecureSkipVerify: 'true',
      }),
    ).toEqual({
      url: 'http://podinfo:9898/api',
      method: 'PUT',
      headers: [
        ['Authorization', 'Bearer t'],
        ['X-A', '1'],
        ['User-Agent', 'fledge-loadtester'],
        ['Host', 'podinfo.example.com'],
      ],
      body: '{"x":1}',
      concurrency: 3,
      rate: 12.5,
      durationMs: 90_000,
      timeoutMs: 2_000,
      keepAlive: false,
      insecureSkipVerify: true,
    });
    expect(loadSpecFromMetadata({ url: 'http://p/', requests: '7' })).toMatchObject({
      method: 'GET',
      concurrency: 10,
      requests: 7,
      timeoutMs: 20_000,
      keepAlive: true,
      insecureSkipVerify: false,
    });
  });

  it('reads headers given as "Name: value" lines', () => {
    expect(
      loadSpecFromMetadata({ url: 'http://p/', requests: '1', headers: 'X-A: 1\nUser-Agent: me\n' }).headers,
    ).toEqual([
      ['X-A', '1'],
      ['User-Agent', 'me'],
    ]);
  });

  it.each([
    [{ duration: '1m' }, 'url is required'],
    [{ url: 'http://p/' }, 'duration or requests is required'],
    [{ url: 'http://p/', duration: 'soon' }, 'duration must be a duration'],
    [{ url: 'http://p/', duration: '1m', rate: '-1' }, 'rate must be a positive number'],
    [{ url: 'http://p/', duration: '1m', concurrency: '1.5' }, 'concurrency must be a positive integer'],
    [{ url: 'http://p/', duration: '1m', headers: '{"a":1}' }, 'value of a must be a string'],
    [{ url: 'http://p/', duration: '1m', headers: 'nonsense' }, 'is not "Name: value"'],
    [{ url: 'http://p/', duration: '1m', headers: '{"a b":"1"}' }, 'is not a valid header name'],
    [{ url: 'http://p/', duration: '1m', keepAlive: 'maybe' }, 'keepAlive must be true or false'],
    [{ url: 'gopher://p/', duration: '1m' }, 'unsupported URL scheme'],
    [{ url: 'http://p/', duration: '1m', method: 'GE T' }, 'invalid HTTP method'],
  ])('rejects %j', (metadata, message) => {
    const r = rejection(() => loadSpecFromMetadata(metadata));
    expect(r.status).toBe(400);
    expect(r.message).toContain(message);
  });
});

describe('createExecutor', () => {
  const execute = createExecutor({ timeoutMs: 2_000, log: silentLogger });
  const signal = new AbortController().signal;

  it('runs argv without a shell: metacharacters in words reach the program literally', async () => {
    const plan = planTask(payload({ type: 'bash', cmd: `echo '$(id); rm -rf /' '|' '*'` }), allow);
    const out = await execute(plan, signal);
    expect(out).toEqual({ ok: true, output: '$(id); rm -rf / | *\n' });
  });

  it('reports a failure with its exit code and output', async () => {
    const any = Allowlist.parse(['sh .*', 'does-not-exist']);
    const out = await execute(planTask(payload({ type: 'bash', cmd: `sh -c 'echo oops >&2; exit 3'` }), any), signal);
    expect(out.ok).toBe(false);
    expect(out.error).toBe(`command sh -c 'echo oops >&2; exit 3' failed: exit code 3: oops\n`);
    const missing = await execute(planTask(payload({ type: 'bash', cmd: 'does-not-exist' }), any), signal);
    expect(missing.error).toBe('command does-not-exist failed: could not start: does-not-exist: command not found');
  });

  it('runs allowed scripts with bash -c', async () => {
    const list = Allowlist.parse(['bash:echo a \\| tr a b']);
    const out = await execute(planTask(payload({ type: 'bash', cmd: 'echo a | tr a b' }), list), signal);
    expect(out).toEqual({ ok: true, output: 'b\n' });
  });

  it('kills a command at the timeout, with everything it started', async () => {
    const short = createExecutor({ timeoutMs: 1_000, log: silentLogger });
    const list = Allowlist.parse(['sh .*']);
    const started = Date.now();
    const out = await short(planTask(payload({ type: 'bash', cmd: `sh -c 'sleep 30 & sleep 30'` }), list), signal);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out.ok).toBe(false);
    expect(out.error).toContain('timed out after 1s and was killed');
  });

  it('does not pass the loadtester token to commands', async () => {
    process.env['LOADTESTER_TOKEN'] = 'secret-token';
    try {
      const list = Allowlist.parse(['env']);
      const out = await execute(planTask(payload({ type: 'bash', cmd: 'env' }), list), signal);
      expect(out.ok).toBe(true);
      expect(out.output).not.toContain('secret-token');
      expect(out.output).toContain('PATH=');
    } finally {
      delete process.env['LOADTESTER_TOKEN'];
    }
  });
});

describe('displayCommand', () => {
  it('redacts credentials of hey commands in logs and refusals, never what the allowlist matches', () => {
    expect(
      displayCommand([
        'hey',
        '-H',
        'Authorization: Bearer abc',
        '-H',
        'X-Request-Id: 1',
        '-H=Cookie: s=1',
        '-a',
        'user:pass',
        'http://x/',
      ]),
    ).toBe("hey -H 'Authorization: <redacted>' -H 'X-Request-Id: 1' '-H=Cookie: <redacted>' -a '<redacted>' http://x/");
    const r = rejection(() => planTask(payload({ cmd: 'hey -H "X-Api-Key: k3y" http://evil.example.org/' }), allow));
    expect(r.message).not.toContain('k3y');
    expect(r.message).toContain("'X-Api-Key: <redacted>'");
    const hey = Allowlist.parse(["hey -H 'X-Api-Key: k3y' http://ok/"]);
    expect(planTask(payload({ cmd: 'hey -H "X-Api-Key: k3y" http://ok/' }), hey).command).toBe(
      "hey -H 'X-Api-Key: <redacted>' http://ok/",
    );
  });
});

describe('HTTP tasks: concord and ngrinder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fledge-tasks-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'concord-key');
  writeFileSync(keyFile, 'k3y');
  const http = Allowlist.parse([
    `concord http://127\\.0\\.0\\.1:\\d+ ${keyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*`,
    'concord http://concord\\.test:8001 /nonexistent/key .*',
    'ngrinder http://ngrinder\\.test:8080 \\d+',
  ]);
  const concord = (server: string, extra: Record<string, string> = {}): Record<string, string> => ({
    type: 'concord',
    server,
    org: 'o',
    project: 'p',
    repo: 'r',
    entrypoint: 'e',
    apiKeyPath: keyFile,
    endpoint: 'http://podinfo-canary.test:9898/',
    ...extra,
  });
  const ngrinder = (extra: Record<string, string> = {}): Record<string, string> => ({
    type: 'ngrinder',
    server: 'http://ngrinder.test:8080',
    clone: '960',
    username: 'admin',
    passwd: Buffer.from('secret-pw').toString('base64'),
    ...extra,
  });

  it('plans concord as a blocking task matched as "concord <server> <apiKeyPath> <org> <project> <repo> <entrypoint>"', () => {
    const plan = planTask(payload(concord('http://127.0.0.1:8001')), http);
    expect(plan.type).toBe('concord');
    expect(plan.background).toBe(false);
    expect(plan.returnOutput).toBe(false);
    expect(plan.command).toBe(`concord http://127.0.0.1:8001 ${keyFile} o p r e`);
    expect(plan.plan.kind).toBe('concord');
  });

  it('refuses a concord task no entry allows with 403, before looking at the key file', () => {
    const other = rejection(() => planTask(payload(concord('http://evil.example', { apiKeyPath: '/nope' })), http));
    expect(other.status).toBe(403);
    expect(other.message).toBe(
      'command refused: "concord http://evil.example /nope o p r e" matches no -allow entry of fledge-loadtester',
    );
    const none = rejection(() => planTask(payload(concord('http://127.0.0.1:8001')), Allowlist.parse([])));
    expect(none.status).toBe(403);
    // Allowed, but the key file is missing: 400 with Flagger's message.
    const missing = rejection(() =>
      planTask(payload(concord('http://concord.test:8001', { apiKeyPath: '/nonexistent/key' })), http),
    );
    expect(missing.status).toBe(400);
    expect(missing.message).toBe("`apiKeyPath` file doesn't exist /nonexistent/key");
  });

  it('plans ngrinder in the background, deduplicated by canary, server and clone (not credentials)', () => {
    const plan = planTask(payload(ngrinder()), http);
    expect(plan.background).toBe(true);
    expect(plan.command).toBe('ngrinder http://ngrinder.test:8080 960');
    expect(planTask(payload(ngrinder({ passwd: 'b3RoZXI=', pollInterval: '5s' })), http).key).toBe(plan.key);
    expect(planTask(payload(ngrinder({ clone: '961' })), http).key).not.toBe(plan.key);
    expect(planTask({ ...payload(ngrinder()), name: 'other' }, http).key).not.toBe(plan.key);
    expect(JSON.stringify(plan)).not.toContain('secret-pw');
    expect(JSON.stringify(plan)).toContain('"password":"<redacted>"');
    const refused = rejection(() => planTask(payload(ngrinder({ server: 'http://10.0.0.1/' })), http));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('"ngrinder http://10.0.0.1/ 960" matches no -allow entry');
    expect(rejection(() => planTask(payload(ngrinder({ clone: 'x' })), http)).message).toBe(
      'metadata clone must be integer: got "x"',
    );
  });

  it('the executor runs a concord plan against the server, and cuts it at -timeout', async () => {
    const server = await startServer((req, res) => {
      if (req.method === 'POST') return json(res, 200, { instanceId: 'i1', ok: true });
      json(res, 200, { status: req.url.endsWith('/i1') ? 'RUNNING' : 'FAILED' });
    });
    try {
      const plan = planTask(payload(concord(server.url, { pollInterval: '10ms', pollTimeout: '1h' })), http);
      const execute = createExecutor({ timeoutMs: 500, log: silentLogger });
      const out = await execute(plan, new AbortController().signal);
      expect(out.ok).toBe(false);
      expect(out.error).toBe("concord process i1 not finished: the loadtester's -timeout of 500ms passed");
      expect(server.requests[0]?.headers['authorization']).toBe('k3y');
    } finally {
      await server.close();
    }
  });

  it('the executor stops an ngrinder test when the runner aborts it', async () => {
    const server = await startServer((req, res) => {
      if (req.method === 'POST') return json(res, 200, { id: 7 });
      if (req.method === 'PUT') return json(res, 200, { success: true });
      json(res, 200, { status: [{ status_id: 'TESTING' }] });
    });
    try {
      const list = Allowlist.parse(['ngrinder http://127\\.0\\.0\\.1:\\d+ 960']);
      const plan = planTask(payload(ngrinder({ server: server.url, pollInterval: '10ms' })), list);
      const execute = createExecutor({ timeoutMs: 60_000, log: silentLogger });
      const abort = new AbortController();
      const done = execute(plan, abort.signal);
      while (!server.requests.some((r) => r.method === 'GET')) await new Promise((r) => setTimeout(r, 5));
      abort.abort();
      const out = await done;
      expect(out.error).toBe('ngrinder test 7 did not finish: the loadtester is shutting down; stopped');
      expect(server.requests.at(-1)?.url).toBe('/perftest/api/7?action=stop');
    } finally {
      await server.close();
    }
  });
});
