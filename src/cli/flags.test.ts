import { describe, expect, it } from 'vitest';
import { type FlagSpec, flagUsage, parseFlags, parseGoDuration, splitList } from './flags.ts';

const specs: FlagSpec[] = [
  { name: 'port', kind: 'int', default: '8080', help: 'Port.' },
  { name: 'level', kind: 'string', default: 'info', help: 'Level.', env: 'LEVEL' },
  { name: 'dry', kind: 'bool', default: 'false', help: 'Dry.' },
  { name: 'allow', kind: 'list', default: '', help: 'Allow.' },
  { name: 'help', kind: 'bool', default: 'false', help: 'Help.' },
];

describe('parseFlags', () => {
  it('reads Go flag syntax, repeatable lists and env overrides', () => {
    const f = parseFlags(['-port', '9', '--dry', '-allow=a', '-allow', 'b', '-h'], { LEVEL: 'debug' }, specs);
    if (typeof f === 'string') throw new Error(f);
    expect([f.int('port', 0, 65535), f.bool('dry'), f.bool('help'), f.str('level')]).toEqual([9, true, true, 'debug']);
    expect(f.list('allow')).toEqual(['a', 'b']);
    expect([...f.given].sort()).toEqual(['allow', 'dry', 'help', 'port']);
    expect(f.errors).toEqual([]);
  });

  it('reports unknown, refused and incomplete flags, stray arguments and bad values', () => {
    expect(parseFlags(['-nope'], {}, specs)).toBe('flag provided but not defined: -nope');
    expect(parseFlags(['-master', 'x'], {}, specs, { master: 'use -kubeconfig' })).toBe(
      'flag -master is not supported: use -kubeconfig',
    );
    expect(parseFlags(['-port'], {}, specs)).toBe('flag needs an argument: -port');
    expect(parseFlags(['run'], {}, specs)).toBe('unexpected argument "run"');
    expect(parseFlags(['--', 'x'], {}, specs)).toBe('unexpected argument "x"');
    const f = parseFlags(['-port', '99999', '-dry=maybe'], {}, specs);
    if (typeof f === 'string') throw new Error(f);
    f.int('port', 1, 65535);
    f.bool('dry');
    expect(f.errors).toEqual([
      'invalid value "99999" for flag -port: want an integer from 1 to 65535',
      'invalid boolean value "maybe" for flag -dry',
    ]);
  });
});

describe('helpers', () => {
  it('parses Go durations and comma lists, and prints Go-style usage', () => {
    expect([parseGoDuration('1m30s'), parseGoDuration('500ms'), parseGoDuration('0'), parseGoDuration('10')]).toEqual([
      90_000,
      500,
      0,
      undefined,
    ]);
    expect(splitList(' a, b,,c ')).toEqual(['a', 'b', 'c']);
    expect(flagUsage('x', specs.slice(0, 2))).toBe(
      'Usage of x:\n  -port int\n    \tPort. (default 8080)\n  -level string\n    \tLevel. (default "info") [env LEVEL]',
    );
  });
});
