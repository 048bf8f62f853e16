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
import { OperatorError } from '../core/errors.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import { Resources } from '../kube/resources.ts';
import {
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
} from './appmesh.ts';
import { canaryService } from './kubernetes-services.ts';
import {
  ALL_TO_PRIMARY,
  applyIfChanged,
  checkWeights,
  namespaceOf,
  type ObjectWriter,
  ownedMetadata,
  refuseUnsupported,
} from './mesh-object.ts';
import type { Router, RouterCapabilities, Weights } from './router.ts';

const PROVIDER = 'appmesh:v1beta2';

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
  const names = serviceNames(canary);
  const weighted = firstRouteTargets(obj['spec'], 'httpRoute');
  const primary = weighted.get(names.primary);
  const canaryWeight = weighted.get(names.canary);
  if (weighted.size !== 2 || primary === undefined || canaryWeight === undefined) return undefined;
  if (primary === 0 && canaryWeight === 0) return undefined;
  return { primary, canary: canaryWeight, mirrored: false };
}

/** Options of {@link AppMeshV1beta2Router}. */
export interface AppMeshRouterOptions extends ObjectWriter {
  /** The target's selector label, which the VirtualNodes select pods by. */
  readonly metadata: (ctx: Ctx, canary: Canary) => TargetMetadata;
}

/** Splits traffic with App Mesh v1beta2 VirtualNodes, VirtualRouters and VirtualServices. */
export class AppMeshV1beta2Router implements Router {
  readonly capabilities: RouterCapabilities = {
    weights: true,
    abTesting: true,
    mirroring: false,
    sessionAffinity: false,
  };
  readonly #o: AppMeshRouterOptions;

  constructor(o: AppMeshRouterOptions) {
    this.#o = o;
  }

  /** Creates or updates the six objects; the apex router keeps the weights it carries. */
  async reconcile(ctx: Ctx, canary: Canary): Promise<void> {
    refuseUnsupported(canary, PROVIDER, this.capabilities);
    const meta = this.#o.metadata(ctx, canary);
    const apexRouter = await this.#get(ctx, canary, Resources.appMeshVirtualRouter, 'apex');
    const weights = (apexRouter && virtualRouterWeights(canary, apexRouter)) ?? ALL_TO_PRIMARY;
    // Built first, so an invalid spec writes nothing.
    const desired: [ResourceType, KubeObject][] = [
      [Resources.appMeshVirtualNode, buildVirtualNode(canary, meta, 'primary')],
      [Resources.appMeshVirtualNode, buildVirtualNode(canary, meta, 'canary')],
      [Resources.appMeshVirtualRouter, buildVirtualRouter(canary, 'apex', weights)],
      [Resources.appMeshVirtualService, buildVirtualService(canary, 'apex')],
      [
        Resources.appMeshVirtualRouter,
        buildVirtualRouter(canary, 'canary', { primary: 0, canary: 100, mirrored: false }),
      ],
      [Resources.appMeshVirtualService, buildVirtualService(canary, 'canary')],
    ];
    for (const [type, obj] of desired) {
      const existing = await this.#o.reader.get(ctx, type, { namespace: namespaceOf(canary), name: obj.metadata.name });
      await applyIfChanged(ctx, this.#o, type, { existing, desired: obj, ignoreSpec: CONTROLLER_FIELDS });
    }
  }

  async setRoutes(ctx: Ctx, canary: Canary, weights: Weights): Promise<void> {
    refuseUnsupported(canary, PROVIDER, this.capabilities);
    const name = serviceNames(canary).apex;
    checkWeights(`VirtualRouter ${name}`, weights);
    const existing = await this.#get(ctx, canary, Resources.appMeshVirtualRouter, 'apex');
    if (existing === undefined) throw new OperatorError(`VirtualRouter ${namespaceOf(canary)}/${name} not found`);
    const desired = buildVirtualRouter(canary, 'apex', weights);
    await applyIfChanged(ctx, this.#o, Resources.appMeshVirtualRouter, {
      existing,
      desired,
      weights,
      ignoreSpec: CONTROLLER_FIELDS,
    });
  }

  async getRoutes(ctx: Ctx, canary: Canary): Promise<Weights> {
    const names = serviceNames(canary);
    const existing = await this.#get(ctx, canary, Resources.appMeshVirtualRouter, 'apex');
    if (existing === undefined) throw new OperatorError(`VirtualRouter ${namespaceOf(canary)}/${names.apex} not found`);
    const weights = virtualRouterWeights(canary, existing);
    if (weights === undefined) {
      throw new OperatorError(
        `VirtualRouter ${names.apex} does not contain routes for ${names.primary} and ${names.canary}`,
      );
    }
    return weights;
  }

  /** Nothing to revert: the objects are garbage-collected with the Canary (as Flagger). */
  finalize(_ctx: Ctx, _canary: Canary): Promise<void> {
    return Promise.resolve();
  }

  #get(ctx: Ctx, canary: Canary, type: ResourceType, which: 'apex' | 'canary'): Promise<KubeObject | undefined> {
    return this.#o.reader.get(ctx, type, { namespace: namespaceOf(canary), name: serviceNames(canary)[which] });
  }
}
