/**
 * Parsers that narrow `unknown` JSON (from the API server, a fixture or a YAML file) into the typed
 * Flagger objects of `types.ts`. They apply the rules of `artifacts/flagger/crd.yaml` (types, enums,
 * required fields, oneOf, patterns, bounds) plus the checks Flagger makes in code and the schema
 * cannot express (stepWeights order, distinct session-affinity cookies).
 *
 * Every function throws `ValidationError` (terminal: the object must change) listing each problem
 * as `<field path>: <problem>`. Unknown fields are ignored and dropped; no defaults are filled in.
 *
 * One deliberate leniency: the CRD requires `spec.analysis`, but a Canary stored before that rule
 * (with only the deprecated `spec.canaryAnalysis`) is accepted, as Flagger's controller accepts it.
 */
import type { ObjectMeta, OwnerReference } from '../../../kube/objects.ts';
import {
  array,
  atMostOneOf,
  boolean,
  enumOf,
  exactlyOneOf,
  fieldPath,
  integer,
  intOrString,
  isRecord,
  number,
  object,
  oneOfRequired,
  record,
  string,
} from './decode.ts';
import type { Check, Decoder } from './decode.ts';
import type {
  AlertProvider,
  AlertProviderSpec,
  AutoscalerRef,
  Canary,
  CanaryAlert,
  CanaryAnalysis,
  CanaryCheck,
  CanaryCondition,
  CanaryMetric,
  CanaryService,
  CanarySpec,
  CanaryStatus,
  CanaryWebhook,
  ConditionsStatus,
  ConnectionPoolSettings,
  ConsistentHash,
  CorsPolicy,
  CustomMetadata,
  GenericCondition,
  HeaderOperations,
  Headers,
  HttpCookie,
  HttpMatchRequest,
  HttpRequestMirrorFilter,
  HttpRetry,
  HttpRewrite,
  HttpSettings,
  IngressRef,
  ReleaseWindow,
  ReleaseWindows,
  LoadBalancerSettings,
  LocalityDistribute,
  LocalityFailover,
  LocalityLbSetting,
  LocalObjectReference,
  MetricTemplate,
  MetricTemplateProvider,
  MetricTemplateSpec,
  MirrorBackendRef,
  NamespacedReference,
  OutlierDetection,
  ParentReference,
  RouteRef,
  ScalerReplicas,
  SessionAffinity,
  StringMatch,
  TargetRef,
  TcpKeepalive,
  TcpSettings,
  ThresholdRange,
  TlsSettings,
  TrafficPolicy,
  UnmanagedMetadata,
  UpstreamRef,
} from './types.ts';
import {
  ALERT_PROVIDER_KIND,
  alertProviderTypes,
  alertSeverities,
  API_VERSION,
  autoscalerKinds,
  CANARY_KIND,
  canaryPhases,
  checkKinds,
  conditionStatuses,
  h2UpgradePolicies,
  meshProviders,
  METRIC_TEMPLATE_KIND,
  metricNoDataPolicies,
  metricProviderTypes,
  sameSiteModes,
  simpleLoadBalancers,
  targetKinds,
  tlsModes,
  trafficDistributions,
  webhookTypes,
} from './types.ts';

/** `^[0-9]+(m|s)`: the CRD pattern of `analysis.interval`, `metrics[].interval` and `webhooks[].timeout`. */
export const DURATION_PATTERN = /^[0-9]+(m|s)/;

const str = string();
const bool = boolean;
const int = integer();
const num = number();
const strings = array(str);
const stringMap = record(str);
const duration = string({ pattern: DURATION_PATTERN });
const timestamp = string({ format: 'date-time' });

// Gateway API name rules (ParentReference / BackendObjectReference).
const dnsSubdomainOrEmpty = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const gatewayGroup = string({ maxLength: 253, pattern: dnsSubdomainOrEmpty });
const gatewayKind = string({ minLength: 1, maxLength: 63, pattern: /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/ });
const gatewayName = string({ minLength: 1, maxLength: 253 });
const gatewayNamespace = string({ minLength: 1, maxLength: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ });
const gatewaySectionName = string({
  minLength: 1,
  maxLength: 253,
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
});
const portNumber = integer({ minimum: 1, maximum: 65535 });
const nonNegative = integer({ minimum: 0 });

