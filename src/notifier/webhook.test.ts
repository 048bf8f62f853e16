import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ctx } from '../core/context.ts';
import { memoryLogger } from '../controller/loop.fixture.ts';
import { createHttpClient } from '../http/client.ts';
import { createNotifier, notifierBuilders } from './factory.ts';
import type { Notification } from './notifier.ts';
import { NotifierError } from './post.ts';
import { WebhookNotifier, webhookPayload } from './webhook.ts';

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
}

/** A real local receiver: records every request and answers with `status`. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  reply = 'ok';
  base = '';
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw: Buffer.concat(chunks).toString('utf8'),
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

const NOW = Date.parse('2026-11-26T01:02:03.456Z');
const clock = { now: () => NOW };
const http = createHttpClient();

const rollback: Notification = {
  workload: 'podinfo',
  namespace: 'apps',
  message: 'Failed checks threshold reached 2: request-success-rate 80 < 99',
  severity: 'error',
  fields: [
    { name: 'Cluster', value: 'prod-eu' },
    { name: 'Target', value: 'Deployment/podinfo.apps' },
  ],
};

describe('webhookPayload', () => {
  it('has name, namespace, cluster, severity, message, fields and timestamp, in that order', () => {
    expect(JSON.stringify(webhookPayload(rollback, NOW))).toBe(
      JSON.stringify({
        name: 'podinfo',
        namespace: 'apps',
        cluster: 'prod-eu',
        severity: 'error',
        message: 'Failed checks threshold reached 2: request-success-rate 80 < 99',
        fields: { Cluster: 'prod-eu', Target: 'Deployment/podinfo.apps' },
        timestamp: '2026-11-26T01:02:03.456Z',
      }),
    );
  });

  it('leaves cluster out when -cluster-name is unset, and keeps an empty fields object', () => {
    const p = webhookPayload({ ...rollback, severity: 'warn', fields: [] }, NOW);
    expect(p).toEqual({
      name: 'podinfo',
      namespace: 'apps',
      severity: 'warn',
      message: rollback.message,
      fields: {},
      timestamp: '2026-11-26T01:02:03.456Z',
    });
    expect('cluster' in p).toBe(false);
  });

  it('keeps the first of a repeated field name and any name as an own key', () => {
    const p = webhookPayload(
      {
        ...rollback,
        fields: [
          { name: 'Target', value: 'first' },
          { name: 'Target', value: 'second' },
          { name: '__proto__', value: 'x' },
        ],
      },
      NOW,
    );
    expect(JSON.parse(JSON.stringify(p.fields))).toEqual(JSON.parse('{"Target":"first","__proto__":"x"}'));
  });
});

describe('WebhookNotifier', () => {
  const rx = new Receiver();
  let ctx: Ctx;
  beforeEach(async () => {
    rx.received.length = 0;
    rx.status = 200;
    rx.reply = 'ok';
    await rx.start();
    ctx = { signal: new AbortController().signal, log: memoryLogger().log };
  });
  afterEach(() => rx.stop());

  const settings = { token: '', proxyUrl: '', username: 'flagger', channel: 'general' };

  it('POSTs the exact JSON body to the address, with the token as a bearer', async () => {
    const n = new WebhookNotifier({ ...settings, url: `${rx.base}/alerts/s3cr3t-path`, token: 't0ken' }, http, clock);
    await n.post(ctx, rollback);
    expect(rx.received).toHaveLength(1);
    const r = rx.received[0];
    expect(r?.method).toBe('POST');
    expect(r?.path).toBe('/alerts/s3cr3t-path');
    expect(r?.headers['content-type']).toBe('application/json');
    expect(r?.headers.authorization).toBe('Bearer t0ken');
    expect(r?.raw).toBe(JSON.stringify(webhookPayload(rollback, NOW)));
  });

  it('sends no Authorization header without a token', async () => {
    await new WebhookNotifier({ ...settings, url: rx.base }, http, clock).post(ctx, rollback);
    expect(rx.received[0]?.headers.authorization).toBeUndefined();
  });

  it('is built by the factory for type "webhook"', async () => {
    const n = createNotifier('webhook', { url: `${rx.base}/hook` }, notifierBuilders(http));
    expect(n).toBeInstanceOf(WebhookNotifier);
    await n.post(ctx, rollback);
    const body = JSON.parse(rx.received[0]?.raw ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['name', 'namespace', 'cluster', 'severity', 'message', 'fields', 'timestamp']);
    expect(Number.isNaN(Date.parse(String(body['timestamp'])))).toBe(false);
  });

  it('rejects a non-2xx answer without quoting the path or the token', async () => {
    rx.status = 401;
    rx.reply = 'bad token t0ken for /alerts/s3cr3t-path';
    const n = new WebhookNotifier({ ...settings, url: `${rx.base}/alerts/s3cr3t-path`, token: 't0ken' }, http, clock);
    const err = await n.post(ctx, rollback).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotifierError);
    const message = (err as Error).message;
    expect(message).toContain(`webhook notification to ${rx.base} failed: bad response 401`);
    expect(message).not.toContain('s3cr3t');
    expect(message).not.toContain('t0ken');
  });
});
