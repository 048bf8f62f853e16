import { afterEach, describe, expect, it } from 'vitest';
import type { Canary, CanaryStatus, CanaryWebhook } from '../apis/flagger/v1beta1/types.ts';
import { createHttpClient } from '../http/client.ts';
import { type Handler, type TestServer, startHttpsServer, startServer, testCtx } from '../http/server.fixture.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { createLogger } from '../log/logger.ts';
import type { Ctx } from '../core/context.ts';
import {
  type WebhookResult,
  callWebhook,
  canaryChecksum,
  eventMetadata,
  webhookHeaders,
  webhookPayload,
} from './webhooks.ts';

const http = createHttpClient();
const noDelay = (): number => 1;

function newCanary(status?: CanaryStatus): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' }, service: { port: 9898 } },
    ...(status === undefined ? {} : { status }),
  };
}

const status: CanaryStatus = {
  phase: 'Progressing',
  lastAppliedSpec: 'abc',
  trackedConfigs: { 'configmap/cfg': '1234' },
};

let servers: TestServer[] = [];
async function serve(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const answer =
  (code: number, body = ''): Handler =>
  (_req, res) => {
    res.writeHead(code);
    res.end(body);
  };

describe('callWebhook', () => {
  it("POSTs Flagger's payload as JSON with the hook metadata", async () => {
    const server = await serve(answer(200));
    const hook: CanaryWebhook = {
      name: 'load',
      url: `${server.url}/hook`,
      metadata: { cmd: 'hey -z 1m', type: 'cmd' },
    };
    const canary = newCanary(status);
    const res = await callWebhook(testCtx(), { canary, phase: 'Progressing', hook, http });
    expect(res).toEqual({ ok: true, status: 200, message: 'HTTP 200' });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/hook');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['authorization']).toBeUndefined();
    expect(JSON.parse(req?.body ?? '')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: canaryChecksum(canary),
      metadata: { cmd: 'hey -z 1m', type: 'cmd' },
    });
  });

  it('omits empty metadata, as Go omitempty does', async () => {
    const server = await serve(answer(202));
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Waiting',
      hook: { name: 'g', url: server.url, metadata: {} },
      http,
    });
    expect(res.ok).toBe(true);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Waiting',
      checksum: canaryChecksum(newCanary()),
    });
  });

  it.each([200, 201, 202, 204, 299])('treats %i as success (Flagger accepts only up to 202)', async (code) => {
    const server = await serve(answer(code));
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url },
      http,
    });
    expect(res).toEqual({ ok: true, status: code, message: `HTTP ${code}` });
  });

  it('fails on 500 with the status and body in the message', async () => {
    const server = await serve(answer(500, 'command failed: exit 1\n'));
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url },
      http,
    });
    expect(res).toEqual({ ok: false, status: 500, message: 'HTTP 500 Internal Server Error: command failed: exit 1' });
  });

  it('fails on 403 without retrying, and truncates long bodies to 200 characters', async () => {
    const server = await serve(answer(403, 'x'.repeat(500)));
    const hook: CanaryWebhook = { name: 'gate', url: server.url, retries: 3 };
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook,
      http,
      retryDelayMs: noDelay,
    });
    expect(res.ok).toBe(false);
    expect(res.message).toBe(`HTTP 403 Forbidden: ${'x'.repeat(200)}...`);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 5xx up to `retries` times and succeeds when the hook recovers', async () => {
    let calls = 0;
    const server = await serve((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200);
      res.end();
    });
    const hook: CanaryWebhook = { name: 'h', url: server.url, retries: 2 };
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook,
      http,
      retryDelayMs: noDelay,
    });
    expect(res).toEqual({ ok: true, status: 200, message: 'HTTP 200' });
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after retries + 1 attempts and says so', async () => {
    const server = await serve(answer(500, 'boom'));
    const hook: CanaryWebhook = { name: 'h', url: server.url, retries: 2 };
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook,
      http,
      retryDelayMs: noDelay,
    });
    expect(res).toEqual({ ok: false, status: 500, message: 'HTTP 500 Internal Server Error: boom (after 3 attempts)' });
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry without `retries`', async () => {
    const server = await serve(answer(500));
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url },
      http,
    });
    expect(res.message).toBe('HTTP 500 Internal Server Error');
    expect(server.requests).toHaveLength(1);
  });

  it('retries connection errors and names only the origin', async () => {
    const server = await serve(answer(200));
    const url = `${server.url}/secret/path?token=s3cr3t`;
    await server.close();
    servers = [];
    const hook: CanaryWebhook = { name: 'h', url, retries: 1 };
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook,
      http,
      retryDelayMs: noDelay,
    });
    expect(res.ok).toBe(false);
    expect(res.status).toBeUndefined();
    expect(res.message).toMatch(
      new RegExp(`^POST ${server.url.replace(/\./g, '\\.')} failed: .*ECONNREFUSED.* \\(after 2 attempts\\)$`),
    );
    expect(res.message).not.toContain('secret');
    expect(res.message).not.toContain('s3cr3t');
  });

  it('times out after hook.timeout', async () => {
    const server = await serve(() => undefined); // never answers
    const started = Date.now();
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'slow', url: server.url, timeout: '200ms' },
      http,
    });
    expect(res.ok).toBe(false);
    expect(res.message).toBe(`POST ${server.url} timed out after 200ms`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('uses the 10s default when the timeout is shorter than 2 characters', async () => {
    const server = await serve(answer(200));
    const res = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url, timeout: '5' },
      http,
    });
    expect(res.ok).toBe(true);
  });

  it('fails on an invalid timeout or URL without calling', async () => {
    const server = await serve(answer(200));
    const bad = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url, timeout: 'ten' },
      http,
    });
    expect(bad).toEqual({ ok: false, message: 'invalid timeout "ten"' });
    const url = await callWebhook(testCtx(), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: 'not a url' },
      http,
    });
    expect(url).toEqual({ ok: false, message: 'invalid webhook URL' });
    expect(server.requests).toHaveLength(0);
  });

  it('returns at once when the context is aborted', async () => {
    const server = await serve(() => undefined);
    const abort = new AbortController();
    const pending = callWebhook(testCtx(abort.signal), {
      canary: newCanary(),
      phase: 'Progressing',
      hook: { name: 'h', url: server.url, retries: 5 },
      http,
    });
    setTimeout(() => abort.abort(), 50);
    const res = await pending;
    expect(res).toEqual({ ok: false, message: `POST ${server.url} aborted` });
  });

  describe('TLS', () => {
    it('rejects a self-signed certificate unless disableTLS is set', async () => {
      const server = await startHttpsServer(answer(200));
      servers.push(server);
      const verified = await callWebhook(testCtx(), {
        canary: newCanary(),
        phase: 'Progressing',
        hook: { name: 'h', url: server.url, retries: 2 },
        http,
        retryDelayMs: noDelay,
      });
      expect(verified.ok).toBe(false);
      expect(verified.message.startsWith(`POST ${server.url} failed: self-signed certificate`)).toBe(true);
      expect(verified.message).not.toMatch(/after \d+ attempts/);
      // certificate errors are not retried (a retried failure ends with "(after N attempts)")
      expect(server.requests).toHaveLength(0);

      const insecure = await callWebhook(testCtx(), {
        canary: newCanary(),
        phase: 'Progressing',
        hook: { name: 'h', url: server.url, disableTLS: true },
        http,
      });
      expect(insecure).toEqual({ ok: true, status: 200, message: 'HTTP 200' });
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('event webhooks', () => {
    it('adds eventMessage, eventType and timestamp, which hook metadata cannot override', async () => {
      const server = await serve(answer(200));
      const hook: CanaryWebhook = {
        name: 'events',
        type: 'event',
        url: server.url,
        metadata: { eventType: 'spoofed', team: 'a' },
      };
      const extraMetadata = eventMetadata('Starting canary analysis for podinfo.test', 'Normal', 1_700_000_000_123.7);
      const res = await callWebhook(testCtx(), {
        canary: newCanary(status),
        phase: 'Progressing',
        hook,
        http,
        extraMetadata,
      });
      expect(res.ok).toBe(true);
      expect(JSON.parse(server.requests[0]?.body ?? '')).toMatchObject({
        phase: 'Progressing',
        metadata: {
          eventMessage: 'Starting canary analysis for podinfo.test',
          eventType: 'Normal',
          timestamp: '1700000000123',
          team: 'a',
        },
      });
    });
  });
});

describe('headersSecretRef (Flagger #1192)', () => {
  const TOKEN = 'Bearer s3cr3t-t0ken-value';
  const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');
  function secretsOf(objects: readonly KubeObject[]): { get(key: ObjectKey): KubeObject | undefined } {
    return {
      get: (key) => objects.find((o) => o.metadata.name === key.name && o.metadata.namespace === key.namespace),
    };
  }
  const secret = (name: string, namespace: string, data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
  /** A ctx whose debug log lines are kept, to check no header value is logged. */
  function loggingCtx(): { ctx: Ctx; lines: string[] } {
    const lines: string[] = [];
    const ctx: Ctx = { ...testCtx(), log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
    return { ctx, lines };
  }
  const hook = (url: string, extra: Partial<CanaryWebhook> = {}): CanaryWebhook => ({
    name: 'auth',
    url,
    headersSecretRef: { name: 'hook-auth' },
    ...extra,
  });

  it('sends every key of the Secret as a header, without the trailing newline of a file', async () => {
    const server = await serve(answer(200));
    const secrets = secretsOf([
      secret('hook-auth', 'test', { Authorization: `${TOKEN}\n`, 'X-Tenant': 'blue' }),
      secret('hook-auth', 'other', { Authorization: 'Bearer wrong-namespace' }),
    ]);
    const res = await callWebhook(testCtx(), {
      canary: newCanary(status),
      phase: 'Progressing',
      hook: hook(server.url),
      http,
      secrets,
    });
    expect(res.ok).toBe(true);
    const req = server.requests[0];
    expect(req?.headers['authorization']).toBe(TOKEN);
    expect(req?.headers['x-tenant']).toBe('blue');
    expect(req?.headers['content-type']).toBe('application/json');
  });

  it('keeps the values out of failure messages and logs, also after retries', async () => {
    const server = await serve(answer(503, 'unavailable'));
    const { ctx, lines } = loggingCtx();
    const res = await callWebhook(ctx, {
      canary: newCanary(status),
      phase: 'Progressing',
      hook: hook(server.url, { retries: 1 }),
      http,
      secrets: secretsOf([secret('hook-auth', 'test', { Authorization: TOKEN })]),
      retryDelayMs: noDelay,
    });
    expect(res).toEqual({
      ok: false,
      status: 503,
      message: 'HTTP 503 Service Unavailable: unavailable (after 2 attempts)',
    });
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual([TOKEN, TOKEN]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('s3cr3t');
    expect(res.message).not.toContain('s3cr3t');
  });

  /** Calls a hook whose server answers `code` with `body`, with `headers` from the hook's Secret. */
  async function echoed(code: number, body: string, headers: Record<string, string>): Promise<WebhookResult> {
    const server = await serve(answer(code, body));
    return callWebhook(testCtx(), {
      canary: newCanary(status),
      phase: 'Progressing',
      hook: hook(server.url),
      http,
      secrets: secretsOf([secret('hook-auth', 'test', headers)]),
    });
  }

  it('redacts a rejected credential that the server echoes back', async () => {
    const res = await echoed(401, `token "s3cr3t-t0ken-value" rejected (${TOKEN})`, { Authorization: TOKEN });
    expect(res).toEqual({
      ok: false,
      status: 401,
      message: 'HTTP 401 Unauthorized: token "<redacted>" rejected (<redacted>)',
    });
  });

  it('redacts an echoed credential that the 200-character cut would split, leaving no prefix of it', async () => {
    const token = 'Bearer WHTOKabcdefghijklmnopqrstuvwxyz0123456789';
    // The token starts 13 characters before the cut: cutting first kept `Bearer WHTOK`.
    const res = await echoed(401, `${'x'.repeat(187)}${token} rejected`, { Authorization: token });
    expect(res.message).toBe(`HTTP 401 Unauthorized: ${'x'.repeat(187)}<redacted> re...`);
    expect(res.message).not.toContain('WHTOK');
  });

  it('redacts base64 and URL-escaped echoes of a header value', async () => {
    const value = 'p@ss/word+1';
    const body = `${Buffer.from(value).toString('base64')} ${encodeURIComponent(value)}`;
    const res = await echoed(403, body, { 'X-Api-Key': value });
    expect(res.message).toBe('HTTP 403 Forbidden: <redacted> <redacted>');
  });

  it('fails without calling when the Secret is missing or no cache is given', async () => {
    const server = await serve(answer(200));
    const call = { canary: newCanary(status), phase: 'Progressing' as const, hook: hook(server.url), http };
    expect(await callWebhook(testCtx(), { ...call, secrets: secretsOf([]) })).toEqual({
      ok: false,
      message: 'headers secret "hook-auth" not found in namespace test',
    });
    expect((await callWebhook(testCtx(), call)).message).toBe(
      'headers secret "hook-auth" can\'t be read: no Secret cache',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses invalid names, reserved headers and values with line breaks, naming only the key', () => {
    const canary = newCanary(status);
    const check = (data: Record<string, string>): Record<string, string> | string =>
      webhookHeaders({ canary, hook: hook('http://x'), secrets: secretsOf([secret('hook-auth', 'test', data)]) });
    expect(check({ 'bad name': 'v' })).toBe('headers secret "hook-auth": key "bad name" is not a valid header name');
    expect(check({ 'Content-Type': 'text/plain' })).toBe(
      'headers secret "hook-auth": key "Content-Type" may not be set from a Secret',
    );
    const injected = check({ Authorization: `${TOKEN}\r\nX-Evil: 1` });
    expect(injected).toBe('headers secret "hook-auth": the value of key "Authorization" is not a valid header value');
    expect(JSON.stringify(injected)).not.toContain('s3cr3t');
    expect(webhookHeaders({ canary, hook: { name: 'plain', url: 'http://x' } })).toEqual({});
  });
});

describe('canaryChecksum', () => {
  it('is stable for the same tracked configs and spec, whatever the key order', () => {
    const a = newCanary({ lastAppliedSpec: 'x', trackedConfigs: { 'secret/a': '1', 'configmap/b': '2' } });
    const b = newCanary({
      phase: 'Succeeded',
      lastAppliedSpec: 'x',
      trackedConfigs: { 'configmap/b': '2', 'secret/a': '1' },
    });
    expect(canaryChecksum(a)).toBe(canaryChecksum(b));
    expect(canaryChecksum(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes when the spec hash or a tracked config changes', () => {
    const base = canaryChecksum(newCanary({ lastAppliedSpec: 'x', trackedConfigs: { 'configmap/b': '2' } }));
    expect(canaryChecksum(newCanary({ lastAppliedSpec: 'y', trackedConfigs: { 'configmap/b': '2' } }))).not.toBe(base);
    expect(canaryChecksum(newCanary({ lastAppliedSpec: 'x', trackedConfigs: { 'configmap/b': '3' } }))).not.toBe(base);
    expect(canaryChecksum(newCanary({ lastAppliedSpec: 'x' }))).not.toBe(base);
  });
});

describe('webhookPayload', () => {
  it('lets extra metadata win over the hook metadata', () => {
    const p = webhookPayload(
      newCanary(),
      'Failed',
      { name: 'h', url: 'http://x', metadata: { a: '1', b: '2' } },
      { b: '3' },
    );
    expect(p.metadata).toEqual({ a: '1', b: '3' });
    expect(p.phase).toBe('Failed');
  });
});
