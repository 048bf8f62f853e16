import { describe, expect, it } from 'vitest';
import { Allowlist, AllowlistError, refusalMessage, splitAllowValue } from './allowlist.ts';

describe('splitAllowValue', () => {
  it('splits on top-level commas only', () => {
    expect(splitAllowValue('^a$,^b$')).toEqual(['^a$', '^b$']);
    expect(splitAllowValue('^x{1,3}$,^(a,b)$,^[,]$')).toEqual(['^x{1,3}$', '^(a,b)$', '^[,]$']);
    expect(splitAllowValue('^a\\,b$')).toEqual(['^a\\,b$']);
    expect(splitAllowValue(' ^a$ ,, ')).toEqual(['^a$']);
    expect(splitAllowValue('')).toEqual([]);
  });
});

describe('Allowlist', () => {
  const list = Allowlist.parse([
    'hey -z \\d+[sm] -q \\d+ -c \\d+ http://podinfo-canary\\.test:9898/',
    'helm test \\S+',
    'kubectl get pods -n [a-z-]+',
    'load GET http://podinfo-canary\\.test:9898/.*',
    'bash:curl -s http://podinfo-canary\\.test:9898/ \\| grep -q ok',
  ]);

  it('matches the whole canonical command line, never a part of it', () => {
    expect(
      list.matchArgv(['hey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/']),
    ).toBeDefined();
    expect(list.matchArgv(['hey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/x'])).toBe(
      undefined,
    );
    expect(list.matchArgv(['xhey', '-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/'])).toBe(
      undefined,
    );
    expect(list.matchArgv(['helm', 'test', 'podinfo'])).toBeDefined();
    expect(list.matchArgv(['helm', 'test', 'podinfo', '--debug'])).toBeUndefined();
  });

  it('anchors each alternative of an entry', () => {
    const alt = Allowlist.parse(['echo a|echo b']);
    expect(alt.matchArgv(['echo', 'a'])).toBeDefined();
    expect(alt.matchArgv(['echo', 'b'])).toBeDefined();
    expect(alt.matchArgv(['echo', 'b', 'c'])).toBeUndefined();
    expect(alt.matchArgv(['x', 'echo', 'a'])).toBeUndefined();
  });

  it('sees words with blanks quoted, so a quoted word cannot pose as several', () => {
    // `\S+` cannot swallow "pods -n kube-system" when it is one word.
    expect(list.matchArgv(['kubectl', 'get', 'pods -n x', '-n', 'y'])).toBeUndefined();
    expect(list.matchArgv(['kubectl', 'get', 'pods', '-n', 'test'])).toBeDefined();
  });

  it('matches bash: entries only against scripts, and plain entries only against argv', () => {
    expect(list.matchShell('curl -s http://podinfo-canary.test:9898/ | grep -q ok')).toBeDefined();
    expect(list.matchShell('  curl -s http://podinfo-canary.test:9898/ | grep -q ok\n')).toBeDefined();
    expect(list.matchShell('curl -s http://podinfo-canary.test:9898/ | grep -q ok; id')).toBeUndefined();
    expect(list.matchShell('helm test podinfo')).toBeUndefined();
    expect(list.matchArgv(['curl', '-s', 'http://podinfo-canary.test:9898/', '|', 'grep', '-q', 'ok'])).toBeUndefined();
  });

  it('an empty list allows nothing', () => {
    const none = Allowlist.parse([]);
    expect(none.empty).toBe(true);
    expect(none.matchArgv(['true'])).toBeUndefined();
    expect(none.matchShell('true')).toBeUndefined();
    expect(refusalMessage('true', none)).toMatch(/without -allow entries/);
  });

  it('rejects invalid or empty entries, naming them', () => {
    expect(() => Allowlist.parse(['^(unclosed$'])).toThrow(AllowlistError);
    expect(() => Allowlist.parse(['^(unclosed$'])).toThrow(/"\^\(unclosed\$" is not a valid regular expression/);
    expect(() => Allowlist.parse(['bash:'])).toThrow(/is empty/);
  });

  it('names the refused command line in the refusal message', () => {
    expect(refusalMessage('curl http://evil', list)).toBe(
      'command refused: "curl http://evil" matches no -allow entry of fledge-loadtester',
    );
    expect(refusalMessage('id', list, true)).toContain('"bash:" -allow entry');
  });
});
