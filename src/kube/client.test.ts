import { ApiException } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.ts';
import { type ApiKubeClient, createKubeClient, loadKubeConfig, resourcePath } from './client.ts';
import { AlreadyExistsError, ConflictError, InvalidObjectError, KubeApiError, NotFoundError } from './errors.ts';
import { OperatorError } from '../core/errors.ts';
import type { KubeObject } from './objects.ts';
import { Resources } from './resources.ts';
import { fromClientNodeError } from './transport.ts';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** A loopback stand-in for the API server: records requests, answers with `handler`. */
class FakeApiServer {
  readonly requests: Seen[] = [];
  handler: Handler = (_req, res) => json(res, 404, status(404, 'NotFound', 'not scripted'));
  readonly #server: Server;
  readonly sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const text = Buffer.concat(chunks).toString('utf8');
        const seen: Seen = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        };
        this.requests.push(seen);
        this.handler(seen, res);
      });
    });
    this.#server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const status = (code: number, reason: string, message: string): Record<string, unknown> => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
});

const dir = mkdtempSync(path.join(tmpdir(), 'fledge-kube-'));

function writeKubeconfig(name: string, config: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const kubeconfigFor = (server: string): unknown => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
  users: [{ name: 'u', user: { token: 'secret-token' } }],
  contexts: [{ name: 'c', context: { cluster: 'fake', user: 'u' } }],
  'current-context': 'c',
});

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'podinfo', namespace: 'test' },
  spec: { replicas: 1 },
};

describe('loadKubeConfig fails fast', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it.skipIf(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token'))(
    'when nothing is configured (client-node would fall back to http://localhost:8080)',
    () => {
      process.env['HOME'] = mkdtempSync(path.join(tmpdir(), 'fledge-home-'));
      delete process.env['KUBECONFIG'];
      expect(() => loadKubeConfig()).toThrow(/no kubeconfig found/);
      expect(() => createKubeClient({ log: silentLogger })).toThrow(OperatorError);
    },
  );

  it('when the current context names no cluster', () => {
    const file = writeKubeconfig('dangling.json', {
      ...(kubeconfigFor('https://x') as object),
      'current-context': 'nope',
    });
    expect(() => loadKubeConfig(file)).toThrow(/no current cluster \(current-context "nope"\)/);
  });

  it('when the file is missing or the context unknown', () => {
    expect(() => loadKubeConfig(path.join(dir, 'missing.yaml'))).toThrow(/cannot load kubeconfig/);
    const file = writeKubeconfig('ok.json', kubeconfigFor('https://x'));
    expect(() => loadKubeConfig(file, 'other')).toThrow(/no context "other"/);
    expect(loadKubeConfig(file).getCurrentCluster()?.server).toBe('https://x');
  });
});

describe('resourcePath', () => {
  it('uses /api for core and /apis for groups, namespaces only for namespaced types', () => {
    expect(resourcePath(Resources.service, { namespace: 'ns', name: 'a' })).toBe('/api/v1/namespaces/ns/services/a');
    expect(resourcePath(Resources.namespace, { namespace: 'ignored', name: 'ns' })).toBe('/api/v1/namespaces/ns');
    expect(resourcePath(Resources.canary, { namespace: 'ns', name: 'c', subresource: 'status' })).toBe(
      '/apis/flagger.app/v1beta1/namespaces/ns/canaries/c/status',
    );
    expect(resourcePath(Resources.deployment)).toBe('/apis/apps/v1/deployments');
  });
});

