// Proves the local control plane has every mesh's real CRD (test/cluster/README.md, "Mesh CRDs"):
// each is Established and serves the versions Flagger's routers use, an object shaped as the router
// writes it is accepted with strict field validation (no field unknown to the schema) and stored
// unchanged, and the same object with one wrong field is rejected by the API server's schema.
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestNamespace, kubectl, kubectlJson } from './support/index.ts';

type Path = readonly (string | number)[];

/** One kind a router writes, with a valid object and a one-field change its schema rejects. */
interface MeshKind {
  readonly title: string;
  readonly crd: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly clusterScoped?: boolean;
  /** Everything but apiVersion, kind and metadata: usually `{ spec }`. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Where the wrong value goes; `undefined` removes the field. */
  readonly wrong: { readonly path: Path; readonly value: unknown };
  /** The API server's complaint (after `The <Kind> "<name>" is invalid:`). */
  readonly rejection: RegExp;
}

interface Crd {
  metadata: { name: string };
  spec: { scope: string; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A deep copy of `body` with `value` at `path` (removed when `value` is undefined). */
function withValue(body: Readonly<Record<string, unknown>>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body) as Record<string, unknown>;
  let node: unknown = copy;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node)) throw new Error(`no object at ${path.join('.')}`);
    node = (node as Record<string | number, unknown>)[key];
  }
  const last = path.at(-1);
  if (!isRecord(node) || last === undefined) throw new Error(`no object at ${path.join('.')}`);
  const parent = node as Record<string | number, unknown>;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

const split = (primary: unknown, canary: unknown): unknown[] => [
  { service: 'podinfo-primary', weight: primary },
  { service: 'podinfo-canary', weight: canary },
];
const httpRouteSpec = {
  parentRefs: [{ name: 'public', namespace: 'gateway' }],
  hostnames: ['app.example.com'],
  rules: [
    {
      backendRefs: [
        { name: 'podinfo-primary', port: 9898, weight: 90 },
        { name: 'podinfo-canary', port: 9898, weight: 10 },
      ],
    },
  ],
};
const kumaService = (name: string): Record<string, string> => ({ 'kuma.io/service': `${name}_test_svc_9898` });

