// The operator-wide notification settings on the local control plane, with local HTTP servers
// standing in for the receivers:
// - `-event-webhook` gets every event of a canary without `type: event` hooks, as Flagger's
//   `CallEventWebhook` payload `{name, namespace, phase, checksum, metadata: {eventMessage,
//   eventType, timestamp}}` (no cluster name: `-cluster-name` only goes into alerts);
// - the global notifier (`-slack-url`/`-slack-channel`/`-slack-user`) gets the alerts of a canary
//   without `analysis.alerts`, with the `Cluster` field; with `-msteams-url` also set, MS Teams wins
//   and Slack gets nothing;
// - `SLACK_URL` and `EVENT_WEBHOOK_URL` in the environment win over their flags.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Field, slackLike as slack, teams, textOf } from './lib/chat.ts';
import { type Operator, type OperatorOptions, startOperator } from './lib/operator.ts';
import { type RecordedRequest, type WebhookServer, startWebhookServer } from './lib/webhook.ts';
import { IMAGE_V2, applyAll, blueGreenCanary, events, podinfo, setImage, waitForPhase } from './lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from './support/index.ts';

const CLUSTER = 'e2e-global-cluster';
const SLACK_PATH = '/services/T0G/B0G/global-slack-hook';
const TEAMS_PATH = '/webhookb2/global-teams-hook';
const EVENTS_PATH = '/events';
const INIT_ALERT = 'New Deployment detected, initialization completed.';
const REVISION_ALERT = 'New revision detected, progressing canary analysis.';
const PROMOTED_ALERT = 'Canary analysis completed successfully, promotion finished.';
/** Env variables that override notification flags; unset unless a test sets them. */
const ENV_OVERRIDES = [
  'SLACK_URL',
  'SLACK_TOKEN',
  'SLACK_PROXY_URL',
  'MSTEAMS_URL',
  'MSTEAMS_PROXY_URL',
  'EVENT_WEBHOOK_URL',
];

interface EventPayload {
  readonly name: string;
  readonly namespace: string;
  readonly phase: string;
  readonly checksum: string;
  readonly metadata: { readonly eventMessage: string; readonly eventType: string; readonly timestamp: string };
}

/** Starts the operator with exactly `env` for the notification env overrides (the others removed). */
function startWithEnv(options: OperatorOptions, env: Readonly<Record<string, string>> = {}): Promise<Operator> {
  return startOperator({ ...options, env: Object.fromEntries(ENV_OVERRIDES.map((k) => [k, env[k]])) });
}

/** podinfo and a Blue/Green canary (kubernetes provider, 2 iterations) without alerts or event hooks. */
async function deploy(ns: string): Promise<void> {
  await applyAll([...podinfo(ns), blueGreenCanary(ns, 2)], ns);
}

function eventMessageOf(r: RecordedRequest): string {
  return (r.body as Partial<EventPayload> | undefined)?.metadata?.eventMessage ?? '';
}

async function received(server: WebhookServer, path: string, text: string): Promise<RecordedRequest> {
  return waitFor(() => server.requests(path).find((r) => textOf(r.body) === text), {
    describe: () =>
      `"${text}" at ${path}; got ${JSON.stringify(server.requests().map((r) => [r.path, textOf(r.body)]))}`,
    timeoutMs: 30_000,
  });
}

async function receivedEvent(server: WebhookServer, message: string): Promise<RecordedRequest> {
  return waitFor(() => server.requests(EVENTS_PATH).find((r) => eventMessageOf(r) === message), {
    describe: () => `event "${message}"; got ${JSON.stringify(server.requests(EVENTS_PATH).map(eventMessageOf))}`,
    timeoutMs: 30_000,
  });
}

function expectJsonPost(r: RecordedRequest): void {
  expect(r.method).toBe('POST');
  expect(r.headers['content-type']).toBe('application/json');
  expect(r.headers.authorization).toBeUndefined();
}

/**
 * The checksum the payload must carry for the canary status as stored now: the documented
 * `canaryChecksum` (webhooks.ts), SHA-256 over `{trackedConfigs (sorted keys), lastAppliedSpec}`,
 * first 16 hex digits.
 */
