/**
 * Calls analysis webhooks (Flagger pkg/controller/webhook.go): POSTs a `CanaryWebhookPayload` as
 * JSON and reports whether the hook answered 2xx. Used for every hook type, including the
 * `event` hooks (with {@link eventMetadata}).
 *
 * Differences from Flagger, on purpose:
 * - any 2xx is success; Flagger accepts only 200–202, so a `204 No Content` counted as a failure;
 * - a failure reports the status and the start of the body also for 5xx answers, which Flagger's
 *   retrying client replaces by "giving up after N attempt(s)";
 * - the checksum is a SHA-256 of the same fields, not Flagger's FNV-32a of a Go `spew` dump (see
 *   {@link canaryChecksum});
 * - `headersSecretRef` (Flagger #1192) sends every key of a Secret in the canary's namespace as a
 *   request header, read from the informer cache; the values never reach messages or logs.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { webhookTimeoutMs } from '../apis/flagger/v1beta1/defaults.ts';
import { ValidationError } from '../apis/flagger/v1beta1/errors.ts';
import type { Canary, CanaryPhase, CanaryWebhook } from '../apis/flagger/v1beta1/types.ts';
import { type HttpClient, type HttpResponse, HttpAbortedError, HttpNetworkError } from '../http/client.ts';
import { type Redactor, quoteRedacted, secretRedactor } from '../http/redact.ts';
import { isRecord } from '../kube/json.ts';
import type { Informer } from '../kube/port.ts';
import type { Ctx } from '../core/context.ts';

/** The JSON body of every webhook call (Flagger `CanaryWebhookPayload`). */
export interface CanaryWebhookPayload {
  readonly name: string;
  readonly namespace: string;
  readonly phase: CanaryPhase;
  readonly checksum: string;
  /** Omitted when empty, as Go's `omitempty`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link callWebhook} needs. */
export interface WebhookCall {
  readonly canary: Canary;
  /** The `phase` sent in the payload. */
  readonly phase: CanaryPhase;
  readonly hook: CanaryWebhook;
  readonly http: HttpClient;
  /** Added to the hook's metadata and winning over it (event hooks: eventMessage, eventType, timestamp). */
  readonly extraMetadata?: Readonly<Record<string, string>>;
  /** Wait before retry `n` (1-based), in ms; default 250 ms doubling up to 2 s. */
  readonly retryDelayMs?: (retry: number) => number;
  /** Secret informer cache, for `hook.headersSecretRef`; a hook with one fails clearly without it. */
  readonly secrets?: Pick<Informer, 'get'>;
}

/** The outcome of one webhook call (after retries). */
export interface WebhookResult {
  /** The hook answered 2xx. */
  readonly ok: boolean;
  /** The last HTTP status, when a response arrived. */
  readonly status?: number;
  /** `HTTP 204`, or why the call failed (status and start of the body, or the network error). */
  readonly message: string;
}

/** Longest part of a failure body quoted in messages. */
export const MAX_BODY_IN_MESSAGE = 200;

const defaultRetryDelay = (retry: number): number => Math.min(2_000, 250 * 2 ** (retry - 1));

/**
 * Identifies the canary's analysed configuration: changes exactly when `status.trackedConfigs` or
 * `status.lastAppliedSpec` change, like Flagger's `canaryChecksum`. The value itself differs from
 * Flagger's (hex of a SHA-256 over canonical JSON instead of FNV-32a over a Go `spew` dump), so
 * receivers may compare checksums with each other but not with ones Flagger produced.
 */
export function canaryChecksum(canary: Canary): string {
  const tracked = canary.status?.trackedConfigs;
  const fields = {
    trackedConfigs:
      tracked === undefined ? null : Object.fromEntries(Object.entries(tracked).sort(([a], [b]) => compare(a, b))),
    lastAppliedSpec: canary.status?.lastAppliedSpec ?? '',
  };
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

/** The metadata Flagger adds to `event` webhook payloads; `timestamp` is Unix milliseconds. */
export function eventMetadata(message: string, eventType: 'Normal' | 'Warning', nowMs: number): Record<string, string> {
  return { eventMessage: message, eventType, timestamp: String(Math.trunc(nowMs)) };
}

/** The payload of a call; `extra` keys override the hook's metadata. */
export function webhookPayload(
  canary: Canary,
  phase: CanaryPhase,
  hook: CanaryWebhook,
  extra?: Readonly<Record<string, string>>,
): CanaryWebhookPayload {
  const merged: Record<string, string> = { ...hook.metadata, ...extra };
  const keys = Object.keys(merged).sort(compare);
  const payload = {
    name: canary.metadata.name,
    namespace: canary.metadata.namespace ?? '',
    phase,
    checksum: canaryChecksum(canary),
  };
  if (keys.length === 0) return payload;
  return { ...payload, metadata: Object.fromEntries(keys.map((k) => [k, merged[k] ?? ''])) };
}

/**
 * POSTs the payload to `hook.url` with `Content-Type: application/json`, a per-attempt timeout of
 * `hook.timeout` (10s when unset or shorter than 2 characters) and `hook.retries` retries on
 * network errors, timeouts, 429 and 5xx except 501 (go-retryablehttp's policy). `disableTLS` skips
 * certificate verification. Never throws; aborting `ctx.signal` ends it with `ok: false`.
 */
export async function callWebhook(ctx: Ctx, call: WebhookCall): Promise<WebhookResult> {
  const { hook } = call;
  let timeoutMs: number;
  try {
    timeoutMs = webhookTimeoutMs(hook);
  } catch (err) {
    if (err instanceof ValidationError)
      return { ok: false, message: `invalid timeout ${JSON.stringify(hook.timeout ?? '')}` };
    throw err;
  }
  if (timeoutMs <= 0) return { ok: false, message: `invalid timeout ${JSON.stringify(hook.timeout ?? '')}` };
  let url: URL;
  try {
    url = new URL(hook.url);
  } catch {
    return { ok: false, message: 'invalid webhook URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `unsupported webhook URL scheme ${url.protocol}` };
  }
  const extraHeaders = webhookHeaders(call);
  if (typeof extraHeaders === 'string') return { ok: false, message: extraHeaders };
  const body = JSON.stringify(webhookPayload(call.canary, call.phase, hook, call.extraMetadata));
  const retries = Math.max(0, Math.trunc(hook.retries ?? 0));
  const delay = call.retryDelayMs ?? defaultRetryDelay;
  const log = ctx.log.child({ webhook: hook.name });
  const redact = secretRedactor(Object.values(extraHeaders));

  let last: WebhookResult = { ok: false, message: 'not called' };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (attempt > 1 && !(await sleep(delay(attempt - 1), ctx.signal))) break;
    let res: HttpResponse;
    try {
      res = await call.http.request(ctx, {
        method: 'POST',
        url: url.toString(),
        headers: { ...extraHeaders, 'Content-Type': 'application/json' },
        body,
        timeoutMs,
        ...(hook.disableTLS === true ? { insecureSkipVerify: true } : {}),
      });
    } catch (err) {
      if (!(err instanceof HttpNetworkError)) throw err;
      last = { ok: false, message: withAttempts(err.message, attempt) };
      log.debug('webhook call failed', { attempt, error: err.message });
      if (err instanceof HttpAbortedError || isTlsVerificationError(err.code)) break;
      continue;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, message: `HTTP ${res.status}` };
    last = {
      ok: false,
      status: res.status,
      message: withAttempts(statusMessage(res, redact), attempt),
    };
    log.debug('webhook answered an error status', { attempt, status: res.status });
    if (!retryable(res.status)) break;
  }
  return last;
}

/** RFC 9110 field-name token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 field-value characters: visible ASCII, space, tab and obs-text (no CR, LF or NUL). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers a Secret may not set: the payload's own, and ones that would break the request. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

/**
 * The headers of `hook.headersSecretRef`: every key of the Secret (base64-decoded, without a
 * trailing newline such as `echo > file` leaves) is a header. Returns a message when the Secret is
 * missing or unusable; messages name the Secret and keys, never a value.
 */
export function webhookHeaders(
  call: Pick<WebhookCall, 'canary' | 'hook' | 'secrets'>,
): Record<string, string> | string {
  const ref = call.hook.headersSecretRef;
  if (ref === undefined) return {};
  const label = `headers secret "${ref.name}"`;
  if (call.secrets === undefined) return `${label} can't be read: no Secret cache`;
  const secret = call.secrets.get({ namespace: call.canary.metadata.namespace ?? '', name: ref.name });
  if (secret === undefined) return `${label} not found in namespace ${call.canary.metadata.namespace ?? ''}`;
  const data = isRecord(secret) ? secret['data'] : undefined;
  const headers: Record<string, string> = {};
  if (!isRecord(data)) return headers;
  for (const [key, encoded] of Object.entries(data)) {
    if (typeof encoded !== 'string') continue;
    if (!HEADER_NAME.test(key)) return `${label}: key "${key}" is not a valid header name`;
    if (RESERVED_HEADERS.has(key.toLowerCase())) return `${label}: key "${key}" may not be set from a Secret`;
    const value = Buffer.from(encoded, 'base64')
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (!HEADER_VALUE.test(value)) return `${label}: the value of key "${key}" is not a valid header value`;
    headers[key] = value;
  }
  return headers;
}

/**
 * `HTTP 500 Internal Server Error: <first 200 characters of the body>`, the body scrubbed of the
 * secret header values before it is cut: a server that echoes a rejected credential must not put
 * it, or its first characters, into Events, status or alerts.
 */
function statusMessage(res: HttpResponse, redact: Redactor): string {
  const text = res.statusText || STATUS_CODES[res.status] || '';
  const head = `HTTP ${res.status}${text ? ` ${redact(text)}` : ''}`;
  const body = quoteRedacted(res.body, redact, MAX_BODY_IN_MESSAGE);
  return body === '' ? head : `${head}: ${body}`;
}

function withAttempts(message: string, attempt: number): string {
  return attempt > 1 ? `${message} (after ${attempt} attempts)` : message;
}

/** go-retryablehttp's DefaultRetryPolicy for statuses. */
function retryable(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** Certificate problems don't heal by retrying (go-retryablehttp doesn't retry unknown authorities either). */
function isTlsVerificationError(code: string | undefined): boolean {
  return (
    code !== undefined &&
    /^(CERT_|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)/.test(
      code,
    )
  );
}

/** Resolves true after `ms`, or false at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
