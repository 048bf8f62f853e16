// osm routes with Flagger's Smiv1alpha2Router: a split.smi-spec.io/v1alpha2 TrafficSplit, integer weights.
import { describe } from 'vitest';
import { trafficSplitScenario } from './smi-lib.ts';

describe('osm router', () => trafficSplitScenario('osm', 'v1alpha2'));
