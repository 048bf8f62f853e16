/**
 * TypeScript shapes of the Flagger custom resources (`flagger.app/v1beta1`): Canary, MetricTemplate
 * and AlertProvider (cf. pkg/apis/flagger/v1beta1 in Flagger). Objects of these types come out of
 * `parse.ts`; nothing here does I/O. Every enum of `artifacts/flagger/crd.yaml` has a const array
 * here, and `test/unit/crd.test.ts` fails when the two drift apart.
 */
import type { ObjectMeta } from '../../../kube/objects.ts';

/** API group of the Flagger custom resources. */
export const API_GROUP = 'flagger.app';
/** Version part of the API, as in the CRD's `versions[].name`. */
export const VERSION = 'v1beta1';
/** The `apiVersion` field of every Flagger object (group/version). */
export const API_VERSION = 'flagger.app/v1beta1';

/** Kind of a Canary. */
export const CANARY_KIND = 'Canary';
/** Kind of a MetricTemplate. */
export const METRIC_TEMPLATE_KIND = 'MetricTemplate';
/** Kind of an AlertProvider. */
export const ALERT_PROVIDER_KIND = 'AlertProvider';

/** Finalizer added to a Canary with `spec.revertOnDeletion` (Flagger `finalizer.go`). */
export const FINALIZER = 'finalizer.flagger.app';
/** Pod-template annotation set to a fresh UUID on every promotion, forcing a primary rollout. */
export const FLAGGER_ID_ANNOTATION = 'flagger-id';
/** ConfigMap/Secret annotation; a value starting with `disable` excludes the object from config tracking. */
export const CONFIG_TRACKING_ANNOTATION = 'flagger.app/config-tracking';
/** Annotation keeping the original spec of a routing object Flagger took over, used to revert it. */
export const ORIGINAL_CONFIGURATION_ANNOTATION = 'flagger.kubernetes.io/original-configuration';
/** kubectl's client-side-apply annotation; when present it is used instead of the original configuration. */
export const LAST_APPLIED_CONFIGURATION_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Knative Service annotation naming the revision that receives the primary traffic. */
export const PRIMARY_REVISION_ANNOTATION = 'flagger.app/primary-revision';
/** Node-selector key used to "scale a DaemonSet to zero" (ignored when hashing the pod template). */
export const SCALE_TO_ZERO_NODE_SELECTOR = 'flagger.app/scale-to-zero';

/** Condition type Flagger writes: the result of the last analysis (`kubectl wait --for=condition=promoted`). */
export const PROMOTED_CONDITION = 'Promoted';
/** Fledge extension: kstatus `Ready` condition. */
export const READY_CONDITION = 'Ready';
/** Fledge extension: kstatus `Stalled` condition. */
export const STALLED_CONDITION = 'Stalled';

/** Returns a type guard accepting exactly the members of `values`. */
export function memberOf<const T extends string>(values: readonly T[]): (value: unknown) => value is T {
  const set: ReadonlySet<unknown> = new Set(values);
  return (value: unknown): value is T => set.has(value);
}

/** `spec.provider`: the traffic-management provider of a canary (overrides `-mesh-provider`). */
export const meshProviders = [
  'apisix',
  'appmesh',
  'appmesh:v1beta2',
  'contour',
  'gatewayapi:v1',
  'gatewayapi:v1beta1',
  'gloo',
  'istio',
  'knative',
  'kubernetes',
  'kuma',
  'linkerd',
  'nginx',
  'osm',
  'skipper',
  'smi:v1alpha1',
  'smi:v1alpha2',
  'smi:v1alpha3',
  'traefik',
] as const;
export type MeshProvider = (typeof meshProviders)[number];
/** True when `value` is a member of `meshProviders`. */
export const isMeshProvider = memberOf(meshProviders);

/** `spec.targetRef.kind`. A `Service` with apiVersion `serving.knative.dev/v1` is a Knative Service. */
export const targetKinds = ['DaemonSet', 'Deployment', 'Service'] as const;
export type TargetKind = (typeof targetKinds)[number];
/** True when `value` is a member of `targetKinds`. */
export const isTargetKind = memberOf(targetKinds);

