// The KubeClient adapter (src/kube/) against the real API server of the local control plane:
// CRUD, server-side apply, merge and status patches, error mapping, informers (incl. recovery from
// a broken connection), Event aggregation and leader election between two clients.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { type ApiKubeClient, type KubeClientOptions, createKubeClient } from '../../src/kube/client.ts';
import { AlreadyExistsError, ConflictError, InvalidObjectError, NotFoundError } from '../../src/kube/errors.ts';
import { LeaderElector } from '../../src/kube/leader.ts';
import type { KubeObject, ResourceType } from '../../src/kube/objects.ts';
import type { Informer } from '../../src/kube/port.ts';
import { Resources } from '../../src/kube/resources.ts';
import { apply, createTestNamespace, kubeconfigPath, kubectl, kubectlJson, waitFor } from './support/index.ts';

const clients: ApiKubeClient[] = [];

/** A client on the e2e cluster, closed after the file. */
function client(options: Partial<KubeClientOptions> = {}): ApiKubeClient {
  const c = createKubeClient({ kubeconfig: kubeconfigPath(), log: silentLogger, ...options });
  clients.push(c);
  return c;
}

afterAll(() => {
  for (const c of clients) c.close();
});

const configMap = (namespace: string, name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels: { app: 'kube-e2e' } },
  data,
});

const deployment = (namespace: string, name: string, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'ghcr.io/stefanprodan/podinfo:6.9.0' }] },
    },
  },
});

