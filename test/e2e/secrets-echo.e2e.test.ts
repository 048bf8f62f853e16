// Secrets that a careless server echoes never leak. MetricTemplate credentials: a real local HTTP
// server poses as Prometheus and echoes what it receives (the bearer token in a 401 whose body puts
// it across the 200-character cut; the Basic header and the decoded user and password in a 500).
// Webhook header secrets: a gate echoes the Authorization header across the same cut. Each canary
// fails; neither the Events, the Canary, the operator's log nor the alerts a local webhook
// AlertProvider receives contain any secret value or its first 6 characters.
import { type RequestListener, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startOperator } from './lib/operator.ts';
import { type WebhookServer, startWebhookServer } from './lib/webhook.ts';
import {
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  events,
  getCanary,
  podinfo,
  setImage,
  waitForPhase,
} from './lib/workload.ts';
import { createTestNamespace, kubectlJson, waitFor } from './support/index.ts';

// Distinct 6-character prefixes, so that finding one can only mean a leak.
const TOKEN = 'TKN9q-prom-bearer-5e1c7a0d';
const USER = 'usr7q-metrics-reader';
const PASSWORD = 'pwd3q-correct-horse-battery';
const SECRETS = [TOKEN, USER, PASSWORD];

function secret(namespace: string, name: string, stringData: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData };
}

/** Serves `handler` on a loopback port until the test ends; resolves with `http://127.0.0.1:<port>`. */
async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The `secrets` whose first 6 characters (so also the whole value) `text` contains. */
function leaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s.slice(0, 6)));
}

/** Asserts that no Event, the Canary, the operator's log and no alert contain a leak of `secrets`. */
async function expectNoLeaks(
  ns: string,
  logs: string,
  alerts: readonly { body: unknown }[],
  secrets: readonly string[],
): Promise<void> {
  const allEvents = JSON.stringify(await kubectlJson<unknown>(['get', 'events'], { namespace: ns }));
  expect(leaks(allEvents, secrets), 'Events').toEqual([]);
  expect(leaks(JSON.stringify(await getCanary(ns)), secrets), 'Canary').toEqual([]);
  expect(leaks(logs, secrets), 'operator log').toEqual([]);
  expect(leaks(JSON.stringify(alerts.map((r) => r.body)), secrets), 'alerts').toEqual([]);
}

/** The rollback alert (it lists the failing checks) at the receiver's `/alerts`. */
function rollbackAlert(receiver: WebhookServer): Promise<{ body: unknown }> {
  return waitFor(
    () => receiver.requests('/alerts').find((r) => JSON.stringify(r.body).includes('Failed checks threshold reached')),
    { describe: 'the rollback alert', timeoutMs: 30_000 },
  );
}

/** A webhook AlertProvider posting to the receiver's `/alerts`, and the canary's alert using it. */
function alertRelay(ns: string, receiver: WebhookServer): { provider: object; alerts: object[] } {
  return {
    provider: {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'AlertProvider',
      metadata: { name: 'relay', namespace: ns },
      spec: { type: 'webhook', address: receiver.url('/alerts') },
    },
    alerts: [{ name: 'relay', severity: 'info', providerRef: { name: 'relay' } }],
  };
}

interface Echo {
  readonly url: string;
  /** Authorization headers received. */
  readonly seen: string[];
}

/**
 * A careless Prometheus: a bearer request gets a 401 that quotes the header after 186 characters
 * of filler (cut before redacting, `Bearer TKN9q-p` would remain); a Basic request gets a 500 that
 * quotes the header and the decoded user and password.
 */
