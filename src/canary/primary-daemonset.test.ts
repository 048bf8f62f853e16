import { describe, expect, it } from 'vitest';
import { withoutScaleToZero } from './primary-daemonset.ts';

const SCALE_TO_ZERO = 'flagger.app/scale-to-zero';
const template = (nodeSelector?: Record<string, string>) => ({
  metadata: { labels: { app: 'a' } },
  spec: { containers: [{ name: 'a', image: 'a:1' }], ...(nodeSelector ? { nodeSelector } : {}) },
});

describe('withoutScaleToZero', () => {
  it('returns a template without the selector as it is', () => {
    const t = template({ 'kubernetes.io/os': 'linux' });
    expect(withoutScaleToZero(t)).toBe(t);
  });

  it('drops the selector, and nodeSelector when it was the only key or is empty', () => {
    expect(withoutScaleToZero(template({ [SCALE_TO_ZERO]: 'true' }))).toEqual(template());
    expect(withoutScaleToZero(template({}))).toEqual(template());
  });

  it("keeps the user's other node selectors and does not modify its input", () => {
    const t = template({ [SCALE_TO_ZERO]: 'true', 'kubernetes.io/os': 'linux' });
    const copy = structuredClone(t);
    expect(withoutScaleToZero(t)).toEqual(template({ 'kubernetes.io/os': 'linux' }));
    expect(t).toEqual(copy);
  });
});