const dataOf = (o: KubeObject | undefined): unknown => o?.['data'];
const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** The Canary type when its CRD is installed, else a small CRD of our own with a status subresource. */
async function statusCapableType(): Promise<{ type: ResourceType; object: (ns: string, name: string) => KubeObject }> {
  const canaries = await kubectl(['get', 'crd', 'canaries.flagger.app'], { allowFailure: true });
  if (canaries.exitCode === 0) {
    return {
      type: Resources.canary,
      object: (namespace, name) => ({
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        metadata: { name, namespace },
        spec: {
          targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          service: { port: 9898 },
          analysis: { interval: '1m', threshold: 5, maxWeight: 50, stepWeight: 10 },
        },
      }),
    };
  }
  await apply({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.e2e.fledge.dev' },
    spec: {
      group: 'e2e.fledge.dev',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: {
                  type: 'object',
                  properties: {
                    phase: { type: 'string', enum: ['', 'Initializing', 'Progressing', 'Succeeded', 'Failed'] },
                    canaryWeight: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      ],
    },
  });
  await kubectl(['wait', '--for=condition=Established', 'crd/widgets.e2e.fledge.dev', '--timeout=60s']);
  return {
    type: { apiVersion: 'e2e.fledge.dev/v1', kind: 'Widget', plural: 'widgets', namespaced: true },
    object: (namespace, name) => ({
      apiVersion: 'e2e.fledge.dev/v1',
      kind: 'Widget',
      metadata: { name, namespace },
      spec: { size: 1 },
    }),
  };
}

describe('KubeClient over client-node (real API server)', () => {
  it('create, get, list, merge patch and delete round-trip for core and group resources', async () => {
    const ns = await createTestNamespace('kube-crud');
    const kube = client();

    const created = await kube.create(configMap(ns, 'settings', { a: '1' }));
    expect(created.metadata.uid).toBeTruthy();
    expect(typeof created.metadata.creationTimestamp).toBe('string');
    const got = await kube.get(Resources.configMap, { namespace: ns, name: 'settings' });
    expect(got?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(dataOf(got)).toEqual({ a: '1' });

    const listed = await kube.list(Resources.configMap, { namespace: ns, labelSelector: 'app=kube-e2e' });
    expect(listed.map((o) => [o.kind, o.metadata.name])).toEqual([['ConfigMap', 'settings']]);

    const patched = await kube.mergePatch(
      Resources.configMap,
      { namespace: ns, name: 'settings' },
      { data: { a: null, b: '2' }, metadata: { labels: { app: null } } },
    );
    expect(dataOf(patched)).toEqual({ b: '2' });
    expect(patched.metadata.labels).toBeUndefined();

    const dep = await kube.create(deployment(ns, 'podinfo'));
    expect(dep.metadata.generation).toBe(1);
    const scaled = await kube.mergePatch(
      Resources.deployment,
      { namespace: ns, name: 'podinfo' },
      { spec: { replicas: 0 } },
    );
    expect(scaled.metadata.generation).toBe(2);
    expect((scaled['spec'] as { replicas: number }).replicas).toBe(0);

    const namespace = await kube.get(Resources.namespace, { name: ns });
    expect(namespace?.kind).toBe('Namespace');

    await kube.delete(Resources.configMap, { namespace: ns, name: 'settings' });
    await expect(kube.get(Resources.configMap, { namespace: ns, name: 'settings' })).resolves.toBeUndefined();
    await expect(kube.delete(Resources.configMap, { namespace: ns, name: 'settings' })).resolves.toBeUndefined();
  });

  it('server-side apply owns fields as manager "fledge", prunes what it stops applying, and forces conflicts', async () => {
    const ns = await createTestNamespace('kube-ssa');
    const kube = client();
    const applied = await kube.apply(configMap(ns, 'owned', { a: '1', b: '2' }));
    const managers = (applied.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields;
    expect(managers).toContainEqual(expect.objectContaining({ manager: 'fledge', operation: 'Apply' }));

    const pruned = await kube.apply(configMap(ns, 'owned', { a: '1' }));
    expect(dataOf(pruned)).toEqual({ a: '1' });

    await kubectl(
      ['patch', 'configmap', 'owned', '--type=merge', '-p', '{"data":{"a":"theirs"}}', '--field-manager=other'],
      {
        namespace: ns,
      },
    );
    const conflict = await errorOf(kube.apply(configMap(ns, 'owned', { a: '1' }), { force: false }));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as Error).message).toMatch(/conflict with "other"/);
    const forced = await kube.apply(configMap(ns, 'owned', { a: '1' }));
    expect(dataOf(forced)).toEqual({ a: '1' });
  });

  it('patches status through the /status subresource only', async () => {
    const ns = await createTestNamespace('kube-status');
    const kube = client();
    const { type, object } = await statusCapableType();
    const created = await kube.create(object(ns, 'podinfo'));
    const key = { namespace: ns, name: 'podinfo' };

    const withStatus = await kube.patchStatus(type, key, { phase: 'Progressing', canaryWeight: 10 });
    expect(withStatus['status']).toMatchObject({ phase: 'Progressing', canaryWeight: 10 });
    expect(withStatus.metadata.generation).toBe(created.metadata.generation);

    // The main resource ignores status, as with any status subresource.
    await kube.mergePatch(type, key, { status: { phase: 'Failed' } });
    const cleared = await kube.patchStatus(type, key, { canaryWeight: null });
    expect(cleared['status']).toMatchObject({ phase: 'Progressing' });
    expect((cleared['status'] as Record<string, unknown>)['canaryWeight']).toBeUndefined();
  });

  it('maps 404, 409 and 422 to typed errors carrying the API server message', async () => {
    const ns = await createTestNamespace('kube-errors');
    const kube = client();

    const notFound = await errorOf(
      kube.mergePatch(Resources.configMap, { namespace: ns, name: 'missing' }, { data: {} }),
    );
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect((notFound as Error).message).toMatch(/configmaps "missing" not found/);

    await kube.create(configMap(ns, 'dup'));
    const exists = await errorOf(kube.create(configMap(ns, 'dup')));
    expect(exists).toBeInstanceOf(AlreadyExistsError);
    expect((exists as Error).message).toMatch(/configmaps "dup" already exists/);

    const stale = await errorOf(
      kube.mergePatch(
        Resources.configMap,
        { namespace: ns, name: 'dup' },
        { metadata: { resourceVersion: '1' }, data: { x: 'y' } },
      ),
    );
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as Error).message).toMatch(/the object has been modified/);

    const noSelector = deployment(ns, 'broken');
    delete (noSelector['spec'] as Record<string, unknown>)['selector'];
    const invalid = await errorOf(kube.create(noSelector));
    expect(invalid).toBeInstanceOf(InvalidObjectError);
    expect((invalid as Error).message).toMatch(/spec.selector: Required value/);

    const { type, object } = await statusCapableType();
    await kube.create(object(ns, 'c'));
    const badPhase = await errorOf(kube.patchStatus(type, { namespace: ns, name: 'c' }, { phase: 'Bogus' }));
    expect(badPhase).toBeInstanceOf(InvalidObjectError);
    expect((badPhase as Error).message).toMatch(/Unsupported value: "Bogus"/);
  });

  it('informer lists, then sees add, update and delete; its objects are frozen plain JSON', async () => {
    const ns = await createTestNamespace('kube-informer');
    const kube = client();
    await kube.create(configMap(ns, 'before', { v: '0' }));
    const informer = kube.informer(Resources.configMap, ns);
    expect(kube.informer(Resources.configMap, ns)).toBe(informer);
    const events: string[] = [];
    informer.onChange((e, o) => events.push(`${e}:${o.metadata.name}`));
    await informer.synced();
    const before = informer.get({ name: 'before' });
    expect(before?.kind).toBe('ConfigMap');
    expect(typeof before?.metadata.creationTimestamp).toBe('string');
    expect(Object.isFrozen(before)).toBe(true);

    await kube.create(configMap(ns, 'new', { v: '1' }));
    await kube.mergePatch(Resources.configMap, { namespace: ns, name: 'before' }, { data: { v: '2' } });
    await kube.delete(Resources.configMap, { namespace: ns, name: 'new' });
    await waitFor(() => events.includes('delete:new'), {
      describe: 'the informer to see the delete',
      timeoutMs: 15_000,
    });
    expect(events.filter((e) => !e.includes(':kube-root-ca'))).toEqual([
      'add:before',
      'add:new',
      'update:before',
      'delete:new',
    ]);
    expect(dataOf(informer.get({ name: 'before' }))).toEqual({ v: '2' });
    expect(informer.health()).toMatchObject({ synced: true, watching: true, consecutiveFailures: 0 });
    informer.stop();
  });

  it('with a watch scope, namespaces share one informer and see only their own objects', async () => {
    const a = await createTestNamespace('kube-scope-a');
    const b = await createTestNamespace('kube-scope-b');
    const kube = client({ watchScope: {} });
    const viewA = kube.informer(Resources.configMap, a);
    const viewB = kube.informer(Resources.configMap, b);
    const all = kube.informer(Resources.configMap);
    expect(kube.informer(Resources.configMap, a)).toBe(viewA);
    const seenA: string[] = [];
    viewA.onChange((e, o) => seenA.push(`${e}:${o.metadata.namespace}/${o.metadata.name}`));
    await kube.create(configMap(a, 'in-a', { v: 'a' }));
    await kube.create(configMap(b, 'in-b', { v: 'b' }));
    await Promise.all([viewA.synced(), viewB.synced()]);
    await waitFor(() => all.get({ namespace: b, name: 'in-b' }), { describe: 'the shared informer to see in-b' });
    await waitFor(() => seenA.includes(`add:${a}/in-a`), { describe: 'view a to see in-a', timeoutMs: 15_000 });

    expect(dataOf(viewA.get({ name: 'in-a' }))).toEqual({ v: 'a' });
    expect(viewA.get({ name: 'in-b' })).toBeUndefined();
    expect(viewB.list().map((o) => o.metadata.name)).toContain('in-b');
    expect(viewB.list().every((o) => o.metadata.namespace === b)).toBe(true);
    expect(seenA.every((s) => s.includes(`:${a}/`))).toBe(true);
    // One watch serves both: stopping a view does not stop the shared informer.
    viewA.stop();
    await kube.create(configMap(b, 'later', { v: 'c' }));
    await waitFor(() => viewB.get({ name: 'later' }), { describe: 'view b to see a later object', timeoutMs: 15_000 });
  });

  it('informer keeps up when the server ends every watch after 1 s', async () => {
    const ns = await createTestNamespace('kube-shortwatch');
    const kube = client({ informer: { watchTimeoutSeconds: 1, minWatchMs: 0 } });
    const informer = kube.informer(Resources.configMap, ns);
    await informer.synced();
    for (let i = 0; i < 4; i++) {
      await kube.create(configMap(ns, `cm-${i}`));
      await new Promise((r) => setTimeout(r, 700));
    }
    await waitFor(() => informer.list().filter((o) => o.metadata.name.startsWith('cm-')).length === 4, {
      describe: 'four ConfigMaps across several watches',
      timeoutMs: 15_000,
    });
    expect(informer.health().consecutiveFailures).toBe(0);
    informer.stop();
  });

  it('informer recovers after its connection is cut and catches up on changes made meanwhile', async () => {
    const ns = await createTestNamespace('kube-recover');
    const direct = client();
    const proxy = await TcpProxy.start(serverOf(kubeconfigPath()));
    onTestFinished(() => proxy.close());
    const viaProxy = client({
      kubeconfig: proxiedKubeconfig(kubeconfigPath(), proxy.url),
      informer: { minWatchMs: 0 },
    });

    await direct.create(configMap(ns, 'keep', { v: '1' }));
    await direct.create(configMap(ns, 'doomed'));
    const informer: Informer = viaProxy.informer(Resources.configMap, ns);
    await informer.synced();
    const events: string[] = [];
    informer.onChange((e, o) => events.push(`${e}:${o.metadata.name}`));

    proxy.cut();
    await waitFor(() => informer.health().consecutiveFailures > 0, {
      describe: 'the informer to notice the broken connection',
      timeoutMs: 40_000,
    });
    expect(informer.health().watching).toBe(false);
    await direct.mergePatch(Resources.configMap, { namespace: ns, name: 'keep' }, { data: { v: '2' } });
    await direct.delete(Resources.configMap, { namespace: ns, name: 'doomed' });
    await direct.create(configMap(ns, 'born'));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(dataOf(informer.get({ name: 'keep' }))).toEqual({ v: '1' }); // still cut off

    proxy.restore();
    await waitFor(
      () => informer.get({ name: 'born' }) !== undefined && informer.get({ name: 'doomed' }) === undefined,
      {
        describe: 'the informer to catch up after the outage',
        timeoutMs: 60_000,
      },
    );
    expect(dataOf(informer.get({ name: 'keep' }))).toEqual({ v: '2' });
    expect(events).toEqual(expect.arrayContaining(['update:keep', 'delete:doomed', 'add:born']));
    await waitFor(() => informer.health().watching && informer.health().consecutiveFailures === 0, {
      describe: 'the informer to report itself healthy again',
      timeoutMs: 10_000,
    });
    informer.stop();
  });

  it('aggregates repeated Events like client-go (count and lastTimestamp on one Event)', async () => {
    const ns = await createTestNamespace('kube-events');
    const kube = client({ eventInstance: 'e2e-pod' });
    const involved = await kube.create(configMap(ns, 'subject'));
    for (let i = 0; i < 3; i++) {
      await kube.recordEvent({ involved, type: 'Normal', reason: 'Synced', message: 'same message' });
    }
    await kube.recordEvent({ involved, type: 'Warning', reason: 'Synced', message: 'another message' });
    const events = (await kube.list(Resources.event, { namespace: ns })).filter(
      (e) => (e['involvedObject'] as { name?: string }).name === 'subject',
    );
    expect(events).toHaveLength(2);
    const same = events.find((e) => e['message'] === 'same message');
    expect(same).toMatchObject({
      count: 3,
      type: 'Normal',
      reason: 'Synced',
      source: { component: 'fledge' },
      reportingComponent: 'fledge',
      reportingInstance: 'e2e-pod',
      involvedObject: {
        kind: 'ConfigMap',
        name: 'subject',
        namespace: ns,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
    });
    expect(String(same?.['eventTime'])).toMatch(/\.\d{6}Z$/);
    const viaKubectl = await kubectlJson<{ items: { message: string; count: number }[] }>(['get', 'events'], {
      namespace: ns,
    });
    expect(viaKubectl.items.find((e) => e.message === 'same message')?.count).toBe(3);
  });

  describe('leader election between two clients', () => {
    const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

    async function race(
      ns: string,
      releaseOnStop: boolean,
    ): Promise<{ a: LeaderElector; b: LeaderElector; overlaps: () => number }> {
      const make = (identity: string): LeaderElector =>
        new LeaderElector({
          kube: client(),
          namespace: ns,
          identity,
          log: silentLogger,
          releaseOnStop,
          onStartedLeading: () => undefined,
          ...timing,
        });
      const a = make('replica-a');
      const b = make('replica-b');
      let overlaps = 0;
      const probe = setInterval(() => {
        if (a.isLeader() && b.isLeader()) overlaps++;
      }, 20);
      onTestFinished(async () => {
        clearInterval(probe);
        await Promise.all([a.stop(), b.stop()]);
      });
      a.start();
      b.start();
      await waitFor(() => a.isLeader() || b.isLeader(), { describe: 'a leader', timeoutMs: 15_000 });
      return { a, b, overlaps: () => overlaps };
    }

    const holder = async (ns: string): Promise<{ holderIdentity?: string; leaseTransitions?: number }> =>
      (
        await kubectlJson<{ spec: { holderIdentity?: string; leaseTransitions?: number } }>(
          ['get', 'lease', 'fledge-leader-election'],
          { namespace: ns },
        )
      ).spec;

    it('only one leads; after it releases on stop the other takes over at once', async () => {
      const ns = await createTestNamespace('kube-leader');
      const { a, b, overlaps } = await race(ns, true);
      await new Promise((r) => setTimeout(r, 4_000)); // several renewals
      const [leader, other] = a.isLeader() ? [a, b] : [b, a];
      expect(other.isLeader()).toBe(false);
      expect((await holder(ns)).holderIdentity).toBe(leader.identity);
      const stoppedAt = Date.now();
      await leader.stop();
      await waitFor(() => other.isLeader(), { describe: 'the other replica to lead', timeoutMs: 10_000 });
      expect(Date.now() - stoppedAt).toBeLessThan(timing.leaseDurationMs); // released, not expired
      expect(await holder(ns)).toMatchObject({ holderIdentity: other.identity, leaseTransitions: 1 });
      expect(overlaps()).toBe(0);
    });

    it('when the leader dies without releasing, the other takes over after the lease expires', async () => {
      const ns = await createTestNamespace('kube-leader-crash');
      const { a, b, overlaps } = await race(ns, false);
      const [leader, other] = a.isLeader() ? [a, b] : [b, a];
      await leader.stop();
      const lease = await holder(ns);
      expect(lease.holderIdentity).toBe(leader.identity); // not released
      const stoppedAt = Date.now();
      await waitFor(() => other.isLeader(), { describe: 'the other replica to lead', timeoutMs: 15_000 });
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(timing.leaseDurationMs - 1_000);
      expect((await holder(ns)).holderIdentity).toBe(other.identity);
      expect(overlaps()).toBe(0);
    });
  });
});

