import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCanary } from '../apis/flagger/v1beta1/parse.ts';
import type { AlertProviderType, Canary } from '../apis/flagger/v1beta1/types.ts';
import { createHttpClient } from '../http/client.ts';
import { FakeKube } from '../kube/fake.ts';
import type { KubeObject } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import type { NotifierBuilder } from '../notifier/factory.ts';
import type { NotifierSettings } from '../notifier/notifier.ts';
import { NopNotifier } from '../notifier/nop.ts';
import type { Notification, Notifier } from '../notifier/notifier.ts';
import type { Ctx } from '../core/context.ts';
import { EVENT_REASON, KubeEventSink, alertMetadata, severityMatches } from './events.ts';
import { type CanaryFixture, memoryLogger, newCanaryObject, newSecret } from './loop.fixture.ts';

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/** A local webhook receiver answering `status` (httptest.NewServer style). */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.statusCode = this.status;
        res.end(this.status === 200 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

function canaryOf(f: CanaryFixture): Canary {
  return parseCanary(newCanaryObject(f));
}

class RecordingNotifier implements Notifier {
  readonly posts: { settings: NotifierSettings; notification: Notification }[] = [];
  readonly settings: NotifierSettings;
  readonly sink: RecordingNotifier['posts'];
  constructor(settings: NotifierSettings, sink: RecordingNotifier['posts']) {
    this.settings = settings;
    this.sink = sink;
  }
  post(_ctx: Ctx, notification: Notification): Promise<void> {
    this.sink.push({ settings: this.settings, notification });
    return Promise.resolve();
  }
}

function recordingBuilders(): {
  builders: Record<AlertProviderType, NotifierBuilder>;
  posts: RecordingNotifier['posts'];
} {
  const posts: RecordingNotifier['posts'] = [];
  const b: NotifierBuilder = (s) => new RecordingNotifier(s, posts);
  return { builders: { slack: b, msteams: b, discord: b, rocket: b, gchat: b, webhook: b }, posts };
}

function alertProvider(name: string, spec: Record<string, unknown>, namespace = 'apps'): KubeObject {
  return { apiVersion: 'flagger.app/v1beta1', kind: 'AlertProvider', metadata: { name, namespace }, spec };
}

describe('KubeEventSink.event', () => {
  const receiver = new Receiver();
  let url = '';
  beforeEach(async () => {
    receiver.received.length = 0;
    receiver.status = 200;
    url = await receiver.start();
  });
  afterEach(() => receiver.stop());

  function sink(kube: FakeKube, eventWebhook: string) {
    const { log, lines } = memoryLogger();
    const events = new KubeEventSink({
      kube,
      http: createHttpClient(),
      eventWebhook,
      clusterName: '',
      globalNotifier: new NopNotifier(),
      clock: { now: () => 1_700_000_000_123 },
    });
    const ctx: Ctx = { signal: new AbortController().signal, log };
    return { events, ctx, lines };
  }

  it('records a Kubernetes Event with reason Synced and logs the message', async () => {
    const kube = new FakeKube();
    const { events, ctx, lines } = sink(kube, '');
    const canary = canaryOf({});
    await events.event(ctx, canary, 'Normal', 'Initialization done! podinfo.apps');
    await events.event(ctx, canary, 'Warning', 'Halt advancement');
    expect(kube.events).toEqual([
      { involved: canary, type: 'Normal', reason: EVENT_REASON, message: 'Initialization done! podinfo.apps' },
      { involved: canary, type: 'Warning', reason: 'Synced', message: 'Halt advancement' },
    ]);
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['info', 'Initialization done! podinfo.apps'],
      ['warn', 'Halt advancement'],
    ]);
  });

  it('POSTs Flagger event payloads to the global -event-webhook', async () => {
    const { events, ctx } = sink(new FakeKube(), `${url}/events`);
    const canary = canaryOf({ status: { phase: 'Progressing', lastAppliedSpec: 'abc' } });
    await events.event(ctx, canary, 'Warning', 'Rolling back podinfo.apps failed checks threshold reached 5');
    expect(receiver.received).toHaveLength(1);
    const [r] = receiver.received;
    expect(r?.path).toBe('/events');
    expect(r?.contentType).toBe('application/json');
    expect(r?.body).toEqual({
      name: 'podinfo',
      namespace: 'apps',
      phase: 'Progressing',
      checksum: expect.any(String) as unknown,
      metadata: {
        eventMessage: 'Rolling back podinfo.apps failed checks threshold reached 5',
        eventType: 'Warning',
        timestamp: '1700000000123',
      },
    });
  });

  it("uses the canary's event webhooks instead of the global one; user metadata can't override event keys", async () => {
    const { events, ctx } = sink(new FakeKube(), `${url}/global`);
    const canary = canaryOf({
      analysis: {
        webhooks: [
          { name: 'audit', type: 'event', url: `${url}/audit`, metadata: { team: 'a', eventType: 'spoofed' } },
          { name: 'load', type: 'rollout', url: `${url}/load` },
        ],
      },
    });
    await events.event(ctx, canary, 'Normal', 'Starting canary analysis');
    expect(receiver.received.map((r) => r.path)).toEqual(['/audit']);
    expect(receiver.received[0]?.body['metadata']).toMatchObject({
      team: 'a',
      eventType: 'Normal',
      eventMessage: 'Starting canary analysis',
    });
    expect(receiver.received[0]?.body['phase']).toBe('');
  });

  it('logs a failing event webhook without throwing or leaking its URL', async () => {
    receiver.status = 500;
    const { events, ctx, lines } = sink(new FakeKube(), `${url}/s3cr3t-path`);
    await events.event(ctx, canaryOf({}), 'Normal', 'hello');
    const error = lines.find((l) => l['msg'] === 'error sending event to webhook');
    expect(error).toMatchObject({ level: 'error', webhook: 'events' });
    expect(String(error?.['error'])).toContain('HTTP 500');
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-path');
  });

  it('survives a failing Event write', async () => {
    const kube = new FakeKube();
    const failing = Object.assign(Object.create(kube) as FakeKube, {
      recordEvent: () => Promise.reject(new Error('api down')),
    });
    const { events, ctx, lines } = sink(failing, '');
    await expect(events.event(ctx, canaryOf({}), 'Normal', 'x')).resolves.toBeUndefined();
    expect(lines.some((l) => l['msg'] === 'could not record event')).toBe(true);
  });
});

