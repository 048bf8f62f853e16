/**
 * Amazon CloudWatch (Flagger pkg/metrics/providers/cloudwatch.go): the query is a JSON array of
 * `MetricDataQuery`; Fledge calls `GetMetricData` over the last 10 metric intervals with at most 20
 * data points and reads the first value of the first result.
 *
 * Without the AWS SDK: requests use CloudWatch's AWS JSON 1.0 protocol
 * (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`), signed with SigV4.
 * Credentials come, in this order, from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
 * (+`AWS_SESSION_TOKEN`), or from `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (IRSA) exchanged
 * with STS `AssumeRoleWithWebIdentity` and cached until 5 minutes before they expire. Shared
 * config files, ECS and EC2 instance metadata credentials are not read. `spec.provider.address`,
 * when set, replaces the regional endpoint (VPC endpoints, tests). No SDK retries: the next
 * analysis tick retries.
 */
import { readFile } from 'node:fs/promises';
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, baseUrl, intervalMs, isObject, parseJson, send, truncate } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';
import { type AwsCredentials, signV4 } from './sigv4.ts';

export const CLOUDWATCH_TIMEOUT_MS = 10_000;
const TARGET = 'GraniteServiceVersion20100801.GetMetricData';

export interface CloudWatchOptions {
  readonly region?: string;
  /** Endpoint override; default `https://monitoring.<region>.amazonaws.com`. */
  readonly address?: string;
  readonly metricInterval: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** STS endpoint override; default `https://sts.<region>.amazonaws.com`. */
  readonly stsAddress?: string;
  readonly now?: () => number;
  readonly readFile?: (path: string) => Promise<string>;
  readonly timeoutMs?: number;
}

/** `MetricDataQuery` field names; Go's JSON decoding (Flagger) matches them case-insensitively. */
const FIELDS = [
  'Id',
  'Expression',
  'Label',
  'ReturnData',
  'Period',
  'AccountId',
  'MetricStat',
  'Metric',
  'Namespace',
  'MetricName',
  'Dimensions',
  'Name',
  'Value',
  'Stat',
  'Unit',
];
const FIELD_BY_LOWER = new Map(FIELDS.map((f) => [f.toLowerCase(), f]));

function normalize(u: unknown): unknown {
  if (Array.isArray(u)) return u.map(normalize);
  if (!isObject(u)) return u;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(u)) out[FIELD_BY_LOWER.get(k.toLowerCase()) ?? k] = normalize(v);
  return out;
}

