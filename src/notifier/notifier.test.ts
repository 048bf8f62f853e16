import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertProviderType } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import { memoryLogger } from '../controller/loop.fixture.ts';
import { createHttpClient } from '../http/client.ts';
import { discordSlackUrl } from './discord.ts';
import {
  type NotifierBuilder,
  UnknownNotifierError,
  createNotifier,
  globalNotifier,
  notifierBuilders,
} from './factory.ts';
import { NopNotifier } from './nop.ts';
import type { Notification } from './notifier.ts';
import { NotifierError, scrub } from './post.ts';

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: unknown;
}

/** A real local endpoint standing in for Slack, Teams, Discord, Rocket.Chat or Google Chat. */
class Endpoint {
  readonly received: Received[] = [];
  status = 200;
  reply = 'ok';
  #server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as unknown,
        });
        res.writeHead(this.status, { 'content-type': 'text/plain' });
        res.end(this.reply);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

const info: Notification = {
  workload: 'podinfo',
  namespace: 'apps',
  message: 'New Deployment detected, initialization completed.',
  severity: 'info',
  fields: [
    { name: 'Cluster', value: 'prod-eu' },
    { name: 'Target', value: 'Deployment/podinfo.apps' },
  ],
};
const failure: Notification = {
  ...info,
  message: 'Failed checks threshold reached 2: request-success-rate 80 < 99',
  severity: 'error',
  fields: [],
};

const http = createHttpClient();
const builders = notifierBuilders(http);
const settings = { token: '', proxyUrl: '', username: 'flagger', channel: 'general' };

