import { describe, expect, it } from 'vitest';
import type { Canary, CanarySpec } from '../apis/flagger/v1beta1/types.ts';
import type { KubeObject } from '../kube/objects.ts';
import {
  CROSS_NAMESPACE_REF,
  DUPLICATE_TARGET,
  SERVICE_CONFLICT,
  createVerifier,
  crossNamespaceBlocker,
  duplicateTargetBlocker,
  nameConflictBlocker,
} from './verify.ts';

function canary(
  name: string,
  opts: { created?: string; target?: string; kind?: 'Deployment' | 'DaemonSet'; spec?: Partial<CanarySpec> } = {},
): Canary {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace: 'apps', ...(opts.created ? { creationTimestamp: opts.created } : {}) },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: opts.kind ?? 'Deployment', name: opts.target ?? 'podinfo' },
      service: { port: 9898 },
      ...opts.spec,
    },
  };
}

describe('duplicateTargetBlocker', () => {
  const older = canary('a-old', { created: '2026-01-01T00:00:00Z' });
  const newer = canary('b-new', { created: '2026-01-02T00:00:00Z' });

  it('blocks the newer of two canaries with the same target, naming the other', () => {
    const b = duplicateTargetBlocker(newer, [older, newer]);
    expect(b?.reason).toBe(DUPLICATE_TARGET);
    expect(b?.message).toContain('Canary a-old.apps');
    expect(b?.message).toContain('Deployment podinfo.apps');
  });

  it('lets the older one keep working', () => {
    expect(duplicateTargetBlocker(older, [older, newer])).toBeUndefined();
  });

  it('breaks a creationTimestamp tie by name', () => {
    const x = canary('x', { created: '2026-01-01T00:00:00Z' });
    const y = canary('y', { created: '2026-01-01T00:00:00Z' });
    expect(duplicateTargetBlocker(x, [x, y])).toBeUndefined();
    expect(duplicateTargetBlocker(y, [x, y])?.message).toContain('Canary x.apps');
  });

  it('compares parsed times, not strings', () => {
    const frac = canary('z-frac', { created: '2026-01-01T00:00:00.500Z' });
    const whole = canary('a-whole', { created: '2026-01-01T00:00:01Z' });
    expect(duplicateTargetBlocker(frac, [frac, whole])).toBeUndefined();
    expect(duplicateTargetBlocker(whole, [frac, whole])?.message).toContain('z-frac');
  });

  it('names the oldest when there are several', () => {
    const third = canary('c', { created: '2026-01-03T00:00:00Z' });
    expect(duplicateTargetBlocker(third, [newer, older, third])?.message).toContain('Canary a-old.apps');
  });

  it('ignores canaries with other targets, kinds or namespaces, and malformed ones', () => {
    const otherTarget = canary('a', { created: '2025-01-01T00:00:00Z', target: 'backend' });
    const otherKind = canary('b', { created: '2025-01-01T00:00:00Z', kind: 'DaemonSet' });
    const otherNs: Canary = {
      ...canary('c', { created: '2025-01-01T00:00:00Z' }),
      metadata: { name: 'c', namespace: 'prod', creationTimestamp: '2025-01-01T00:00:00Z' },
    };
    const malformed: KubeObject = {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'd', namespace: 'apps', creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: 'x',
    };
    expect(duplicateTargetBlocker(newer, [otherTarget, otherKind, otherNs, malformed, newer])).toBeUndefined();
  });

  it('counts a canary without creationTimestamp as the newest', () => {
    const unknown = canary('a-unknown');
    expect(duplicateTargetBlocker(unknown, [unknown, newer])?.message).toContain('b-new');
    expect(duplicateTargetBlocker(newer, [unknown, newer])).toBeUndefined();
  });
});

