// Alerts through a per-provider forward proxy on the local control plane: AlertProviders name a
// proxy in `spec.proxy` or in their Secret's `proxy` key (which wins over `spec.proxy`); the
// operator's alerts must go through that real local proxy to a local Slack-like server, with the
// exact Flagger payload, and the proxy's password must never reach the logs or Events.
import { describe, expect, it } from 'vitest';
import { startOperator } from './lib/operator.ts';
import { type ProxiedRequest, startProxy } from './lib/proxy.ts';
import { type WebhookServer, startWebhookServer } from './lib/webhook.ts';
import { applyAll, canary, events, podinfo, waitForPhase } from './lib/workload.ts';
import { createTestNamespace, waitFor } from './support/index.ts';

const CLUSTER = 'e2e-proxy-cluster';
const INIT = 'New Deployment detected, initialization completed.';
const PROXY_USER = 'alerts';
const PROXY_PASS = 'pr0xy-pa55word-e2e';
const SPEC_PATH = '/services/T0/B0/spec-hook';
const SECRET_PATH = '/services/T0/B0/secret-hook';

/** Flagger's Slack message for the initialization alert of `podinfo.<ns>`. */
function initPayload(ns: string, channel: string): unknown {
  const fields = [
    { name: 'Cluster', value: CLUSTER },
    { name: 'Target', value: `Deployment/podinfo.${ns}` },
    { name: 'Failed checks threshold', value: '2' },
    { name: 'Progress deadline', value: '60s' },
    { name: 'Traffic routing', value: 'Weight step: 20 max: 60' },
  ];
  return {
    channel,
    username: 'flagger',
    icon_url: '',
    icon_emoji: ':rocket:',
    attachments: [
      {
        color: 'good',
        author_name: `podinfo.${ns}`,
        text: INIT,
        mrkdwn_in: ['text'],
        fields: fields.map((f) => ({ title: f.name, value: f.value, short: false })),
      },
    ],
  };
}

async function proxied(requests: readonly ProxiedRequest[], target: string): Promise<ProxiedRequest> {
  return waitFor(() => requests.find((r) => r.target === target && r.body.includes(INIT)), {
    describe: () =>
      `the proxy to forward the init alert to ${target}; saw ${JSON.stringify(requests.map((r) => r.target))}`,
    timeoutMs: 30_000,
  });
}

async function arrived(server: WebhookServer, path: string) {
  return waitFor(() => server.requests(path).find((r) => JSON.stringify(r.body).includes(INIT)), {
    describe: `the init alert at ${path}`,
    timeoutMs: 30_000,
  });
}

