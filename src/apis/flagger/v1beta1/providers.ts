/**
 * Which routing fields of a Canary each mesh provider acts on, as data keyed by provider, so a
 * field the chosen provider would drop is reported instead of ignored silently, and a field Flagger
 * honours but Fledge does not implement yet is refused before anything is created.
 */
import { isRecord } from './decode.ts';
import { analysisOf } from './defaults.ts';
import { type Canary, type MeshProvider, isMeshProvider } from './types.ts';

/** The optional spec fields whose meaning depends on the provider. */
export const routingFields = [
  'service.gateways',
  'service.gatewayRefs',
  'service.hosts',
  'service.delegation',
  'service.match',
  'service.rewrite',
  'service.retries',
  'service.headers',
  'service.mirror',
  'service.corsPolicy',
  'service.trafficPolicy',
  'service.timeout',
  'service.backendTimeout',
  'service.meshName',
  'service.backends',
  'analysis.match',
  'analysis.mirror',
  'analysis.mirrorWeight',
  'analysis.sessionAffinity',
  'ingressRef',
  'routeRef',
  'upstreamRef',
] as const;

/** A field of {@link routingFields}, named by its path under `spec` (`analysis` also covers `canaryAnalysis`). */
export type RoutingField = (typeof routingFields)[number];

/** What a provider's router does with the routing fields. */
export interface ProviderFields {
  /** Fields the router applies. Any other routing field that is set is ignored (and reported). */
  readonly uses: readonly RoutingField[];
  /**
   * Fields Flagger applies with this provider but Fledge does not implement yet: a canary setting
   * one is refused (`Unsupported`), since running without it would behave differently.
   */
  readonly notImplemented?: readonly RoutingField[];
}

/** What both Gateway API versions apply (v1 adds timeouts and static mirrors). */
const gatewayApi: readonly RoutingField[] = [
  'service.gatewayRefs',
  'service.hosts',
  'service.match',
  'service.rewrite',
  'service.headers',
  'analysis.match',
  'analysis.mirror',
];
const smi: ProviderFields = { uses: ['service.hosts', 'service.gateways'] };
// App Mesh v1beta2 picks the mesh by namespace selector: only v1beta1 writes service.meshName.
// service.hosts, service.timeout and service.retries also become the gateway annotations.
const appMeshV1beta2: readonly RoutingField[] = [
  'service.backends',
  'service.hosts',
  'service.match',
  'service.retries',
  'service.timeout',
  'analysis.match',
];

/**
 * Per provider, what its router uses (Flagger's routers for the providers Fledge does not
 * implement yet, whose factory entry refuses them anyway; Fledge's routers for the others).
 */
export const providerFields = {
  apisix: { uses: ['routeRef'] },
  appmesh: { uses: ['service.meshName', ...appMeshV1beta2] },
  'appmesh:v1beta2': { uses: appMeshV1beta2 },
  contour: { uses: ['service.match', 'service.retries', 'service.timeout', 'analysis.match'] },
  'gatewayapi:v1': {
    uses: [...gatewayApi, 'service.mirror', 'service.timeout', 'service.backendTimeout', 'analysis.sessionAffinity'],
  },
  'gatewayapi:v1beta1': { uses: [...gatewayApi, 'analysis.sessionAffinity'] },
  gloo: { uses: ['service.match', 'analysis.match', 'upstreamRef'] },
  // Istio applies every routing field but those of other meshes and ingresses.
  istio: {
    uses: routingFields.filter(
      (f) =>
        ![
          'service.gatewayRefs',
          'service.mirror',
          'service.backendTimeout',
          'service.meshName',
          'service.backends',
          'ingressRef',
          'routeRef',
          'upstreamRef',
        ].includes(f),
    ),
  },
  knative: { uses: [] },
  // No routing object: the apex Service always selects the primary (Blue/Green only).
  kubernetes: { uses: [] },
  kuma: { uses: [] },
  linkerd: smi,
  nginx: { uses: ['ingressRef', 'analysis.match'] },
  osm: smi,
  skipper: { uses: ['ingressRef'] },
  'smi:v1alpha1': smi,
  'smi:v1alpha2': smi,
  'smi:v1alpha3': smi,
  traefik: { uses: [] },
} satisfies Record<MeshProvider, ProviderFields>;

/** Empty means unset: Flagger treats `[]`, `{}`, `''` and `false` like an absent field. */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function fieldValue(canary: Canary, field: RoutingField): unknown {
  const [head = '', name] = field.split('.');
  const parent: unknown =
    name === undefined ? canary.spec : head === 'analysis' ? analysisOf(canary) : canary.spec.service;
  return isRecord(parent) ? parent[name ?? head] : undefined;
}

/** `smi:<version>:<mesh>`, the form Flagger documents for `-mesh-provider` with SMI. */
const smiWithMesh = /^(smi:v1alpha[123]):[^:]+$/;

/**
 * The CRD enum member a provider name stands for: itself, or `smi:v1alpha3` for
 * `smi:v1alpha3:istio`; undefined for any other name. The one rule for routers, observers and checks.
 */
export function meshProviderOf(provider: string): MeshProvider | undefined {
  if (isMeshProvider(provider)) return provider;
  const smi = smiWithMesh.exec(provider)?.[1];
  return smi !== undefined && isMeshProvider(smi) ? smi : undefined;
}

/** The routing fields set on the canary, in {@link routingFields} order. */
export function setRoutingFields(canary: Canary): RoutingField[] {
  return routingFields.filter((f) => isSet(fieldValue(canary, f)));
}

/** Set fields the provider's router does not use at all (empty for an unknown provider). */
export function ignoredFields(canary: Canary, provider: string): RoutingField[] {
  const p = meshProviderOf(provider);
  if (p === undefined) return [];
  const row: ProviderFields = providerFields[p];
  return setRoutingFields(canary).filter((f) => !row.uses.includes(f) && !(row.notImplemented ?? []).includes(f));
}

/** Set fields Flagger honours with this provider and Fledge does not implement yet. */
export function unimplementedFields(canary: Canary, provider: string): RoutingField[] {
  const p = meshProviderOf(provider);
  if (p === undefined) return [];
  const row: ProviderFields = providerFields[p];
  return setRoutingFields(canary).filter((f) => (row.notImplemented ?? []).includes(f));
}