describe('KubeEventSink.alert', () => {
  function setup(objects: KubeObject[], opts: { clusterName?: string; global?: Notifier } = {}) {
    const kube = new FakeKube(objects);
    const { builders, posts } = recordingBuilders();
    const { log, lines } = memoryLogger();
    const globalPosts: Notification[] = [];
    const events = new KubeEventSink({
      kube,
      http: createHttpClient(),
      eventWebhook: '',
      clusterName: opts.clusterName ?? '',
      globalNotifier: opts.global ?? {
        post: (_ctx, n) => {
          globalPosts.push(n);
          return Promise.resolve();
        },
      },
      notifiers: builders,
    });
    return { events, posts, globalPosts, lines, ctx: { signal: new AbortController().signal, log } satisfies Ctx };
  }

  it('posts to the global notifier with Cluster and metadata fields when the canary lists no alerts', async () => {
    const { events, globalPosts, ctx } = setup([], { clusterName: 'prod-eu' });
    await events.alert(ctx, canaryOf({}), {
      message: 'New Deployment detected, initialization completed.',
      severity: 'info',
      metadata: true,
    });
    expect(globalPosts).toEqual([
      {
        workload: 'podinfo',
        namespace: 'apps',
        message: 'New Deployment detected, initialization completed.',
        severity: 'info',
        fields: [
          { name: 'Cluster', value: 'prod-eu' },
          { name: 'Target', value: 'Deployment/podinfo.apps' },
          { name: 'Failed checks threshold', value: '5' },
          { name: 'Progress deadline', value: '600s' },
          { name: 'Traffic routing', value: 'Weight step: 10 max: 50' },
        ],
      },
    ]);
  });

  it('sends no fields without metadata and cluster name', async () => {
    const { events, globalPosts, ctx } = setup([]);
    await events.alert(ctx, canaryOf({}), { message: 'm', severity: 'warn', metadata: false });
    expect(globalPosts[0]?.fields).toEqual([]);
  });

  it('filters by severity per alert and resolves providers by address or Secret', async () => {
    const objects = [
      alertProvider('info-chat', { type: 'slack', address: 'https://hooks.example/info', channel: 'deploys' }),
      alertProvider('oncall', { type: 'msteams', secretRef: { name: 'oncall-secret' } }, 'ops'),
      newSecret('oncall-secret', { address: 'https://teams.example/oncall', token: 't0ken' }, 'ops'),
    ];
    const { events, posts, globalPosts, ctx } = setup(objects);
    const canary = canaryOf({
      analysis: {
        alerts: [
          { name: 'all', severity: 'info', providerRef: { name: 'info-chat' } },
          { name: 'pages', severity: 'error', providerRef: { name: 'oncall', namespace: 'ops' } },
        ],
      },
    });
    await events.alert(ctx, canary, { message: 'Canary is waiting for approval.', severity: 'warn', metadata: false });
    expect(posts.map((p) => p.settings.url)).toEqual(['https://hooks.example/info']);
    expect(posts[0]?.settings).toEqual({
      url: 'https://hooks.example/info',
      token: '',
      proxyUrl: '',
      username: 'flagger',
      channel: 'deploys',
    });

    posts.length = 0;
    await events.alert(ctx, canary, {
      message: 'Failed checks threshold reached 5',
      severity: 'error',
      metadata: false,
    });
    expect(posts.map((p) => p.settings)).toEqual([
      expect.objectContaining({ url: 'https://hooks.example/info' }),
      { url: 'https://teams.example/oncall', token: 't0ken', proxyUrl: '', username: 'flagger', channel: 'general' },
    ]);
    expect(globalPosts).toEqual([]);
  });

  it('logs a missing provider or secret and carries on with the next alert', async () => {
    const objects = [
      alertProvider('broken', { type: 'slack', secretRef: { name: 'missing' } }),
      alertProvider('ok', { type: 'slack', address: 'https://hooks.example/ok' }),
    ];
    const { events, posts, lines, ctx } = setup(objects);
    const canary = canaryOf({
      analysis: {
        alerts: [
          { name: 'a', providerRef: { name: 'nope' } },
          { name: 'b', providerRef: { name: 'broken' } },
          { name: 'c', providerRef: { name: 'ok' } },
        ],
      },
    });
    await events.alert(ctx, canary, { message: 'x', severity: 'info', metadata: false });
    expect(posts).toHaveLength(1);
    const errors = lines.filter((l) => l['level'] === 'error').map((l) => l['msg']);
    expect(errors).toEqual(['alert provider nope.apps error', 'alert provider broken.apps error']);
  });

  it('posts through the real notifiers and logs only the provider, its type and origin on failure', async () => {
    const receiver = new Receiver();
    const base = await receiver.start();
    try {
      const kube = new FakeKube([
        alertProvider('chat', { type: 'discord', address: `${base}/api/webhooks/1/s3cr3tpath` }),
        alertProvider('teams', { type: 'msteams', secretRef: { name: 'teams-secret' } }),
        newSecret('teams-secret', { address: `${base}/webhookb2/t0psecret`, token: 'tok-123456' }),
      ]);
      const { log, lines } = memoryLogger();
      const events = new KubeEventSink({
        kube,
        http: createHttpClient(),
        eventWebhook: '',
        clusterName: 'prod',
        globalNotifier: new NopNotifier(),
      });
      const canary = canaryOf({
        analysis: {
          alerts: [
            { name: 'a', providerRef: { name: 'chat' } },
            { name: 'b', severity: 'error', providerRef: { name: 'teams' } },
          ],
        },
      });
      const ctx: Ctx = { signal: new AbortController().signal, log };
      await events.alert(ctx, canary, { message: 'Canary failed', severity: 'error', metadata: false });
      expect(receiver.received.map((r) => r.path).sort()).toEqual([
        '/api/webhooks/1/s3cr3tpath/slack',
        '/webhookb2/t0psecret',
      ]);
      expect(receiver.received.find((r) => r.path === '/webhookb2/t0psecret')?.body).toMatchObject({
        themeColor: 'FF0000',
        sections: [{ activityTitle: 'Canary failed', facts: [{ name: 'Cluster', value: 'prod' }] }],
      });

      receiver.status = 500;
      await expect(
        events.alert(ctx, canary, { message: 'x', severity: 'error', metadata: false }),
      ).resolves.toBeUndefined();
      const errors = lines.filter((l) => l['level'] === 'error');
      expect(errors.map((l) => [l['msg'], l['providerType'], l['host']])).toEqual([
        ['alert provider chat.apps error', 'discord', base],
        ['alert provider teams.apps error', 'msteams', base],
      ]);
      const logged = JSON.stringify(lines);
      expect(logged).toContain('bad response 500');
      for (const secret of ['s3cr3tpath', 't0psecret', 'tok-123456']) expect(logged).not.toContain(secret);
    } finally {
      await receiver.stop();
    }
  });

  it('reads address, token and proxy from the Secret through the informer cache', async () => {
    const objects = [
      alertProvider('p', { type: 'rocket', proxy: 'http://spec-proxy:3128', secretRef: { name: 's' } }),
      alertProvider('q', { type: 'gchat', proxy: 'http://spec-proxy:3128', secretRef: { name: 'token-only' } }),
      newSecret('s', { address: 'https://secret.example/hook', token: 'tk', proxy: 'http://proxy:3128' }),
      newSecret('token-only', { token: 'tk2' }),
    ];
    const { events, posts, ctx, lines: lines0 } = setup(objects);
    const kube = new FakeKube(objects);
    const sink = new KubeEventSink({
      kube,
      http: createHttpClient(),
      eventWebhook: '',
      clusterName: '',
      globalNotifier: new NopNotifier(),
      notifiers: recordingBuilders().builders,
    });
    const canary = canaryOf({
      analysis: {
        alerts: [
          { name: 'a', providerRef: { name: 'p' } },
          { name: 'b', providerRef: { name: 'q' } },
        ],
      },
    });
    await events.alert(ctx, canary, { message: 'x', severity: 'info', metadata: false });
    expect(posts.map((p) => p.settings)).toEqual([
      {
        url: 'https://secret.example/hook',
        token: 'tk',
        proxyUrl: 'http://proxy:3128',
        username: 'flagger',
        channel: 'general',
      },
    ]);
    expect(JSON.stringify(lines0.filter((l) => l['level'] === 'error'))).toContain(
      'secret token-only.apps does not contain an address',
    );
    // Once the informers have synced, provider and Secret come from their caches, not from the API.
    await kube.informer(Resources.secret, 'apps').synced();
    await kube.informer(Resources.alertProvider).synced();
    kube.failOn({ verb: 'get' }, new Error('API get not expected'), 100);
    const { log, lines } = memoryLogger();
    await sink.alert({ signal: new AbortController().signal, log }, canary, {
      message: 'x',
      severity: 'info',
      metadata: false,
    });
    const errors = lines.filter((l) => l['level'] === 'error');
    expect(errors.map((l) => l['msg'])).toEqual(['alert provider q.apps error']);
    expect(JSON.stringify(errors)).not.toContain('API get not expected');
  });

  it('honours -no-cross-namespace-refs', async () => {
    const objects = [alertProvider('oncall', { type: 'slack', address: 'https://hooks.example/x' }, 'ops')];
    const kube = new FakeKube(objects);
    const { builders, posts } = recordingBuilders();
    const { log, lines } = memoryLogger();
    const events = new KubeEventSink({
      kube,
      http: createHttpClient(),
      eventWebhook: '',
      clusterName: '',
      globalNotifier: new NopNotifier(),
      notifiers: builders,
      noCrossNamespaceRefs: true,
    });
    const canary = canaryOf({
      analysis: { alerts: [{ name: 'a', providerRef: { name: 'oncall', namespace: 'ops' } }] },
    });
    await events.alert({ signal: new AbortController().signal, log }, canary, {
      message: 'x',
      severity: 'error',
      metadata: false,
    });
    expect(posts).toEqual([]);
    expect(JSON.stringify(lines.find((l) => l['level'] === 'error'))).toContain(
      'cross-namespace references are blocked',
    );
  });

  it('logs a failing global notifier', async () => {
    const { events, lines, ctx } = setup([], { global: { post: () => Promise.reject(new Error('slack down')) } });
    await events.alert(ctx, canaryOf({}), { message: 'x', severity: 'info', metadata: false });
    expect(lines.find((l) => l['level'] === 'error')?.['msg']).toBe("alert can't be sent");
  });
});