describe('createKubeClient against a loopback API server', () => {
  const api = new FakeApiServer();
  let kube: ApiKubeClient;

  beforeAll(async () => {
    const server = await api.listen();
    kube = createKubeClient({
      kubeconfig: writeKubeconfig('loopback.json', kubeconfigFor(server)),
      log: silentLogger,
      eventInstance: 'test-pod',
      informer: { backoffInitialMs: 20, backoffMaxMs: 50, minWatchMs: 0 },
    });
  });
  afterEach(() => {
    api.requests.length = 0;
  });
  afterAll(async () => {
    kube.close();
    await api.close();
  });

  it('GETs with the bearer token from the kubeconfig and returns plain JSON', async () => {
    api.handler = (_req, res) =>
      json(res, 200, {
        ...deployment,
        metadata: { ...deployment.metadata, creationTimestamp: '2026-01-01T00:00:00Z' },
      });
    const got = await kube.get(Resources.deployment, { namespace: 'test', name: 'podinfo' });
    expect(got?.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(api.requests[0]).toMatchObject({ method: 'GET', path: '/apis/apps/v1/namespaces/test/deployments/podinfo' });
    expect(api.requests[0]?.headers['authorization']).toBe('Bearer secret-token');
  });

  it('get of a missing object is undefined; delete of one resolves', async () => {
    api.handler = (_req, res) => json(res, 404, status(404, 'NotFound', 'deployments.apps "podinfo" not found'));
    await expect(kube.get(Resources.deployment, { namespace: 'test', name: 'podinfo' })).resolves.toBeUndefined();
    await expect(kube.delete(Resources.deployment, { namespace: 'test', name: 'podinfo' })).resolves.toBeUndefined();
    expect(api.requests[1]).toMatchObject({ method: 'DELETE' });
    expect(api.requests[1]?.query.get('propagationPolicy')).toBe('Background');
  });

  it('applies server-side with Content-Type apply-patch+yaml, fieldManager=fledge and force, minus managedFields', async () => {
    api.handler = (req, res) => json(res, 200, req.body);
    const readBack = { ...deployment, metadata: { ...deployment.metadata, managedFields: [{ manager: 'x' }] } };
    await kube.apply(readBack);
    const [req] = api.requests;
    expect(req).toMatchObject({ method: 'PATCH', path: '/apis/apps/v1/namespaces/test/deployments/podinfo' });
    expect(req?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req?.query.get('fieldManager')).toBe('fledge');
    expect(req?.query.get('force')).toBe('true');
    expect(req?.body).toEqual(deployment);
    await kube.apply(deployment, { force: false });
    expect(api.requests[1]?.query.get('force')).toBe('false');
  });

  it('merge-patches with Content-Type merge-patch+json, and status on /status as { status }', async () => {
    api.handler = (_req, res) => json(res, 200, deployment);
    await kube.mergePatch(Resources.deployment, { namespace: 'test', name: 'podinfo' }, { spec: { replicas: 0 } });
    await kube.patchStatus(Resources.canary, { namespace: 'test', name: 'podinfo' }, { phase: 'Progressing' });
    expect(api.requests.map((r) => [r.method, r.path, r.headers['content-type'], r.body])).toEqual([
      [
        'PATCH',
        '/apis/apps/v1/namespaces/test/deployments/podinfo',
        'application/merge-patch+json',
        { spec: { replicas: 0 } },
      ],
      [
        'PATCH',
        '/apis/flagger.app/v1beta1/namespaces/test/canaries/podinfo/status',
        'application/merge-patch+json',
        { status: { phase: 'Progressing' } },
      ],
    ]);
  });

  it('maps error statuses to typed errors carrying the server message', async () => {
    const cases: [number, string, string, new (...args: never[]) => KubeApiError][] = [
      [404, 'NotFound', 'namespaces "nope" not found', NotFoundError],
      [409, 'AlreadyExists', 'deployments.apps "podinfo" already exists', AlreadyExistsError],
      [
        409,
        'Conflict',
        'Operation cannot be fulfilled on deployments.apps "podinfo": the object has been modified',
        ConflictError,
      ],
      [422, 'Invalid', 'Deployment.apps "podinfo" is invalid: spec.selector: Required value', InvalidObjectError],
      [403, 'Forbidden', 'deployments.apps is forbidden: User "x" cannot create', KubeApiError],
    ];
    for (const [code, reason, message, type] of cases) {
      api.handler = (_req, res) => json(res, code, status(code, reason, message));
      const err: unknown = await kube.create(deployment).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect(err).toMatchObject({ status: code, reason });
      expect((err as Error).message).toBe(`POST /apis/apps/v1/namespaces/test/deployments: ${message}`);
    }
  });

  it('keeps a non-JSON error body in the message', async () => {
    api.handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('upstream connect error');
    };
    await expect(kube.list(Resources.service)).rejects.toThrow(/GET \/api\/v1\/services: upstream connect error/);
  });

  it('retries 429 Too Many Requests after Retry-After', async () => {
    let calls = 0;
    api.handler = (_req, res) => {
      if (++calls === 1) {
        res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end(JSON.stringify(status(429, 'TooManyRequests', 'slow down')));
      } else json(res, 200, deployment);
    };
    await expect(kube.get(Resources.deployment, { namespace: 'test', name: 'podinfo' })).resolves.toBeDefined();
    expect(calls).toBe(2);
  });

  it('lists page by page and stamps apiVersion/kind on items', async () => {
    api.handler = (req, res) => {
      const page2 = req.query.get('continue') === 'tok';
      json(res, 200, {
        kind: 'ServiceList',
        apiVersion: 'v1',
        metadata: page2 ? { resourceVersion: '9' } : { resourceVersion: '9', continue: 'tok' },
        items: [{ metadata: { name: page2 ? 'b' : 'a', namespace: 'test' } }],
      });
    };
    const items = await kube.list(Resources.service, { namespace: 'test', labelSelector: 'app=x' });
    expect(items).toEqual([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'test' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'test' } },
    ]);
    expect(api.requests.map((r) => [r.path, r.query.get('labelSelector'), r.query.get('limit')])).toEqual([
      ['/api/v1/namespaces/test/services', 'app=x', '500'],
      ['/api/v1/namespaces/test/services', 'app=x', '500'],
    ]);
  });

  it('discovers the plural of an unknown kind once, for create and apply', async () => {
    api.handler = (req, res) => {
      if (req.path === '/apis/example.com/v1') {
        json(res, 200, {
          kind: 'APIResourceList',
          groupVersion: 'example.com/v1',
          resources: [
            { name: 'widgets/status', kind: 'Widget', namespaced: true },
            { name: 'widgets', kind: 'Widget', namespaced: true },
            { name: 'gadgets', kind: 'Gadget', namespaced: false },
          ],
        });
      } else json(res, 200, req.body);
    };
    const widget: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'n' },
    };
    await kube.create(widget);
    await kube.apply(widget);
    await kube.apply({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/example.com/v1',
      'POST /apis/example.com/v1/namespaces/n/widgets',
      'PATCH /apis/example.com/v1/namespaces/n/widgets/w',
      'PATCH /apis/example.com/v1/gadgets/g',
    ]);
  });

  it('requires a namespace for namespaced types', async () => {
    await expect(kube.get(Resources.deployment, { name: 'x' })).rejects.toThrow(/namespace is required/);
  });

  it('records Events through POST /api/v1/namespaces/<ns>/events', async () => {
    api.handler = (req, res) => json(res, 201, req.body);
    await kube.recordEvent({ involved: deployment, type: 'Warning', reason: 'Halted', message: 'halted' });
    const [req] = api.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/test/events' });
    expect(req?.body).toMatchObject({ reason: 'Halted', reportingComponent: 'fledge', reportingInstance: 'test-pod' });
    expect((req?.body as { eventTime: string }).eventTime).toMatch(/\.\d{6}Z$/);
  });

  it('recordEvent never throws', async () => {
    api.handler = (_req, res) => json(res, 403, status(403, 'Forbidden', 'events is forbidden'));
    await expect(
      kube.recordEvent({ involved: deployment, type: 'Normal', reason: 'X', message: 'y' }),
    ).resolves.toBeUndefined();
  });

  it('runs a shared informer over client-node Watch that resumes from the last resourceVersion after a broken stream', async () => {
    const watches: Seen[] = [];
    api.handler = (req, res) => {
      if (req.query.get('watch') !== 'true') {
        json(res, 200, {
          kind: 'ConfigMapList',
          metadata: { resourceVersion: '10' },
          items: [{ metadata: { name: 'a', namespace: 'w', resourceVersion: '5' } }],
        });
        return;
      }
      watches.push(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (watches.length === 1) {
        res.write(
          `${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'w', resourceVersion: '11' } } })}\n`,
        );
        // Break the connection mid-stream.
        setTimeout(() => res.socket?.destroy(), 50);
      } else {
        res.write(
          `${JSON.stringify({ type: 'DELETED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'w', resourceVersion: '12' } } })}\n`,
        );
      }
    };
    const informer = kube.informer(Resources.configMap, 'w');
    expect(kube.informer(Resources.configMap, 'w')).toBe(informer);
    const seen: string[] = [];
    informer.onChange((e, o) => seen.push(`${e}:${o.metadata.name}`));
    await informer.synced();
    const deadline = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['add:a', 'add:b', 'delete:a']);
    expect(watches.map((w) => [w.path, w.query.get('resourceVersion'), w.query.get('allowWatchBookmarks')])).toEqual([
      ['/api/v1/namespaces/w/configmaps', '10', 'true'],
      ['/api/v1/namespaces/w/configmaps', '11', 'true'],
    ]);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['b']);
    informer.stop();
    expect(kube.informer(Resources.configMap, 'w')).not.toBe(informer);
    kube.close();
  });
});