/** `spec.autoscalerRef.kind`. */
export const autoscalerKinds = ['HorizontalPodAutoscaler', 'ScaledObject'] as const;
export type AutoscalerKind = (typeof autoscalerKinds)[number];
/** True when `value` is a member of `autoscalerKinds`. */
export const isAutoscalerKind = memberOf(autoscalerKinds);

/** MetricTemplate `spec.provider.type`. */
export const metricProviderTypes = [
  'prometheus',
  'influxdb',
  'datadog',
  'externalmetrics',
  'stackdriver',
  'cloudwatch',
  'newrelic',
  'graphite',
  'dynatrace',
  'keptn',
  'splunk',
] as const;
export type MetricProviderType = (typeof metricProviderTypes)[number];
/** True when `value` is a member of `metricProviderTypes`. */
export const isMetricProviderType = memberOf(metricProviderTypes);

/** AlertProvider `spec.type`; `webhook` (a generic JSON body, src/notifier/webhook.ts) is a Fledge extension. */
export const alertProviderTypes = ['slack', 'msteams', 'discord', 'rocket', 'gchat', 'webhook'] as const;
export type AlertProviderType = (typeof alertProviderTypes)[number];
/** True when `value` is a member of `alertProviderTypes`. */
export const isAlertProviderType = memberOf(alertProviderTypes);

/** `analysis.webhooks[].type`; `""` means `rollout`. */
export const webhookTypes = [
  '',
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-promotion',
  'post-rollout',
  'event',
  'rollback',
  'confirm-traffic-increase',
] as const;
export type WebhookType = (typeof webhookTypes)[number];
/** True when `value` is a member of `webhookTypes`. */
export const isWebhookType = memberOf(webhookTypes);

/** `status.phase`. */
export const canaryPhases = [
  '',
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
  'Terminated',
] as const;
export type CanaryPhase = (typeof canaryPhases)[number];
/** True when `value` is a member of `canaryPhases`. */
export const isCanaryPhase = memberOf(canaryPhases);

/** `analysis.alerts[].severity`; `""` means `info`. */
export const alertSeverities = ['', 'info', 'warn', 'error'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];
/** True when `value` is a member of `alertSeverities`. */
export const isAlertSeverity = memberOf(alertSeverities);

/** `service.trafficDistribution` (Kubernetes Service `spec.trafficDistribution`). */
export const trafficDistributions = ['PreferClose', 'PreferSameZone', 'PreferSameNode'] as const;
export type TrafficDistribution = (typeof trafficDistributions)[number];

/** `analysis.sessionAffinity.sameSite`. */
export const sameSiteModes = ['Strict', 'Lax', 'None'] as const;
export type SameSiteMode = (typeof sameSiteModes)[number];

/** Istio `trafficPolicy.tls.mode`. */
export const tlsModes = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;
export type TlsMode = (typeof tlsModes)[number];

/** Istio `trafficPolicy.loadBalancer.simple`. */
export const simpleLoadBalancers = ['ROUND_ROBIN', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'LEAST_REQUEST'] as const;
export type SimpleLoadBalancer = (typeof simpleLoadBalancers)[number];

/** Istio `trafficPolicy.connectionPool.http.h2UpgradePolicy`. */
export const h2UpgradePolicies = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;
export type H2UpgradePolicy = (typeof h2UpgradePolicies)[number];

/** Status of a condition (Kubernetes convention). */
export const conditionStatuses = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof conditionStatuses)[number];

/** Fledge extension: `status.checks[].kind`. */
export const checkKinds = ['metric', 'webhook'] as const;
export type CheckKind = (typeof checkKinds)[number];

/** How traffic is shifted, derived from the analysis by `deploymentStrategy()` (Flagger `DeploymentStrategy()`). */
export type DeploymentStrategy = 'canary' | 'ab-testing' | 'blue-green';

/** A reference by name to an object, by default in the canary's namespace (`templateRef`, `providerRef`). */
export interface NamespacedReference {
  readonly name: string;
  readonly namespace?: string;
}

/** `spec.targetRef`. */
export interface TargetRef {
  readonly apiVersion: string;
  readonly kind: TargetKind;
  readonly name: string;
}

