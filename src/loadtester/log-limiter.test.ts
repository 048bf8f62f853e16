import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { LogLimiter, limitedLogger } from './log-limiter.ts';

describe('limitedLogger', () => {
  it('lets `burst` lines of one kind through per interval, then reports how many it dropped', () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const base = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const log = limitedLogger(base, new LogLimiter({ burst: 2, intervalMs: 1000, now: () => now }));
    for (let i = 0; i < 5; i++) log.warn('task refused', { i });
    log.child({ logger: 'x' }).warn('other line');
    expect(lines.map((l) => [l['msg'], l['i']])).toEqual([
      ['task refused', 0],
      ['task refused', 1],
      ['other line', undefined],
    ]);
    now = 1000;
    log.warn('task refused', { i: 5 });
    expect(lines.at(-1)).toMatchObject({ msg: 'task refused', i: 5, suppressed: 3 });
    log.error('task refused');
    expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'task refused' });
    expect(lines.at(-1)?.['suppressed']).toBeUndefined();
  });
});
