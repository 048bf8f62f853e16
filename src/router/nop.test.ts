import { describe, expect, it } from 'vitest';
import { NopRouter } from './nop.ts';
import { newCanary, newCtx } from './router.fixture.ts';

describe('NopRouter', () => {
  it('reports all traffic on the primary before the first iteration', async () => {
    const canary = newCanary({ status: { phase: 'Progressing', iterations: 0 } });
    await expect(new NopRouter().getRoutes(newCtx(), canary)).resolves.toEqual({
      primary: 100,
      canary: 0,
      mirrored: false,
    });
    await expect(new NopRouter().getRoutes(newCtx(), newCanary())).resolves.toEqual({
      primary: 100,
      canary: 0,
      mirrored: false,
    });
  });

  it('reports all traffic on the canary once an iteration has run', async () => {
    const canary = newCanary({ status: { phase: 'Progressing', iterations: 2 } });
    await expect(new NopRouter().getRoutes(newCtx(), canary)).resolves.toEqual({
      primary: 0,
      canary: 100,
      mirrored: false,
    });
  });

  it('ignores setRoutes: the weights follow the iterations only', async () => {
    const router = new NopRouter();
    const canary = newCanary();
    await router.reconcile(newCtx(), canary);
    await router.setRoutes(newCtx(), canary, { primary: 0, canary: 100, mirrored: true });
    await router.finalize(newCtx(), canary);
    await expect(router.getRoutes(newCtx(), canary)).resolves.toEqual({ primary: 100, canary: 0, mirrored: false });
  });
});