/** `spec.autoscalerRef`: an HPA or KEDA ScaledObject cloned as `<name>-primary`. */
export interface AutoscalerRef {
  readonly apiVersion: string;
  readonly kind: AutoscalerKind;
  readonly name: string;
  /** KEDA trigger name → query used for the primary ScaledObject. */
  readonly primaryScalerQueries?: Readonly<Record<string, string>>;
  readonly primaryScalerReplicas?: ScalerReplicas;
}

export interface ScalerReplicas {
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
}

/** `spec.ingressRef` (nginx, skipper). */
export interface IngressRef {
  readonly apiVersion: string;
  readonly kind: 'Ingress';
  readonly name: string;
}

/** `spec.routeRef` (apisix). */
export interface RouteRef {
  readonly apiVersion: string;
  readonly kind: 'ApisixRoute';
  readonly name: string;
}

/** `spec.upstreamRef` (gloo): upstream whose config is copied into the generated upstreams. */
export interface UpstreamRef {
  readonly apiVersion: string;
  readonly kind: 'Upstream';
  readonly name: string;
  readonly namespace?: string;
}

/** Istio-style string match. `suffix` exists only in `analysis.match[].headers`. */
export interface StringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly regex?: string;
}

/**
 * Istio HTTPMatchRequest (`service.match[]`). `analysis.match[]` uses the same type but the CRD only
 * keeps `headers`, `queryParams` and `sourceLabels` there.
 */
export interface HttpMatchRequest {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
  readonly gateways?: readonly string[];
}

/** `service.rewrite`; `type` is `ReplaceFullPath` or `ReplacePrefixMatch` (Gateway API URLRewrite). */
export interface HttpRewrite {
  readonly uri?: string;
  readonly authority?: string;
  readonly type?: string;
}

/** `service.retries`. */
export interface HttpRetry {
  readonly attempts?: number;
  readonly perTryTimeout?: string;
  readonly retryOn?: string;
}