async function storedChecksum(ns: string): Promise<string> {
  const c = await kubectlJson<{ status?: { trackedConfigs?: Record<string, string>; lastAppliedSpec?: string } }>(
    ['get', 'canary', 'podinfo'],
    { namespace: ns },
  );
  const tracked = c.status?.trackedConfigs;
  expect(c.status?.lastAppliedSpec).toBeTruthy();
  const fields = {
    trackedConfigs:
      tracked === undefined
        ? null
        : Object.fromEntries(Object.entries(tracked).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    lastAppliedSpec: c.status?.lastAppliedSpec ?? '',
  };
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

/** Checks the exact event payload; its timestamp (Unix ms) must fall within the test. */
function expectEvent(
  r: RecordedRequest,
  started: number,
  want: { ns: string; phase: string; checksum: string; message: string; type: 'Normal' | 'Warning' },
): void {
  expectJsonPost(r);
  const body = r.body as EventPayload;
  // Keys in the documented order (metadata keys sorted, as Go marshals a map).
  expect(Object.keys(body)).toEqual(['name', 'namespace', 'phase', 'checksum', 'metadata']);
  expect(Object.keys(body.metadata)).toEqual(['eventMessage', 'eventType', 'timestamp']);
  expect(body.metadata.timestamp).toMatch(/^\d{13}$/);
  const t = Number(body.metadata.timestamp);
  expect(t).toBeGreaterThanOrEqual(started - 1000);
  expect(t).toBeLessThanOrEqual(Date.now() + 1000);
  expect(body).toEqual({
    name: 'podinfo',
    namespace: want.ns,
    phase: want.phase,
    checksum: want.checksum,
    metadata: { eventMessage: want.message, eventType: want.type, timestamp: body.metadata.timestamp },
  });
}

/** `items` contains `wanted` in this order (other items may come between). */
function expectInOrder(items: readonly string[], wanted: readonly string[]): void {
  let at = 0;
  for (const item of items) if (item === wanted[at]) at++;
  expect(at, `${JSON.stringify(wanted)} in order within ${JSON.stringify(items)}`).toBe(wanted.length);
}

describe('global event webhook and notifier', () => {
  it('-event-webhook gets Flagger event payloads and -slack-* gets the alerts of a canary without alerts', async () => {
    const ns = await createTestNamespace('global-notify');
    const [hooks, chat] = await Promise.all([startWebhookServer(), startWebhookServer()]);
    await deploy(ns);
    const started = Date.now();
    await startWithEnv({
      namespace: ns,
      args: [
        '-event-webhook',
        hooks.url(EVENTS_PATH),
        '-slack-url',
        chat.url(SLACK_PATH),
        '-slack-channel',
        '#deploys',
        '-slack-user',
        'fledge-bot',
        '-cluster-name',
        CLUSTER,
      ],
    });
    await waitForPhase(ns, 'Initialized');
    const subject = `podinfo.${ns}`;
    const msg = (o: { color: string; text: string; fields: readonly Field[] }) =>
      slack({ channel: '#deploys', username: 'fledge-bot', subject, ...o });

    // Initialization: the event, then the alert.
    const initMessage = `Initialization done! podinfo.${ns}`;
    const initEvent = await receivedEvent(hooks, initMessage);
    const initChecksum = await storedChecksum(ns);
    expectEvent(initEvent, started, {
      ns,
      phase: 'Initialized',
      checksum: initChecksum,
      message: initMessage,
      type: 'Normal',
    });
    const initFields: Field[] = [
      { name: 'Cluster', value: CLUSTER },
      { name: 'Target', value: `Deployment/podinfo.${ns}` },
      { name: 'Failed checks threshold', value: '2' },
      { name: 'Progress deadline', value: '60s' },
      { name: 'Traffic routing', value: 'Blue/Green' },
    ];
    const initAlert = await received(chat, SLACK_PATH, INIT_ALERT);
    expectJsonPost(initAlert);
    expect(initAlert.body).toEqual(msg({ color: 'good', text: INIT_ALERT, fields: initFields }));

    // A new revision is analysed and promoted.
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    const promotedMessage = `Promotion completed! Scaling down podinfo.${ns}`;
    const promotedEvent = await receivedEvent(hooks, promotedMessage);
    const promotedChecksum = await storedChecksum(ns);
    expect(promotedChecksum).not.toBe(initChecksum);
    expectEvent(promotedEvent, started, {
      ns,
      phase: 'Succeeded',
      checksum: promotedChecksum,
      message: promotedMessage,
      type: 'Normal',
    });
    const promotedAlert = await received(chat, SLACK_PATH, PROMOTED_ALERT);
    expectJsonPost(promotedAlert);
    expect(promotedAlert.body).toEqual(
      msg({ color: 'good', text: PROMOTED_ALERT, fields: [{ name: 'Cluster', value: CLUSTER }] }),
    );

    // Exactly the three alerts of a successful rollout, in order, and nothing else to Slack.
    const revisionAlert = chat.requests(SLACK_PATH).find((r) => textOf(r.body) === REVISION_ALERT);
    expect(revisionAlert?.body).toEqual(msg({ color: 'good', text: REVISION_ALERT, fields: initFields }));
    expect(chat.requests().map((r) => [r.path, textOf(r.body)])).toEqual([
      [SLACK_PATH, INIT_ALERT],
      [SLACK_PATH, REVISION_ALERT],
      [SLACK_PATH, PROMOTED_ALERT],
    ]);

    // Every event went to the event webhook, in order, all with the same shape; the webhook is
    // the only path called and never carries the cluster name.
    const sent = hooks.requests();
    expect(sent.every((r) => r.path === EVENTS_PATH)).toBe(true);
    for (const r of sent) {
      const body = r.body as EventPayload;
      expect(body.name).toBe('podinfo');
      expect(body.namespace).toBe(ns);
      expect(['Normal', 'Warning']).toContain(body.metadata.eventType);
    }
    expect(JSON.stringify(sent.map((r) => r.body))).not.toContain(CLUSTER);
    const messages = sent.map(eventMessageOf);
    // The phase is the canary's as the operator held it when the event happened (Flagger sends
    // `r.Status.Phase`): before the status write for a new revision and for the copy to primary.
    expectInOrder(
      sent.map((r) => {
        const b = r.body as EventPayload;
        return `${b.phase} ${b.metadata.eventType} ${b.metadata.eventMessage}`;
      }),
      [
        `Initialized Normal ${initMessage}`,
        `Initialized Normal New revision detected! Scaling up podinfo.${ns}`,
        `Progressing Normal Starting canary analysis for podinfo.${ns}`,
        `Progressing Normal Advance podinfo.${ns} canary iteration 1/2`,
        `Progressing Normal Advance podinfo.${ns} canary iteration 2/2`,
        `Progressing Normal Copying podinfo.${ns} template spec to podinfo-primary.${ns}`,
        `Succeeded Normal ${promotedMessage}`,
      ],
    );
    // The same messages as the Kubernetes Events recorded on the Canary.
    await waitFor(
      async () => {
        const recorded = new Set((await events(ns)).map((e) => e.message));
        return [...new Set(messages)].sort().join('\n') === [...recorded].sort().join('\n');
      },
      {
        describe: () => `Kubernetes Events of the canary to have the webhook's messages ${JSON.stringify(messages)}`,
        timeoutMs: 15_000,
      },
    );
  });

  it('-msteams-url wins over -slack-url: Teams gets the alerts, Slack nothing', async () => {
    const ns = await createTestNamespace('global-teams');
    const [slackServer, teamsServer] = await Promise.all([startWebhookServer(), startWebhookServer()]);
    await deploy(ns);
    await startWithEnv({
      namespace: ns,
      args: [
        '-slack-url',
        slackServer.url(SLACK_PATH),
        '-slack-channel',
        '#deploys',
        '-slack-user',
        'fledge-bot',
        '-msteams-url',
        teamsServer.url(TEAMS_PATH),
        '-cluster-name',
        CLUSTER,
      ],
    });
    await waitForPhase(ns, 'Initialized');
    const subject = `podinfo.${ns}`;
    const init = await received(teamsServer, TEAMS_PATH, INIT_ALERT);
    expectJsonPost(init);
    expect(init.body).toEqual(
      teams({
        color: '0076D7',
        subject,
        text: INIT_ALERT,
        fields: [
          { name: 'Cluster', value: CLUSTER },
          { name: 'Target', value: `Deployment/podinfo.${ns}` },
          { name: 'Failed checks threshold', value: '2' },
          { name: 'Progress deadline', value: '60s' },
          { name: 'Traffic routing', value: 'Blue/Green' },
        ],
      }),
    );

    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    const promoted = await received(teamsServer, TEAMS_PATH, PROMOTED_ALERT);
    expectJsonPost(promoted);
    expect(promoted.body).toEqual(
      teams({ color: '0076D7', subject, text: PROMOTED_ALERT, fields: [{ name: 'Cluster', value: CLUSTER }] }),
    );
    expect(teamsServer.requests().map((r) => [r.path, textOf(r.body)])).toEqual([
      [TEAMS_PATH, INIT_ALERT],
      [TEAMS_PATH, REVISION_ALERT],
      [TEAMS_PATH, PROMOTED_ALERT],
    ]);
    expect(slackServer.requests()).toEqual([]);
  });

  it('SLACK_URL and EVENT_WEBHOOK_URL in the environment win over -slack-url and -event-webhook', async () => {
    const ns = await createTestNamespace('global-env');
    const [fromEnv, fromFlags] = await Promise.all([startWebhookServer(), startWebhookServer()]);
    await deploy(ns);
    const started = Date.now();
    await startWithEnv(
      {
        namespace: ns,
        // No -cluster-name and no -slack-user: no Cluster field, the default user.
        args: ['-slack-url', fromFlags.url(SLACK_PATH), '-event-webhook', fromFlags.url(EVENTS_PATH)],
      },
      { SLACK_URL: fromEnv.url(SLACK_PATH), EVENT_WEBHOOK_URL: fromEnv.url(EVENTS_PATH) },
    );
    await waitForPhase(ns, 'Initialized');
    const initMessage = `Initialization done! podinfo.${ns}`;
    const initEvent = await receivedEvent(fromEnv, initMessage);
    expectEvent(initEvent, started, {
      ns,
      phase: 'Initialized',
      checksum: await storedChecksum(ns),
      message: initMessage,
      type: 'Normal',
    });
    const init = await received(fromEnv, SLACK_PATH, INIT_ALERT);
    expectJsonPost(init);
    expect(init.body).toEqual(
      slack({
        channel: '',
        username: 'flagger',
        color: 'good',
        subject: `podinfo.${ns}`,
        text: INIT_ALERT,
        fields: [
          { name: 'Target', value: `Deployment/podinfo.${ns}` },
          { name: 'Failed checks threshold', value: '2' },
          { name: 'Progress deadline', value: '60s' },
          { name: 'Traffic routing', value: 'Blue/Green' },
        ],
      }),
    );
    expect(fromFlags.requests()).toEqual([]);
  });
});