/** IANA_SVC_NAME, the rule the API server applies to a named Service targetPort. */
const portNamePattern = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

/**
 * `service.targetPort` as the API server would accept it on a Service: 0 (unset: the port), a
 * port number, or a port name. Anything else would be refused at every tick.
 */
const targetPortRule: Check<CanaryService> = (service, path) => {
  const target = service.targetPort;
  const at = fieldPath(path, 'targetPort');
  if (typeof target === 'number' && (target < 0 || target > 65535)) {
    return [{ path: at, message: `must be a port number within 1..65535 (or 0 for the port), got ${target}` }];
  }
  if (typeof target === 'string' && target !== '' && !portNamePattern.test(target)) {
    return [
      {
        path: at,
        message: `must be a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with a letter), got ${JSON.stringify(target)}`,
      },
    ];
  }
  return [];
};

// --- metadata -------------------------------------------------------------------------------

const ownerReference = object<OwnerReference>(
  { apiVersion: str, kind: str, name: str, uid: str },
  { controller: bool, blockOwnerDeletion: bool },
);

const objectMeta = object<ObjectMeta>(
  { name: str },
  {
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: timestamp,
    deletionTimestamp: timestamp,
    labels: stringMap,
    annotations: stringMap,
    ownerReferences: array(ownerReference),
    finalizers: strings,
  },
);

// --- references -----------------------------------------------------------------------------

const targetRef = object<TargetRef>({ apiVersion: str, kind: enumOf(targetKinds), name: str }, {});

const autoscalerRef = object<AutoscalerRef>(
  { apiVersion: str, kind: enumOf(autoscalerKinds), name: str },
  {
    primaryScalerQueries: stringMap,
    primaryScalerReplicas: object<ScalerReplicas>(
      {},
      { minReplicas: integer({ minimum: 1 }), maxReplicas: integer({ minimum: 1 }) },
    ),
  },
);

const ingressRef = object<IngressRef>({ apiVersion: str, kind: enumOf(['Ingress']), name: str }, {});
const routeRef = object<RouteRef>({ apiVersion: str, kind: enumOf(['ApisixRoute']), name: str }, {});
const upstreamRef = object<UpstreamRef>({ apiVersion: str, kind: enumOf(['Upstream']), name: str }, { namespace: str });
const namespacedRef = object<NamespacedReference>({ name: str }, { namespace: str });
const localRef = object<LocalObjectReference>({ name: str }, {});

// --- service --------------------------------------------------------------------------------

/** Istio StringMatch: at most one of exact, prefix, regex. */
const istioStringMatch = object<Omit<StringMatch, 'suffix'>>(
  {},
  { exact: str, prefix: str, regex: str },
  atMostOneOf(['exact', 'prefix', 'regex']),
);

const serviceMatch = object<HttpMatchRequest>(
  {},
  {
    name: str,
    uri: istioStringMatch,
    scheme: istioStringMatch,
    method: istioStringMatch,
    authority: istioStringMatch,
    headers: record(istioStringMatch),
    queryParams: record(istioStringMatch),
    withoutHeaders: record(istioStringMatch),
    ignoreUriCase: bool,
    port: int,
    sourceLabels: stringMap,
    sourceNamespace: str,
    gateways: strings,
  },
);

const headerOperations = object<HeaderOperations>({}, { set: stringMap, add: stringMap, remove: strings });

