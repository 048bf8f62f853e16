// fledge-loadtester as a drop-in for Flagger's: the chart's names and values (rendered by the pinned
// helm, applied to the real API server), and the process with a token set answering what Flagger's
// header-less webhooks send, while hostile clients are cut off.
import { createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { loadAll } from 'js-yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LoadtesterConfigError, parseLoadtesterConfig } from '../../src/loadtester/config.ts';
import { helmTemplateLoadtester, startLoadtester } from './lib/loadtester.ts';
import { apply, createTestNamespace, kubectlJson, waitFor } from './support/index.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    ports?: { port: number; targetPort: string | number }[];
    template?: {
      spec?: {
        containers?: {
          args?: string[];
          ports?: { name: string; containerPort: number }[];
          env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
        }[];
      };
    };
  };
}

const render = async (release: string, ns: string, values: object = {}): Promise<Obj[]> =>
  loadAll(await helmTemplateLoadtester(release, ns, values)).filter(
    (d): d is Obj => typeof d === 'object' && d !== null,
  );

const container = (objs: readonly Obj[]) =>
  objs.find((o) => o.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0];

describe("fledge-loadtester's chart as a drop-in for Flagger's", () => {
  it("names the Service as Flagger's chart does: the release name when it contains loadtester", async () => {
    const ns = await createTestNamespace('lt-chart-names');
    const names: string[] = [];
    for (const release of ['flagger-loadtester', 'fledge-loadtester', 'lt']) {
      names.push((await render(release, ns)).find((o) => o.kind === 'Service')?.metadata.name ?? '');
    }
    expect(names).toEqual(['flagger-loadtester', 'fledge-loadtester', 'lt-loadtester']);
  });

  it("generates a token Secret by default, takes Flagger's values, and the API server accepts the objects", async () => {
    const ns = await createTestNamespace('lt-chart-flagger');
    // A values file written for Flagger's loadtester chart.
    const objs = await render('flagger-loadtester', ns, {
      cmd: { timeout: '30m', namespaceRegexp: '' },
      rbac: { create: true, serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/lt' } },
      istio: { enabled: true, host: 'lt.example.com', gateway: { enabled: true }, tls: { enabled: true } },
      appmesh: { enabled: true, backends: ['podinfo', 'podinfo-canary'] },
      meshName: 'global',
    });
    expect(objs.map((o) => o.kind).sort()).toEqual([
      'Deployment',
      'Gateway',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
      'VirtualNode',
      'VirtualService',
    ]);
    const secret = objs.find((o) => o.kind === 'Secret');
    expect(secret?.metadata.name).toBe('flagger-loadtester-token');
    expect(Buffer.from(secret?.data?.['token'] ?? '', 'base64').toString()).toMatch(/^[A-Za-z0-9]{40}$/);
    const c = container(objs);
    expect(c?.env?.find((e) => e.name === 'LOADTESTER_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'flagger-loadtester-token',
      key: 'token',
    });
    expect(c?.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const config = parseLoadtesterConfig(c?.args ?? [], {});
    if (config instanceof LoadtesterConfigError) throw config;
    expect(config).toMatchObject({ port: 8080, timeoutMs: 1_800_000, tokenScope: 'webhooks' });
    expect(config.load).toMatchObject({ inCluster: true, maxConcurrency: 200, maxRate: 5000, maxRuns: 20 });
    expect(objs.find((o) => o.kind === 'ServiceAccount')?.metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/lt',
    });

    // Everything but the mesh objects (no Istio or App Mesh CRDs here) goes to the real API server.
    const core = objs.filter((o) => !['Gateway', 'VirtualService', 'VirtualNode'].includes(o.kind));
    await apply({ apiVersion: 'v1', kind: 'List', items: core }, { namespace: ns });
    const svc = await kubectlJson<Obj>(['get', 'service', 'flagger-loadtester'], { namespace: ns });
    expect(svc.spec?.ports).toMatchObject([{ port: 80, targetPort: 'http' }]);
  });

  it('refuses a bad auth.tokenScope', async () => {
    const ns = await createTestNamespace('lt-chart-scope');
    await expect(render('lt', ns, { auth: { tokenScope: 'some' } })).rejects.toThrow('auth.tokenScope "some"');
  });
});

describe('fledge-loadtester with a token, called as Flagger calls it', () => {
  it("runs Flagger's hey webhook and gate checks without a header; commands, gate writes and // need the token", async () => {
    const ns = await createTestNamespace('lt-flagger-token');
    let hits = 0;
    const target = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as AddressInfo).port;
    // The test's target is on loopback, not in a cluster: -load-hosts opens it like an in-cluster host.
    const lt = await startLoadtester(ns, ['-load-hosts', '127\\.0\\.0\\.1', '-allow', '^echo [a-z]+$'], {
      LOADTESTER_TOKEN: 'e2e-token',
    });
    // Flagger's payload for a rollout webhook, byte for byte what it sends (no headers).
    const flagger = (metadata: Record<string, string>) => ({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: '6d4f8b9c',
      metadata,
    });
    const bearer = { authorization: 'Bearer e2e-token' };

    expect(await lt.post('/', flagger({ cmd: `hey -z 2s -q 5 -c 2 http://127.0.0.1:${port}/` }))).toEqual({
      status: 202,
      text: '',
    });
    await waitFor(() => hits >= 10, { describe: 'hey traffic at the target', timeoutMs: 20_000 });
    expect(await lt.post('/gate/check', flagger({}))).toEqual({ status: 403, text: 'Forbidden' });
    expect((await lt.post('/gate/open', flagger({}))).status).toBe(401);
    expect((await lt.post('/gate/open', flagger({}), bearer)).status).toBe(202);
    expect(await lt.post('/gate/check', flagger({}))).toEqual({ status: 200, text: 'Approved' });

    expect((await lt.post('/', flagger({ type: 'bash', cmd: 'echo hi' }))).status).toBe(401);
    expect((await lt.post('/', flagger({ type: 'bash', cmd: 'echo hi', returnCmdOutput: 'true' }), bearer)).text).toBe(
      'hi\n',
    );
    expect((await lt.post('//', flagger({}))).status).toBe(401);
    expect((await lt.post('//', flagger({}), bearer)).status).toBe(404);

    const big = await lt.post('/', flagger({ cmd: `hey -z 1m -c 300000 http://127.0.0.1:${port}/` }));
    expect(big.status).toBe(400);
    expect(big.text).toContain('-load-max-concurrency=200 (chart value load.maxConcurrency)');
    const outside = await lt.post('/', flagger({ cmd: 'hey -z 1m http://www.example.com/' }));
    expect(outside.status).toBe(403);
    expect(outside.text).toContain('allow it with -load-hosts (chart value load.hosts) or an -allow entry');
    expect(lt.logs()).not.toContain('e2e-token');
  });

  it('closes an unauthenticated slow body at once, and connections beyond -max-connections', async () => {
    const ns = await createTestNamespace('lt-flagger-hostile');
    const lt = await startLoadtester(ns, ['-max-connections', '3'], { LOADTESTER_TOKEN: 'e2e-token' });
    const { port } = new URL(lt.url);
    const sockets: Socket[] = [];
    onTestFinished(() => sockets.forEach((s) => s.destroy()));
    const open = async (): Promise<{ s: Socket; data: () => string; closed: () => boolean }> => {
      const s = connect(Number(port), '127.0.0.1');
      sockets.push(s);
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
      let data = '';
      let closed = false;
      s.on('data', (b: Buffer) => (data += b.toString()));
      s.on('error', () => undefined);
      s.on('close', () => (closed = true));
      return { s, data: () => data, closed: () => closed };
    };

    const slow = await open();
    slow.s.write('POST /gate/open HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{');
    const drip = setInterval(() => slow.closed() || slow.s.write('x'), 100);
    onTestFinished(() => clearInterval(drip));
    await waitFor(() => slow.closed(), { describe: 'the unauthenticated connection to close', timeoutMs: 10_000 });
    expect(slow.data()).toMatch(/^HTTP\/1\.1 401 /);

    // Six idle connections: at most three stay open (fewer if the helper's keep-alive /healthz
    // connection still counts), the others are closed as they arrive.
    const conns: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < 6; i++) conns.push(await open());
    await waitFor(() => conns.filter((c) => c.closed()).length >= 3, {
      describe: 'connections beyond -max-connections to be closed',
      timeoutMs: 10_000,
    });
    expect(conns.filter((c) => !c.closed()).length).toBeLessThanOrEqual(3);
    expect(conns.slice(0, 2).some((c) => c.closed())).toBe(false);
    conns.forEach((c) => c.s.destroy());
    await waitFor(async () => (await fetch(`${lt.url}/healthz`)).status === 200, {
      describe: 'the loadtester to serve again',
      timeoutMs: 10_000,
    });
  });
});
