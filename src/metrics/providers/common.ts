/**
 * Helpers shared by the metrics providers: one HTTP call with a deadline through the operator's
 * client, JSON decoding, interval parsing and error texts that never quote credentials.
 */
import { parseDuration } from '../../apis/flagger/v1beta1/defaults.ts';
import type { Ctx } from '../../core/context.ts';
import { type HttpClient, HttpNetworkError, type HttpRequest, type HttpResponse } from '../../http/client.ts';
import { ProviderError } from './errors.ts';

/** Flagger's per-call deadline for most providers. */
export const DEFAULT_TIMEOUT_MS = 5_000;

const MAX_ERROR_BODY = 200;

/** A response body cut to a size fit for an error message. */
export function truncate(s: string): string {
  const t = s.trim();
  return t.length > MAX_ERROR_BODY ? `${t.slice(0, MAX_ERROR_BODY)}...` : t;
}

/** Sends `req`; transport failures become ProviderError (their messages name no path, query or header). */
export async function send(ctx: Ctx, http: HttpClient, req: HttpRequest): Promise<HttpResponse> {
  try {
    return await http.request(ctx, req);
  } catch (err) {
    if (err instanceof HttpNetworkError) throw new ProviderError(`request failed: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Throws ProviderError unless the status is 200 (Flagger checks `StatusOK` for most providers). */
export function expectOk(res: HttpResponse, accept: (status: number) => boolean = (s) => s === 200): void {
  if (!accept(res.status)) {
    throw new ProviderError(`error response: Status ${res.status} ${res.statusText}: ${truncate(res.body)}`);
  }
}

/** The body as JSON; ProviderError when it is not. */
export function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new ProviderError(`error unmarshaling result: '${truncate(res.body)}'`);
  }
}

/** Milliseconds of a Go duration (`metric.interval`); ProviderError when it does not parse. */
export function intervalMs(interval: string): number {
  try {
    return parseDuration(interval);
  } catch (err) {
    throw new ProviderError(`error parsing metric interval: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The address without a trailing slash, checked to be an absolute http(s) URL. */
export function baseUrl(type: string, address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ProviderError(`${type} address ${address} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProviderError(`${type} address ${address} is not a valid URL`);
  }
  return address.replace(/\/+$/, '');
}

/** A required Secret key; the error names the key, never a value. */
export function required(type: string, credentials: Readonly<Record<string, string>>, key: string): string {
  const v = Object.hasOwn(credentials, key) ? credentials[key] : undefined;
  if (v === undefined) throw new ProviderError(`${type} credentials does not contain ${key}`);
  return v;
}

export function isObject(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/** `u[key]` when `u` is an array, else undefined. */
export function arrayAt(u: unknown, index: number): unknown {
  return Array.isArray(u) ? (u as unknown[])[index] : undefined;
}
