// MetricTemplates against a real Prometheus (Debian's package) that serves HTTPS with a
// certificate of a throw-away CA and requires basic auth (`--web.config.file`), and behind a
// bearer-token gate: the Fledge `ca.crt` Secret key, `insecureSkipVerify`, basic auth and bearer
// tokens, first through the provider code the operator uses, then through the operator itself.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestPki, createTestPki } from '../../../src/http/ca.fixture.ts';
import { createHttpClient } from '../../../src/http/client.ts';
import { testCtx } from '../../../src/http/server.fixture.ts';
import { createProvider } from '../../../src/metrics/providers/factory.ts';
import { startOperator } from '../lib/operator.ts';
import { IMAGE_V2, applyAll, canary, events, podinfo, setImage, waitForPhase } from '../lib/workload.ts';
import { createTestNamespace } from '../support/index.ts';
import { type PrometheusServer, getText, startBearerGate, startPrometheus } from './prometheus.ts';

const AUTH = { username: 'fledge', password: 'tls-basic-pa55word' };
const TOKEN = 'prom-bearer-t0ken-value';
const WRONG_TOKEN = 'wrong-bearer-t0ken-value';
/** A query that needs no scrape target; its value is what the checks must see. */
const QUERY = 'vector(0.25)';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki('prometheus-e2e');
});

