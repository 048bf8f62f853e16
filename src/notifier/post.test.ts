import { afterEach, describe, expect, it } from 'vitest';
import { type TestProxy, startProxy } from '../../test/e2e/lib/proxy.ts';
import { createTestPki, startCaSignedServer } from '../http/ca.fixture.ts';
import { createHttpClient } from '../http/client.ts';
import { type TestServer, startServer, testCtx } from '../http/server.fixture.ts';
import { createNotifier, globalNotifier, notifierBuilders } from './factory.ts';
import type { Notification } from './notifier.ts';
import { NotifierError, postJson } from './post.ts';

const USER = 'alerts';
const PASS = 'pr0xy-pa55word';
const TOKEN = 'chat-t0ken-value';
const HOOK_PATH = '/services/T000/B000/s3cr3tHookPath';

const http = createHttpClient();
const notification: Notification = {
  workload: 'podinfo',
  namespace: 'apps',
  message: 'New Deployment detected, initialization completed.',
  severity: 'info',
  fields: [{ name: 'Cluster', value: 'prod-eu' }],
};

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
/** A local chat endpoint that answers `ok`. */
async function chat(): Promise<TestServer> {
  const s = await startServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  });
  closers.push(() => s.close());
  return s;
}
const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('postJson through a per-provider proxy', () => {
  it('sends the payload through the proxy, with its credentials, to the chat server', async () => {
    const server = await chat();
    const p = await proxy({ auth: { username: USER, password: PASS } });
    const payload = { text: 'hello', fields: [{ title: 'a', value: 'b' }] };
    const body = await postJson(
      testCtx(),
      http,
      { type: 'slack', url: `${server.url}${HOOK_PATH}`, token: TOKEN, proxyUrl: p.urlWith(USER, PASS) },
      payload,
    );
    expect(body).toBe('ok');
    expect(p.requests).toEqual([
      {
        method: 'POST',
        target: `${server.url}${HOOK_PATH}`,
        proxyAuthorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`,
        body: JSON.stringify(payload),
        status: 200,
      },
    ]);
    expect(server.requests).toHaveLength(1);
    const got = server.requests[0];
    expect(got?.url).toBe(HOOK_PATH);
    expect(JSON.parse(got?.body ?? '')).toEqual(payload);
    expect(got?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['proxy-authorization']).toBeUndefined();
  });

  it('reports a proxy that refuses the credentials without the password, token or hook path', async () => {
    const server = await chat();
    const p = await proxy({ auth: { username: USER, password: PASS } });
    const wrong = p.urlWith(USER, 'wr0ng-pa55word');
    const err = await errorOf(
      postJson(
        testCtx(),
        http,
        { type: 'msteams', url: `${server.url}${HOOK_PATH}`, token: TOKEN, proxyUrl: wrong },
        {},
      ),
    );
    expect(err).toBeInstanceOf(NotifierError);
    expect((err as Error).message).toBe(
      `msteams notification to ${server.url} failed: bad response 407: proxy authentication required`,
    );
    expect(server.requests).toEqual([]);
  });

  it('tunnels https hooks through CONNECT; a refused tunnel or an untrusted certificate is a scrubbed error', async () => {
    const pki = createTestPki('chat');
    const tls = await startCaSignedServer(pki, (_req, res) => void res.end('ok'));
    closers.push(() => tls.close());
    const p = await proxy({ auth: { username: USER, password: PASS } });
    const target = { type: 'slack', url: `${tls.url}${HOOK_PATH}`, token: TOKEN };

    const refused = await errorOf(
      postJson(testCtx(), http, { ...target, proxyUrl: p.urlWith(USER, 'wr0ng-pa55word') }, {}),
    );
    expect((refused as Error).message).toBe(
      `slack notification to ${tls.url} failed: POST ${tls.url} via proxy ${p.url} failed: ` +
        `proxy ${p.url} refused CONNECT: 407 Proxy Authentication Required`,
    );

    // The tunnel is made, and TLS runs end to end: the chat's certificate is checked against the system roots.
    const untrusted = await errorOf(postJson(testCtx(), http, { ...target, proxyUrl: p.urlWith(USER, PASS) }, {}));
    expect((untrusted as Error).message).toContain(
      `via proxy ${p.url} failed: unable to verify the first certificate: the server's TLS certificate is not trusted`,
    );
    expect(p.requests.map((r) => [r.method, r.target, r.status])).toEqual([
      ['CONNECT', tls.url.replace('https://', ''), 407],
      ['CONNECT', tls.url.replace('https://', ''), 200],
    ]);
    for (const e of [refused, untrusted]) {
      const m = (e as Error).message;
      for (const secret of [PASS, 'wr0ng-pa55word', TOKEN, HOOK_PATH, 's3cr3tHookPath'])
        expect(m).not.toContain(secret);
    }
    expect(tls.requests).toEqual([]);
  });

  it('names the proxy origin, and nothing else, when the proxy is down', async () => {
    const server = await chat();
    const p = await proxy();
    await p.close();
    const down = `http://${USER}:${PASS}@${p.url.replace('http://', '')}`;
    const err = await errorOf(
      postJson(testCtx(), http, { type: 'gchat', url: `${server.url}${HOOK_PATH}`, token: '', proxyUrl: down }, {}),
    );
    expect((err as Error).message).toMatch(
      new RegExp(
        `^gchat notification to ${server.url} failed: POST ${server.url} via proxy ${p.url} failed: .*ECONNREFUSED`,
      ),
    );
    expect((err as Error).message).not.toContain(PASS);
  });
});

describe('notifiers use the proxy of their settings', () => {
  it('an AlertProvider notifier (spec.proxy / Secret proxy) posts through it', async () => {
    const server = await chat();
    const p = await proxy();
    const notifier = createNotifier(
      'discord',
      { url: `${server.url}/api/webhooks/1/abc`, proxyUrl: p.url },
      notifierBuilders(http),
    );
    await notifier.post(testCtx(), notification);
    expect(p.requests.map((r) => [r.method, r.target])).toEqual([['POST', `${server.url}/api/webhooks/1/abc/slack`]]);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/webhooks/1/abc/slack']);
  });

  it('the global -slack-proxy-url and -msteams-proxy-url flags route the global notifier', async () => {
    const server = await chat();
    const slackProxy = await proxy();
    const teamsProxy = await proxy();
    const slack = { url: `${server.url}/slack`, token: '', proxyUrl: slackProxy.url, user: 'flagger', channel: 'c' };
    const builders = notifierBuilders(http);
    await globalNotifier({ slack, msteams: { url: '', proxyUrl: '' } }, builders).notifier.post(
      testCtx(),
      notification,
    );
    await globalNotifier(
      { slack, msteams: { url: `${server.url}/teams`, proxyUrl: teamsProxy.url } },
      builders,
    ).notifier.post(testCtx(), notification);
    expect(slackProxy.requests.map((r) => r.target)).toEqual([`${server.url}/slack`]);
    expect(teamsProxy.requests.map((r) => r.target)).toEqual([`${server.url}/teams`]);
    const slackBody = JSON.parse(slackProxy.requests[0]?.body ?? '{}') as { attachments?: { text?: string }[] };
    expect(slackBody.attachments?.[0]?.text).toBe(notification.message);
    expect(server.requests.map((r) => r.url)).toEqual(['/slack', '/teams']);
  });
});
