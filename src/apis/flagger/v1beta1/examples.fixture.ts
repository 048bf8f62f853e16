import type { Canary, CanaryAnalysis, CanarySpec } from './types.ts';
/**
 * Realistic Flagger manifests for tests, in the shapes Flagger's documentation teaches (podinfo
 * canary, A/B testing, Blue/Green, Gateway API, Knative, NGINX), written as YAML as a user would.
 * `example(name)` returns a fresh parsed copy each time, so tests may mutate it.
 */
import { load } from 'js-yaml';

export const exampleManifests = {
  /** Istio progressive canary with HPA, builtin metrics and loadtester webhooks. */
  istioCanary: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
  labels:
    app.kubernetes.io/name: podinfo
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  progressDeadlineSeconds: 60
  autoscalerRef:
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    name: podinfo
  service:
    port: 9898
    targetPort: 9898
    portDiscovery: true
    gateways:
      - istio-system/public-gateway
    hosts:
      - app.example.com
    trafficPolicy:
      tls:
        mode: DISABLE
    retries:
      attempts: 3
      perTryTimeout: 1s
      retryOn: "gateway-error,connect-failure,refused-stream"
    apex:
      annotations:
        test: "annotation-test"
      labels:
        test: "label-test"
  analysis:
    interval: 15s
    threshold: 15
    maxWeight: 30
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 30s
      - name: latency
        templateRef:
          name: latency
          namespace: istio-system
        thresholdRange:
          max: 0.5
        interval: 1m
        templateVariables:
          reporter: destination
    webhooks:
      - name: acceptance-test
        type: pre-rollout
        url: http://flagger-loadtester.test/
        timeout: 30s
        metadata:
          type: bash
          cmd: "curl -sd 'test' http://podinfo-canary:9898/token | grep token"
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"
    alerts:
      - name: "on-call Slack"
        severity: error
        providerRef:
          name: on-call
          namespace: flagger
`,

  /** Istio A/B testing: header and cookie matches, iterations instead of weights. */
  abTesting: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: abtest
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: abtest
  service:
    port: 80
    targetPort: http
    portName: http
    match:
      - uri:
          prefix: /
    rewrite:
      uri: /
  analysis:
    interval: 1m
    threshold: 10
    iterations: 10
    match:
      - headers:
          x-canary:
            regex: ".*insider.*"
      - headers:
          cookie:
            regex: "^(.*?;)?(canary=always)(;.*)?$"
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: "promotion gate"
        type: confirm-promotion
        url: http://flagger-loadtester.test/gate/approve
      - name: load-test
        type: rollout
        url: http://flagger-loadtester.test/
        timeout: 15s
        metadata:
          cmd: "hey -z 1m -q 10 -c 2 -H 'Cookie: canary=always' http://abtest.test/"
`,

  /** Blue/Green with the kubernetes provider (ClusterIP services only). */
  blueGreen: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: kubernetes
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  progressDeadlineSeconds: 60
  service:
    port: 80
    targetPort: 9898
    portDiscovery: true
  analysis:
    interval: 30s
    threshold: 2
    iterations: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 30s
    webhooks:
      - name: conformance-test
        type: pre-rollout
        url: http://flagger-loadtester.test/
        timeout: 15s
        metadata:
          type: bash
          cmd: "curl -sd 'anon' http://podinfo-canary.test/token | grep token"
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          type: cmd
          cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test/"
`,

  /** Gateway API canary with session affinity, header filters and a mirror backend. */
  gatewayApi: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: gatewayapi:v1
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    targetPort: 9898
    hosts:
      - www.example.com
    gatewayRefs:
      - name: gateway
        namespace: istio-ingress
    headers:
      request:
        add:
          x-custom: "1"
      response:
        remove:
          - x-debug
    mirror:
      - backendRef:
          name: podinfo-shadow
          port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    sessionAffinity:
      cookieName: flagger-cookie
      primaryCookieName: flagger-primary-cookie
      maxAge: 21600
      sameSite: Strict
    metrics:
      - name: error-rate
        templateRef:
          name: error-rate
          namespace: flagger-system
        thresholdRange:
          max: 1
        interval: 1m
`,

  /** Linkerd (SMI) canary with explicit step weights and promotion steps. */
  stepWeights: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: linkerd
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 15s
    threshold: 15
    stepWeights: [10, 20, 30, 40, 50, 60]
    stepWeightPromotion: 50
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
`,

  /** NGINX ingress canary (needs ingressRef). */
  nginx: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: nginx
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  ingressRef:
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    name: podinfo
  service:
    port: 80
    targetPort: 9898
  analysis:
    interval: 10s
    threshold: 10
    maxWeight: 50
    stepWeight: 5
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
`,

  /** Knative Service target: no service section at all. */
  knative: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: knative
  targetRef:
    apiVersion: serving.knative.dev/v1
    kind: Service
    name: podinfo
  progressDeadlineSeconds: 60
  analysis:
    interval: 15s
    threshold: 15
    maxWeight: 50
    stepWeight: 10
`,

  /** A canary as read back from the API server after a successful promotion by Flagger. */
  withStatus: `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
  uid: 7b4a31f2-4d1c-4a9e-9d0c-4f7f4cf3c111
  resourceVersion: "48213"
  generation: 3
  creationTimestamp: "2026-11-20T08:00:00Z"
  finalizers:
    - finalizer.flagger.app
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  revertOnDeletion: true
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
status:
  phase: Succeeded
  failedChecks: 0
  canaryWeight: 0
  iterations: 0
  lastAppliedSpec: 5c8b9d6f7
  lastPromotedSpec: 5c8b9d6f7
  lastTransitionTime: "2026-11-20T08:12:31Z"
  trackedConfigs:
    configmap/podinfo-config: 1c7a2d0e3f4b5a69
  conditions:
    - type: Promoted
      status: "True"
      reason: Succeeded
      message: Canary analysis completed successfully, promotion finished.
      lastUpdateTime: "2026-11-20T08:12:31Z"
      lastTransitionTime: "2026-11-20T08:12:31Z"
    - type: Ready
      status: "True"
      reason: Succeeded
      message: Primary is serving the promoted revision.
      observedGeneration: 3
  observedGeneration: 3
  checks:
    - name: request-success-rate
      kind: metric
      value: 99.8
      min: 99
      passed: true
      message: request-success-rate 99.8 within [99, +Inf)
      lastUpdateTime: "2026-11-20T08:11:31Z"
    - name: load-test
      kind: webhook
      passed: true
      message: ""
      lastUpdateTime: "2026-11-20T08:11:31Z"
`,

  /** Prometheus MetricTemplate (Istio P99 latency in seconds). */
  metricTemplate: `
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: istio-system
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
    headers:
      X-Scope-OrgID: ["tenant-1"]
  query: |
    histogram_quantile(
      0.99,
      sum(
        rate(
          istio_request_duration_milliseconds_bucket{
            reporter="{{ variables.reporter }}",
            destination_workload_namespace="{{ namespace }}",
            destination_workload=~"{{ target }}"
          }[{{ interval }}]
        )
      ) by (le)
    ) / 1000
`,

  /** Slack AlertProvider with the webhook URL in a Secret. */
  alertProvider: `
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: flagger
spec:
  type: slack
  channel: on-call-alerts
  username: flagger
  secretRef:
    name: on-call-url
`,
} as const;

export type ExampleName = keyof typeof exampleManifests;

/** A fresh, mutable copy of an example manifest as parsed JSON. */
export function example(name: ExampleName): Record<string, unknown> {
  const value = load(exampleManifests[name]);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`bad example ${name}`);
  return { ...value };
}

/**
 * Sets `value` at a dotted path (`spec.analysis.stepWeight`, array indexes as numbers) in a copy
 * of `obj`, creating objects on the way; `undefined` deletes the field.
 */
export function withField(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  const keys = path.split('.');
  const last = keys.pop();
  if (last === undefined) throw new Error('empty path');
  let node: Record<string, unknown> = copy;
  for (const key of keys) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else {
      node = next as Record<string, unknown>;
    }
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** A minimal valid Canary of `podinfo` in `test` with the given analysis and extra spec fields. */
export function minimalCanary(analysis: CanaryAnalysis | undefined, spec: Partial<CanarySpec> = {}): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'test' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      ...(analysis === undefined ? {} : { analysis }),
      ...spec,
    },
  };
}
