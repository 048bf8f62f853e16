/**
 * InfluxDB 2 (Flagger pkg/metrics/providers/influxdb.go, which uses influxdb-client-go): a Flux
 * query sent as `POST <address>/api/v2/query?org=<org>` with `Authorization: Token <token>` (Secret
 * keys `token` and `org`, both required when the template has a `secretRef`), a JSON body
 * `{query, type: "flux", dialect}` and an annotated-CSV answer. The value is the `_value` of the
 * first record, which must be a `double`.
 *
 * Unlike Flagger (which returns 0 when no record comes back), no record is "no values found".
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { baseUrl, expectOk, required, send, truncate } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

/** influxdb-client-go's query deadline in Flagger. */
export const INFLUXDB_TIMEOUT_MS = 15_000;
/** The query `isOnline` runs. */
export const INFLUXDB_ONLINE_QUERY = 'from(bucket: "default") |> range(start: -2h)';

export interface InfluxdbOptions {
  readonly address: string;
  readonly credentials?: Readonly<Record<string, string>>;
  readonly insecureSkipVerify?: boolean;
  readonly timeoutMs?: number;
}

export class InfluxdbProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #base: string;
  readonly #token: string;
  readonly #org: string;
  readonly #insecure: boolean;
  readonly #timeoutMs: number;

  constructor(o: InfluxdbOptions, http: HttpClient) {
    this.#base = baseUrl('influxdb', o.address);
    this.#token = o.credentials === undefined ? '' : required('influxdb', o.credentials, 'token');
    this.#org = o.credentials === undefined ? '' : required('influxdb', o.credentials, 'org');
    this.#insecure = o.insecureSkipVerify === true;
    this.#timeoutMs = o.timeoutMs ?? INFLUXDB_TIMEOUT_MS;
    this.#http = http;
  }

  async #query(ctx: Ctx, flux: string): Promise<Table[]> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'text/csv' };
    if (this.#token !== '') headers['Authorization'] = `Token ${this.#token}`;
    const res = await send(ctx, this.#http, {
      method: 'POST',
      url: `${this.#base}/api/v2/query?${new URLSearchParams({ org: this.#org }).toString()}`,
      headers,
      body: JSON.stringify({
        query: flux,
        type: 'flux',
        dialect: { annotations: ['datatype', 'group', 'default'], delimiter: ',', header: true },
      }),
      timeoutMs: this.#timeoutMs,
      ...(this.#insecure ? { insecureSkipVerify: true } : {}),
    });
    expectOk(res, (s) => s >= 200 && s < 300);
    return parseAnnotatedCsv(res.body);
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const tables = await this.#query(ctx, query);
    for (const table of tables) {
      const col = table.columns.indexOf('_value');
      const row = table.rows[0];
      if (row === undefined) continue;
      if (col === -1) throw new ProviderError('invalid response: no _value column');
      const raw = row[col] ?? '';
      if (raw === '') throw new NoValuesFoundError('no values found');
      if (table.types[col] !== 'double') {
        throw new ProviderError(`invalid response: _value is of type ${table.types[col] ?? 'unknown'}, not double`);
      }
      const value = parseDouble(raw);
      if (Number.isNaN(value)) throw new NoValuesFoundError('no values found');
      return value;
    }
    throw new NoValuesFoundError('no values found');
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    await this.#query(ctx, INFLUXDB_ONLINE_QUERY);
    return true;
  }
}

/** One table of an annotated CSV answer. */
interface Table {
  readonly types: string[];
  readonly columns: string[];
  readonly rows: string[][];
}

/**
 * Annotated CSV (https://docs.influxdata.com/influxdb/v2/reference/syntax/annotated-csv/): tables
 * start with `#datatype`/`#group`/`#default` rows then a header row; an `error,reference` header is
 * a query error.
 */
export function parseAnnotatedCsv(text: string): Table[] {
  const tables: Table[] = [];
  let types: string[] | undefined;
  let current: Table | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      current = undefined;
      types = undefined;
      continue;
    }
    const cells = splitCsvLine(line);
    const first = cells[0] ?? '';
    if (first === '#datatype') {
      types = cells;
      current = undefined;
      continue;
    }
    if (first.startsWith('#')) continue;
    if (current === undefined) {
      current = { types: types ?? [], columns: cells, rows: [] };
      tables.push(current);
      continue;
    }
    if (current.columns[0] === 'error' || current.columns[1] === 'error') {
      const at = current.columns.indexOf('error');
      throw new ProviderError(`query error: ${truncate(cells[at] ?? '')}`);
    }
    current.rows.push(cells);
  }
  return tables;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cell);
      cell = '';
    } else cell += c;
  }
  out.push(cell);
  return out;
}

function parseDouble(raw: string): number {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const n = Number(raw);
  if (Number.isNaN(n)) throw new ProviderError(`invalid response: _value "${truncate(raw)}" is not a number`);
  return n;
}
