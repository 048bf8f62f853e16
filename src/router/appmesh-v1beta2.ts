/**
 * The router of provider `appmesh:v1beta2` (Flagger pkg/router/appmesh_v1beta2.go
 * AppMeshv1beta2Router), objects of `appmesh.k8s.aws/v1beta2`:
 * - VirtualNodes `<apex>-primary` and `<apex>-canary`, selecting the primary's and the target's
 *   pods, discovered by DNS as the `-primary` / `-canary` Services;
 * - VirtualRouter + VirtualService `<apex>`: the weighted split (A/B: a header route to the split,
 *   then everything else to the primary);
 * - VirtualRouter + VirtualService `<apex>-canary`: everything to the canary node, so that the
 *   `-canary` host reaches the canary inside the mesh.
 *
 * Weights and A/B by headers; no mirroring or session affinity (Flagger's matrix). `meshRef` and
 * `awsName`, which the App Mesh controller's webhook sets, are left alone.
 */
import { serviceNames } from '../apis/flagger/v1beta1/defaults.ts';
import type { Canary } from '../apis/flagger/v1beta1/types.ts';
import { firstRouteTargets } from '../apis/appmesh/read.ts';
import {
  API_VERSION,
  type Backend,
  CONTROLLER_FIELDS,
  type Route,
  type VirtualNode,
  type VirtualRouter,
  type VirtualService,
  type WeightedTarget,
} from '../apis/appmesh/v1beta2/types.ts';
import type { TargetMetadata } from '../canary/target.ts';
import type { Ctx } from '../core/context.ts';
import type { KubeObject, ObjectKey } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
  APP_MESH_CAPABILITIES,
  ACCESS_LOG_PATH,
  AB_PRIORITY,
  DEFAULT_PRIORITY,
  abHeaders,
  accessLogEnabled,
  containerPort,
  dnsHostname,
  gatewayAnnotations,
  protocolOf,
  retryPolicy,
  routePrefix,
  timeoutMs,
  twoTargetWeights,
} from './appmesh.ts';
import { canaryService } from './kubernetes-services.ts';
import { namespaceOf, type ObjectWriter, ownedMetadata, type Typed, WeightedObjectRouter } from './mesh-object.ts';
import type { RouterCapabilities, Weights } from './router.ts';

function backends(canary: Canary): Backend[] {
  return (canaryService(canary).backends ?? []).map((b) =>
    b.startsWith('arn:aws')
      ? { virtualService: { virtualServiceARN: b } }
      : { virtualService: { virtualServiceRef: { name: b } } },
  );
}

/**
 * The VirtualNode of one side (Flagger `reconcileVirtualNode`). Pure. The pods are selected by the
 * target's selector label: `<value>-primary` for the primary, `<value>` for the canary.
 */
export function buildVirtualNode(canary: Canary, meta: TargetMetadata, side: 'primary' | 'canary'): VirtualNode {
  const name = serviceNames(canary)[side];
  const timeout = timeoutMs(canary);
  const nodeBackends = backends(canary);
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualNode',
    metadata: ownedMetadata(canary, name),
    spec: {
      podSelector: {
        matchLabels: { [meta.labelKey]: side === 'primary' ? `${meta.labelValue}-primary` : meta.labelValue },
      },
      listeners: [
        {
          portMapping: { port: containerPort(canary), protocol: protocolOf(canary) },
          ...(timeout === undefined ? {} : { timeout: { http: { perRequest: { unit: 'ms', value: timeout } } } }),
        },
      ],
      serviceDiscovery: { dns: { hostname: dnsHostname(canary, name) } },
      ...(nodeBackends.length > 0 ? { backends: nodeBackends } : {}),
      ...(accessLogEnabled(canary) ? { logging: { accessLog: { file: { path: ACCESS_LOG_PATH } } } } : {}),
    },
  };
}

function targets(canary: Canary, weights: Weights): WeightedTarget[] {
  const names = serviceNames(canary);
  return [
    { virtualNodeRef: { name: names.canary }, weight: weights.canary },
    { virtualNodeRef: { name: names.primary }, weight: weights.primary },
  ];
}

/**
 * The VirtualRouter `<apex>` (at `weights`) or `<apex>-canary` (everything to the canary), as
 * Flagger's `reconcileVirtualRouter` + `SetRoutes` write them. Pure.
 */