describe('alerts through a per-provider proxy', () => {
  it('sends the alerts of spec.proxy and of the Secret key proxy through the named proxies', async () => {
    const ns = await createTestNamespace('alerts-proxy');
    const chat = await startWebhookServer();
    const specProxy = await startProxy();
    const secretProxy = await startProxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    const dead = await startProxy();
    await dead.close();
    try {
      const provider = (name: string, spec: Record<string, unknown>) => ({
        apiVersion: 'flagger.app/v1beta1',
        kind: 'AlertProvider',
        metadata: { name, namespace: ns },
        spec,
      });
      await applyAll(
        [
          ...podinfo(ns),
          provider('via-spec', { type: 'slack', channel: 'spec', address: chat.url(SPEC_PATH), proxy: specProxy.url }),
          // The Secret's proxy wins over spec.proxy, which points at a closed port.
          provider('via-secret', { type: 'slack', channel: 'secret', proxy: dead.url, secretRef: { name: 'hook' } }),
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'hook', namespace: ns },
            type: 'Opaque',
            stringData: { address: chat.url(SECRET_PATH), proxy: secretProxy.urlWith(PROXY_USER, PROXY_PASS) },
          },
          canary(ns, {
            analysis: {
              threshold: 2,
              alerts: [
                { name: 'spec', severity: 'info', providerRef: { name: 'via-spec' } },
                { name: 'secret', severity: 'info', providerRef: { name: 'via-secret' } },
              ],
            },
          }),
        ],
        ns,
      );
      const operator = await startOperator({ namespace: ns, args: ['-cluster-name', CLUSTER] });
      await waitForPhase(ns, 'Initialized');

      const [viaSpec, viaSecret] = await Promise.all([
        proxied(specProxy.requests, chat.url(SPEC_PATH)),
        proxied(secretProxy.requests, chat.url(SECRET_PATH)),
      ]);
      // The proxies saw absolute-form POSTs with the exact payload, and the Secret's proxy its credentials.
      expect(viaSpec.method).toBe('POST');
      expect(viaSpec.status).toBe(200);
      expect(viaSpec.proxyAuthorization).toBeUndefined();
      expect(JSON.parse(viaSpec.body)).toEqual(initPayload(ns, 'spec'));
      expect(viaSecret.method).toBe('POST');
      expect(viaSecret.status).toBe(200);
      expect(viaSecret.proxyAuthorization).toBe(
        `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
      );
      expect(JSON.parse(viaSecret.body)).toEqual(initPayload(ns, 'secret'));
      // Each proxy carried only its own provider's alerts.
      expect(specProxy.requests.every((r) => r.target === chat.url(SPEC_PATH))).toBe(true);
      expect(secretProxy.requests.every((r) => r.target === chat.url(SECRET_PATH))).toBe(true);

      // And the chat server got exactly that, without the proxy's credentials.
      const [s, t] = await Promise.all([arrived(chat, SPEC_PATH), arrived(chat, SECRET_PATH)]);
      expect(s.body).toEqual(initPayload(ns, 'spec'));
      expect(t.body).toEqual(initPayload(ns, 'secret'));
      expect(t.headers['proxy-authorization']).toBeUndefined();
      expect(t.headers['content-type']).toBe('application/json');

      const logs = operator.logs();
      expect(logs).not.toContain(PROXY_PASS);
      expect(logs).not.toContain('secret-hook');
      expect(logs).not.toMatch(/alert provider .* error/);
      expect((await events(ns)).map((e) => e.message).join('\n')).not.toContain(PROXY_PASS);
    } finally {
      await Promise.all([specProxy.close(), secretProxy.close()]);
    }
  });

  it('logs a scrubbed error when the proxy refuses the credentials, and delivers nothing', async () => {
    const ns = await createTestNamespace('alerts-proxy-auth');
    const chat = await startWebhookServer();
    const proxy = await startProxy({ auth: { username: PROXY_USER, password: PROXY_PASS } });
    try {
      await applyAll(
        [
          ...podinfo(ns),
          {
            apiVersion: 'flagger.app/v1beta1',
            kind: 'AlertProvider',
            metadata: { name: 'slack', namespace: ns },
            spec: { type: 'slack', secretRef: { name: 'hook' } },
          },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'hook', namespace: ns },
            type: 'Opaque',
            stringData: { address: chat.url(SECRET_PATH), proxy: proxy.urlWith(PROXY_USER, 'wr0ng-pa55word') },
          },
          canary(ns, {
            analysis: { threshold: 2, alerts: [{ name: 'slack', severity: 'info', providerRef: { name: 'slack' } }] },
          }),
        ],
        ns,
      );
      const operator = await startOperator({ namespace: ns });
      await waitForPhase(ns, 'Initialized');
      const line = await waitFor(
        () =>
          operator
            .logs()
            .split('\n')
            .find((l) => l.includes('alert provider') && l.includes('407')),
        { describe: 'the alert error in the operator log', timeoutMs: 30_000 },
      );
      expect(line).toContain(`slack notification to ${chat.url('')} failed: bad response 407`);
      expect(proxy.requests.map((r) => r.status)).toContain(407);
      expect(chat.requests()).toEqual([]);
      expect(operator.logs()).not.toContain('wr0ng-pa55word');
      expect(operator.logs()).not.toContain('secret-hook');
    } finally {
      await proxy.close();
    }
  });
});