const mirrorBackendRef = object<MirrorBackendRef>(
  { name: gatewayName },
  { group: gatewayGroup, kind: gatewayKind, namespace: gatewayNamespace, port: portNumber },
  (ref, path) =>
    (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service' && ref.port === undefined
      ? [{ path, message: 'must have port for Service reference' }]
      : [],
);

const parentReference = object<ParentReference>(
  { name: gatewayName },
  {
    group: gatewayGroup,
    kind: gatewayKind,
    namespace: gatewayNamespace,
    sectionName: gatewaySectionName,
    port: portNumber,
  },
);

const exactPrefixRegex = object<Omit<StringMatch, 'suffix'>>(
  {},
  { exact: str, prefix: str, regex: str },
  exactlyOneOf(['exact', 'prefix', 'regex']),
);

const corsPolicy = object<CorsPolicy>(
  {},
  {
    allowOrigin: strings,
    allowOrigins: array(exactPrefixRegex),
    allowMethods: strings,
    allowHeaders: strings,
    exposeHeaders: strings,
    maxAge: str,
    allowCredentials: bool,
  },
);

const consistentHash = object<ConsistentHash>(
  {},
  {
    httpHeaderName: str,
    httpCookie: object<HttpCookie>({}, { name: str, path: str, ttl: str }),
    useSourceIp: bool,
    httpQueryParameterName: str,
    minimumRingSize: int,
  },
  exactlyOneOf(['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName']),
);

const localityLbSetting = object<LocalityLbSetting>(
  {},
  {
    enabled: bool,
    distribute: array(object<LocalityDistribute>({}, { from: str, to: record(int) })),
    failover: array(object<LocalityFailover>({}, { from: str, to: str })),
  },
);

const trafficPolicy = object<TrafficPolicy>(
  {},
  {
    tls: object<TlsSettings>(
      {},
      {
        mode: enumOf(tlsModes),
        clientCertificate: str,
        privateKey: str,
        caCertificates: str,
        subjectAltNames: strings,
        sni: str,
      },
    ),
    loadBalancer: object<LoadBalancerSettings>(
      {},
      {
        simple: enumOf(simpleLoadBalancers),
        consistentHash,
        localityLbSetting,
        warmupDurationSecs: str,
      },
      exactlyOneOf(['simple', 'consistentHash']),
    ),
    connectionPool: object<ConnectionPoolSettings>(
      {},
      {
        tcp: object<TcpSettings>(
          {},
          {
            maxConnections: int,
            connectTimeout: str,
            tcpKeepalive: object<TcpKeepalive>({}, { probes: int, time: str, interval: str }),
          },
        ),
        http: object<HttpSettings>(
          {},
          {
            http1MaxPendingRequests: int,
            http2MaxRequests: int,
            maxRequestsPerConnection: int,
            maxRetries: int,
            idleTimeout: str,
            h2UpgradePolicy: enumOf(h2UpgradePolicies),
          },
        ),
      },
    ),
    outlierDetection: object<OutlierDetection>(
      {},
      {
        consecutiveErrors: int,
        consecutiveGatewayErrors: int,
        consecutive5xxErrors: int,
        consecutiveLocalOriginFailures: int,
        splitExternalLocalOriginErrors: bool,
        interval: str,
        baseEjectionTime: str,
        maxEjectionPercent: int,
        minHealthPercent: int,
      },
    ),
  },
);

const customMetadata = object<CustomMetadata>({}, { labels: stringMap, annotations: stringMap });

const canaryService = object<CanaryService>(
  { port: portNumber },
  {
    name: str,
    portName: str,
    targetPort: intOrString,
    appProtocol: str,
    trafficDistribution: enumOf(trafficDistributions),
    portDiscovery: bool,
    headless: bool,
    timeout: str,
    backendTimeout: str,
    meshName: str,
    backends: strings,
    hosts: strings,
    delegation: bool,
    gateways: strings,
    gatewayRefs: array(parentReference, { maxItems: 32 }),
    match: array(serviceMatch),
    rewrite: object<HttpRewrite>({}, { uri: str, authority: str, type: str }),
    retries: object<HttpRetry>({}, { attempts: int, perTryTimeout: str, retryOn: str }),
    headers: object<Headers>({}, { request: headerOperations, response: headerOperations }),
    mirror: array(object<HttpRequestMirrorFilter>({ backendRef: mirrorBackendRef }, {})),
    corsPolicy,
    trafficPolicy,
    apex: customMetadata,
    primary: customMetadata,
    canary: customMetadata,
    unmanagedMetadata: object<UnmanagedMetadata>({}, { labels: strings, annotations: strings }),
  },
  targetPortRule,
);

// --- analysis -------------------------------------------------------------------------------

/** A/B header match: exactly one of exact, prefix, suffix, regex. */
const abHeaderMatch = object<StringMatch>(
  {},
  { exact: str, prefix: str, suffix: str, regex: str },
  exactlyOneOf(['exact', 'prefix', 'suffix', 'regex']),
);

const analysisMatch = object<Pick<HttpMatchRequest, 'headers' | 'queryParams' | 'sourceLabels'>>(
  {},
  { headers: record(abHeaderMatch), queryParams: record(istioStringMatch), sourceLabels: stringMap },
);

const sessionAffinity = object<SessionAffinity>(
  { cookieName: str },
  {
    primaryCookieName: str,
    domain: str,
    httpOnly: bool,
    maxAge: int,
    partitioned: bool,
    path: str,
    sameSite: enumOf(sameSiteModes),
    secure: bool,
  },
  (sa, path) =>
    sa.primaryCookieName !== undefined && sa.primaryCookieName === sa.cookieName
      ? [{ path: fieldPath(path, 'primaryCookieName'), message: `must differ from cookieName "${sa.cookieName}"` }]
      : [],
);

const metric = object<CanaryMetric>(
  { name: str },
  {
    interval: duration,
    threshold: num,
    thresholdRange: object<ThresholdRange>({}, { min: num, max: num }),
    query: str,
    templateRef: namespacedRef,
    templateVariables: stringMap,
    noData: enumOf(metricNoDataPolicies),
    dryRun: bool,
    minSamples: integer({ minimum: 0 }),
    sampleQuery: str,
  },
  (m, path) =>
    (m.minSamples ?? 0) > 0 && (m.sampleQuery ?? '') === '' && (m.templateRef !== undefined || (m.query ?? '') !== '')
      ? [
          {
            path: fieldPath(path, 'sampleQuery'),
            message: `is required with minSamples for metric "${m.name}": only the builtin request-success-rate and request-duration have a sample-count query of their own`,
          },
        ]
      : [],
);

const webhook = object<CanaryWebhook>(
  { name: str, url: string({ format: 'url' }) },
  {
    type: enumOf(webhookTypes),
    muteAlert: bool,
    timeout: duration,
    metadata: stringMap,
    retries: int,
    disableTLS: bool,
    headersSecretRef: localRef,
  },
);

/** Go-style durations of hours, minutes and seconds: `8h`, `1h30m`, `90s`. */
export const WINDOW_DURATION_PATTERN = /^([0-9]+(h|m|s))+$/;
const releaseWindow = object<ReleaseWindow>(
  { schedule: str, duration: string({ pattern: WINDOW_DURATION_PATTERN }) },
  {},
);
const releaseWindows = object<ReleaseWindows>(
  {},
  { timeZone: str, windows: array(releaseWindow), blackouts: array(releaseWindow) },
);

const alert = object<CanaryAlert>({ name: str, providerRef: namespacedRef }, { severity: enumOf(alertSeverities) });

/** Flagger's stepWeights rule: strictly increasing weights within 1..100. */
const stepWeightsOrder: Check<CanaryAnalysis> = (analysis, path) => {
  const steps = analysis.stepWeights;
  if (steps === undefined) return [];
  const ok = steps.every((w, i) => w >= 1 && w <= 100 && (i === 0 || w > (steps[i - 1] ?? 0)));
  return ok
    ? []
    : [
        {
          path: fieldPath(path, 'stepWeights'),
          message: `invalid stepWeights [${steps.join(', ')}]: weights must be strictly increasing and within 1..100`,
        },
      ];
};

const analysis: Decoder<CanaryAnalysis> = object<CanaryAnalysis>(
  {},
  {
    interval: duration,
    threshold: int,
    iterations: nonNegative,
    maxWeight: integer({ minimum: 0, maximum: 100 }),
    stepWeight: nonNegative,
    stepWeights: array(int),
    stepWeightPromotion: nonNegative,
    mirror: bool,
    mirrorWeight: int,
    primaryReadyThreshold: int,
    canaryReadyThreshold: int,
    match: array(analysisMatch),
    sessionAffinity,
    metrics: array(metric),
    webhooks: array(webhook),
    alerts: array(alert),
    releaseWindows,
  },
  oneOfRequired([
    ['interval', 'threshold', 'iterations'],
    ['interval', 'threshold', 'stepWeight'],
    ['interval', 'threshold', 'stepWeights'],
  ]),
  stepWeightsOrder,
);

const canarySpec = object<CanarySpec>(
  { targetRef },
  {
    provider: enumOf(meshProviders),
    metricsServer: str,
    autoscalerRef,
    ingressRef,
    routeRef,
    upstreamRef,
    service: canaryService,
    analysis,
    canaryAnalysis: analysis,
    progressDeadlineSeconds: int,
    skipAnalysis: bool,
    revertOnDeletion: bool,
    suspend: bool,
  },
  (spec, path) =>
    spec.analysis === undefined && spec.canaryAnalysis === undefined
      ? [{ path: fieldPath(path, 'analysis'), message: 'is required' }]
      : [],
);

// --- status ---------------------------------------------------------------------------------

const canaryCondition = object<CanaryCondition>(
  { type: str, status: enumOf(conditionStatuses), reason: str },
  { message: str, lastUpdateTime: timestamp, lastTransitionTime: timestamp, observedGeneration: int },
);

const canaryCheck = object<CanaryCheck>(
  { name: str, kind: enumOf(checkKinds), passed: bool, message: str, lastUpdateTime: timestamp },
  { value: num, min: num, max: num, query: str },
);

const canaryStatus = object<CanaryStatus>(
  {},
  {
    phase: enumOf(canaryPhases),
    failedChecks: int,
    canaryWeight: int,
    iterations: int,
    trackedConfigs: stringMap,
    lastAppliedSpec: str,
    lastPromotedSpec: str,
    lastTrackedRevision: str,
    lastTransitionTime: timestamp,
    sessionAffinityCookie: str,
    primarySessionAffinityCookie: str,
    previousSessionAffinityCookie: str,
    conditions: array(canaryCondition),
    observedGeneration: int,
    checks: array(canaryCheck),
  },
);

const genericCondition = object<GenericCondition>(
  { type: str, status: enumOf(conditionStatuses) },
  { reason: str, message: str, lastUpdateTime: timestamp, lastTransitionTime: timestamp },
);
const conditionsStatus = object<ConditionsStatus>({}, { conditions: array(genericCondition) });

// --- MetricTemplate and AlertProvider -------------------------------------------------------

const metricTemplateSpec = object<MetricTemplateSpec>(
  {
    provider: object<MetricTemplateProvider>(
      { type: enumOf(metricProviderTypes) },
      {
        address: str,
        headers: record(strings),
        secretRef: localRef,
        region: str,
        insecureSkipVerify: bool,
      },
    ),
    query: str,
  },
  {},
);

const alertProviderSpec = object<AlertProviderSpec>(
  { type: enumOf(alertProviderTypes) },
  { channel: str, username: str, address: str, proxy: str, secretRef: localRef },
  oneOfRequired([
    ['type', 'address'],
    ['type', 'secretRef'],
  ]),
);

// --- top level ------------------------------------------------------------------------------

/** Objects in list responses may lack apiVersion/kind; those are implied by the resource, so fill them in. */
function withTypeMeta(value: unknown, kind: string): unknown {
  if (!isRecord(value)) return value;
  return { apiVersion: API_VERSION, kind, ...value };
}

const canary = object<Canary>(
  { apiVersion: enumOf([API_VERSION]), kind: enumOf([CANARY_KIND]), metadata: objectMeta, spec: canarySpec },
  { status: canaryStatus },
);

const metricTemplate = object<MetricTemplate>(
  {
    apiVersion: enumOf([API_VERSION]),
    kind: enumOf([METRIC_TEMPLATE_KIND]),
    metadata: objectMeta,
    spec: metricTemplateSpec,
  },
  { status: conditionsStatus },
);

const alertProvider = object<AlertProvider>(
  {
    apiVersion: enumOf([API_VERSION]),
    kind: enumOf([ALERT_PROVIDER_KIND]),
    metadata: objectMeta,
    spec: alertProviderSpec,
  },
  { status: conditionsStatus },
);

/**
 * Parses a Canary. Throws `ValidationError` naming every invalid field, e.g.
 * `spec.analysis.stepWeight: must be an integer, got "ten"`.
 */
export function parseCanary(u: unknown): Canary {
  return canary(withTypeMeta(u, CANARY_KIND), '');
}

/** Parses a MetricTemplate. Throws `ValidationError` naming every invalid field. */
export function parseMetricTemplate(u: unknown): MetricTemplate {
  return metricTemplate(withTypeMeta(u, METRIC_TEMPLATE_KIND), '');
}

/** Parses an AlertProvider. Throws `ValidationError` naming every invalid field. */
export function parseAlertProvider(u: unknown): AlertProvider {
  return alertProvider(withTypeMeta(u, ALERT_PROVIDER_KIND), '');
}
