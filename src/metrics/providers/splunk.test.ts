import { afterEach, describe, expect, it } from 'vitest';
import { type HttpClient, createHttpClient } from '../../http/client.ts';
import { type TestServer, json, startServer, testCtx } from '../../http/server.fixture.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import { SplunkProvider, parseEventStream } from './splunk.ts';

const http = createHttpClient();
const NOW = 1_700_000_000_123;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function splunk(status: number, stream: string): Promise<SplunkProvider> {
  server = await startServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'text/event-stream' });
    res.end(stream);
  });
  return new SplunkProvider(
    { address: server.url, credentials: { sf_token_key: 'sf-s3cret' }, metricInterval: '1m', now: () => NOW },
    http,
  );
}

/** An execute answer shaped like SignalFlow's HTTP API docs (pretty-printed JSON over several data lines). */
function stream(data: { tsId: string; value: number | null }[][]): string {
  const control = (event: string): string =>
    `event: control-message\ndata: {\ndata:   "event" : "${event}",\ndata:   "timestampMs" : 1700000000000\ndata: }\n\n`;
  const metadata =
    'event: metadata\ndata: {\ndata:   "properties" : { "sf_metric" : "demo.trans.latency" },\ndata:   "tsId" : "AAAAAFHGEhk"\ndata: }\n\n';
  const batches = data
    .map(
      (points, i) =>
        `event: data\ndata: {\ndata:   "data" : ${JSON.stringify(points)},\ndata:   "logicalTimestampMs" : ${1699999400000 + i * 60000}\ndata: }\n\n`,
    )
    .join('');
  return control('STREAM_START') + control('JOB_START') + metadata + batches + control('END_OF_CHANNEL');
}

describe('SplunkProvider', () => {
  it('POSTs the SignalFlow program over the last 10 intervals with X-SF-Token', async () => {
    const sp = await splunk(200, stream([[{ tsId: 'AAAAAFHGEhk', value: 3 }], [{ tsId: 'AAAAAFHGEhk', value: 4.5 }]]));
    const program = "data('demo.trans.latency').mean().publish()";
    await expect(sp.runQuery(testCtx(), program)).resolves.toBe(4.5);
    const req = server?.requests[0];
    expect(req?.method).toBe('POST');
    const url = new URL(req?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/v2/signalflow/execute');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      start: String(NOW - 600_000),
      stop: String(NOW),
      immediate: 'true',
    });
    expect(req?.headers['x-sf-token']).toBe('sf-s3cret');
    expect(req?.headers['content-type']).toBe('text/plain');
    expect(req?.body).toBe(program);
  });

  it('uses the last non-null value of the time series, as Flagger (nulls are dropped)', async () => {
    const sp = await splunk(
      200,
      stream([
        [{ tsId: 'A', value: 1 }],
        [{ tsId: 'A', value: 2 }],
        // A series with only nulls is not a second series.
        [
          { tsId: 'A', value: null },
          { tsId: 'B', value: null },
        ],
        [],
      ]),
    );
    await expect(sp.runQuery(testCtx(), 'p')).resolves.toBe(2);
  });

  it.each([
    ['an empty body', ''],
    ['no data', stream([])],
    ['empty data batches', stream([[], []])],
    ['only null values', stream([[{ tsId: 'A', value: null }]])],
  ])('reports %s as no values', async (_name, body) => {
    const sp = await splunk(200, body);
    await expect(sp.runQuery(testCtx(), 'p')).rejects.toThrow(NoValuesFoundError);
  });

  it('rejects values of several time series, as Flagger', async () => {
    const sp = await splunk(
      200,
      stream([
        [
          { tsId: 'A', value: 1 },
          { tsId: 'B', value: 2 },
        ],
      ]),
    );
    await expect(sp.runQuery(testCtx(), 'p')).rejects.toThrow(MultipleValuesError);
  });

  it('reports error events and statuses without the token', async () => {
    const sp = await splunk(200, 'event: error\ndata: {"error": 400, "message": "Invalid SignalFlow program"}\n\n');
    await expect(sp.runQuery(testCtx(), 'p')).rejects.toThrow('error executing query: "Invalid SignalFlow program"');
    const denied = await splunk(401, 'Unauthorized');
    const err = await denied.runQuery(testCtx(), 'p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).not.toContain('sf-s3cret');
  });

  it('checks availability with /v2/metric?limit=1 on the API host', async () => {
    server = await startServer((_req, res) => json(res, 200, { count: 1, results: [] }));
    const sp = new SplunkProvider(
      { address: server.url, credentials: { sf_token_key: 't' }, metricInterval: '1m' },
      http,
    );
    await expect(sp.isOnline(testCtx())).resolves.toBe(true);
    expect(server.requests[0]?.url).toBe('/v2/metric?limit=1');
    expect(server.requests[0]?.headers['x-sf-token']).toBe('t');
  });

  it('talks to the stream host for queries and the API host for availability, as Flagger derives them', async () => {
    const urls: string[] = [];
    const recording: HttpClient = {
      request: (_ctx, req) => {
        urls.push(req.url.split('?')[0] ?? '');
        return Promise.resolve({
          status: 200,
          statusText: 'OK',
          headers: {},
          body: stream([[{ tsId: 'A', value: 1 }]]),
        });
      },
    };
    const sp = new SplunkProvider(
      { address: 'https://api.us1.signalfx.com', credentials: { sf_token_key: 't' }, metricInterval: '1m' },
      recording,
    );
    await sp.runQuery(testCtx(), 'p');
    await sp.isOnline(testCtx());
    expect(urls).toEqual([
      'https://stream.us1.signalfx.com/v2/signalflow/execute',
      'https://api.us1.signalfx.com/v2/metric',
    ]);
  });

  it('parses event streams', () => {
    expect(parseEventStream(': comment\nevent: data\ndata: {\ndata: "a": 1}\n\ndata: x\n')).toEqual([
      { event: 'data', data: '{\n"a": 1}' },
      { event: 'message', data: 'x' },
    ]);
  });

  it('validates its options', () => {
    expect(() => new SplunkProvider({ credentials: {}, metricInterval: '1m' }, http)).toThrow(
      'splunk endpoint is not set',
    );
    expect(
      () =>
        new SplunkProvider({ address: 'https://api.us1.signalfx.com', credentials: {}, metricInterval: '1m' }, http),
    ).toThrow('splunk credentials does not contain sf_token_key');
  });
});