describe('informer freshness against a loopback API server', () => {
  const api = new FakeApiServer();
  let kube: ApiKubeClient;
  const watches: Seen[] = [];
  let readyz = 0;

  beforeAll(async () => {
    const server = await api.listen();
    kube = createKubeClient({
      kubeconfig: writeKubeconfig('freshness.json', kubeconfigFor(server)),
      log: silentLogger,
      // A backoff far longer than the test: only the /readyz probe can end it in time.
      informer: { backoffInitialMs: 600_000, backoffMaxMs: 600_000, minWatchMs: 0, probeIntervalMs: 20 },
    });
  });
  afterAll(async () => {
    kube.close();
    await api.close();
  });

  const podinfo = (rv: string, generation: number): KubeObject => ({
    ...deployment,
    metadata: { ...deployment.metadata, resourceVersion: rv, generation },
    status: { observedGeneration: 1 },
  });

  it("reads Fledge's own writes back from the cache while the watch delivers nothing", async () => {
    api.handler = (req, res) => {
      if (req.query.get('watch') === 'true') {
        watches.push(req);
        res.writeHead(200, { 'content-type': 'application/json' });
        return; // blind: open, but never an event
      }
      if (req.method === 'GET') {
        json(res, 200, { kind: 'DeploymentList', metadata: { resourceVersion: '10' }, items: [podinfo('5', 1)] });
        return;
      }
      const rv = req.method === 'POST' ? '30' : req.path.endsWith('/status') ? '22' : '20';
      const name = req.method === 'POST' ? 'podinfo-primary' : 'podinfo';
      json(res, 200, { ...podinfo(rv, 2), metadata: { ...podinfo(rv, 2).metadata, name } });
    };
    const informer = kube.informer(Resources.deployment, 'test');
    await informer.synced();
    const seen: string[] = [];
    informer.onChange((e, o) => seen.push(`${e}:${o.metadata.name}@${o.metadata.resourceVersion ?? ''}`));

    await kube.apply({ ...deployment, spec: { replicas: 2 } });
    expect(informer.get({ name: 'podinfo' })).toMatchObject({ metadata: { resourceVersion: '20', generation: 2 } });
    await kube.patchStatus(Resources.deployment, { namespace: 'test', name: 'podinfo' }, { observedGeneration: 1 });
    expect(informer.get({ name: 'podinfo' })?.metadata.resourceVersion).toBe('22');
    await kube.create({ ...deployment, metadata: { ...deployment.metadata, name: 'podinfo-primary' } });
    expect(informer.get({ name: 'podinfo-primary' })?.metadata.resourceVersion).toBe('30');
    // An older answer (a slow earlier write) does not move the cache back.
    await kube.mergePatch(Resources.deployment, { namespace: 'test', name: 'podinfo' }, { spec: { replicas: 2 } });
    expect(informer.get({ name: 'podinfo' })?.metadata.resourceVersion).toBe('22');
    expect(seen).toEqual(['update:podinfo@20', 'update:podinfo@22', 'add:podinfo-primary@30']);
    expect(watches).toHaveLength(1);
  });

  it('ends the watch backoffs of all informers as soon as /readyz answers again', async () => {
    let broken = 0;
    api.handler = (req, res) => {
      if (req.path === '/readyz') {
        readyz++;
        res.writeHead(readyz < 3 ? 503 : 200, { 'content-type': 'text/plain' });
        res.end(readyz < 3 ? 'not ready' : 'ok');
        return;
      }
      if (req.query.get('watch') === 'true') {
        watches.push(req);
        if (broken < 2) {
          broken++;
          res.socket?.destroy(); // the API server went away
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        return;
      }
      json(res, 200, { kind: 'ServiceList', metadata: { resourceVersion: '40' }, items: [] });
    };
    watches.length = 0;
    const services = kube.informer(Resources.service, 'test');
    const configMaps = kube.informer(Resources.configMap, 'test');
    await Promise.all([services.synced(), configMaps.synced()]);
    const deadline = Date.now() + 4_000;
    while (watches.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Both informers watched again although their backoff was 10 minutes.
    expect(watches.map((w) => w.path).sort()).toEqual([
      '/api/v1/namespaces/test/configmaps',
      '/api/v1/namespaces/test/configmaps',
      '/api/v1/namespaces/test/services',
      '/api/v1/namespaces/test/services',
    ]);
    expect(readyz).toBeGreaterThanOrEqual(3);
    expect(services.health().consecutiveFailures).toBe(0);
    expect(configMaps.health().consecutiveFailures).toBe(0);
  });
});

describe('fromClientNodeError', () => {
  it('parses the V1Status JSON string in ApiException.body', () => {
    const body = JSON.stringify(status(404, 'NotFound', 'canaries.flagger.app "x" not found'));
    const err = fromClientNodeError(new ApiException(404, 'Unknown API Status Code!', body, {}), 'GET /apis/x');
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe('GET /apis/x: canaries.flagger.app "x" not found');
  });
});