async function startEchoPrometheus(): Promise<Echo> {
  const seen: string[] = [];
  const url = await serve((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    if (auth.startsWith('Basic ')) {
      const [user = '', password = ''] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error for ${auth}: user "${user}" with password "${password}" is locked`);
      return;
    }
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end(`${'x'.repeat(186)}${auth} is not a valid token`);
  });
  return { url, seen };
}

describe('MetricTemplate credentials echoed by a backend', () => {
  it('reach no Event, Canary status, operator log line or alert, not even their first characters', async () => {
    const ns = await createTestNamespace('secrets-metrics');
    const prometheus = await startEchoPrometheus();
    const receiver = await startWebhookServer();
    const relay = alertRelay(ns, receiver);
    const template = (name: string, secretName: string) => ({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name, namespace: ns },
      spec: {
        provider: { type: 'prometheus', address: prometheus.url, secretRef: { name: secretName } },
        query: 'sum(rate(http_requests_total{namespace="{{ namespace }}"}[{{ interval }}]))',
      },
    });
    await applyAll(
      [
        ...podinfo(ns),
        secret(ns, 'prom-token', { token: TOKEN }),
        secret(ns, 'prom-basic', { username: USER, password: PASSWORD }),
        template('bearer-rate', 'prom-token'),
        template('basic-rate', 'prom-basic'),
        relay.provider,
        blueGreenCanary(ns, 4, {
          analysis: {
            threshold: 2,
            metrics: [
              { name: 'bearer', templateRef: { name: 'bearer-rate' }, thresholdRange: { max: 1 }, interval: '1m' },
              { name: 'basic', templateRef: { name: 'basic-rate' }, thresholdRange: { max: 1 }, interval: '1m' },
            ],
            alerts: relay.alerts,
          },
        }),
      ],
      ns,
    );
    const operator = await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });
    expect(failed.status?.failedChecks).toBe(2);

    // The backend did receive and echo both credentials.
    expect(prometheus.seen).toContain(`Bearer ${TOKEN}`);
    expect(prometheus.seen.some((a) => a.startsWith('Basic '))).toBe(true);

    // Events explain the failures, with the echoes redacted.
    const evs = await events(ns);
    const messages = evs.map((e) => e.message).join('\n');
    expect(messages).toContain('Status 401 Unauthorized');
    expect(messages).toContain('Status 500 Internal Server Error: internal error for Basic <redacted>');
    expect(messages).toContain('user "<redacted>" with password "<redacted>"');
    // The rollback alert lists the failing checks.
    expect(JSON.stringify((await rollbackAlert(receiver)).body)).toContain('<redacted>');
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    await expectNoLeaks(ns, operator.logs(), receiver.requests(), [...SECRETS, basic]);
  });
});

describe('webhook header secrets echoed across the 200-character cut', () => {
  const HOOK_TOKEN = 'Bearer WHTOK-3f9a1c7e5b2d';

  it('reach no Event, Canary status, operator log line or alert, not even their first characters', async () => {
    const ns = await createTestNamespace('secrets-webhook');
    const receiver = await startWebhookServer();
    const relay = alertRelay(ns, receiver);
    // 187 characters of filler put the header's first 13 characters before the cut.
    const hook = await serve((req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`${'y'.repeat(187)}${req.headers.authorization ?? ''} rejected`);
    });
    await applyAll(
      [
        ...podinfo(ns),
        secret(ns, 'hook-auth', { Authorization: HOOK_TOKEN }),
        relay.provider,
        blueGreenCanary(ns, 4, {
          analysis: {
            threshold: 2,
            webhooks: [
              {
                name: 'acceptance',
                type: 'rollout',
                url: `${hook}/check`,
                timeout: '5s',
                headersSecretRef: { name: 'hook-auth' },
              },
            ],
            alerts: relay.alerts,
          },
        }),
      ],
      ns,
    );
    const operator = await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });

    const messages = (await events(ns)).map((e) => e.message).join('\n');
    expect(messages).toContain(`HTTP 401 Unauthorized: ${'y'.repeat(187)}<redacted> re...`);
    await rollbackAlert(receiver);
    await expectNoLeaks(ns, operator.logs(), receiver.requests(), [HOOK_TOKEN.slice('Bearer '.length)]);
  });
});