export interface HeaderOperations {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

/** `service.headers`. */
export interface Headers {
  readonly request?: HeaderOperations;
  readonly response?: HeaderOperations;
}

/** Gateway API BackendObjectReference of a mirror filter. */
export interface MirrorBackendRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

/** `service.mirror[]`: Gateway API HTTPRequestMirrorFilter. */
export interface HttpRequestMirrorFilter {
  readonly backendRef: MirrorBackendRef;
}

/** `service.gatewayRefs[]`: Gateway API ParentReference (group defaults to gateway.networking.k8s.io, kind to Gateway). */
export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** `service.corsPolicy`. */
export interface CorsPolicy {
  /** Deprecated by Istio in favour of `allowOrigins`. */
  readonly allowOrigin?: readonly string[];
  readonly allowOrigins?: readonly StringMatch[];
  readonly allowMethods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly maxAge?: string;
  readonly allowCredentials?: boolean;
}

/** Istio ClientTLSSettings. */
export interface TlsSettings {
  readonly mode?: TlsMode;
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  readonly caCertificates?: string;
  readonly subjectAltNames?: readonly string[];
  readonly sni?: string;
}

export interface HttpCookie {
  readonly name?: string;
  readonly path?: string;
  readonly ttl?: string;
}

export interface ConsistentHash {
  readonly httpHeaderName?: string;
  readonly httpCookie?: HttpCookie;
  readonly useSourceIp?: boolean;
  readonly httpQueryParameterName?: string;
  readonly minimumRingSize?: number;
}

export interface LocalityDistribute {
  readonly from?: string;
  readonly to?: Readonly<Record<string, number>>;
}

export interface LocalityFailover {
  readonly from?: string;
  readonly to?: string;
}

export interface LocalityLbSetting {
  readonly enabled?: boolean;
  readonly distribute?: readonly LocalityDistribute[];
  readonly failover?: readonly LocalityFailover[];
}

/** Istio LoadBalancerSettings: exactly one of `simple` or `consistentHash`. */
export interface LoadBalancerSettings {
  readonly simple?: SimpleLoadBalancer;
  readonly consistentHash?: ConsistentHash;
  readonly localityLbSetting?: LocalityLbSetting;
  readonly warmupDurationSecs?: string;
}

export interface TcpKeepalive {
  readonly probes?: number;
  readonly time?: string;
  readonly interval?: string;
}

export interface TcpSettings {
  readonly maxConnections?: number;
  readonly connectTimeout?: string;
  readonly tcpKeepalive?: TcpKeepalive;
}

export interface HttpSettings {
  readonly http1MaxPendingRequests?: number;
  readonly http2MaxRequests?: number;
  readonly maxRequestsPerConnection?: number;
  readonly maxRetries?: number;
  readonly idleTimeout?: string;
  readonly h2UpgradePolicy?: H2UpgradePolicy;
}

export interface ConnectionPoolSettings {
  readonly tcp?: TcpSettings;
  readonly http?: HttpSettings;
}

export interface OutlierDetection {
  readonly consecutiveErrors?: number;
  readonly consecutiveGatewayErrors?: number;
  readonly consecutive5xxErrors?: number;
  readonly consecutiveLocalOriginFailures?: number;
  readonly splitExternalLocalOriginErrors?: boolean;
  readonly interval?: string;
  readonly baseEjectionTime?: string;
  readonly maxEjectionPercent?: number;
  readonly minHealthPercent?: number;
}

/** `service.trafficPolicy`: Istio DestinationRule traffic policy. */
export interface TrafficPolicy {
  readonly tls?: TlsSettings;
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
}

/** Labels and annotations to put on a generated object. */
export interface CustomMetadata {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Metadata keys the operator must not add, remove or change on the Services it owns. */
export interface UnmanagedMetadata {
  readonly labels?: readonly string[];
  readonly annotations?: readonly string[];
}

/** `spec.service`: how the ClusterIP services and routing objects are generated. */
export interface CanaryService {
  /** Apex service name; defaults to `targetRef.name` (see `serviceNames()`). */
  readonly name?: string;
  readonly port: number;
  /** Defaults to `http`. */
  readonly portName?: string;
  /** Container port number or name; defaults to `port`. */
  readonly targetPort?: number | string;
  readonly appProtocol?: string;
  readonly trafficDistribution?: TrafficDistribution;
  readonly portDiscovery?: boolean;
  readonly headless?: boolean;
  readonly timeout?: string;
  /** Gateway API v1 only. */
  readonly backendTimeout?: string;
  readonly meshName?: string;
  readonly backends?: readonly string[];
  readonly hosts?: readonly string[];
  readonly delegation?: boolean;
  readonly gateways?: readonly string[];
  readonly gatewayRefs?: readonly ParentReference[];
  readonly match?: readonly HttpMatchRequest[];
  readonly rewrite?: HttpRewrite;
  readonly retries?: HttpRetry;
  readonly headers?: Headers;
  readonly mirror?: readonly HttpRequestMirrorFilter[];
  readonly corsPolicy?: CorsPolicy;
  readonly trafficPolicy?: TrafficPolicy;
  readonly apex?: CustomMetadata;
  readonly primary?: CustomMetadata;
  readonly canary?: CustomMetadata;
  readonly unmanagedMetadata?: UnmanagedMetadata;
}

export interface ThresholdRange {
  readonly min?: number;
  readonly max?: number;
}

/** `analysis.metrics[]`: a builtin metric (by name), an inline query or a MetricTemplate reference. */
export interface CanaryMetric {
  readonly name: string;
  /** Query window; defaults to `1m` (`metricIntervalDefault`). */
  readonly interval?: string;
  /** Deprecated: maximum accepted value; replaced by `thresholdRange`. */
  readonly threshold?: number;
  readonly thresholdRange?: ThresholdRange;
  /** Deprecated: inline PromQL; replaced by `templateRef`. */
  readonly query?: string;
  readonly templateRef?: NamespacedReference;
  readonly templateVariables?: Readonly<Record<string, string>>;
  /**
   * Fledge extension: what a query that returns no data counts as: `fail` (default, as Flagger),
   * `pass`, or `skip` (left out of the tick's outcome).
   */
  readonly noData?: MetricNoDataPolicy;
  /** Fledge extension: measure and report the metric, but never fail a check because of it. */
  readonly dryRun?: boolean;
  /**
   * Fledge extension: the fewest requests (samples) the canary must have served in the metric's
   * interval for the value to count; fewer is treated as no data (see `noData`). Off when unset or 0.
   */
  readonly minSamples?: number;
  /**
   * Fledge extension: the query (templated like `query`) counting the samples behind the value;
   * required with `minSamples` for `query` and `templateRef` metrics, optional for the builtin
   * metrics, whose observer has a request-count query.
   */
  readonly sampleQuery?: string;
}

/** Fledge extension `analysis.metrics[].noData`. */
export const metricNoDataPolicies = ['fail', 'pass', 'skip'] as const;
export type MetricNoDataPolicy = (typeof metricNoDataPolicies)[number];

/** `analysis.webhooks[]`. */
export interface CanaryWebhook {
  readonly name: string;
  readonly type?: WebhookType;
  readonly url: string;
  readonly muteAlert?: boolean;
  /** Defaults to `10s`. */
  readonly timeout?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly retries?: number;
  readonly disableTLS?: boolean;
  /**
   * Fledge extension (Flagger #1192): a Secret in the canary's namespace whose every key is sent as
   * a request header (e.g. `Authorization`). Values are never logged nor put in Events or alerts.
   */
  readonly headersSecretRef?: LocalObjectReference;
}

/** `analysis.alerts[]`. */
export interface CanaryAlert {
  readonly name: string;
  readonly severity?: AlertSeverity;
  readonly providerRef: NamespacedReference;
}

/** `analysis.sessionAffinity`: sticky sessions for users who reached the canary. */
export interface SessionAffinity {
  readonly cookieName: string;
  readonly primaryCookieName?: string;
  readonly domain?: string;
  readonly httpOnly?: boolean;
  /** Seconds; the API server defaults it to 86400. */
  readonly maxAge?: number;
  readonly partitioned?: boolean;
  readonly path?: string;
  readonly sameSite?: SameSiteMode;
  readonly secure?: boolean;
}

/** One recurring window: opens at every time `schedule` (cron) fires, for `duration` (e.g. `8h`, `1h30m`). */
export interface ReleaseWindow {
  readonly schedule: string;
  readonly duration: string;
}

/**
 * `analysis.releaseWindows` (Fledge extension): when traffic may increase and promotion may happen.
 * Outside every window (when `windows` is set) or inside a blackout, the canary holds.
 */
export interface ReleaseWindows {
  /** IANA time zone of the schedules; default UTC. */
  readonly timeZone?: string;
  readonly windows?: readonly ReleaseWindow[];
  readonly blackouts?: readonly ReleaseWindow[];
}

/** `spec.analysis` (and the deprecated `spec.canaryAnalysis`). */
export interface CanaryAnalysis {
  readonly interval?: string;
  readonly threshold?: number;
  readonly iterations?: number;
  readonly maxWeight?: number;
  readonly stepWeight?: number;
  readonly stepWeights?: readonly number[];
  readonly stepWeightPromotion?: number;
  readonly mirror?: boolean;
  readonly mirrorWeight?: number;
  readonly primaryReadyThreshold?: number;
  readonly canaryReadyThreshold?: number;
  readonly match?: readonly HttpMatchRequest[];
  readonly sessionAffinity?: SessionAffinity;
  readonly metrics?: readonly CanaryMetric[];
  readonly webhooks?: readonly CanaryWebhook[];
  /** Fledge extension: see {@link ReleaseWindows}. */
  readonly releaseWindows?: ReleaseWindows;
  readonly alerts?: readonly CanaryAlert[];
}

/** `Canary.spec`. */
export interface CanarySpec {
  readonly provider?: MeshProvider;
  readonly metricsServer?: string;
  readonly targetRef: TargetRef;
  readonly autoscalerRef?: AutoscalerRef;
  readonly ingressRef?: IngressRef;
  readonly routeRef?: RouteRef;
  readonly upstreamRef?: UpstreamRef;
  readonly service?: CanaryService;
  readonly analysis?: CanaryAnalysis;
  /** Deprecated alias of `analysis`; `analysisOf()` prefers `analysis`. */
  readonly canaryAnalysis?: CanaryAnalysis;
  readonly progressDeadlineSeconds?: number;
  readonly skipAnalysis?: boolean;
  readonly revertOnDeletion?: boolean;
  readonly suspend?: boolean;
}

/**
 * A status condition. Flagger writes the type `Promoted`; Fledge also writes the kstatus types
 * `Ready` and `Stalled`, so any type string is accepted.
 */
export interface CanaryCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
  /** Fledge extension: the `metadata.generation` the condition was computed for. */
  readonly observedGeneration?: number;
}

/** Fledge extension: the last measured value of one metric or webhook check. */
export interface CanaryCheck {
  readonly name: string;
  readonly kind: CheckKind;
  readonly value?: number;
  readonly min?: number;
  readonly max?: number;
  readonly passed: boolean;
  readonly message: string;
  /** The query as rendered for this check (metrics only), cut to {@link CHECK_QUERY_MAX} characters. */
  readonly query?: string;
  /** RFC 3339 timestamp. */
  readonly lastUpdateTime: string;
}

/** Longest `status.checks[].query` kept; longer rendered queries are cut and end with `…`. */
export const CHECK_QUERY_MAX = 512;

/** `Canary.status`. All fields are optional: a new Canary has no status yet. */
export interface CanaryStatus {
  readonly phase?: CanaryPhase;
  readonly failedChecks?: number;
  readonly canaryWeight?: number;
  readonly iterations?: number;
  /** `configmap/<name>` or `secret/<name>` → checksum. */
  readonly trackedConfigs?: Readonly<Record<string, string>>;
  readonly lastAppliedSpec?: string;
  readonly lastPromotedSpec?: string;
  readonly lastTrackedRevision?: string;
  /** RFC 3339 timestamp. */
  readonly lastTransitionTime?: string;
  readonly sessionAffinityCookie?: string;
  readonly primarySessionAffinityCookie?: string;
  readonly previousSessionAffinityCookie?: string;
  readonly conditions?: readonly CanaryCondition[];
  /** Fledge extension. */
  readonly observedGeneration?: number;
  /** Fledge extension. */
  readonly checks?: readonly CanaryCheck[];
}

/** A Canary custom resource. Assignable to `KubeObject`. */
export type Canary = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof CANARY_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: CanarySpec;
  readonly status?: CanaryStatus;
};

