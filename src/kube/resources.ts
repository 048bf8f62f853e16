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
  traefikService: {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'TraefikService',
    plural: 'traefikservices',
    namespaced: true,
  },
  kumaTrafficRoute: {
    apiVersion: 'kuma.io/v1alpha1',
    kind: 'TrafficRoute',
    plural: 'trafficroutes',
    namespaced: false,
  },
  apisixRoute: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', plural: 'apisixroutes', namespaced: true },
  appMeshVirtualNode: {
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualNode',
    plural: 'virtualnodes',
    namespaced: true,
  },
  appMeshVirtualRouter: {
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualRouter',
    plural: 'virtualrouters',
    namespaced: true,
  },
  appMeshVirtualService: {
    apiVersion: 'appmesh.k8s.aws/v1beta2',
    kind: 'VirtualService',
    plural: 'virtualservices',
    namespaced: true,
  },
  appMeshV1beta1VirtualNode: {
    apiVersion: 'appmesh.k8s.aws/v1beta1',
    kind: 'VirtualNode',
    plural: 'virtualnodes',
    namespaced: true,
  },
  appMeshV1beta1VirtualService: {
    apiVersion: 'appmesh.k8s.aws/v1beta1',
    kind: 'VirtualService',
    plural: 'virtualservices',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;
