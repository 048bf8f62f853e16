import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../http/client.ts';
import { type TestServer, startServer, testCtx } from '../../http/server.fixture.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import { INFLUXDB_ONLINE_QUERY, InfluxdbProvider } from './influxdb.ts';

const http = createHttpClient();
const credentials = { token: 'influx-s3cret', org: 'my-org' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function influx(status: number, csv: string): Promise<InfluxdbProvider> {
  server = await startServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'text/csv; charset=utf-8' });
    res.end(csv);
  });
  return new InfluxdbProvider({ address: server.url, credentials }, http);
}

/** Annotated CSV as in InfluxDB's "Query data with the API" docs. */
const table = (type: string, values: string[]): string =>
  [
    `#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,${type},string,string`,
    '#group,false,false,true,true,false,false,true,true',
    '#default,_result,,,,,,,',
    ',result,table,_start,_stop,_time,_value,_field,_measurement',
    ...values.map(
      (v) => `,,0,2023-11-14T22:00:00Z,2023-11-14T22:10:00Z,2023-11-14T22:05:00Z,${v},duration,"http,requests"`,
    ),
    '',
  ].join('\r\n');

describe('InfluxdbProvider', () => {
  it('POSTs the Flux query to /api/v2/query with the org and token', async () => {
    const i = await influx(200, table('double', ['12.75']));
    const flux = 'from(bucket: "app") |> range(start: -1m) |> mean()';
    await expect(i.runQuery(testCtx(), flux)).resolves.toBe(12.75);
    const req = server?.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/api/v2/query?org=my-org');
    expect(req?.headers['authorization']).toBe('Token influx-s3cret');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      query: flux,
      type: 'flux',
      dialect: { annotations: ['datatype', 'group', 'default'], delimiter: ',', header: true },
    });
  });

  it('reads the first record of several tables, as Flagger', async () => {
    const i = await influx(200, `${table('double', ['', '5'])}\r\n${table('double', ['9'])}`);
    await expect(i.runQuery(testCtx(), 'q')).rejects.toThrow(NoValuesFoundError);
    const j = await influx(200, `${table('double', ['3', '4'])}\r\n${table('double', ['9'])}`);
    await expect(j.runQuery(testCtx(), 'q')).resolves.toBe(3);
  });

  it.each([
    // Flagger returns 0 when no record comes back; Fledge reports no values.
    ['an empty answer', ''],
    ['a table without records', table('double', [])],
    ['a NaN value', table('double', ['NaN'])],
    ['a NaN first record', table('double', ['NaN', '4'])],
    // An empty cell is annotated CSV's null.
    ['an empty value', table('double', [''])],
  ])('reports %s as no values', async (_name, csv) => {
    const i = await influx(200, csv);
    await expect(i.runQuery(testCtx(), 'q')).rejects.toThrow(NoValuesFoundError);
  });

  it('rejects a non-double value, as Flagger', async () => {
    const i = await influx(200, table('long', ['12']));
    await expect(i.runQuery(testCtx(), 'q')).rejects.toThrow('_value is of type long, not double');
  });

  it('reports in-band and HTTP errors without the token', async () => {
    const i = await influx(
      200,
      '#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n,error,reference\r\n,"failed to compile query",897\r\n',
    );
    await expect(i.runQuery(testCtx(), 'q')).rejects.toThrow('query error: failed to compile query');
    const j = await influx(401, '{"code":"unauthorized","message":"unauthorized access"}');
    const err = await j.runQuery(testCtx(), 'q').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(String(err)).not.toContain('influx-s3cret');
    await expect(j.isOnline(testCtx())).rejects.toThrow(ProviderError);
  });

  it('checks availability with a query of the default bucket', async () => {
    const i = await influx(200, '');
    await expect(i.isOnline(testCtx())).resolves.toBe(true);
    expect((JSON.parse(server?.requests[0]?.body ?? '{}') as { query?: string }).query).toBe(INFLUXDB_ONLINE_QUERY);
  });

  it('validates its options', () => {
    expect(() => new InfluxdbProvider({ address: 'influx:8086' }, http)).toThrow('is not a valid URL');
    expect(() => new InfluxdbProvider({ address: 'http://i', credentials: { token: 't' } }, http)).toThrow(
      'influxdb credentials does not contain org',
    );
  });
});
