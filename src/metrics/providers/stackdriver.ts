/**
 * Google Cloud Monitoring (Flagger pkg/metrics/providers/stackdriver.go): an MQL query run with
 * `QueryTimeSeries`, here its REST form
 * `POST https://monitoring.googleapis.com/v3/projects/<project>/timeSeries:query` with
 * `{"query": …}`. The value is the first value of the first point of the first time series.
 *
 * Credentials (Secret keys): `project` (required with a secretRef) and optional
 * `serviceAccountKey` (a service-account JSON key). With a key, Fledge signs an RS256 JWT with
 * node:crypto and exchanges it at the key's `token_uri` (OAuth 2.0 JWT bearer grant); without
 * one it asks the GKE/GCE metadata server (workload identity; `GCE_METADATA_HOST` overrides its
 * host), which also gives the project when there is no Secret. Tokens are cached until a minute
 * before they expire. `spec.provider.address` replaces the API endpoint when set.
 */
import { createSign } from 'node:crypto';
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { arrayAt, baseUrl, isObject, parseJson, send, truncate } from './common.ts';
import { NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export const STACKDRIVER_DEFAULT_ADDRESS = 'https://monitoring.googleapis.com';
export const STACKDRIVER_SCOPE = 'https://www.googleapis.com/auth/monitoring.read';
export const STACKDRIVER_TIMEOUT_MS = 10_000;

export interface StackdriverOptions {
  readonly address?: string;
  /** Undefined when the template has no secretRef (workload identity). */
  readonly credentials?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId: string | undefined;
  readonly tokenUri: string;
}

function parseKey(json: string): ServiceAccountKey {
  let u: unknown;
  try {
    u = JSON.parse(json);
  } catch {
    throw new ProviderError('stackdriver serviceAccountKey is not valid JSON');
  }
  const str = (k: string): string | undefined => (isObject(u) && typeof u[k] === 'string' ? u[k] : undefined);
  const clientEmail = str('client_email');
  const privateKey = str('private_key');
  if (clientEmail === undefined || privateKey === undefined) {
    throw new ProviderError('stackdriver serviceAccountKey lacks client_email or private_key');
  }
  return {
    clientEmail,
    privateKey,
    privateKeyId: str('private_key_id'),
    tokenUri: str('token_uri') ?? 'https://oauth2.googleapis.com/token',
  };
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** An RS256-signed JWT assertion for the OAuth 2.0 JWT bearer grant (RFC 7523). */
export function serviceAccountAssertion(key: ServiceAccountKey, nowS: number): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId === undefined ? {} : { kid: key.privateKeyId }) };
  const claims = { iss: key.clientEmail, scope: STACKDRIVER_SCOPE, aud: key.tokenUri, iat: nowS, exp: nowS + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature: Buffer;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  } catch {
    throw new ProviderError('stackdriver serviceAccountKey private_key cannot sign');
  }
  return `${input}.${b64url(signature)}`;
}

