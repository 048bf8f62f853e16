import type { ResourceType } from './objects.ts';

/** The resource types Fledge reads or writes. Mesh/ingress types are added by their routers. */
export const Resources = {
  canary: { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', plural: 'canaries', namespaced: true },
  metricTemplate: {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    plural: 'metrictemplates',
    namespaced: true,
  },
  alertProvider: {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'AlertProvider',
    plural: 'alertproviders',
    namespaced: true,
  },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  daemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  event: { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  namespace: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  hpa: {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
  },
  lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  httpRoute: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true },
  virtualService: {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    plural: 'virtualservices',
    namespaced: true,
  },
  destinationRule: {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    plural: 'destinationrules',
    namespaced: true,
  },
  httpRouteV1beta1: {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    namespaced: true,
  },
  trafficSplitV1alpha1: {
    apiVersion: 'split.smi-spec.io/v1alpha1',
    kind: 'TrafficSplit',
    plural: 'trafficsplits',
    namespaced: true,
  },
  trafficSplitV1alpha2: {
    apiVersion: 'split.smi-spec.io/v1alpha2',
    kind: 'TrafficSplit',
    plural: 'trafficsplits',
    namespaced: true,
  },
  trafficSplitV1alpha3: {
    apiVersion: 'split.smi-spec.io/v1alpha3',
    kind: 'TrafficSplit',
    plural: 'trafficsplits',
    namespaced: true,
  },
  ingress: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  httpProxy: { apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy', plural: 'httpproxies', namespaced: true },
  glooUpstream: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', plural: 'upstreams', namespaced: true },
  glooRouteTable: { apiVersion: 'gateway.solo.io/v1', kind: 'RouteTable', plural: 'routetables', namespaced: true },
} as const satisfies Record<string, ResourceType>;
