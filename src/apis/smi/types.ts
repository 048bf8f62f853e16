/**
 * The subset of the SMI TrafficSplit (`split.smi-spec.io`) that Fledge writes and reads, in the three
 * versions Flagger routes with (cf. Flagger pkg/apis/smi/v1alpha1..3). v1alpha1 carries weights as
 * Kubernetes quantities (strings such as `"90"`); v1alpha2 and v1alpha3 as integers. The v1alpha3
 * `matches` (HTTPRouteGroup references) are not written: Flagger's SMI routers have no A/B.
 */
import type { ObjectMeta } from '../../kube/objects.ts';

/** API group of the SMI traffic split. */
export const GROUP = 'split.smi-spec.io';
export const TRAFFIC_SPLIT_KIND = 'TrafficSplit';

/** The versions Flagger writes, in the CRD's order. */
export const smiVersions = ['v1alpha1', 'v1alpha2', 'v1alpha3'] as const;
export type SmiVersion = (typeof smiVersions)[number];

/**
 * `smi:<version>[:<mesh>]` (Flagger's SMI providers); group 1 is the version, group 2 the target
 * mesh. The CRD enum of `spec.provider` lists only `smi:<version>`; `-mesh-provider` takes both.
 */
export const SMI_PROVIDER = /^smi:(v1alpha[123])(?::([^:]+))?$/;

/** `apiVersion` of a TrafficSplit of `version`. */
export function apiVersionOf(version: SmiVersion): `${typeof GROUP}/${SmiVersion}` {
  return `${GROUP}/${version}`;
}

/** One backend Service and its share of the traffic. */
export interface TrafficSplitBackend {
  readonly service: string;
  /** v1alpha1: a quantity string; later versions: an integer. */
  readonly weight: string | number;
}

export interface TrafficSplitSpec {
  /** The root (apex) Service clients address. */
  readonly service: string;
  readonly backends: readonly TrafficSplitBackend[];
}

/** A TrafficSplit of any of the three versions. Assignable to `KubeObject`. */
export type TrafficSplit = {
  readonly apiVersion: ReturnType<typeof apiVersionOf>;
  readonly kind: typeof TRAFFIC_SPLIT_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: TrafficSplitSpec;
};

/** The annotation Flagger sets for target mesh `istio`: the gateways of the generated VirtualService. */
export const ISTIO_GATEWAYS_ANNOTATION = 'VirtualService.v1alpha3.networking.istio.io/spec.gateways';
