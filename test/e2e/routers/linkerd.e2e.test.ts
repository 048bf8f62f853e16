// linkerd routes with Flagger's SmiRouter: a split.smi-spec.io/v1alpha1 TrafficSplit, weights as quantities.
import { describe } from 'vitest';
import { trafficSplitScenario } from './smi-lib.ts';

describe('linkerd router', () => trafficSplitScenario('linkerd', 'v1alpha1'));
