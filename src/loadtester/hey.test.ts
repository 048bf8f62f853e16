import { describe, expect, it } from 'vitest';
import { HEY_USER_AGENT, HeyFlagError, parseHey } from './hey.ts';

const headersOf = (argv: string[]): Record<string, string> =>
  Object.fromEntries(parseHey(argv).spec.headers.map(([k, v]) => [k.toLowerCase(), v]));

describe('parseHey', () => {
  it("parses Flagger's documented load test: total rate = -q × -c, duration from -z", () => {
    const { spec, ignored } = parseHey(['-z', '1m', '-q', '10', '-c', '2', 'http://podinfo-canary.test:9898/']);
    expect(spec).toEqual({
      url: 'http://podinfo-canary.test:9898/',
      method: 'GET',
      headers: [
        ['Content-Type', 'text/html'],
        ['User-Agent', HEY_USER_AGENT],
      ],
      concurrency: 2,
      rate: 20,
      durationMs: 60_000,
      timeoutMs: 20_000,
      keepAlive: true,
      insecureSkipVerify: true,
    });
    expect(ignored).toEqual([]);
  });

  it("applies hey's defaults: 200 requests, 50 workers, no rate limit", () => {
    const { spec } = parseHey(['http://x/']);
    expect(spec.requests).toBe(200);
    expect(spec.durationMs).toBeUndefined();
    expect(spec.concurrency).toBe(50);
    expect(spec.rate).toBeUndefined();
  });

  it('accepts Go flag syntax: -f=v, --f v, boolean -f and -f=false', () => {
    const { spec } = parseHey(['--n', '10', '-c=5', '-disable-keepalive', '-m=post', '-t', '0', 'http://x/']);
    expect(spec.requests).toBe(10);
    expect(spec.concurrency).toBe(5);
    expect(spec.keepAlive).toBe(false);
    expect(spec.method).toBe('POST');
    expect(spec.timeoutMs).toBe(0);
    expect(parseHey(['-disable-keepalive=false', 'http://x/']).spec.keepAlive).toBe(true);
  });

  it('builds headers as hey does: -T, repeated -H (last of a name wins), -A, User-Agent appended, -a, -host', () => {
    expect(
      headersOf([
        '-H',
        'X-One: 1',
        '-H',
        'Authorization: Bearer abc',
        '-H',
        'X-One: 2',
        '-H',
        'User-Agent: flagger',
        '-A',
        'application/json',
        '-T',
        'application/json',
        '-a',
        'user:pass',
        '-host',
        'podinfo.example.com',
        'http://x/',
      ]),
    ).toEqual({
      'content-type': 'application/json',
      'x-one': '2',
      authorization: `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'user-agent': `flagger ${HEY_USER_AGENT}`,
      accept: 'application/json',
      host: 'podinfo.example.com',
    });
    expect(headersOf(['-H', 'Content-Type: text/plain', 'http://x/'])['content-type']).toBe('text/plain');
  });

  it.each(['first.last:pw12', 'user:p@ss!', 'svc:a:b:c'])(
    'takes -a %s as hey does (any user, any password)',
    (auth) => {
      expect(headersOf(['-a', auth, 'http://x/'])['authorization']).toBe(
        `Basic ${Buffer.from(auth, 'utf8').toString('base64')}`,
      );
    },
  );

  it('takes the body from -d', () => {
    expect(parseHey(['-m', 'POST', '-d', '{"a":1}', 'http://x/']).spec.body).toBe('{"a":1}');
  });

  it('lets -z win over -n, as hey does', () => {
    const { spec } = parseHey(['-n', '5', '-c', '10', '-z', '30s', 'http://x/']);
    expect(spec.durationMs).toBe(30_000);
    expect(spec.requests).toBeUndefined();
  });

  it('reports flags accepted without effect', () => {
    expect(parseHey(['-disable-compression', '-disable-redirects', '-cpus', '2', 'http://x/']).ignored).toEqual([
      '-disable-compression',
      '-disable-redirects',
      '-cpus',
    ]);
  });

  it.each([
    [['-n', '10', '-c', '20', 'http://x/'], '-n cannot be less than -c.'],
    [['-n', '0', 'http://x/'], '-n and -c cannot be smaller than 1.'],
    [['-c', '0', '-z', '1s', 'http://x/'], '-n and -c cannot be smaller than 1.'],
    [['-z', '1 minute', 'http://x/'], 'invalid value "1 minute" for flag -z'],
    [['-q', 'ten', 'http://x/'], 'invalid value "ten" for flag -q'],
    [['-n', '1.5', 'http://x/'], 'invalid value "1.5" for flag -n'],
    [['-H', 'no colon', 'http://x/'], 'invalid header "no colon"'],
    [['-a', 'nopassword', 'http://x/'], '-a: want username:password'],
    [['-a', 'user: x', 'http://x/'], '-a: want username:password'],
    [['-a', 'user:x', 'http://x/'], '-a: want username:password'],
    [['-D', '/etc/passwd', 'http://x/'], '-D: reading the request body from a file'],
    [['-x', 'proxy:3128', 'http://x/'], '-x: proxies are not supported'],
    [['-h2', 'http://x/'], '-h2: HTTP/2 is not supported'],
    [['-o', 'csv', 'http://x/'], '-o: output formats are not supported'],
    [['-bogus', 'http://x/'], 'flag provided but not defined: -bogus'],
    [['-z'], 'flag needs an argument: -z'],
    [['-z', '1m'], 'a URL is required'],
    [['http://x/', 'extra'], 'unexpected arguments after the URL: extra'],
    [['file:///etc/passwd'], 'unsupported URL scheme "file:"'],
    [['not a url'], 'invalid URL "not a url"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseHey(argv)).toThrow(HeyFlagError);
    expect(() => parseHey(argv)).toThrow(message);
  });

  it('accepts -h2=false (the refusal is of HTTP/2, not of the flag)', () => {
    expect(parseHey(['-h2=false', 'http://x/']).spec.url).toBe('http://x/');
  });
});