/** The `server:` of a kubeconfig file. */
function serverOf(kubeconfig: string): URL {
  const match = /^\s*server:\s*(\S+)\s*$/m.exec(readFileSync(kubeconfig, 'utf8'));
  if (!match?.[1]) throw new Error(`${kubeconfig}: no server`);
  return new URL(match[1]);
}

/** A copy of the kubeconfig pointing at `url` (same certificates: the proxy passes TLS through). */
function proxiedKubeconfig(kubeconfig: string, url: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fledge-proxy-')), 'kubeconfig');
  writeFileSync(file, readFileSync(kubeconfig, 'utf8').replace(/^(\s*server:\s*)\S+\s*$/m, `$1${url}`), {
    mode: 0o600,
  });
  return file;
}

/** A TCP pass-through to the API server that can drop all connections and refuse new ones. */
class TcpProxy {
  readonly url: string;
  readonly #server: net.Server;
  readonly #sockets: Set<net.Socket>;
  readonly #state: { down: boolean };

  private constructor(server: net.Server, url: string, sockets: Set<net.Socket>, state: { down: boolean }) {
    this.#server = server;
    this.url = url;
    this.#sockets = sockets;
    this.#state = state;
  }

  static async start(target: URL): Promise<TcpProxy> {
    const sockets = new Set<net.Socket>();
    const state = { down: false };
    const track = (s: net.Socket): void => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    };
    const server = net.createServer((downstream) => {
      track(downstream);
      if (state.down) {
        downstream.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port || 443), target.hostname);
      track(upstream);
      downstream.pipe(upstream).pipe(downstream);
      downstream.on('close', () => upstream.destroy());
      upstream.on('close', () => downstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, target.hostname, resolve));
    const { port } = server.address() as net.AddressInfo;
    return new TcpProxy(server, `${target.protocol}//${target.hostname}:${port}`, sockets, state);
  }

  /** Drops every open connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.#state.down = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#state.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
