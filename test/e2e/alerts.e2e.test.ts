// Alerts on the local control plane: AlertProviders of every type point at local HTTP servers
// standing in for Slack, Teams, Discord, Rocket.Chat, Google Chat and a generic JSON receiver
// (Fledge's `webhook` type). The operator must post the exact payloads on initialization and on a
// rollback, and never log a provider's secrets.
import { describe, expect, it } from 'vitest';
import { type Field, gchat, slackLike, teams, textOf } from './lib/chat.ts';
import { startOperator } from './lib/operator.ts';
import { type RecordedRequest, type WebhookServer, startWebhookServer } from './lib/webhook.ts';
import { IMAGE_V2, applyAll, canary, podinfo, setImage, waitForPhase } from './lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from './support/index.ts';

const CLUSTER = 'e2e-cluster';
const INIT = 'New Deployment detected, initialization completed.';
const TEAMS_PATH = '/webhookb2/teams-s3cr3t-path';
const TEAMS_TOKEN = 'teams-t0ken-value';

async function received(server: WebhookServer, path: string, match: (text: string) => boolean, what: string) {
  return waitFor(() => server.requests(path).find((r) => match(textOf(r.body))), {
    describe: `${what} at ${path}; got ${JSON.stringify(server.requests().map((r) => textOf(r.body)))}`,
    timeoutMs: 30_000,
  });
}

function expectJsonPost(r: RecordedRequest): void {
  expect(r.method).toBe('POST');
  expect(r.headers['content-type']).toBe('application/json');
}