export class StackdriverProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #address: string;
  readonly #key: ServiceAccountKey | undefined;
  readonly #metadataHost: string;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  #project: string | undefined;
  #token: { value: string; expiresAt: number } | undefined;

  constructor(o: StackdriverOptions, http: HttpClient) {
    this.#address =
      o.address === undefined || o.address === '' ? STACKDRIVER_DEFAULT_ADDRESS : baseUrl('stackdriver', o.address);
    if (o.credentials !== undefined) {
      const project = o.credentials['project'];
      if (project === undefined) throw new ProviderError('stackdriver credentials does not contain a project id');
      this.#project = project;
      const key = o.credentials['serviceAccountKey'];
      if (key !== undefined) this.#key = parseKey(key);
    }
    const env = o.env ?? process.env;
    this.#metadataHost = env['GCE_METADATA_HOST'] ?? 'metadata.google.internal';
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? STACKDRIVER_TIMEOUT_MS;
    this.#http = http;
  }

  async #metadata(ctx: Ctx, path: string): Promise<string> {
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: `http://${this.#metadataHost}/computeMetadata/v1/${path}`,
      headers: { 'Metadata-Flavor': 'Google' },
      timeoutMs: this.#timeoutMs,
    });
    if (res.status !== 200)
      throw new ProviderError(`metadata server: Status ${res.status} for ${path.split('/')[0] ?? ''}`);
    return res.body;
  }

  async #accessToken(ctx: Ctx): Promise<string> {
    if (this.#token !== undefined && this.#token.expiresAt - 60_000 > this.#now()) return this.#token.value;
    let body: unknown;
    if (this.#key !== undefined) {
      const res = await send(ctx, this.#http, {
        method: 'POST',
        url: this.#key.tokenUri,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: serviceAccountAssertion(this.#key, Math.floor(this.#now() / 1000)),
        }).toString(),
        timeoutMs: this.#timeoutMs,
      });
      if (res.status !== 200) {
        const parsed = tryJson(res.body);
        const reason = isObject(parsed) && typeof parsed['error'] === 'string' ? parsed['error'] : '';
        throw new ProviderError(`token exchange failed: Status ${res.status} ${reason}`.trim());
      }
      body = tryJson(res.body);
    } else {
      body = tryJson(await this.#metadata(ctx, `instance/service-accounts/default/token?scopes=${STACKDRIVER_SCOPE}`));
    }
    const token = isObject(body) ? body['access_token'] : undefined;
    const expiresIn = isObject(body) && typeof body['expires_in'] === 'number' ? body['expires_in'] : 300;
    if (typeof token !== 'string' || token === '')
      throw new ProviderError('token exchange answered without access_token');
    this.#token = { value: token, expiresAt: this.#now() + expiresIn * 1000 };
    return token;
  }

  async #query(ctx: Ctx, mql: string): Promise<{ status: number; body: string }> {
    this.#project ??= (await this.#metadata(ctx, 'project/project-id')).trim();
    const token = await this.#accessToken(ctx);
    return send(ctx, this.#http, {
      method: 'POST',
      url: `${this.#address}/v3/projects/${encodeURIComponent(this.#project)}/timeSeries:query`,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: mql }),
      timeoutMs: this.#timeoutMs,
    });
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const res = await this.#query(ctx, query);
    if (res.status !== 200) throw new ProviderError(`error requesting stackdriver: ${googleError(res)}`);
    const body = parseJson({ status: res.status, statusText: '', headers: {}, body: res.body });
    const series = arrayAt(isObject(body) ? body['timeSeriesData'] : undefined, 0);
    const point = arrayAt(isObject(series) ? series['pointData'] : undefined, 0);
    const value = arrayAt(isObject(point) ? point['values'] : undefined, 0);
    if (!isObject(value)) throw new NoValuesFoundError('no values found');
    // proto3 JSON: int64 as a string, the double specials as "NaN", "Infinity", "-Infinity". A
    // TypedValue with no field set is no value (Flagger's GetDoubleValue reads it, and int64s, as 0).
    const v = value['doubleValue'] ?? value['int64Value'];
    if ((v === undefined || v === null) && Object.keys(value).length === 0) {
      throw new NoValuesFoundError('no values found');
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : undefined;
    if (n === undefined || Number.isNaN(n)) {
      if (v === 'NaN') throw new NoValuesFoundError('no values found');
      throw new ProviderError(`invalid response: value ${truncate(JSON.stringify(value))}`);
    }
    return n;
  }

  /** Online when an empty query is refused as INVALID_ARGUMENT (400), as in Flagger. */
  async isOnline(ctx: Ctx): Promise<boolean> {
    const res = await this.#query(ctx, '');
    if (res.status === 200 || res.status === 400) return true;
    throw new ProviderError(`unexpected status code: ${googleError(res)}`);
  }
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** `Status 403 PERMISSION_DENIED: message` from a Google API error body. */
function googleError(res: { status: number; body: string }): string {
  const parsed = tryJson(res.body);
  const err = isObject(parsed) ? parsed['error'] : undefined;
  if (isObject(err)) {
    const status = typeof err['status'] === 'string' ? ` ${err['status']}` : '';
    const message = typeof err['message'] === 'string' ? `: ${truncate(err['message'])}` : '';
    return `Status ${res.status}${status}${message}`;
  }
  return `Status ${res.status}: ${truncate(res.body)}`;
}