describe('severityMatches', () => {
  it.each([
    ['info', 'info', true],
    ['info', 'error', true],
    ['', 'warn', true],
    [undefined, 'info', true],
    ['warn', 'info', false],
    ['warn', 'warn', true],
    ['warn', 'error', true],
    ['error', 'warn', false],
    ['error', 'error', true],
  ] as const)('subscribed %j gets %s: %s', (subscribed, severity, expected) => {
    expect(severityMatches(subscribed, severity)).toBe(expected);
  });
});

describe('alertMetadata', () => {
  const routing = (f: CanaryFixture): string | undefined =>
    alertMetadata(canaryOf(f)).find((x) => x.name === 'Traffic routing')?.value;

  it('describes each strategy as Flagger does', () => {
    expect(routing({})).toBe('Weight step: 10 max: 50');
    expect(routing({ analysis: { stepWeight: undefined, maxWeight: undefined, stepWeights: [5, 10, 40] } })).toBe(
      'Weight steps: 5,10,40 max: 40',
    );
    expect(routing({ analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 10 } })).toBe('Blue/Green');
    expect(
      routing({
        analysis: {
          stepWeight: undefined,
          maxWeight: undefined,
          iterations: 10,
          match: [{ headers: { x: { exact: 'y' } } }],
        },
      }),
    ).toBe('A/B Testing');
  });

  it('uses the effective progress deadline and threshold', () => {
    const fields = alertMetadata(canaryOf({ spec: { progressDeadlineSeconds: 60 }, analysis: { threshold: 2 } }));
    expect(fields).toContainEqual({ name: 'Progress deadline', value: '60s' });
    expect(fields).toContainEqual({ name: 'Failed checks threshold', value: '2' });
  });
});
