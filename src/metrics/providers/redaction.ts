/**
 * Keeps credentials out of every metrics provider's errors, in one place: the factory wraps each
 * provider's HTTP client so that what a backend sends back is scrubbed before any provider reads,
 * quotes or cuts it, and wraps the provider so that whatever it throws is scrubbed once more. A
 * backend that echoes the `Authorization` header in a 401, or names the user and password in a 500,
 * therefore cannot put them into Events, status, logs or alerts, whatever the provider's type.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient, HttpRequest, HttpResponse } from '../../http/client.ts';
import { type Redactor, secretRedactor } from '../../http/redact.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

/** Request headers whose values are never credentials. */
const PLAIN_HEADERS = new Set(['accept', 'accept-encoding', 'content-type', 'content-length', 'user-agent', 'host']);

/**
 * The secrets of a template: every value of its Secret and the password of a URL's userinfo
 * (`https://user:pass@host`), in every form {@link secretRedactor} knows.
 */
export function providerSecrets(
  credentials: Readonly<Record<string, string>> | undefined,
  address: string | undefined,
): string[] {
  return [...Object.values(credentials ?? {}), ...urlCredentials(address)];
}

/** User name and password of `url`'s userinfo, raw and decoded; none for a URL without them. */
function urlCredentials(url: string | undefined): string[] {
  if (url === undefined || url === '') return [];
  try {
    const u = new URL(url);
    if (u.password === '') return [];
    return [u.username, u.password, safeDecode(u.username), safeDecode(u.password)];
  } catch {
    // An address that doesn't parse is quoted in "not a valid URL"; its userinfo is still a secret.
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(url.trim());
    return m?.[1] === undefined ? [] : [m[1], ...m[1].split(':')];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The credentials a request carries: header values (but content negotiation), basic auth, URL and proxy userinfo. */
function requestSecrets(req: HttpRequest): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (PLAIN_HEADERS.has(name.toLowerCase())) continue;
    if (typeof value === 'string') out.push(value);
    else out.push(...value);
  }
  if (req.basicAuth !== undefined) out.push(req.basicAuth.username, req.basicAuth.password);
  return [...out, ...urlCredentials(req.url), ...urlCredentials(req.proxyUrl)];
}

/**
 * An HttpClient whose responses come back with `secrets` and the request's own credentials (its
 * header values, basic auth, userinfo: e.g. a token Stackdriver exchanged or a SigV4 session token)
 * removed from the status text and body. Providers parse numbers out of bodies, which no secret
 * matches; only a body that quotes a credential changes.
 */
export function redactingHttp(http: HttpClient, secrets: readonly string[]): HttpClient {
  return {
    async request(ctx: Ctx, req: HttpRequest): Promise<HttpResponse> {
      const res = await http.request(ctx, req);
      const redact = secretRedactor([...secrets, ...requestSecrets(req)]);
      return { ...res, statusText: redact(res.statusText), body: redact(res.body) };
    },
  };
}

/**
 * `err` as an error of the same provider class (NoValuesFoundError, MultipleValuesError, else
 * ProviderError) whose message is scrubbed by `redact`. The cause is dropped: loggers print cause
 * chains, and a cause may quote what the message no longer does.
 */
export function redactedError(err: unknown, redact: Redactor): Error {
  const message = redact(err instanceof Error ? err.message : String(err));
  if (err instanceof NoValuesFoundError) return new NoValuesFoundError(message);
  if (err instanceof MultipleValuesError) return new MultipleValuesError(message);
  return new ProviderError(message);
}

/** A provider whose errors are scrubbed; `inner` talks to the backend. */
export interface RedactingProvider extends MetricsProvider {
  readonly inner: MetricsProvider;
}

/** Wraps `inner` so that nothing it throws quotes the secrets of `redact`. */
export function redactingProvider(inner: MetricsProvider, redact: Redactor): RedactingProvider {
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw redactedError(err, redact);
    }
  };
  return {
    inner,
    runQuery: (ctx: Ctx, query: string) => guard(() => inner.runQuery(ctx, query)),
    isOnline: (ctx: Ctx) => guard(() => inner.isOnline(ctx)),
  };
}
