// Webhook headers from a Secret (`webhooks[].headersSecretRef`, Fledge extension for Flagger #1192)
// with the operator on the local control plane: a local HTTP server answers 401 unless the
// `Authorization` header carries the right token. With the right Secret the canary promotes; with a
// wrong one it fails after `threshold` checks, and the value sent never reaches Events, the Canary's
// status or the operator's log.
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startOperator } from './lib/operator.ts';
import {
  IMAGE_V1,
  IMAGE_V2,
  applyAll,
  blueGreenCanary,
  condition,
  events,
  getCanary,
  getDeployment,
  podinfo,
  setImage,
  waitForPhase,
} from './lib/workload.ts';
import { createTestNamespace, kubectlJson } from './support/index.ts';

const RIGHT = 'Bearer r1ght-t0ken-4b9e2c';
const WRONG = 'Bearer wr0ng-t0ken-7d1f5a';

interface Call {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly status: number;
}

/** A real local gate: 200 when `Authorization` equals `expected`, else 401 (the body never echoes it). */
async function startAuthServer(expected: string): Promise<{ url: (path: string) => string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = req.headers.authorization === expected ? 200 : 401;
      calls.push({ path: (req.url ?? '/').split('?')[0] ?? '/', headers: req.headers, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'unauthorized');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, calls };
}

/** podinfo, a Secret holding the header, and a canary whose pre-rollout and rollout hooks send it. */
function manifests(ns: string, url: (path: string) => string, authorization: string): object[] {
  return [
    ...podinfo(ns),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-auth', namespace: ns },
      type: 'Opaque',
      stringData: { Authorization: authorization },
    },
    blueGreenCanary(ns, 2, {
      analysis: {
        threshold: 2,
        webhooks: [
          {
            name: 'smoke',
            type: 'pre-rollout',
            url: url('/pre'),
            timeout: '5s',
            headersSecretRef: { name: 'hook-auth' },
          },
          {
            name: 'acceptance',
            type: 'rollout',
            url: url('/check'),
            timeout: '5s',
            headersSecretRef: { name: 'hook-auth' },
          },
        ],
      },
    }),
  ];
}

describe('webhook headers from a Secret', () => {
  it('sends the Secret as request headers to pre-rollout and rollout hooks; the right token promotes', async () => {
    const ns = await createTestNamespace('hdr-ok');
    const gate = await startAuthServer(RIGHT);
    await applyAll(manifests(ns, gate.url, RIGHT), ns);
    await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    await setImage(ns, IMAGE_V2);
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 90_000 });
    expect(done.status?.failedChecks).toBe(0);
    expect(condition(done, 'Promoted')?.status).toBe('True');
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V2);

    for (const path of ['/pre', '/check']) {
      const calls = gate.calls.filter((c) => c.path === path);
      expect(calls.length, `calls to ${path}`).toBeGreaterThanOrEqual(1);
      for (const c of calls) {
        expect(c.status).toBe(200);
        expect(c.headers.authorization).toBe(RIGHT);
        expect(c.headers['content-type']).toBe('application/json');
      }
    }
  });

  it('fails after threshold with a wrong token, and never shows the token in Events, status or logs', async () => {
    const ns = await createTestNamespace('hdr-bad');
    const gate = await startAuthServer(RIGHT);
    await applyAll(manifests(ns, gate.url, WRONG), ns);
    const operator = await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');

    await setImage(ns, IMAGE_V2);
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 90_000 });
    expect(failed.status?.failedChecks).toBe(2);
    expect(condition(failed, 'Promoted')?.status).toBe('False');
    expect((await getDeployment(ns, 'podinfo-primary')).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);

    // The header was sent (the server saw the wrong value) and refused.
    expect(gate.calls.length).toBeGreaterThanOrEqual(2);
    expect(gate.calls.every((c) => c.headers.authorization === WRONG && c.status === 401)).toBe(true);
    // The failure says why, without the value.
    const evs = await events(ns);
    expect(evs.some((e) => e.message.includes('HTTP 401'))).toBe(true);
    expect(evs.some((e) => e.message === `Rolling back podinfo.${ns} failed checks threshold reached 2`)).toBe(true);

    const token = WRONG.slice('Bearer '.length);
    const allEvents = await kubectlJson<unknown>(['get', 'events'], { namespace: ns });
    expect(JSON.stringify(allEvents)).not.toContain(token);
    expect(JSON.stringify(await getCanary(ns))).not.toContain(token);
    expect(operator.logs()).not.toContain(token);
    // Neither the Secret's base64 form.
    const encoded = Buffer.from(WRONG).toString('base64');
    expect(JSON.stringify(allEvents)).not.toContain(encoded);
    expect(operator.logs()).not.toContain(encoded);
  });
});
