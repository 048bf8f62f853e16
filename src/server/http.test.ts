import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { silentLogger } from '../log/logger.ts';
import { type Readiness, type RunningHttpServer, startHttpServer } from './http.ts';

describe('startHttpServer', () => {
  let server: RunningHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(readiness: () => Readiness, metrics = new Registry()): Promise<string> {
    server = await startHttpServer({ port: 0, host: '127.0.0.1', metrics, readiness, log: silentLogger });
    return `http://127.0.0.1:${server.port}`;
  }

  it('serves the registry on /metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'flagger_test_total', help: 'x', registers: [registry] }).inc(3);
    const base = await start(() => ({ ready: true, reason: 'leader' }), registry);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toContain('flagger_test_total 3');
  });

  it('answers /healthz while alive', async () => {
    const base = await start(() => ({ ready: false, reason: 'caches not synced' }));
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
  });

  it('answers /readyz from the readiness callback', async () => {
    let r: Readiness = { ready: false, reason: 'caches not synced' };
    const base = await start(() => r);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('not ready: caches not synced\n');
    r = { ready: true, reason: 'standby' };
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok: standby\n');
  });

  it('treats a throwing readiness callback as not ready', async () => {
    const base = await start(() => {
      throw new Error('boom');
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const base = await start(() => ({ ready: true, reason: '' }));
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('rejects when the port is taken', async () => {
    const base = await start(() => ({ ready: true, reason: '' }));
    const port = Number(new URL(base).port);
    await expect(
      startHttpServer({
        port,
        host: '127.0.0.1',
        metrics: new Registry(),
        readiness: () => ({ ready: true, reason: '' }),
        log: silentLogger,
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