describe('alerts', () => {
  it('posts exact payloads to every provider type on initialization and rollback', async () => {
    const ns = await createTestNamespace('alerts');
    const [slack, msteams, discord, rocket, chat, hooks] = await Promise.all([
      startWebhookServer(),
      startWebhookServer(),
      startWebhookServer(),
      startWebhookServer(),
      startWebhookServer(),
      startWebhookServer(),
    ]);
    hooks.respond('/check', 200);
    const provider = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'AlertProvider',
      metadata: { name, namespace: ns },
      spec,
    });
    await applyAll(
      [
        ...podinfo(ns),
        provider('slack', { type: 'slack', channel: 'deploys', address: slack.url('/services/T0/B0/x') }),
        provider('teams', { type: 'msteams', secretRef: { name: 'teams-url' } }),
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'teams-url', namespace: ns },
          type: 'Opaque',
          stringData: { address: msteams.url(TEAMS_PATH), token: TEAMS_TOKEN },
        },
        provider('discord', { type: 'discord', address: discord.url('/api/webhooks/1/abc') }),
        provider('rocket', { type: 'rocket', channel: 'ops', address: rocket.url('/hooks/r0') }),
        provider('gchat', { type: 'gchat', address: chat.url('/v1/spaces/AAA/messages') }),
        canary(ns, {
          analysis: {
            threshold: 2,
            webhooks: [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }],
            alerts: [
              { name: 'slack', severity: 'info', providerRef: { name: 'slack' } },
              { name: 'teams', severity: 'info', providerRef: { name: 'teams', namespace: ns } },
              { name: 'discord', severity: 'info', providerRef: { name: 'discord' } },
              // No severity: info (Flagger never sends these).
              { name: 'rocket', providerRef: { name: 'rocket' } },
              { name: 'gchat', severity: 'info', providerRef: { name: 'gchat' } },
            ],
          },
        }),
      ],
      ns,
    );
    const operator = await startOperator({ namespace: ns, args: ['-cluster-name', CLUSTER] });
    await waitForPhase(ns, 'Initialized');

    const subject = `podinfo.${ns}`;
    const initFields: Field[] = [
      { name: 'Cluster', value: CLUSTER },
      { name: 'Target', value: `Deployment/podinfo.${ns}` },
      { name: 'Failed checks threshold', value: '2' },
      { name: 'Progress deadline', value: '60s' },
      { name: 'Traffic routing', value: 'Weight step: 20 max: 60' },
    ];
    const isInit = (t: string) => t.includes(INIT);
    const [s, t, d, r, g] = await Promise.all([
      received(slack, '/services/T0/B0/x', isInit, 'slack init'),
      received(msteams, TEAMS_PATH, isInit, 'teams init'),
      received(discord, '/api/webhooks/1/abc/slack', isInit, 'discord init'),
      received(rocket, '/hooks/r0', isInit, 'rocket init'),
      received(chat, '/v1/spaces/AAA/messages', isInit, 'gchat init'),
    ]);
    for (const req of [s, t, d, r, g]) expectJsonPost(req);
    expect(s.body).toEqual(slackLike({ channel: 'deploys', color: 'good', subject, text: INIT, fields: initFields }));
    expect(s.headers.authorization).toBeUndefined();
    expect(t.body).toEqual(teams({ color: '0076D7', subject, text: INIT, fields: initFields }));
    expect(t.headers.authorization).toBe(`Bearer ${TEAMS_TOKEN}`);
    expect(d.body).toEqual(slackLike({ channel: 'general', color: 'good', subject, text: INIT, fields: initFields }));
    expect(r.body).toEqual(slackLike({ channel: 'ops', color: '#0076D7', subject, text: INIT, fields: initFields }));
    expect(g.body).toEqual(gchat({ subject, text: INIT, fields: initFields }));

    // A failing acceptance check rolls the new revision back: an error alert that says why.
    hooks.respond('/check', 500);
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
    const isRollback = (text: string) => text.includes('Failed checks threshold reached 2');
    const [se, te, de, re, ge] = await Promise.all([
      received(slack, '/services/T0/B0/x', isRollback, 'slack rollback'),
      received(msteams, TEAMS_PATH, isRollback, 'teams rollback'),
      received(discord, '/api/webhooks/1/abc/slack', isRollback, 'discord rollback'),
      received(rocket, '/hooks/r0', isRollback, 'rocket rollback'),
      received(chat, '/v1/spaces/AAA/messages', isRollback, 'gchat rollback'),
    ]);
    // Which check failed, and how: the failing check's own message after Flagger's text.
    const why =
      `Failed checks threshold reached 2: Halt podinfo.${ns} advancement external check acceptance failed ` +
      'HTTP 500 Internal Server Error: status 500';
    const fields: Field[] = [{ name: 'Cluster', value: CLUSTER }];
    expect(se.body).toEqual(slackLike({ channel: 'deploys', color: 'danger', subject, text: why, fields }));
    expect(te.body).toEqual(teams({ color: 'FF0000', subject, text: why, fields }));
    expect(de.body).toEqual(slackLike({ channel: 'general', color: 'danger', subject, text: why, fields }));
    expect(re.body).toEqual(slackLike({ channel: 'ops', color: '#FF0000', subject, text: why, fields }));
    expect(ge.body).toEqual(gchat({ subject, text: why, fields }));

    // The Teams URL lives in a Secret: neither its path nor its token may reach the logs.
    const logs = operator.logs();
    expect(logs).not.toContain('teams-s3cr3t-path');
    expect(logs).not.toContain(TEAMS_TOKEN);
  });

  it('posts the generic JSON body to a webhook AlertProvider, with the Secret token as bearer and the severity filter', async () => {
    const ns = await createTestNamespace('alerts-webhook');
    const [receiver, hooks] = await Promise.all([startWebhookServer(), startWebhookServer()]);
    hooks.respond('/check', 200);
    const ALERTS_PATH = '/alerts/webhook-s3cr3t-path';
    const TOKEN = 'webhook-t0ken-value';
    const provider = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'AlertProvider',
      metadata: { name, namespace: ns },
      spec,
    });
    await applyAll(
      [
        ...podinfo(ns),
        provider('relay', { type: 'webhook', secretRef: { name: 'relay' } }),
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'relay', namespace: ns },
          type: 'Opaque',
          stringData: { address: receiver.url(ALERTS_PATH), token: TOKEN },
        },
        provider('pager', { type: 'webhook', address: receiver.url('/pager') }),
        canary(ns, {
          analysis: {
            threshold: 2,
            webhooks: [{ name: 'acceptance', type: 'rollout', url: hooks.url('/check'), timeout: '5s' }],
            alerts: [
              { name: 'relay', severity: 'info', providerRef: { name: 'relay' } },
              { name: 'pager', severity: 'error', providerRef: { name: 'pager' } },
            ],
          },
        }),
      ],
      ns,
    );
    // The kube-apiserver accepts the Fledge-only type.
    const stored = await kubectlJson<{ spec: { type: string } }>(['get', 'alertprovider', 'relay'], { namespace: ns });
    expect(stored.spec.type).toBe('webhook');

    const started = Date.now();
    const operator = await startOperator({ namespace: ns, args: ['-cluster-name', CLUSTER] });
    await waitForPhase(ns, 'Initialized');

    const messageOf = (r: RecordedRequest): string => (r.body as { message?: string }).message ?? '';
    const at = (path: string, match: (m: string) => boolean, what: string) =>
      waitFor(() => receiver.requests(path).find((r) => match(messageOf(r))), {
        describe: `${what} at ${path}; got ${JSON.stringify(receiver.requests().map(messageOf))}`,
        timeoutMs: 30_000,
      });
    /** The body with its timestamp checked (an RFC 3339 UTC instant during this test) and removed. */
    const withoutTimestamp = (r: RecordedRequest): Record<string, unknown> => {
      const { timestamp, ...rest } = r.body as Record<string, unknown>;
      expect(timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const t = Date.parse(String(timestamp));
      expect(t).toBeGreaterThanOrEqual(started - 1000);
      expect(t).toBeLessThanOrEqual(Date.now() + 1000);
      // Keys in the documented order.
      expect(Object.keys(r.body as object)).toEqual([
        'name',
        'namespace',
        'cluster',
        'severity',
        'message',
        'fields',
        'timestamp',
      ]);
      return rest;
    };

    const init = await at(ALERTS_PATH, (m) => m === INIT, 'webhook init');
    expectJsonPost(init);
    expect(init.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(withoutTimestamp(init)).toEqual({
      name: 'podinfo',
      namespace: ns,
      cluster: CLUSTER,
      severity: 'info',
      message: INIT,
      fields: {
        Cluster: CLUSTER,
        Target: `Deployment/podinfo.${ns}`,
        'Failed checks threshold': '2',
        'Progress deadline': '60s',
        'Traffic routing': 'Weight step: 20 max: 60',
      },
    });

    hooks.respond('/check', 500);
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Failed', { timeoutMs: 60_000 });
    const why =
      `Failed checks threshold reached 2: Halt podinfo.${ns} advancement external check acceptance failed ` +
      'HTTP 500 Internal Server Error: status 500';
    const isRollback = (m: string) => m.startsWith('Failed checks threshold reached 2');
    const [relayed, paged] = await Promise.all([
      at(ALERTS_PATH, isRollback, 'webhook rollback'),
      at('/pager', isRollback, 'error-only webhook rollback'),
    ]);
    const rollback = { name: 'podinfo', namespace: ns, cluster: CLUSTER, severity: 'error', message: why };
    expect(withoutTimestamp(relayed)).toEqual({ ...rollback, fields: { Cluster: CLUSTER } });
    expect(withoutTimestamp(paged)).toEqual({ ...rollback, fields: { Cluster: CLUSTER } });
    expect(paged.headers.authorization).toBeUndefined();
    // The error-only subscription got nothing but error alerts.
    expect(receiver.requests('/pager').map((r) => (r.body as { severity?: string }).severity)).toEqual(
      receiver.requests('/pager').map(() => 'error'),
    );
    expect(receiver.requests('/pager').some((r) => messageOf(r) === INIT)).toBe(false);

    const logs = operator.logs();
    expect(logs).not.toContain('webhook-s3cr3t-path');
    expect(logs).not.toContain(TOKEN);
  });
});
