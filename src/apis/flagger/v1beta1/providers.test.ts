import { describe, expect, it } from 'vitest';
import { minimalCanary } from './examples.fixture.ts';
import { ignoredFields, providerFields, routingFields, setRoutingFields, unimplementedFields } from './providers.ts';
import { meshProviders, type Canary, type CanaryAnalysis, type CanaryService } from './types.ts';

function canary(
  service: Partial<CanaryService>,
  analysis: CanaryAnalysis = { interval: '1m', threshold: 1, stepWeight: 10 },
): Canary {
  return minimalCanary(analysis, { service: { port: 80, ...service } });
}

describe('providerFields', () => {
  it('has a row for every provider of the CRD enum, naming only known fields', () => {
    expect(Object.keys(providerFields).sort()).toEqual([...meshProviders].sort());
    for (const row of Object.values(providerFields)) {
      for (const f of [...row.uses, ...('notImplemented' in row ? row.notImplemented : [])]) {
        expect(routingFields).toContain(f);
      }
    }
  });
});

describe('setRoutingFields', () => {
  it('treats empty lists, empty objects, false and empty strings as unset', () => {
    const c = canary({ gateways: [], headers: {}, delegation: false, timeout: '', hosts: ['a'] });
    expect(setRoutingFields(c)).toEqual(['service.hosts']);
  });

  it('reads the deprecated canaryAnalysis too', () => {
    const { analysis: _dropped, ...spec } = canary({}).spec;
    const legacy: Canary = { ...canary({}), spec: { ...spec, canaryAnalysis: { mirror: true } } };
    expect(setRoutingFields(legacy)).toEqual(['analysis.mirror']);
  });
});

describe('ignoredFields', () => {
  const istioish = canary({
    gateways: ['mesh'],
    retries: { attempts: 2 },
    trafficPolicy: { tls: { mode: 'DISABLE' } },
  });

  it('lists what the kubernetes provider drops', () => {
    expect(ignoredFields(istioish, 'kubernetes')).toEqual([
      'service.gateways',
      'service.retries',
      'service.trafficPolicy',
    ]);
  });

  it('lists nothing for istio, which uses them all', () => {
    expect(ignoredFields(istioish, 'istio')).toEqual([]);
  });

  it('maps smi:<version>:<mesh> to its SMI row and an unknown provider to nothing', () => {
    expect(ignoredFields(istioish, 'smi:v1alpha3:istio')).toEqual(['service.retries', 'service.trafficPolicy']);
    expect(ignoredFields(istioish, 'bogus')).toEqual([]);
  });
});

describe('unimplementedFields', () => {
  it('is empty for sessionAffinity with gatewayapi:v1 (routed), which kubernetes ignores', () => {
    const c = canary({}, { interval: '1m', threshold: 1, stepWeight: 10, sessionAffinity: { cookieName: 'c' } });
    expect(unimplementedFields(c, 'gatewayapi:v1')).toEqual([]);
    expect(ignoredFields(c, 'gatewayapi:v1')).toEqual([]);
    expect(unimplementedFields(c, 'kubernetes')).toEqual([]);
    expect(ignoredFields(c, 'kubernetes')).toEqual(['analysis.sessionAffinity']);
  });
});