describe('crossNamespaceBlocker', () => {
  it('allows references to the canary namespace or without a namespace', () => {
    const c = canary('a', {
      spec: {
        analysis: {
          metrics: [
            { name: 'm', templateRef: { name: 't' } },
            { name: 'n', templateRef: { name: 't', namespace: 'apps' } },
          ],
          alerts: [{ name: 'x', providerRef: { name: 'slack' } }],
        },
        upstreamRef: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream', name: 'u', namespace: 'apps' },
      },
    });
    expect(crossNamespaceBlocker(c)).toBeUndefined();
  });

  it.each([
    [
      'metric template',
      { analysis: { metrics: [{ name: 'm', templateRef: { name: 't', namespace: 'flagger' } }] } },
      't.flagger',
    ],
    [
      'alert provider',
      { analysis: { alerts: [{ name: 'a', providerRef: { name: 'on-call', namespace: 'ops' } }] } },
      'on-call.ops',
    ],
    [
      'gloo upstream',
      { upstreamRef: { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream' as const, name: 'u', namespace: 'gloo' } },
      'u.gloo',
    ],
    [
      'metric template',
      { canaryAnalysis: { metrics: [{ name: 'm', templateRef: { name: 'old', namespace: 'x' } }] } },
      'old.x',
    ],
  ])('blocks a %s in another namespace', (what, spec, ref) => {
    const b = crossNamespaceBlocker(canary('a', { spec }));
    expect(b?.reason).toBe(CROSS_NAMESPACE_REF);
    expect(b?.message).toContain(`${what} ${ref}`);
  });
});

describe('createVerifier', () => {
  const foreign = canary('b', {
    created: '2026-01-02T00:00:00Z',
    spec: { analysis: { metrics: [{ name: 'm', templateRef: { name: 't', namespace: 'flagger' } }] } },
  });

  it('checks cross-namespace references only with -no-cross-namespace-refs', () => {
    expect(createVerifier({ noCrossNamespaceRefs: false, canaries: () => [] })(foreign)).toBeUndefined();
    expect(createVerifier({ noCrossNamespaceRefs: true, canaries: () => [] })(foreign)?.reason).toBe(
      CROSS_NAMESPACE_REF,
    );
  });

  it('looks up the canaries of the canary namespace for duplicates', () => {
    const seen: string[] = [];
    const older = canary('a', { created: '2026-01-01T00:00:00Z' });
    const verify = createVerifier({
      noCrossNamespaceRefs: false,
      canaries: (ns) => {
        seen.push(ns);
        return [older, foreign];
      },
    });
    expect(verify(foreign)?.reason).toBe(DUPLICATE_TARGET);
    expect(seen).toEqual(['apps']);
  });
});

describe('nameConflictBlocker', () => {
  const ref = canary('ref', { created: '2026-01-01T00:00:00Z', target: 'ref', spec: { service: { port: 80 } } });
  const asPrimary = canary('tgt0', {
    created: '2026-01-02T00:00:00Z',
    target: 'tgt0',
    spec: { service: { port: 80, name: 'ref-primary' } },
  });

  it('blocks a newer canary whose service.name is the -primary Service of an older one', () => {
    const b = nameConflictBlocker(asPrimary, [ref, asPrimary]);
    expect(b).toEqual({
      reason: SERVICE_CONFLICT,
      message:
        'Service ref-primary.apps belongs to Canary ref.apps; this Canary creates nothing until the other is deleted or one of them uses another service.name or target',
    });
    expect(nameConflictBlocker(ref, [ref, asPrimary])).toBeUndefined();
  });

  it('blocks the newer of two canaries with one service.name on different targets, in either order', () => {
    const a = canary('a', {
      created: '2026-01-01T00:00:00Z',
      target: 'one',
      spec: { service: { port: 80, name: 'web' } },
    });
    const b = canary('b', {
      created: '2026-01-02T00:00:00Z',
      target: 'two',
      spec: { service: { port: 80, name: 'web' } },
    });
    expect(nameConflictBlocker(b, [a, b])?.message).toContain('Service web.apps belongs to Canary a.apps');
    expect(nameConflictBlocker(b, [b, a])?.reason).toBe(SERVICE_CONFLICT);
    expect(nameConflictBlocker(a, [b, a])).toBeUndefined();
  });

  it('sees a primary workload clash: a target named like the primary of another', () => {
    const base = canary('base', { created: '2026-01-01T00:00:00Z', target: 'api' });
    const clash = canary('clash', {
      created: '2026-01-02T00:00:00Z',
      target: 'api-primary',
      spec: { service: { port: 80, name: 'other' } },
    });
    expect(nameConflictBlocker(clash, [base, clash])?.message).toContain('Deployment api-primary.apps');
  });

  it('ignores canaries without shared names, in other namespaces, and malformed ones', () => {
    const other = canary('other', { created: '2026-01-01T00:00:00Z', target: 'x' });
    const foreign = { ...ref, metadata: { ...ref.metadata, namespace: 'elsewhere' } };
    const malformed = {
      metadata: { name: 'm', namespace: 'apps', creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: 7,
    };
    expect(nameConflictBlocker(asPrimary, [other, foreign, malformed as unknown as KubeObject])).toBeUndefined();
  });

  it('is part of the verifier, after the duplicate-target check', () => {
    const verify = createVerifier({ noCrossNamespaceRefs: false, canaries: () => [ref, asPrimary] });
    expect(verify(asPrimary)?.reason).toBe(SERVICE_CONFLICT);
  });
});