const kinds: readonly MeshKind[] = [
  {
    title: 'istio VirtualService',
    crd: 'virtualservices.networking.istio.io',
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    body: {
      spec: {
        hosts: ['podinfo'],
        gateways: ['mesh'],
        http: [
          {
            route: [
              { destination: { host: 'podinfo-primary' }, weight: 90 },
              { destination: { host: 'podinfo-canary' }, weight: 10 },
            ],
          },
        ],
      },
    },
    wrong: { path: ['spec', 'http', 0, 'route', 0, 'weight'], value: 'ninety' },
    rejection: /spec\.http\[0\]\.route\[0\]\.weight: Invalid value: "string": .*must be of type integer/,
  },
  {
    title: 'istio DestinationRule',
    crd: 'destinationrules.networking.istio.io',
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    body: { spec: { host: 'podinfo-canary', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } } },
    wrong: { path: ['spec', 'trafficPolicy', 'tls', 'mode'], value: 'SOMETIMES' },
    rejection: /spec\.trafficPolicy\.tls\.mode: Unsupported value: "SOMETIMES"/,
  },
  {
    title: 'SMI TrafficSplit v1alpha1 (linkerd)',
    crd: 'trafficsplits.split.smi-spec.io',
    apiVersion: 'split.smi-spec.io/v1alpha1',
    kind: 'TrafficSplit',
    body: { spec: { service: 'podinfo', backends: split('90', '10') } },
    wrong: { path: ['spec', 'backends', 0, 'weight'], value: 'ninety' },
    rejection: /spec\.backends\[0\]\.weight: Invalid value: "ninety": spec\.backends\[0\]\.weight in body should match/,
  },
  {
    title: 'SMI TrafficSplit v1alpha2 (osm)',
    crd: 'trafficsplits.split.smi-spec.io',
    apiVersion: 'split.smi-spec.io/v1alpha2',
    kind: 'TrafficSplit',
    body: { spec: { service: 'podinfo', backends: split(90, 10) } },
    wrong: { path: ['spec', 'backends', 1, 'weight'], value: '10' },
    rejection: /spec\.backends\[1\]\.weight: Invalid value: "string": .*must be of type integer/,
  },
  {
    title: 'SMI TrafficSplit v1alpha3',
    crd: 'trafficsplits.split.smi-spec.io',
    apiVersion: 'split.smi-spec.io/v1alpha3',
    kind: 'TrafficSplit',
    body: { spec: { service: 'podinfo', backends: split(90, 10) } },
    wrong: { path: ['spec', 'backends', 0, 'service'], value: undefined },
    rejection: /spec\.backends\[0\]\.service: Required value/,
  },
  {
    title: 'Gateway API HTTPRoute v1',
    crd: 'httproutes.gateway.networking.k8s.io',
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    body: { spec: httpRouteSpec },
    wrong: { path: ['spec', 'rules', 0, 'backendRefs', 1, 'weight'], value: -10 },
    rejection: /spec\.rules\[0\]\.backendRefs\[1\]\.weight: Invalid value: -10: .*greater than or equal to 0/,
  },
  {
    title: 'Gateway API HTTPRoute v1beta1',
    crd: 'httproutes.gateway.networking.k8s.io',
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'HTTPRoute',
    body: { spec: httpRouteSpec },
    wrong: { path: ['spec', 'rules', 0, 'backendRefs', 0, 'port'], value: 70000 },
    rejection: /spec\.rules\[0\]\.backendRefs\[0\]\.port: Invalid value: 70000: .*less than or equal to 65535/,
  },
  {
    title: 'App Mesh VirtualNode',
    crd: 'virtualnodes.appmesh.k8s.aws',
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualNode',
    body: {
      spec: {
        listeners: [
          {
            portMapping: { port: 9898, protocol: 'http' },
            timeout: { http: { perRequest: { unit: 's', value: 15 } } },
          },
        ],
        serviceDiscovery: { dns: { hostname: 'podinfo-canary.test.svc.cluster.local.' } },
        podSelector: { matchLabels: { app: 'podinfo' } },
        backends: [{ virtualService: { virtualServiceRef: { name: 'backend' } } }],
        logging: { accessLog: { file: { path: '/dev/stdout' } } },
      },
    },
    wrong: { path: ['spec', 'listeners', 0, 'portMapping', 'protocol'], value: 'smtp' },
    rejection: /spec\.listeners\[0\]\.portMapping\.protocol: Unsupported value: "smtp"/,
  },
  {
    title: 'App Mesh VirtualRouter',
    crd: 'virtualrouters.appmesh.k8s.aws',
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualRouter',
    body: {
      spec: {
        listeners: [{ portMapping: { port: 9898, protocol: 'http' } }],
        routes: [
          {
            name: 'podinfo',
            priority: 10,
            httpRoute: {
              match: { prefix: '/', headers: [{ name: 'x-canary', match: { exact: 'insider' } }] },
              action: {
                weightedTargets: [
                  { virtualNodeRef: { name: 'podinfo-primary' }, weight: 90 },
                  { virtualNodeRef: { name: 'podinfo-canary' }, weight: 10 },
                ],
              },
              retryPolicy: {
                httpRetryEvents: ['server-error'],
                maxRetries: 2,
                perRetryTimeout: { unit: 'ms', value: 500 },
              },
              timeout: { perRequest: { unit: 's', value: 15 } },
            },
          },
        ],
      },
    },
    wrong: { path: ['spec', 'routes', 0, 'httpRoute', 'action', 'weightedTargets', 1, 'weight'], value: 110 },
    rejection: /weightedTargets\[1\]\.weight: Invalid value: 110: .*less than or equal to 100/,
  },
  {
    title: 'App Mesh VirtualService',
    crd: 'virtualservices.appmesh.k8s.aws',
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualService',
    body: {
      spec: {
        awsName: 'podinfo.test',
        provider: { virtualRouter: { virtualRouterRef: { name: 'podinfo-router' } } },
      },
    },
    wrong: { path: ['spec', 'provider', 'virtualRouter', 'virtualRouterRef', 'name'], value: undefined },
    rejection: /spec\.provider\.virtualRouter\.virtualRouterRef\.name: Required value/,
  },
  {
    title: 'Contour HTTPProxy',
    crd: 'httpproxies.projectcontour.io',
    apiVersion: 'projectcontour.io/v1',
    kind: 'HTTPProxy',
    body: {
      spec: {
        routes: [
          {
            conditions: [{ prefix: '/' }],
            services: [
              { name: 'podinfo-primary', port: 9898, weight: 90 },
              { name: 'podinfo-canary', port: 9898, weight: 10 },
            ],
            timeoutPolicy: { response: '15s' },
            retryPolicy: { count: 2, perTryTimeout: '5s' },
          },
        ],
      },
    },
    wrong: { path: ['spec', 'routes', 0, 'services', 0, 'port'], value: 0 },
    rejection: /spec\.routes\[0\]\.services\[0\]\.port: Invalid value: 0: .*greater than or equal to 1/,
  },
  {
    title: 'Gloo Upstream',
    crd: 'upstreams.gloo.solo.io',
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    body: { spec: { kube: { serviceName: 'podinfo-canary', serviceNamespace: 'test', servicePort: 9898 } } },
    wrong: { path: ['spec', 'kube', 'servicePort'], value: 'http' },
    rejection: /spec\.kube\.servicePort: Invalid value: "string": .*must be of type integer/,
  },
  {
    title: 'Gloo RouteTable',
    crd: 'routetables.gateway.solo.io',
    apiVersion: 'gateway.solo.io/v1',
    kind: 'RouteTable',
    body: {
      spec: {
        routes: [
          {
            matchers: [{ prefix: '/' }],
            routeAction: {
              multi: {
                destinations: [
                  {
                    destination: { upstream: { name: 'test-podinfo-primaryupstream-9898', namespace: 'test' } },
                    weight: 90,
                  },
                  {
                    destination: { upstream: { name: 'test-podinfo-canaryupstream-9898', namespace: 'test' } },
                    weight: 10,
                  },
                ],
              },
            },
          },
        ],
      },
    },
    wrong: { path: ['spec', 'routes', 0, 'routeAction', 'multi', 'destinations', 0, 'weight'], value: 'ninety' },
    rejection: /destinations\[0\]\.weight: Invalid value: "string": .*must be of type integer/,
  },
  {
    title: 'Traefik TraefikService',
    crd: 'traefikservices.traefik.io',
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'TraefikService',
    body: {
      spec: {
        weighted: {
          services: [
            { name: 'podinfo-primary', port: 80, weight: 90 },
            { name: 'podinfo-canary', port: 80, weight: 10 },
          ],
        },
      },
    },
    wrong: { path: ['spec', 'weighted', 'services', 1, 'weight'], value: -1 },
    rejection: /spec\.weighted\.services\[1\]\.weight: Invalid value: -1: .*greater than or equal to 0/,
  },
  {
    title: 'Kuma TrafficRoute',
    crd: 'trafficroutes.kuma.io',
    apiVersion: 'kuma.io/v1alpha1',
    kind: 'TrafficRoute',
    clusterScoped: true,
    body: {
      mesh: 'default',
      spec: {
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: kumaService('podinfo') }],
        conf: {
          split: [
            { weight: 90, destination: kumaService('podinfo-primary') },
            { weight: 10, destination: kumaService('podinfo-canary') },
          ],
        },
      },
    },
    wrong: { path: ['spec', 'conf', 'split', 0, 'weight'], value: -90 },
    rejection: /spec\.conf\.split\[0\]\.weight: Invalid value: -90: .*greater than or equal to 0/,
  },
  {
    title: 'APISIX ApisixRoute',
    crd: 'apisixroutes.apisix.apache.org',
    apiVersion: 'apisix.apache.org/v2',
    kind: 'ApisixRoute',
    body: {
      spec: {
        http: [
          {
            name: 'method',
            match: { hosts: ['app.example.com'], methods: ['GET'], paths: ['/*'] },
            backends: [
              { serviceName: 'podinfo-primary', servicePort: 80, weight: 90 },
              { serviceName: 'podinfo-canary', servicePort: 80, weight: 10 },
            ],
          },
        ],
      },
    },
    wrong: { path: ['spec', 'http', 0, 'match', 'paths'], value: undefined },
    rejection: /spec\.http\[0\]\.match\.paths: Required value/,
  },
  {
    title: 'Knative Service',
    crd: 'services.serving.knative.dev',
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    body: {
      spec: {
        template: { spec: { containers: [{ image: 'ghcr.io/stefanprodan/podinfo:6.0.0' }] } },
        traffic: [
          { revisionName: 'podinfo-00001', percent: 90 },
          { latestRevision: true, percent: 10 },
        ],
      },
    },
    wrong: { path: ['spec', 'traffic', 1, 'percent'], value: 'ten' },
    rejection: /spec\.traffic\[1\]\.percent: Invalid value: "string": .*must be of type integer/,
  },
  {
    title: 'KEDA ScaledObject',
    crd: 'scaledobjects.keda.sh',
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    body: {
      spec: {
        scaleTargetRef: { name: 'podinfo-primary' },
        minReplicaCount: 1,
        maxReplicaCount: 4,
        triggers: [
          {
            type: 'prometheus',
            metadata: { serverAddress: 'http://prometheus:9090', query: 'sum(rate(x[1m]))', threshold: '10' },
          },
        ],
      },
    },
    wrong: { path: ['spec', 'triggers'], value: undefined },
    rejection: /spec\.triggers: Required value/,
  },
];

