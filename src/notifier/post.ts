/**
 * The POST every notifier shares (Flagger pkg/notifier/client.go): a JSON body, a 5 s deadline,
 * `Authorization: Bearer <token>` when a token is set, and any non-2xx status is an error.
 *
 * Errors name the provider type, the method and the URL's origin only: hook URLs carry their secret
 * in the path (Slack, Discord, Teams, Google Chat) and tokens are secrets, so neither may reach logs,
 * Events or alert text. A response body quoted in an error is truncated and scrubbed of both.
 */
import type { Ctx } from '../core/context.ts';
import { type HttpClient, redactUrl } from '../http/client.ts';
import { quoteRedacted, redactSecrets } from '../http/redact.ts';
import { OperatorError } from '../core/errors.ts';

/** Deadline of one notification (Flagger: 5 s). */
export const NOTIFIER_TIMEOUT_MS = 5000;

/** Longest part of a response body quoted in an error. */
const MAX_BODY_IN_ERROR = 200;

/** A notification could not be delivered. The message never contains the URL path or the token. */
export class NotifierError extends OperatorError {}

/** Where to POST; `url`, `token` and `proxyUrl` are secrets. */
export interface PostTarget {
  /** AlertProvider type, for messages. */
  readonly type: string;
  readonly url: string;
  readonly token: string;
  readonly proxyUrl: string;
}

/**
 * POSTs `payload` as JSON and resolves with the response body; rejects with {@link NotifierError} on
 * a non-2xx status or when no response arrives. A non-empty token is sent as a bearer for every type
 * (Flagger sends it for Slack only; Fledge documents the Secret's `token` as the bearer, which lets a
 * token-protected relay stand in front of any chat).
 *
 * A non-empty `proxyUrl` (AlertProvider `spec.proxy` or Secret key `proxy`, or the global
 * `-slack-proxy-url` / `-msteams-proxy-url`) is the forward proxy of this call: `http://` hooks are
 * sent to it in absolute form, `https://` hooks through a `CONNECT` tunnel (TLS end to end). It
 * replaces `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, which apply when it is empty. Errors show the
 * proxy's origin only, never its credentials.
 */
export async function postJson(ctx: Ctx, http: HttpClient, target: PostTarget, payload: unknown): Promise<string> {
  const where = `${target.type} notification to ${redactUrl(target.url)}`;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (target.token !== '') headers['Authorization'] = `Bearer ${target.token}`;
  let res;
  try {
    res = await http.request(ctx, {
      method: 'POST',
      url: target.url,
      headers,
      body: JSON.stringify(payload),
      timeoutMs: NOTIFIER_TIMEOUT_MS,
      ...(target.proxyUrl === '' ? {} : { proxyUrl: target.proxyUrl }),
    });
  } catch (err) {
    // The HTTP client's messages name origins only; the token and proxy credentials are scrubbed all the same.
    const message = scrub(err instanceof Error ? err.message : String(err), { ...target, url: '' });
    throw new NotifierError(`${where} failed: ${message}`, { cause: err });
  }
  if (res.status < 200 || res.status >= 300) {
    const body = quoteRedacted(res.body, (text) => scrub(text, target), MAX_BODY_IN_ERROR);
    throw new NotifierError(`${where} failed: bad response ${res.status}${body === '' ? '' : `: ${body}`}`);
  }
  return res.body;
}

/**
 * Removes the URL, its path, its query and every path segment of 6 characters or more (hook ids and
 * secrets), the token, and the proxy URL's credentials, from text quoted back by a server.
 */
export function scrub(
  text: string,
  target: Pick<PostTarget, 'url' | 'token'> & Partial<Pick<PostTarget, 'proxyUrl'>>,
): string {
  const proxy = target.proxyUrl ?? '';
  return redactSecrets(
    text,
    [target.url, target.token, proxy, ...secretParts(target.url), ...proxyCredentials(proxy)],
    4,
  );
}

function proxyCredentials(proxyUrl: string): string[] {
  if (proxyUrl === '') return [];
  try {
    const u = new URL(proxyUrl);
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    const basic = pass === '' ? '' : Buffer.from(`${user}:${pass}`).toString('base64');
    // The password (raw and decoded) and the Basic header value; a user name alone is no secret.
    return [u.password, pass, basic];
  } catch {
    return [];
  }
}

function secretParts(url: string): string[] {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/').filter((p) => p.length >= 6);
    return [u.pathname === '/' ? '' : u.pathname, u.search, ...segments];
  } catch {
    return [];
  }
}
