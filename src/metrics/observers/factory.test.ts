import { describe, expect, it } from 'vitest';
import { meshProviders } from '../../apis/flagger/v1beta1/types.ts';
import type { MetricsProvider } from '../providers/provider.ts';
import { UnsupportedObserverError, hasObserver, observerFor } from './factory.ts';
import { HttpObserver } from './http.ts';

const client: MetricsProvider = { runQuery: () => Promise.resolve(1), isOnline: () => Promise.resolve(true) };

describe('observerFor', () => {
  it.each(['kubernetes', 'gatewayapi:v1', 'gatewayapi:v1beta1'])('uses the http observer for %s', (provider) => {
    expect(observerFor(provider, client)).toBeInstanceOf(HttpObserver);
    expect(hasObserver(provider)).toBe(true);
  });

  it('says which providers are not supported yet instead of falling back to Istio', () => {
    expect(() => observerFor('istio', client)).toThrow(
      new UnsupportedObserverError('builtin metrics for provider istio not yet supported'),
    );
    expect(hasObserver('istio')).toBe(false);
  });

  it('rejects unknown providers', () => {
    expect(() => observerFor('gatewayapi', client)).toThrow('builtin metrics: unknown provider "gatewayapi"');
  });

  it('supports exactly the http-observer providers in this version; the others throw UnsupportedObserverError', () => {
    expect(meshProviders.filter(hasObserver)).toEqual(['gatewayapi:v1', 'gatewayapi:v1beta1', 'kubernetes']);
    for (const p of meshProviders.filter((m) => !hasObserver(m))) {
      expect(() => observerFor(p, client)).toThrow(UnsupportedObserverError);
    }
  });
});