/** `kubectl create` of one object; cluster-scoped ones are deleted when the test ends. */
async function create(
  k: MeshKind,
  name: string,
  body: Readonly<Record<string, unknown>>,
  opts: { namespace: string; validate: 'strict' | 'false' },
): Promise<{ exitCode: number; stderr: string }> {
  const object = { apiVersion: k.apiVersion, kind: k.kind, metadata: { name }, ...body };
  const result = await kubectl(['create', `--validate=${opts.validate}`, '-f', '-'], {
    ...(k.clusterScoped ? {} : { namespace: opts.namespace }),
    input: JSON.stringify(object),
    allowFailure: true,
  });
  if (k.clusterScoped && result.exitCode === 0) {
    onTestFinished(async () => {
      await kubectl(['delete', `${k.crd}`, name, '--ignore-not-found', '--wait=false']);
    });
  }
  return result;
}

describe('mesh CRDs in the local control plane', () => {
  it('are Established and serve the versions the routers write', async () => {
    const names = [...new Set(kinds.map((k) => k.crd))];
    const crds = await kubectlJson<{ items: Crd[] }>(['get', 'crd', ...names]);
    const byName = new Map(crds.items.map((c) => [c.metadata.name, c]));
    for (const k of kinds) {
      const crd = byName.get(k.crd);
      expect(crd, k.crd).toBeDefined();
      const established = crd?.status?.conditions?.find((c) => c.type === 'Established')?.status;
      expect(established, `${k.crd} Established`).toBe('True');
      const version = k.apiVersion.split('/')[1];
      expect(crd?.spec.versions.find((v) => v.name === version)?.served, `${k.apiVersion} served`).toBe(true);
      expect(crd?.spec.scope, `${k.crd} scope`).toBe(k.clusterScoped ? 'Cluster' : 'Namespaced');
    }
  });

  it.each(kinds)('$title: accepts what the router writes and rejects a wrong field', async (k) => {
    const namespace = await createTestNamespace('mesh-crds');
    // Cluster-scoped names must not collide between runs: the namespace name is random.
    const name = k.clusterScoped ? namespace : 'podinfo';

    // --validate=strict: the API server refuses any field its schema doesn't know.
    const accepted = await create(k, name, k.body, { namespace, validate: 'strict' });
    expect(accepted.stderr).toBe('');
    expect(accepted.exitCode).toBe(0);
    const stored = await kubectlJson<Record<string, unknown>>(
      ['get', `${k.crd}`, name],
      k.clusterScoped ? {} : { namespace },
    );
    expect(stored).toMatchObject(k.body);

    // --validate=false: no client-side checks; the rejection is the schema's.
    const bad = `${name}-bad`;
    const rejected = await create(k, bad, withValue(k.body, k.wrong.path, k.wrong.value), {
      namespace,
      validate: 'false',
    });
    expect(rejected.exitCode).not.toBe(0);
    expect(rejected.stderr).toContain(`The ${k.kind} "${bad}" is invalid`);
    expect(rejected.stderr).toMatch(k.rejection);
  });
});
