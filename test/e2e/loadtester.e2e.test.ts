// fledge-loadtester as a separate process (`node src/loadtester/main.ts`) against the local control
// plane: gates live in a ConfigMap, so they survive a restart and are shared by two processes;
// commands outside the -allow list are refused with 403 and a clear message; the bearer token
// guards everything but /healthz.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LoadtesterConfigError, parseLoadtesterConfig } from '../../src/loadtester/config.ts';
import { helmTemplateLoadtester, startLoadtester } from './lib/loadtester.ts';
import { apply, createTestNamespace, kubectl, kubectlJson } from './support/index.ts';

const CONFIGMAP = 'fledge-loadtester-gates';

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
}

interface ConfigMap {
  metadata: { labels?: Record<string, string> };
  data?: Record<string, string>;
}

const gatesData = async (namespace: string): Promise<Record<string, string>> =>
  (await kubectlJson<ConfigMap>(['get', 'configmap', CONFIGMAP], { namespace })).data ?? {};

describe('fledge-loadtester on the local control plane', () => {
  it('keeps gates open across a restart: they live in a ConfigMap', async () => {
    const ns = await createTestNamespace('loadtester-restart');
    const canary = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: '1' };
    const lt = await startLoadtester(ns);

    expect(await lt.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect((await lt.post('/gate/open', canary)).status).toBe(202);
    expect((await lt.post('/rollback/open', { ...canary, name: 'other' })).status).toBe(202);
    expect(await lt.post('/gate/check', canary)).toEqual({ status: 200, text: 'Approved' });

    const cm = await kubectlJson<ConfigMap>(['get', 'configmap', CONFIGMAP], { namespace: ns });
    expect(cm.data).toEqual({ 'podinfo.test': 'true', 'rollback.other.test': 'true' });
    expect(cm.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('fledge-loadtester');

    // A crash (no shutdown code runs), then a new process.
    await lt.kill();
    await lt.restart();
    expect(await lt.post('/gate/check', canary)).toEqual({ status: 200, text: 'Approved' });
    expect(await lt.post('/rollback/check', { ...canary, name: 'other' })).toEqual({ status: 200, text: 'Approved' });
    expect((await lt.post('/rollback/check', canary)).status).toBe(403);

    expect((await lt.post('/gate/close', canary)).status).toBe(202);
    await lt.stop();
    await lt.restart();
    expect(await lt.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect(await gatesData(ns)).toEqual({ 'rollback.other.test': 'true' });
    expect(lt.logs()).toContain('"msg":"gate storage ready"');
  });

  it('two processes share gate state, and concurrent writes through both are all kept', async () => {
    const ns = await createTestNamespace('loadtester-shared');
    const [a, b] = await Promise.all([startLoadtester(ns), startLoadtester(ns)]);
    const canary = (name: string): Record<string, string> => ({ name, namespace: 'test' });

    expect((await a.post('/gate/open', canary('podinfo'))).status).toBe(202);
    expect(await b.post('/gate/check', canary('podinfo'))).toEqual({ status: 200, text: 'Approved' });
    expect((await b.post('/gate/close', canary('podinfo'))).status).toBe(202);
    expect(await a.post('/gate/check', canary('podinfo'))).toEqual({ status: 403, text: 'Forbidden' });

    // Both replicas write at the same time: the resourceVersion-guarded patches conflict and retry.
    const names = Array.from({ length: 8 }, (_, i) => `app-${i}`);
    const results = await Promise.all(
      names.map((n, i) => (i % 2 === 0 ? a : b).post(i % 3 === 0 ? '/rollback/open' : '/gate/open', canary(n))),
    );
    expect(results.map((r) => r.status)).toEqual(names.map(() => 202));
    const expected = Object.fromEntries(
      names.map((n, i) => [i % 3 === 0 ? `rollback.${n}.test` : `${n}.test`, 'true'] as const),
    );
    expect(await gatesData(ns)).toEqual(expected);
    for (const [i, n] of names.entries()) {
      const check = i % 3 === 0 ? '/rollback/check' : '/gate/check';
      expect((await (i % 2 === 0 ? b : a).post(check, canary(n))).status).toBe(200);
    }
  });

  it('refuses a command outside the allowlist with 403 and a clear message, and runs allowed ones', async () => {
    const ns = await createTestNamespace('loadtester-allow');
    const hits: string[] = [];
    const target = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as AddressInfo).port;
    const lt = await startLoadtester(ns, [
      '-allow',
      `^echo [a-z ]+$,^hey -n \\d+ -c \\d+ http://127\\.0\\.0\\.1:${port}/[a-z]*$`,
    ]);
    const task = (metadata: Record<string, string>): Record<string, unknown> => ({
      name: 'podinfo',
      namespace: 'test',
      metadata,
    });

    const refused = await lt.post('/', task({ type: 'cmd', cmd: 'curl -s http://evil.example/' }));
    expect(refused).toEqual({
      status: 403,
      text: 'command refused: "curl -s http://evil.example/" matches no -allow entry of fledge-loadtester',
    });
    const shell = await lt.post('/', task({ type: 'bash', cmd: 'echo hi; cat /etc/passwd' }));
    expect(shell.status).toBe(403);
    expect(shell.text).toContain('shell metacharacter ";"');
    expect(lt.logs()).toContain('"msg":"task refused"');

    expect(await lt.post('/', task({ type: 'bash', cmd: 'echo hello there', returnCmdOutput: 'true' }))).toEqual({
      status: 200,
      text: 'hello there\n',
    });
    const load = await lt.post(
      '/',
      task({ type: 'bash', cmd: `hey -n 25 -c 5 http://127.0.0.1:${port}/load`, returnCmdOutput: 'true' }),
    );
    expect(load.status).toBe(200);
    expect(JSON.parse(load.text)).toMatchObject({ requests: 25, outcomes: { '2xx': 25 } });
    expect(hits.filter((h) => h === '/load')).toHaveLength(25);
    const metrics = await (await fetch(`${lt.url}/metrics`)).text();
    expect(metrics).toContain('fledge_loadtester_requests_total{status="2xx"} 25');
    expect(metrics).toContain('fledge_loadtester_tasks_total{type="cmd",result="refused"} 1');
  });

  it('requires the bearer token from LOADTESTER_TOKEN on everything but /healthz with -token-scope=all', async () => {
    const ns = await createTestNamespace('loadtester-token');
    const lt = await startLoadtester(ns, ['-token-scope=all'], { LOADTESTER_TOKEN: 'e2e-secret' });
    const canary = { name: 'podinfo', namespace: 'test' };
    expect((await lt.post('/gate/open', canary)).status).toBe(401);
    expect((await fetch(`${lt.url}/metrics`)).status).toBe(401);
    expect((await lt.post('/gate/open', canary, { authorization: 'Bearer e2e-secret' })).status).toBe(202);
    expect((await lt.post('/gate/check', canary, { authorization: 'Bearer e2e-secret' })).status).toBe(200);
    expect(lt.logs()).not.toContain('e2e-secret');
    expect((await kubectl(['get', 'configmap', CONFIGMAP, '-o', 'name'], { namespace: ns })).stdout.trim()).toBe(
      `configmap/${CONFIGMAP}`,
    );
  });
  it("runs on the chart's RBAC alone: its service account may create, read and patch the gates ConfigMap", async () => {
    const ns = await createTestNamespace('loadtester-chart');
    const rendered = loadAll(
      await helmTemplateLoadtester('lt', ns, {
        cmd: { allow: ['^echo [a-z]+$', '^a{1,3}$'], namespaceRegexp: '^test$' },
      }),
    ).filter((d): d is Manifest => typeof d === 'object' && d !== null);
    // The Deployment's flags are ones the binary accepts.
    const args = rendered.find((o) => o.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0]?.args ?? [];
    const config = parseLoadtesterConfig(args, {});
    if (config instanceof LoadtesterConfigError) throw config;
    expect(config.allowlist.entries.map((e) => e.source)).toEqual(['^echo [a-z]+$', '^a{1,3}$']);
    expect(config.gateNamespace).toBe(ns);
    expect(config.port).toBe(8080);

    // Only the ServiceAccount, Role and RoleBinding, then a kubeconfig with that account's token.
    const rbac = rendered.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
    expect(rbac.map((o) => o.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
    await apply({ apiVersion: 'v1', kind: 'List', items: rbac }, { namespace: ns });
    const account = rbac.find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
    const token = (await kubectl(['create', 'token', account, '--duration', '1h'], { namespace: ns })).stdout.trim();
    const admin = await kubectlJson<{
      clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
    }>(['config', 'view', '--raw', '--minify']);
    const cluster = admin.clusters[0]?.cluster;
    if (!cluster) throw new Error('no cluster in the kubeconfig');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fledge-loadtester-sa-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster }],
        users: [{ name: 'loadtester', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'loadtester', namespace: ns } }],
        'current-context': 'e2e',
      }),
    );

    const lt = await startLoadtester(
      ns,
      args.filter((a) => !a.startsWith('-port=')),
      {},
      kubeconfig,
    );
    const canary = { name: 'podinfo', namespace: 'test' };
    expect((await lt.post('/gate/open', canary)).status).toBe(202);
    expect(await lt.post('/gate/check', canary)).toEqual({ status: 200, text: 'Approved' });
    expect((await lt.post('/gate/close', canary)).status).toBe(202);
    expect(await lt.post('/gate/check', canary)).toEqual({ status: 403, text: 'Forbidden' });
    expect((await lt.post('/gate/check', { ...canary, namespace: 'prod' })).status).toBe(403);
    expect(
      await lt.post('/', { ...canary, metadata: { type: 'bash', cmd: 'echo ok', returnCmdOutput: 'true' } }),
    ).toEqual({ status: 200, text: 'ok\n' });
    // The account may not touch other ConfigMaps: the Role is limited to the gates one.
    // (The later --kubeconfig wins over the admin one the helper passes first.)
    const other = await kubectl(['--kubeconfig', kubeconfig, 'get', 'configmap', 'kube-root-ca.crt'], {
      namespace: ns,
      allowFailure: true,
    });
    expect(other.exitCode).not.toBe(0);
    expect(other.stderr).toContain('forbidden');
  });
});
