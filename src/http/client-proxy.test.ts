import { getCACertificates, rootCertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type TestProxy, startProxy } from '../../test/e2e/lib/proxy.ts';
import { AgentCache, parseProxyUrl } from './agents.ts';
import { type TestPki, createTestPki, startCaSignedServer } from './ca.fixture.ts';
import { HttpNetworkError, createHttpClient } from './client.ts';
import { type TestServer, json, startServer, testCtx } from './server.fixture.ts';

const PROXY_USER = 'proxy-user';
const PROXY_PASS = 'pr0xy-s3cret/pass';

let pki: TestPki;
let otherPki: TestPki;
beforeAll(() => {
  pki = createTestPki('fledge');
  otherPki = createTestPki('unrelated');
});

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});
async function proxy(o: Parameters<typeof startProxy>[0] = {}): Promise<TestProxy> {
  const p = await startProxy(o);
  closers.push(() => p.close());
  return p;
}
async function tlsServer(): Promise<TestServer> {
  const s = await startCaSignedServer(pki, (_req, res) => json(res, 200, { ok: true }));
  closers.push(() => s.close());
  return s;
}
async function plainServer(): Promise<TestServer> {
  const s = await startServer((req, res) => json(res, 201, { got: req.body }));
  closers.push(() => s.close());
  return s;
}
const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('createHttpClient with a custom CA (caPem)', () => {
  it('does not trust a certificate of an unknown CA, and says so', async () => {
    const server = await tlsServer();
    const err = await errorOf(
      createHttpClient().request(testCtx(), { method: 'GET', url: `${server.url}/api?q=1`, timeoutMs: 5000 }),
    );
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((err as Error).message).toBe(
      `GET ${server.url} failed: unable to verify the first certificate: the server's TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    expect(server.requests).toEqual([]);
  });

  it('trusts the server once its CA is given, and only that CA', async () => {
    const server = await tlsServer();
    const http = createHttpClient();
    const res = await http.request(testCtx(), { method: 'GET', url: server.url, caPem: pki.caPem, timeoutMs: 5000 });
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ok":true}');
    const wrong = await errorOf(
      http.request(testCtx(), { method: 'GET', url: server.url, caPem: otherPki.caPem, timeoutMs: 5000 }),
    );
    expect((wrong as HttpNetworkError).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a CA that holds no certificate before sending anything', async () => {
    const server = await tlsServer();
    const err = await errorOf(
      createHttpClient().request(testCtx(), { method: 'GET', url: server.url, caPem: 'not a pem', timeoutMs: 5000 }),
    );
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).code).toBe('EINVALIDCA');
    expect((err as Error).message).toBe(`GET ${server.url} not sent: the CA holds no PEM certificate`);
    expect(server.requests).toEqual([]);
  });
});

describe('createHttpClient with a per-call proxy (proxyUrl)', () => {
  it('tunnels https through CONNECT with TLS end to end, verifying with the custom CA', async () => {
    const server = await tlsServer();
    const p = await proxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    const http = createHttpClient();
    const call = () =>
      http.request(testCtx(), {
        method: 'GET',
        url: `${server.url}/api/v1/query?query=up`,
        headers: { Authorization: 'Bearer origin-token' },
        caPem: pki.caPem,
        proxyUrl: p.urlWith(PROXY_USER, PROXY_PASS),
        timeoutMs: 5000,
      });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const authority = server.url.replace('https://', '');
    // One tunnel for both calls: the cached agent keeps the connection alive.
    expect(p.requests).toEqual([
      {
        method: 'CONNECT',
        target: authority,
        proxyAuthorization: `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
        body: '',
        status: 200,
      },
    ]);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/query?query=up', '/api/v1/query?query=up']);
    // The origin gets its own credentials and never the proxy's.
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer origin-token');
    expect(server.requests[0]?.headers['proxy-authorization']).toBeUndefined();
  });

  it('still refuses an untrusted certificate inside the tunnel, and skips verification when asked', async () => {
    const server = await tlsServer();
    const p = await proxy();
    const http = createHttpClient();
    const err = await errorOf(
      http.request(testCtx(), { method: 'GET', url: server.url, proxyUrl: p.url, timeoutMs: 5000 }),
    );
    expect((err as HttpNetworkError).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect((err as Error).message).toContain(
      `GET ${server.url} via proxy ${p.url} failed: unable to verify the first certificate: the server's TLS certificate is not trusted`,
    );
    const res = await http.request(testCtx(), {
      method: 'GET',
      url: server.url,
      proxyUrl: p.url,
      insecureSkipVerify: true,
      timeoutMs: 5000,
    });
    expect(res.status).toBe(200);
    expect(p.requests.map((r) => r.method)).toEqual(['CONNECT', 'CONNECT']);
  });

  it('checks the server name inside the tunnel', async () => {
    const elsewhere = createTestPki('elsewhere', 'DNS:other.example');
    const server = await startCaSignedServer(elsewhere, (_req, res) => json(res, 200, {}));
    closers.push(() => server.close());
    const p = await proxy();
    const err = await errorOf(
      createHttpClient().request(testCtx(), {
        method: 'GET',
        url: server.url,
        caPem: elsewhere.caPem,
        proxyUrl: p.url,
        timeoutMs: 5000,
      }),
    );
    expect((err as HttpNetworkError).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(p.requests.map((r) => r.method)).toEqual(['CONNECT']);
    expect(server.requests).toEqual([]);
  });

  it('names the proxy when it cannot be reached', async () => {
    const server = await tlsServer();
    const p = await proxy();
    await p.close();
    const err = await errorOf(
      createHttpClient().request(testCtx(), {
        method: 'GET',
        url: server.url,
        caPem: pki.caPem,
        proxyUrl: p.urlWith(PROXY_USER, PROXY_PASS),
        timeoutMs: 5000,
      }),
    );
    expect((err as HttpNetworkError).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toMatch(
      new RegExp(`^GET ${server.url} via proxy ${p.url} failed: proxy ${p.url}: connect ECONNREFUSED`),
    );
    expect((err as Error).message).not.toContain(PROXY_PASS);
  });

  it('fails a CONNECT the proxy refuses with its origin and status, never its credentials', async () => {
    const server = await tlsServer();
    const p = await proxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    const err = await errorOf(
      createHttpClient().request(testCtx(), {
        method: 'POST',
        url: `${server.url}/hooks/s3cr3t-path`,
        body: '{}',
        caPem: pki.caPem,
        proxyUrl: p.urlWith(PROXY_USER, 'wrong-password'),
        timeoutMs: 5000,
      }),
    );
    expect(err).toBeInstanceOf(HttpNetworkError);
    expect((err as HttpNetworkError).code).toBe('EPROXYCONNECT');
    const message = (err as Error).message;
    expect(message).toBe(
      `POST ${server.url} via proxy ${p.url} failed: proxy ${p.url} refused CONNECT: 407 Proxy Authentication Required`,
    );
    expect(message).not.toContain('wrong-password');
    expect(message).not.toContain(PROXY_USER);
    expect(message).not.toContain('s3cr3t-path');
    expect(server.requests).toEqual([]);

    const refusing = await proxy({ refuseConnect: 403 });
    const denied = await errorOf(
      createHttpClient().request(testCtx(), {
        method: 'GET',
        url: server.url,
        proxyUrl: refusing.url,
        timeoutMs: 5000,
      }),
    );
    expect((denied as Error).message).toBe(
      `GET ${server.url} via proxy ${refusing.url} failed: proxy ${refusing.url} refused CONNECT: 403 Refused`,
    );
  });

  it('sends http targets to the proxy in absolute form, with the proxy credentials', async () => {
    const server = await plainServer();
    const p = await proxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    const res = await createHttpClient().request(testCtx(), {
      method: 'POST',
      url: `${server.url}/hook/abc?x=1`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"text":"hi"}',
      proxyUrl: p.urlWith(PROXY_USER, PROXY_PASS),
      timeoutMs: 5000,
    });
    expect(res.status).toBe(201);
    expect(res.body).toBe('{"got":"{\\"text\\":\\"hi\\"}"}');
    expect(p.requests).toEqual([
      {
        method: 'POST',
        target: `${server.url}/hook/abc?x=1`,
        proxyAuthorization: `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
        body: '{"text":"hi"}',
        status: 200,
      },
    ]);
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([['POST', '/hook/abc?x=1', '{"text":"hi"}']]);
  });

  it('returns the 407 of a proxy that refuses plain requests as a response', async () => {
    const server = await plainServer();
    const p = await proxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    const res = await createHttpClient().request(testCtx(), {
      method: 'GET',
      url: server.url,
      proxyUrl: p.url,
      timeoutMs: 5000,
    });
    expect(res.status).toBe(407);
    expect(server.requests).toEqual([]);
  });

  it('rejects a proxy URL that is not http://host:port without quoting it', async () => {
    const server = await plainServer();
    for (const proxyUrl of ['socks5://user:hunter2@127.0.0.1:1080', 'hunter2 not a url']) {
      const err = await errorOf(
        createHttpClient().request(testCtx(), { method: 'GET', url: server.url, proxyUrl, timeoutMs: 5000 }),
      );
      expect(err).toBeInstanceOf(HttpNetworkError);
      expect((err as HttpNetworkError).code).toBe('EPROXYURL');
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(server.requests).toEqual([]);
  });
});

describe('createHttpClient proxy environment', () => {
  const saved = { ...process.env };
  const keys = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
  beforeAll(() => {
    for (const k of keys) delete process.env[k];
  });
  afterAll(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('uses HTTP_PROXY without a per-call proxy, and the per-call proxy instead of it', async () => {
    const server = await plainServer();
    const envProxy = await proxy();
    const callProxy = await proxy();
    process.env['HTTP_PROXY'] = envProxy.url;
    try {
      const http = createHttpClient();
      expect((await http.request(testCtx(), { method: 'GET', url: `${server.url}/a`, timeoutMs: 5000 })).status).toBe(
        201,
      );
      expect(
        (
          await http.request(testCtx(), {
            method: 'GET',
            url: `${server.url}/b`,
            proxyUrl: callProxy.url,
            timeoutMs: 5000,
          })
        ).status,
      ).toBe(201);
    } finally {
      delete process.env['HTTP_PROXY'];
    }
    expect(envProxy.requests.map((r) => r.target)).toEqual([`${server.url}/a`]);
    expect(callProxy.requests.map((r) => r.target)).toEqual([`${server.url}/b`]);
  });
});

describe('createHttpClient proxy environment with a custom CA', () => {
  const saved = { ...process.env };
  const keys = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
  beforeAll(() => {
    for (const k of keys) delete process.env[k];
  });
  afterAll(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('tunnels through HTTPS_PROXY and still trusts caPem', async () => {
    const server = await tlsServer();
    const envProxy = await proxy();
    process.env['HTTPS_PROXY'] = envProxy.url;
    try {
      const res = await createHttpClient().request(testCtx(), {
        method: 'GET',
        url: server.url,
        caPem: pki.caPem,
        timeoutMs: 5000,
      });
      expect(res.status).toBe(200);
    } finally {
      delete process.env['HTTPS_PROXY'];
    }
    expect(envProxy.requests.map((r) => [r.method, r.target])).toEqual([
      ['CONNECT', server.url.replace('https://', '')],
    ]);
  });
});

describe('AgentCache', () => {
  it('shares one agent per (CA, verification, proxy) and stays bounded', () => {
    const cache = new AgentCache(2);
    const p = parseProxyUrl('http://u:p@127.0.0.1:3128');
    const a = cache.get({ caPem: pki.caPem });
    expect(cache.get({ caPem: pki.caPem })).toBe(a);
    expect(cache.get({ caPem: pki.caPem, insecureSkipVerify: true })).not.toBe(a);
    const tunnel = cache.get({ caPem: pki.caPem, proxy: p });
    expect(tunnel).not.toBe(a);
    expect(cache.size).toBe(2);
    // `a` was the least recently used and was evicted.
    expect(cache.get({ caPem: pki.caPem })).not.toBe(a);
    expect(cache.get({ caPem: pki.caPem, proxy: parseProxyUrl('http://u:p@127.0.0.1:3128') })).toBe(tunnel);
  });

  it('trusts the custom CA in addition to the default roots, not instead of them', () => {
    const agent = new AgentCache().get({ caPem: pki.caPem });
    const ca = agent.options.ca as string[];
    expect(ca).toEqual(expect.arrayContaining([...rootCertificates, pki.caPem.trim()]));
    expect(ca).toHaveLength(getCACertificates('default').length + 1);
  });

  it('parses proxy URLs into an origin without credentials and a Basic header', () => {
    const p = parseProxyUrl('http://us%40er:p%3Ass@proxy.example:3128');
    expect(p.origin).toBe('http://proxy.example:3128');
    expect(p.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    expect(parseProxyUrl('http://proxy.example').port).toBe(80);
    expect(parseProxyUrl('http://proxy.example').authorization).toBeUndefined();
  });
});