/** A condition of a MetricTemplate or AlertProvider (defined by the CRD, never written by Flagger). */
export interface GenericCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason?: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
}

export interface ConditionsStatus {
  readonly conditions?: readonly GenericCondition[];
}

/** A reference to a Secret in the same namespace. */
export interface LocalObjectReference {
  readonly name: string;
}

/** MetricTemplate `spec.provider`. */
export interface MetricTemplateProvider {
  readonly type: MetricProviderType;
  readonly address?: string;
  /** Extra HTTP headers sent with each query (Prometheus). */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  readonly secretRef?: LocalObjectReference;
  /** CloudWatch region. */
  readonly region?: string;
  readonly insecureSkipVerify?: boolean;
}

export interface MetricTemplateSpec {
  readonly provider: MetricTemplateProvider;
  /** Go text/template rendered with the canary model (name, namespace, target, service, ingress, interval, variables). */
  readonly query: string;
}

/** A MetricTemplate custom resource. */
export type MetricTemplate = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof METRIC_TEMPLATE_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: MetricTemplateSpec;
  readonly status?: ConditionsStatus;
};

/** AlertProvider `spec`: exactly one of `address` and `secretRef` (whose Secret holds `address` and optionally `token`). */
export interface AlertProviderSpec {
  readonly type: AlertProviderType;
  /** Defaults to `general`. */
  readonly channel?: string;
  /** Defaults to `flagger`. */
  readonly username?: string;
  readonly address?: string;
  readonly proxy?: string;
  readonly secretRef?: LocalObjectReference;
}

/** An AlertProvider custom resource. */
export type AlertProvider = {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof ALERT_PROVIDER_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: AlertProviderSpec;
  readonly status?: ConditionsStatus;
};
