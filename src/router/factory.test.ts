import { describe, expect, it } from 'vitest';
import { meshProviders } from '../apis/flagger/v1beta1/types.ts';
import { InvalidCanaryError, UnsupportedError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { routerFactory, serviceRouterFactory } from './factory.ts';
import { GatewayApiRouter } from './gateway-api.ts';
import { IstioRouter } from './istio.ts';
import { KubernetesServiceRouter, NopServiceRouter } from './kubernetes-services.ts';
import { NopRouter } from './nop.ts';
import { ContourRouter } from './contour.ts';
import { GlooRouter } from './gloo.ts';
import { IngressRouter } from './ingress.ts';
import { SkipperRouter } from './skipper.ts';
import { newCanary, podinfoMetadata } from './router.fixture.ts';
import { SmiRouter } from './smi.ts';
import { TraefikRouter } from './traefik.ts';
import { KumaRouter } from './kuma.ts';
import { ApisixRouter } from './apisix.ts';
import { AppMeshRouter } from './appmesh.ts';
import { AppMeshV1beta2Router } from './appmesh-v1beta2.ts';

const implemented: Readonly<Record<string, new (...args: never[]) => unknown>> = {
  kubernetes: NopRouter,
  'gatewayapi:v1': GatewayApiRouter,
  istio: IstioRouter,
  'gatewayapi:v1beta1': GatewayApiRouter,
  linkerd: SmiRouter,
  osm: SmiRouter,
  'smi:v1alpha1': SmiRouter,
  'smi:v1alpha2': SmiRouter,
  'smi:v1alpha3': SmiRouter,
  contour: ContourRouter,
  gloo: GlooRouter,
  nginx: IngressRouter,
  skipper: SkipperRouter,
  traefik: TraefikRouter,
  kuma: KumaRouter,
  apisix: ApisixRouter,
  appmesh: AppMeshRouter,
  'appmesh:v1beta2': AppMeshV1beta2Router,
};

describe('routerFactory', () => {
  const router = routerFactory({ kube: new FakeKube() });
  const canary = newCanary();

  for (const provider of meshProviders) {
    const impl = implemented[provider];
    if (impl !== undefined) {
      it(`builds ${impl.name} for "${provider}"`, () => {
        expect(router(canary, provider)).toBeInstanceOf(impl);
      });
    } else {
      it(`refuses "${provider}" as not yet supported`, () => {
        expect(() => router(canary, provider)).toThrow(UnsupportedError);
        expect(() => router(canary, provider)).toThrow(`provider "${provider}" is not yet supported by Fledge`);
      });
    }
  }

  it('covers every implemented provider of the enum', () => {
    expect(Object.keys(implemented).every((p) => (meshProviders as readonly string[]).includes(p))).toBe(true);
  });

  it('treats smi:<version>:<mesh> as the SMI provider of that version', () => {
    expect(router(canary, 'smi:v1alpha3:linkerd')).toBeInstanceOf(SmiRouter);
  });

  for (const name of ['gatewayapi', 'gatewayapi:v2', 'Istio', '', 'kubernetes:v1', 'smi:v1alpha9:linkerd']) {
    it(`rejects the unknown provider "${name}" without falling back`, () => {
      let error: unknown;
      try {
        router(canary, name);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidCanaryError);
      expect(error).not.toBeInstanceOf(UnsupportedError);
      expect((error as Error).message).toBe(`unknown provider "${name}"`);
    });
  }
});

describe('serviceRouterFactory', () => {
  const services = serviceRouterFactory({ kube: new FakeKube(), metadata: podinfoMetadata() });

  it('manages ClusterIP Services for Deployment and DaemonSet targets', () => {
    expect(services(newCanary({ targetKind: 'Deployment' }))).toBeInstanceOf(KubernetesServiceRouter);
    expect(services(newCanary({ targetKind: 'DaemonSet' }))).toBeInstanceOf(KubernetesServiceRouter);
  });

  it('generates no Services for a Service target', () => {
    expect(services(newCanary({ targetKind: 'Service' }))).toBeInstanceOf(NopServiceRouter);
  });
});