export class CloudWatchProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #region: string;
  readonly #endpoint: string;
  readonly #stsEndpoint: string;
  readonly #startDeltaMs: number;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #now: () => number;
  readonly #readFile: (path: string) => Promise<string>;
  readonly #timeoutMs: number;
  #cached: { credentials: AwsCredentials; expiresAt: number } | undefined;

  constructor(o: CloudWatchOptions, http: HttpClient) {
    if (o.region === undefined || o.region === '') throw new ProviderError('region not specified');
    this.#region = o.region;
    this.#endpoint =
      o.address === undefined || o.address === ''
        ? `https://monitoring.${o.region}.amazonaws.com`
        : baseUrl('cloudwatch', o.address);
    this.#stsEndpoint = o.stsAddress ?? `https://sts.${o.region}.amazonaws.com`;
    this.#startDeltaMs = 10 * intervalMs(o.metricInterval);
    this.#env = o.env ?? process.env;
    this.#now = o.now ?? Date.now;
    this.#readFile = o.readFile ?? ((p) => readFile(p, 'utf8'));
    this.#timeoutMs = o.timeoutMs ?? CLOUDWATCH_TIMEOUT_MS;
    this.#http = http;
  }

  /** The default credential chain's env and web-identity steps. */
  async #credentials(ctx: Ctx): Promise<AwsCredentials> {
    const e = this.#env;
    const id = e['AWS_ACCESS_KEY_ID'];
    const secret = e['AWS_SECRET_ACCESS_KEY'];
    if (id !== undefined && id !== '' && secret !== undefined && secret !== '') {
      const token = e['AWS_SESSION_TOKEN'];
      return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
    }
    const tokenFile = e['AWS_WEB_IDENTITY_TOKEN_FILE'];
    const roleArn = e['AWS_ROLE_ARN'];
    if (tokenFile === undefined || tokenFile === '' || roleArn === undefined || roleArn === '') {
      throw new ProviderError(
        'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN',
      );
    }
    if (this.#cached !== undefined && this.#cached.expiresAt - 5 * 60_000 > this.#now())
      return this.#cached.credentials;
    let webToken: string;
    try {
      webToken = (await this.#readFile(tokenFile)).trim();
    } catch (err) {
      throw new ProviderError(
        `reading the web identity token file failed: ${err instanceof Error && 'code' in err ? String(err.code) : 'error'}`,
      );
    }
    const params = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: e['AWS_ROLE_SESSION_NAME'] ?? `fledge-${this.#now()}`,
      WebIdentityToken: webToken,
    });
    const res = await send(ctx, this.#http, {
      method: 'POST',
      url: `${this.#stsEndpoint}/`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', Accept: 'application/xml' },
      body: params.toString(),
      timeoutMs: this.#timeoutMs,
    });
    if (res.status !== 200) {
      const code = /<Code>([^<]*)<\/Code>/.exec(res.body)?.[1] ?? '';
      throw new ProviderError(`AssumeRoleWithWebIdentity failed: Status ${res.status} ${code}`.trim());
    }
    const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(res.body)?.[1];
    const accessKeyId = tag('AccessKeyId');
    const secretAccessKey = tag('SecretAccessKey');
    const sessionToken = tag('SessionToken');
    const expiration = Date.parse(tag('Expiration') ?? '');
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      throw new ProviderError('AssumeRoleWithWebIdentity answered without credentials');
    }
    const credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
    this.#cached = { credentials, expiresAt: Number.isNaN(expiration) ? this.#now() + 15 * 60_000 : expiration };
    return credentials;
  }

  async #getMetricData(ctx: Ctx, input: Record<string, unknown>): Promise<{ status: number; body: string }> {
    const credentials = await this.#credentials(ctx);
    const body = JSON.stringify(input);
    const url = `${this.#endpoint}/`;
    const headers = signV4({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': TARGET },
      body,
      region: this.#region,
      service: 'monitoring',
      credentials,
      date: new Date(this.#now()),
    });
    delete headers['host'];
    const res = await send(ctx, this.#http, { method: 'POST', url, headers, body, timeoutMs: this.#timeoutMs });
    return res;
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    let queries: unknown;
    try {
      queries = JSON.parse(query);
    } catch (err) {
      throw new ProviderError(`error unmarshaling query: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!Array.isArray(queries))
      throw new ProviderError('error unmarshaling query: not a JSON array of MetricDataQuery');
    const end = Math.floor(this.#now() / 1000);
    const res = await this.#getMetricData(ctx, {
      MetricDataQueries: normalize(queries),
      StartTime: end - Math.trunc(this.#startDeltaMs / 1000),
      EndTime: end,
      MaxDatapoints: 20,
    });
    if (res.status !== 200) throw new ProviderError(`error requesting cloudwatch: ${awsError(res)}`);
    const body = parseJson({ status: res.status, statusText: '', headers: {}, body: res.body });
    const first = arrayAt(isObject(body) ? body['MetricDataResults'] : undefined, 0);
    // Values are newest first (the default ScanBy TimestampDescending): the first is the latest.
    const value = awsDouble(arrayAt(isObject(first) ? first['Values'] : undefined, 0));
    if (value === undefined || Number.isNaN(value)) throw new NoValuesFoundError('no values found');
    return value;
  }

  /** Online when an empty GetMetricData is accepted or refused as invalid (400), as in Flagger. */
  async isOnline(ctx: Ctx): Promise<boolean> {
    const res = await this.#getMetricData(ctx, { MetricDataQueries: [], StartTime: 0, EndTime: 0 });
    if (res.status === 200 || res.status === 400) return true;
    throw new ProviderError(`unexpected status code: ${awsError(res)}`);
  }
}

/**
 * A double of the AWS JSON protocol: a JSON number, or the strings `"NaN"`, `"Infinity"` and
 * `"-Infinity"` for the IEEE 754 specials. No value (missing or `null`) is undefined; the caller
 * reports it and NaN as no values, where Flagger would return 0 or NaN (a NaN passes any threshold).
 */
function awsDouble(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  throw new ProviderError(`invalid response: value ${truncate(JSON.stringify(value))}`);
}

/** `Status 403: AccessDenied: message` from a JSON-protocol error body. */
function awsError(res: { status: number; body: string }): string {
  let detail = truncate(res.body);
  try {
    const parsed: unknown = JSON.parse(res.body);
    if (isObject(parsed)) {
      const rawType = parsed['__type'];
      const type = typeof rawType === 'string' ? rawType.replace(/^.*#/, '') : '';
      const message = parsed['message'] ?? parsed['Message'];
      detail = [type, typeof message === 'string' ? message : ''].filter((s) => s !== '').join(': ');
    }
  } catch {
    // keep the raw text
  }
  return `Status ${res.status}: ${detail}`;
}