export function buildVirtualRouter(canary: Canary, which: 'apex' | 'canary', weights: Weights): VirtualRouter {
  const names = serviceNames(canary);
  const name = names[which];
  const timeout = timeoutMs(canary);
  const retries = retryPolicy(canary);
  const http = (weighted: readonly WeightedTarget[], headers?: ReturnType<typeof abHeaders>): Route['httpRoute'] => ({
    match: { prefix: routePrefix(canary), ...(headers === undefined ? {} : { headers }) },
    ...(timeout === undefined ? {} : { timeout: { perRequest: { unit: 'ms', value: timeout } } }),
    ...(retries === undefined
      ? {}
      : {
          retryPolicy: {
            perRetryTimeout: { unit: 'ms', value: retries.perTryMs },
            maxRetries: retries.attempts,
            httpRetryEvents: retries.events,
          },
        }),
    action: { weightedTargets: weighted },
  });
  const headers = which === 'apex' ? abHeaders(canary) : [];
  const routes: Route[] =
    headers.length > 0
      ? [
          { name: `${names.apex}-a`, priority: AB_PRIORITY, httpRoute: http(targets(canary, weights), headers) },
          {
            name: `${names.apex}-b`,
            priority: DEFAULT_PRIORITY,
            httpRoute: http([{ virtualNodeRef: { name: names.primary }, weight: 100 }]),
          },
        ]
      : [{ name, httpRoute: http(targets(canary, weights)) }];
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualRouter',
    metadata: ownedMetadata(canary, name),
    spec: { listeners: [{ portMapping: { port: containerPort(canary), protocol: protocolOf(canary) } }], routes },
  };
}

/** The VirtualService `<apex>` (with the gateway annotations) or `<apex>-canary`, provided by its router. Pure. */
export function buildVirtualService(canary: Canary, which: 'apex' | 'canary'): VirtualService {
  const name = serviceNames(canary)[which];
  const meta = ownedMetadata(canary, name);
  const gateway = which === 'apex' ? gatewayAnnotations(canary) : {};
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualService',
    metadata: { ...meta, annotations: { ...meta.annotations, ...gateway } },
    spec: { provider: { virtualRouter: { virtualRouterRef: { name } } } },
  };
}

/** The split of the first route of VirtualRouter `<apex>` (Flagger GetRoutes): both targets needed. */
export function virtualRouterWeights(canary: Canary, obj: KubeObject): Weights | undefined {
  return twoTargetWeights(canary, firstRouteTargets(obj['spec'], 'httpRoute'));
}

/** Options of the App Mesh routers. */
export interface AppMeshRouterOptions extends ObjectWriter {
  /** The target's selector label, which the VirtualNodes select pods by. */
  readonly metadata: (ctx: Ctx, canary: Canary) => TargetMetadata;
}

/** Splits traffic with App Mesh v1beta2 VirtualNodes, VirtualRouters and VirtualServices. */
export class AppMeshV1beta2Router extends WeightedObjectRouter {
  override readonly capabilities: RouterCapabilities = APP_MESH_CAPABILITIES;
  protected readonly provider = 'appmesh:v1beta2';
  protected readonly type = Resources.appMeshVirtualRouter;
  protected override readonly ignoreSpec = CONTROLLER_FIELDS;
  readonly #metadata: AppMeshRouterOptions['metadata'];

  constructor(o: AppMeshRouterOptions) {
    super(o);
    this.#metadata = o.metadata;
  }

  protected key(canary: Canary): ObjectKey {
    return { namespace: namespaceOf(canary), name: serviceNames(canary).apex };
  }

  protected weightsOf(canary: Canary, obj: KubeObject): Weights | undefined {
    return virtualRouterWeights(canary, obj);
  }

  protected desired(_ctx: Ctx, canary: Canary, weights: Weights): Promise<KubeObject> {
    return Promise.resolve(buildVirtualRouter(canary, 'apex', weights));
  }

  /** The nodes, the canary's router and both virtual services. */
  protected override companions(ctx: Ctx, canary: Canary): Typed[] {
    const meta = this.#metadata(ctx, canary);
    const toCanary = { primary: 0, canary: 100, mirrored: false };
    return [
      { type: Resources.appMeshVirtualNode, obj: buildVirtualNode(canary, meta, 'primary') },
      { type: Resources.appMeshVirtualNode, obj: buildVirtualNode(canary, meta, 'canary') },
      { type: Resources.appMeshVirtualService, obj: buildVirtualService(canary, 'apex') },
      { type: Resources.appMeshVirtualRouter, obj: buildVirtualRouter(canary, 'canary', toCanary) },
      { type: Resources.appMeshVirtualService, obj: buildVirtualService(canary, 'canary') },
    ];
  }
}