async function tlsPrometheus(): Promise<PrometheusServer> {
  const prometheus = await startPrometheus({ targets: [], basicAuth: AUTH, tls: pki });
  expect(prometheus.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  // The server really requires TLS and the credentials.
  expect((await getText(`${prometheus.url}/api/v1/query?query=up`, { caPem: pki.caPem })).status).toBe(401);
  await expect(getText(prometheus.url.replace('https:', 'http:') + '/-/ready')).resolves.toMatchObject({
    status: 400,
  });
  return prometheus;
}

/** Runs QUERY through the provider the factory builds for a `type: prometheus` template with this Secret data. */
function query(
  address: string,
  credentials: Record<string, string>,
  o: { insecureSkipVerify?: boolean } = {},
): Promise<number> {
  const provider = createProvider(
    {
      provider: {
        type: 'prometheus',
        address,
        secretRef: { name: 'prom' },
        ...(o.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
      },
      credentials,
      metricInterval: '1m',
    },
    { http: createHttpClient() },
  );
  return provider.runQuery(testCtx(), QUERY);
}

const failure = (p: Promise<unknown>): Promise<string> =>
  p.then(
    (v) => `resolved with ${String(v)}`,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );

describe('the prometheus provider against a real Prometheus over TLS', () => {
  it('queries with the CA of ca.crt and basic auth; without the CA the certificate is not trusted', async () => {
    const prometheus = await tlsPrometheus();
    const basic = { username: AUTH.username, password: AUTH.password };

    // (a) ca.crt + basic auth.
    await expect(query(prometheus.url, { ...basic, 'ca.crt': pki.caPem })).resolves.toBe(0.25);

    // (b) No ca.crt: a clear failure that names the fix, and no secret.
    const untrusted = await failure(query(prometheus.url, basic));
    expect(untrusted).toBe(
      `request failed: GET ${prometheus.url} failed: unable to verify the first certificate: the server's TLS ` +
        'certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); add the CA certificate as ca.crt to the ' +
        'secretRef Secret, or set insecureSkipVerify',
    );
    // A CA that did not sign the certificate is no better.
    const other = createTestPki('unrelated');
    expect(await failure(query(prometheus.url, { ...basic, 'ca.crt': other.caPem }))).toMatch(
      /not trusted.*the ca\.crt of the secretRef Secret does not sign it$/,
    );

    // (c) insecureSkipVerify without the CA.
    await expect(query(prometheus.url, basic, { insecureSkipVerify: true })).resolves.toBe(0.25);

    // The CA does not stand in for the credentials.
    const unauthorized = await failure(query(prometheus.url, { 'ca.crt': pki.caPem }));
    expect(unauthorized).toMatch(/^error response: Status 401 Unauthorized/);
    const wrong = await failure(query(prometheus.url, { ...basic, password: 'nope-nope', 'ca.crt': pki.caPem }));
    expect(wrong).toMatch(/^error response: Status 401/);
    for (const m of [untrusted, unauthorized, wrong]) expect(m).not.toContain(AUTH.password);
  });

  it('(d) sends the bearer token of the Secret to a token-checking gate in front of Prometheus', async () => {
    const prometheus = await tlsPrometheus();
    const gate = await startBearerGate({ upstream: prometheus.url, token: TOKEN, caPem: pki.caPem, basicAuth: AUTH });
    await expect(query(gate.url, { token: TOKEN })).resolves.toBe(0.25);
    const refused = await failure(query(gate.url, { token: WRONG_TOKEN }));
    expect(refused).toBe('error response: Status 401 Unauthorized: {"status":"error","error":"bearer token required"}');
    expect(refused).not.toContain(WRONG_TOKEN);
    expect(gate.authorizations).toEqual([`Bearer ${TOKEN}`, `Bearer ${WRONG_TOKEN}`]);
  });
});

describe('MetricTemplates over TLS through the operator', () => {
  /**
   * A namespace with podinfo, a Secret with `data`, a `prometheus` MetricTemplate at `address` and a
   * Blue/Green canary checking it every second; the operator runs and v2 has been applied.
   */
  async function rig(
    name: string,
    o: {
      address: string;
      data: Record<string, string>;
      insecureSkipVerify?: boolean;
      iterations: number;
      threshold: number;
    },
  ): Promise<{ ns: string; logs: () => string }> {
    const ns = await createTestNamespace(name);
    await applyAll(
      [
        ...podinfo(ns),
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'prom-tls', namespace: ns },
          type: 'Opaque',
          stringData: o.data,
        },
        {
          apiVersion: 'flagger.app/v1beta1',
          kind: 'MetricTemplate',
          metadata: { name: 'tls-check', namespace: ns },
          spec: {
            provider: {
              type: 'prometheus',
              address: o.address,
              secretRef: { name: 'prom-tls' },
              ...(o.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
            },
            query: QUERY,
          },
        },
        canary(ns, {
          analysis: {
            interval: '1s',
            iterations: o.iterations,
            threshold: o.threshold,
            stepWeight: undefined,
            maxWeight: undefined,
            metrics: [
              { name: 'tls-check', interval: '1m', templateRef: { name: 'tls-check' }, thresholdRange: { max: 1 } },
            ],
          },
        }),
      ],
      ns,
    );
    const operator = await startOperator({ namespace: ns });
    await waitForPhase(ns, 'Initialized');
    await setImage(ns, IMAGE_V2);
    return { ns, logs: () => operator.logs() };
  }

  const eventMessages = async (ns: string): Promise<string[]> => (await events(ns)).map((e) => e.message);

  it('promotes a canary whose template has ca.crt and basic auth in its Secret', async () => {
    const prometheus = await tlsPrometheus();
    const { ns, logs } = await rig('prom-tls-ok', {
      address: prometheus.url,
      data: { ...AUTH, 'ca.crt': pki.caPem },
      iterations: 3,
      threshold: 1,
    });
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
    const msgs = await eventMessages(ns);
    expect(msgs).toContain('all the metrics providers are available!');
    expect(msgs.filter((m) => m.includes('Metric query failed'))).toEqual([]);
    expect(logs()).not.toContain(AUTH.password);
  });

  it('fails the checks with an Event saying the certificate is not trusted when ca.crt is missing', async () => {
    const prometheus = await tlsPrometheus();
    const { ns, logs } = await rig('prom-tls-untrusted', {
      address: prometheus.url,
      data: { ...AUTH },
      iterations: 10,
      threshold: 2,
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    const msgs = await eventMessages(ns);
    // Later text (which check, which query) may follow the provider's message.
    expect(msgs).toContainEqual(expect.stringMatching(/^Metric query failed for tls-check: request failed/));
    expect(msgs).toContainEqual(
      expect.stringContaining(
        `Metric query failed for tls-check: request failed: GET ${prometheus.url} failed: unable to verify the first ` +
          "certificate: the server's TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); add the CA " +
          'certificate as ca.crt to the secretRef Secret, or set insecureSkipVerify',
      ),
    );
    expect(msgs.join('\n')).not.toContain(AUTH.password);
    expect(logs()).not.toContain(AUTH.password);
  });

  it('promotes with insecureSkipVerify and no CA', async () => {
    const prometheus = await tlsPrometheus();
    const { ns } = await rig('prom-tls-insecure', {
      address: prometheus.url,
      data: { ...AUTH },
      insecureSkipVerify: true,
      iterations: 3,
      threshold: 1,
    });
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
  });

  it('fails with the 401 of the bearer gate, never showing the token', async () => {
    const prometheus = await tlsPrometheus();
    const gate = await startBearerGate({ upstream: prometheus.url, token: TOKEN, caPem: pki.caPem, basicAuth: AUTH });
    const { ns, logs } = await rig('prom-tls-bearer', {
      address: gate.url,
      data: { token: WRONG_TOKEN },
      iterations: 10,
      threshold: 2,
    });
    const failed = await waitForPhase(ns, 'Failed', { timeoutMs: 120_000 });
    expect(failed.status?.failedChecks).toBe(2);
    const msgs = await eventMessages(ns);
    expect(msgs).toContainEqual(
      expect.stringContaining(
        'Metric query failed for tls-check: error response: Status 401 Unauthorized: ' +
          '{"status":"error","error":"bearer token required"}',
      ),
    );
    expect(msgs.join('\n')).not.toContain(WRONG_TOKEN);
    expect(logs()).not.toContain(WRONG_TOKEN);
    expect(gate.authorizations.length).toBeGreaterThan(0);
    expect(new Set(gate.authorizations)).toEqual(new Set([`Bearer ${WRONG_TOKEN}`]));
  });

  it('promotes with the right bearer token through the gate', async () => {
    const prometheus = await tlsPrometheus();
    const gate = await startBearerGate({ upstream: prometheus.url, token: TOKEN, caPem: pki.caPem, basicAuth: AUTH });
    const { ns } = await rig('prom-tls-bearer-ok', {
      address: gate.url,
      data: { token: TOKEN },
      iterations: 3,
      threshold: 1,
    });
    const done = await waitForPhase(ns, 'Succeeded', { timeoutMs: 120_000 });
    expect(done.status?.failedChecks).toBe(0);
  });
});
