// smi:v1alpha1/2/3[:<mesh>] write a TrafficSplit of that version (Flagger's SmiRouter,
// Smiv1alpha2Router, Smiv1alpha3Router), accepted by the real SMI CRD. v1alpha1 and v1alpha2 run
// every scenario in linkerd.e2e.test.ts and osm.e2e.test.ts; here each version is initialized and
// v1alpha3 with target mesh istio (`-mesh-provider smi:v1alpha3:istio`) is promoted and rolled back.
import { describe } from 'vitest';
import { trafficSplitScenario } from './smi-lib.ts';

const service = { hosts: ['podinfo.example.com'], gateways: ['public-gateway.istio-system.svc.cluster.local'] };

describe('smi:v1alpha1 router', () => trafficSplitScenario('smi:v1alpha1', 'v1alpha1', { service, parts: ['init'] }));
describe('smi:v1alpha2:istio router', () =>
  trafficSplitScenario('smi:v1alpha2:istio', 'v1alpha2', { service, parts: ['init'] }));
describe('smi:v1alpha3:istio router', () =>
  trafficSplitScenario('smi:v1alpha3:istio', 'v1alpha3', { service, parts: ['init', 'promote', 'rollback'] }));
