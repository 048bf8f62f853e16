import { afterEach, describe, expect, it } from 'vitest';
import {
  HttpAbortedError,
  HttpNetworkError,
  HttpTimeoutError,
  createHttpClient,
  formatMs,
  redactUrl,
} from './client.ts';
import { type Handler, type TestServer, startServer, testCtx } from './server.fixture.ts';

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

describe('createHttpClient', () => {
  it('returns any status with the body as text, sending only the headers asked for', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(418, { 'X-Reply': 'tea' });
      res.end('{"not":"parsed"}');
    });
    const res = await createHttpClient({ userAgent: 'fledge/test' }).request(testCtx(), {
      method: 'POST',
      url: `${server.url}/p`,
      headers: { 'Content-Type': 'text/plain' },
      body: 'hello',
      timeoutMs: 2000,
    });
    expect(res).toEqual({
      status: 418,
      statusText: "I'm a Teapot",
      headers: expect.objectContaining({ 'x-reply': 'tea' }) as unknown,
      body: '{"not":"parsed"}',
    });
    const req = server.requests[0];
    expect(req?.body).toBe('hello');
    expect(req?.headers['user-agent']).toBe('fledge/test');
    expect(req?.headers['accept']).toBeUndefined();
    expect(req?.headers['content-type']).toBe('text/plain');
  });

  it('rejects oversized bodies', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.end('x'.repeat(2048));
    });
    const err = await createHttpClient({ maxBodyBytes: 1024 })
      .request(testCtx(), { method: 'GET', url: server.url, timeoutMs: 2000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as Error).message).toBe(`GET ${server.url} failed: response body too large`);
  });

  it('distinguishes a timeout from an abort', async () => {
    const server = await serve(() => undefined);
    const http = createHttpClient();
    await expect(
      http.request(testCtx(), { method: 'GET', url: `${server.url}/slow?token=x`, timeoutMs: 50 }),
    ).rejects.toThrow(new HttpTimeoutError(`GET ${server.url} timed out after 50ms`));
    const abort = new AbortController();
    const pending = http.request(testCtx(abort.signal), { method: 'GET', url: server.url, timeoutMs: 5000 });
    abort.abort();
    await expect(pending).rejects.toBeInstanceOf(HttpAbortedError);
  });
});

describe('redactUrl', () => {
  it('keeps only the origin', () => {
    expect(redactUrl('https://user:pw@hooks.slack.com/services/T0/B0/secret?x=1#f')).toBe('https://hooks.slack.com');
    expect(redactUrl('http://10.0.0.1:8080/a')).toBe('http://10.0.0.1:8080');
    expect(redactUrl('nope')).toBe('<invalid URL>');
  });

  it('formats durations for messages', () => {
    expect(formatMs(200)).toBe('200ms');
    expect(formatMs(10_000)).toBe('10s');
    expect(formatMs(1500)).toBe('1.5s');
  });
});
