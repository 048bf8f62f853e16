import { describe, expect, it } from 'vitest';
import { FakeKube } from '../kube/fake.ts';
import { GatewayApiRouter } from '../router/gateway-api.ts';
import { newCanary } from '../router/router.fixture.ts';
import { type Fields, type Logger, createLogger, defaultLogFormat, logFormatOf } from './logger.ts';

/** A logger writing parsed lines into an array. */
function recorder(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    name: 'fledge',
    level: 'debug',
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { log, lines };
}

/** The line without its timestamp, which must be an ISO time. */
function withoutTs(line: Record<string, unknown> | undefined): Record<string, unknown> {
  const { ts, ...rest } = line ?? {};
  expect(new Date(String(ts)).toISOString()).toBe(ts);
  return rest;
}

describe('Logger fields', () => {
  it('writes bound fields on every line, with errors as message, type and cause', () => {
    const { log, lines } = recorder();
    const scoped = log.child({ logger: 'controller' }).child({ canary: 'podinfo', namespace: 'test' });
    scoped.warn('tick failed', { error: new TypeError('boom', { cause: new Error('root') }), attempt: 2 });
    expect(lines.map(withoutTs)).toEqual([
      {
        level: 'warn',
        msg: 'tick failed',
        logger: 'controller',
        canary: 'podinfo',
        namespace: 'test',
        error: { message: 'boom', type: 'TypeError', cause: { message: 'root', type: 'Error' } },
        attempt: 2,
      },
    ]);
  });

  it("never lets a call or a child replace a bound key or the line's own keys: the value goes under shadowed", () => {
    const { log, lines } = recorder();
    const scoped = log.child({ canary: 'podinfo', namespace: 'test' });
    // What a caller outside the type system (or through a cast) might send.
    const sneaky = { canary: 30, msg: 'other', level: 'error', namespace: 'elsewhere' } as unknown as Fields<
      'canary' | 'namespace'
    >;
    scoped.info('HTTPRoute updated', sneaky);
    scoped.child({ canary: 'other' } as unknown as Fields<'canary' | 'namespace'>).info('child');
    expect(withoutTs(lines[0])).toEqual({
      level: 'info',
      msg: 'HTTPRoute updated',
      logger: 'fledge',
      canary: 'podinfo',
      namespace: 'test',
      shadowed: { canary: 30, msg: 'other', level: 'error', namespace: 'elsewhere' },
    });
    expect(lines[1]).toMatchObject({ msg: 'child', canary: 'podinfo' });
  });

  it('lets a child name its component', () => {
    const { log, lines } = recorder();
    log.child({ logger: 'kube' }).info('hello');
    expect(lines[0]).toMatchObject({ logger: 'kube', msg: 'hello' });
  });

  it('rejects at compile time a known key of the wrong type, a bound key and a written key', () => {
    const { log, lines } = recorder();
    const scoped = log.child({ canary: 'podinfo', namespace: 'test' });
    // @ts-expect-error -- `canary` is a Canary's name, never a weight
    log.info('weights', { canary: 30 });
    // @ts-expect-error -- `canary` is bound by child()
    scoped.info('other canary', { canary: 'other' });
    // @ts-expect-error -- `msg` is the logger's own
    scoped.info('x', { msg: 'y' });
    // @ts-expect-error -- `namespace` is bound too, also for a grandchild
    scoped.child({ webhook: 'load' }).debug('x', { namespace: 'elsewhere' });
    expect(lines.map((l) => l['canary'])).toEqual([30, 'podinfo', 'podinfo', 'podinfo']);
  });
});

describe('log call sites', () => {
  it('"HTTPRoute updated" keeps the canary field (it carried the canary weight) and logs weights as weights', async () => {
    const { log, lines } = recorder();
    const ctx = { signal: new AbortController().signal, log: log.child({ canary: 'podinfo', namespace: 'test' }) };
    const router = new GatewayApiRouter({ kube: new FakeKube() });
    await router.setRoutes(ctx, newCanary(), { primary: 70, canary: 30, mirrored: false });
    await router.setRoutes(ctx, newCanary(), { primary: 40, canary: 60, mirrored: false });
    const updated = lines.filter((l) => l['msg'] === 'HTTPRoute updated');
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ canary: 'podinfo', namespace: 'test', primaryWeight: 40, canaryWeight: 60 });
    expect(updated[0]).not.toHaveProperty('shadowed');
  });
});

describe('text format', () => {
  it('writes time, level, message and key=value fields, quoting what needs it', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', write: (l) => lines.push(l), name: 'fledge' });
    log.child({ canary: 'podinfo', namespace: 'test' }).warn('Halt advancement', { weight: 20, reason: 'a b' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d\d\d WARN {2}Halt advancement logger=fledge canary=podinfo namespace=test weight=20 reason="a b"$/,
    );
  });

  it('follows the terminal when -zap-encoding is unset', () => {
    expect(defaultLogFormat({ isTTY: true })).toBe('text');
    expect(defaultLogFormat({})).toBe('json');
    expect(logFormatOf('console')).toBe('text');
    expect(logFormatOf('xml')).toBeUndefined();
  });
});