describe('notifiers post Flagger payloads', () => {
  const ep = new Endpoint();
  let ctx: Ctx;
  beforeEach(async () => {
    ep.received.length = 0;
    ep.status = 200;
    ep.reply = 'ok';
    await ep.start();
    ctx = { signal: new AbortController().signal, log: memoryLogger().log };
  });
  afterEach(() => ep.stop());

  const send = async (type: AlertProviderType, n: Notification, extra: Partial<typeof settings> = {}) => {
    const notifier = createNotifier(type, { url: `${ep.base}/hooks/T0/B0/s3cr3t`, ...settings, ...extra }, builders);
    await notifier.post(ctx, n);
    expect(ep.received).toHaveLength(1);
    const r = ep.received[0];
    if (!r) throw new Error('nothing received');
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toBe('application/json');
    return r;
  };

  it('slack: an incoming-webhook attachment, color good, fields as titles', async () => {
    const r = await send('slack', info, { channel: 'deploys' });
    expect(r.path).toBe('/hooks/T0/B0/s3cr3t');
    expect(r.headers.authorization).toBeUndefined();
    expect(r.raw).toBe(
      JSON.stringify({
        channel: 'deploys',
        username: 'flagger',
        icon_url: '',
        icon_emoji: ':rocket:',
        attachments: [
          {
            color: 'good',
            author_name: 'podinfo.apps',
            text: 'New Deployment detected, initialization completed.',
            mrkdwn_in: ['text'],
            fields: [
              { title: 'Cluster', value: 'prod-eu', short: false },
              { title: 'Target', value: 'Deployment/podinfo.apps', short: false },
            ],
          },
        ],
      }),
    );
  });

  it('slack: danger on error, and the bot token as a bearer header', async () => {
    const r = await send('slack', failure, { token: 'xoxb-123' });
    expect(r.headers.authorization).toBe('Bearer xoxb-123');
    expect(r.body).toEqual({
      channel: 'general',
      username: 'flagger',
      icon_url: '',
      icon_emoji: ':rocket:',
      attachments: [
        {
          color: 'danger',
          author_name: 'podinfo.apps',
          text: 'Failed checks threshold reached 2: request-success-rate 80 < 99',
          mrkdwn_in: ['text'],
          fields: [],
        },
      ],
    });
  });

  it('slack chat.postMessage: {"ok": false} is an error even with status 200', async () => {
    ep.reply = JSON.stringify({ ok: false, error: 'channel_not_found' });
    const notifier = createNotifier('slack', { url: ep.base, ...settings, token: 'xoxb-1' }, builders);
    await expect(notifier.post(ctx, info)).rejects.toThrow('slack chat.postMessage failed: channel_not_found');
    ep.reply = JSON.stringify({ ok: true });
    await expect(notifier.post(ctx, info)).resolves.toBeUndefined();
  });

  it('msteams: a MessageCard with facts, 0076D7 or FF0000', async () => {
    const r = await send('msteams', info, { token: 'relay-token' });
    expect(r.headers.authorization).toBe('Bearer relay-token');
    expect(r.raw).toBe(
      JSON.stringify({
        '@type': 'MessageCard',
        '@context': 'http://schema.org/extensions',
        themeColor: '0076D7',
        summary: 'podinfo.apps',
        sections: [
          {
            activityTitle: 'New Deployment detected, initialization completed.',
            activitySubtitle: 'podinfo.apps',
            facts: [
              { name: 'Cluster', value: 'prod-eu' },
              { name: 'Target', value: 'Deployment/podinfo.apps' },
            ],
          },
        ],
      }),
    );
    ep.received.length = 0;
    const e = await send('msteams', failure);
    expect(e.body).toMatchObject({ themeColor: 'FF0000', sections: [{ activityTitle: failure.message, facts: [] }] });
  });

  it('discord: the Slack payload posted to <url>/slack', async () => {
    const r = await send('discord', failure);
    expect(r.path).toBe('/hooks/T0/B0/s3cr3t/slack');
    expect(r.body).toEqual({
      channel: 'general',
      username: 'flagger',
      icon_url: '',
      icon_emoji: ':rocket:',
      attachments: [
        {
          color: 'danger',
          author_name: 'podinfo.apps',
          text: failure.message,
          mrkdwn_in: ['text'],
          fields: [],
        },
      ],
    });
  });

  it('rocket: the Slack payload with #0076D7 / #FF0000', async () => {
    const r = await send('rocket', info, { channel: 'ops' });
    expect(r.body).toEqual({
      channel: 'ops',
      username: 'flagger',
      icon_url: '',
      icon_emoji: ':rocket:',
      attachments: [
        {
          color: '#0076D7',
          author_name: 'podinfo.apps',
          text: info.message,
          mrkdwn_in: ['text'],
          fields: [
            { title: 'Cluster', value: 'prod-eu', short: false },
            { title: 'Target', value: 'Deployment/podinfo.apps', short: false },
          ],
        },
      ],
    });
    ep.received.length = 0;
    const e = await send('rocket', failure);
    expect(e.body).toMatchObject({ attachments: [{ color: '#FF0000' }] });
  });

  it('gchat: one "Flagger" card, the message then one section per field', async () => {
    const r = await send('gchat', info);
    expect(r.body).toEqual({
      cards: [
        {
          header: { title: 'Flagger', subtitle: 'podinfo.apps', imageUrl: 'https://flagger.app/favicon.png' },
          sections: [
            {
              widgets: [
                {
                  textParagraph: {
                    text: '<font color=#848484><strong>New Deployment detected, initialization completed.</strong></font>',
                  },
                },
              ],
            },
            {
              widgets: [{ textParagraph: { text: 'Cluster<br><font color=#848484><strong>prod-eu</strong></font>' } }],
            },
            {
              widgets: [
                {
                  textParagraph: {
                    text: 'Target<br><font color=#848484><strong>Deployment/podinfo.apps</strong></font>',
                  },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it.each(['slack', 'msteams', 'discord', 'rocket', 'gchat'] as const)(
    '%s: a non-2xx status is an error naming only the origin',
    async (type) => {
      ep.status = 403;
      ep.reply = 'forbidden: bad token xoxb-SECRET for /hooks/T0/B0/s3cr3t';
      const notifier = createNotifier(
        type,
        { url: `${ep.base}/hooks/T0/B0/s3cr3t`, ...settings, token: 'xoxb-SECRET' },
        builders,
      );
      const err = await notifier.post(ctx, info).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NotifierError);
      const message = (err as Error).message;
      expect(message).toContain(`${type} notification to ${ep.base} failed: bad response 403`);
      expect(message).not.toContain('s3cr3t');
      expect(message).not.toContain('xoxb-SECRET');
    },
  );

  it('a refused connection is an error without the URL path', async () => {
    await ep.stop();
    const notifier = createNotifier('slack', { url: `${ep.base}/hooks/s3cr3t`, ...settings }, builders);
    const err = await notifier.post(ctx, info).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^slack notification to http:\/\/127\.0\.0\.1:\d+ failed/);
    expect(err?.message).not.toContain('s3cr3t');
    await ep.start();
  });

  it('an unreachable per-provider proxy fails the post, naming only the proxy origin, never bypassing it', async () => {
    const proxyUrl = 'http://user:pr0xy-pass@127.0.0.1:1';
    const notifier = createNotifier('msteams', { url: ep.base, ...settings, proxyUrl }, builders);
    const err = await notifier.post(ctx, info).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /^msteams notification to http:\/\/127\.0\.0\.1:\d+ failed: .*via proxy http:\/\/127\.0\.0\.1:1/,
    );
    expect(err?.message).not.toContain('pr0xy-pass');
    expect(ep.received).toEqual([]);
  });
});

describe('factory', () => {
  it('gives a NopNotifier for an empty URL and rejects unknown types', () => {
    expect(createNotifier('slack', { url: '' }, builders)).toBeInstanceOf(NopNotifier);
    expect(() => createNotifier('pagerduty', { url: 'http://x' }, builders)).toThrow(UnknownNotifierError);
  });

  it('fills missing settings with empty strings', () => {
    const seen: unknown[] = [];
    const b: NotifierBuilder = (s) => {
      seen.push(s);
      return new NopNotifier();
    };
    createNotifier('gchat', { url: 'http://x' }, { slack: b, msteams: b, discord: b, rocket: b, gchat: b, webhook: b });
    expect(seen).toEqual([{ url: 'http://x', token: '', proxyUrl: '', username: '', channel: '' }]);
  });

  it('global notifier: MS Teams wins over Slack, else Slack, else none', () => {
    const slack = { url: 'http://s', token: '', proxyUrl: '', user: 'flagger', channel: 'c' };
    expect(globalNotifier({ slack, msteams: { url: 'http://t', proxyUrl: '' } }, builders).type).toBe('msteams');
    expect(globalNotifier({ slack, msteams: { url: '', proxyUrl: '' } }, builders).type).toBe('slack');
    const none = globalNotifier({ slack: { ...slack, url: '' }, msteams: { url: '', proxyUrl: '' } }, builders);
    expect(none.type).toBe('none');
    expect(none.notifier).toBeInstanceOf(NopNotifier);
  });
});

describe('helpers', () => {
  it('discordSlackUrl appends /slack once', () => {
    expect(discordSlackUrl('https://discord.com/api/webhooks/1/abc')).toBe(
      'https://discord.com/api/webhooks/1/abc/slack',
    );
    expect(discordSlackUrl('https://discord.com/api/webhooks/1/abc/')).toBe(
      'https://discord.com/api/webhooks/1/abc/slack',
    );
    expect(discordSlackUrl('https://discord.com/api/webhooks/1/abc/slack')).toBe(
      'https://discord.com/api/webhooks/1/abc/slack',
    );
  });

  it('scrub removes the URL, its path and the token', () => {
    const target = { url: 'https://hooks.slack.com/services/T0/B0/s3cr3t', token: 'xoxb-1' };
    expect(scrub('bad https://hooks.slack.com/services/T0/B0/s3cr3t /services/T0/B0/s3cr3t xoxb-1', target)).toBe(
      'bad <redacted> <redacted> <redacted>',
    );
  });
});
