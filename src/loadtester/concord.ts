/**
 * `type: concord`: starts a [Concord](https://concord.walmartlabs.com) process and waits for it,
 * with the metadata keys and answers of Flagger's loadtester (pkg/loadtester/concord.go):
 *
 * | key | meaning |
 * | --- | --- |
 * | `server` | Concord's base URL; the API path `/api/v1/process` replaces any path it has |
 * | `org`, `project`, `repo`, `entrypoint` | what to run (form fields `org`, `project`, `repo`, `entryPoint`) |
 * | `apiKeyPath` | file holding the API key, sent as the `Authorization` header (never logged) |
 * | `endpoint` | passed to the process as `arguments.endpoint` |
 * | `arguments.<name>` | passed to the process as `arguments.<name>` (not `arguments.endpoint`) |
 * | `pollInterval` | seconds between status checks (default 5; a Go duration such as `500ms` also works) |
 * | `pollTimeout` | how long to wait for a terminal status after the start (default 30 s) |
 *
 * The task is blocking: `FINISHED` → success; `FAILED`, `CANCELLED`, `TIMED_OUT` → failure; the
 * poll timeout, an HTTP error, a non-2xx answer or a malformed body → failure. Every call is
 * bounded by a request timeout and by the poll deadline.
 *
 * The helpers at the end ({@link TaskMetadataError}, {@link parseServerUrl}, {@link parsePollDuration},
 * {@link responseSnippet}, {@link waitOrAbort}) are shared with the nGrinder task.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseGoDuration } from '../cli/flags.ts';
import { type HttpClient, type HttpResponse, HttpTimeoutError } from '../http/client.ts';
import { redactSecrets } from '../http/redact.ts';
import type { Logger } from '../log/logger.ts';
import type { TaskOutput } from './tasks.ts';

/** Concord's process API, resolved against the origin of `server` (as Flagger's `ResolveReference`). */
export const CONCORD_PROCESS_PATH = '/api/v1/process';
/** Flagger's defaults: poll every 5 s, give up after 30 s. */
export const CONCORD_DEFAULT_POLL_INTERVAL_MS = 5_000;
export const CONCORD_DEFAULT_POLL_TIMEOUT_MS = 30_000;
/** Metadata keys with this prefix are passed to the process. */
export const ARGUMENTS_PREFIX = 'arguments.';
/** Largest API key file read (keys are a few dozen bytes). */
const MAX_KEY_BYTES = 64 * 1024;

/** Terminal process statuses that fail the task (`FINISHED` is the only success). */
const FAILED_STATUSES = new Set(['FAILED', 'CANCELLED', 'TIMED_OUT']);

/** A concord task, checked. */
export interface ConcordSpec {
  /** The `server` metadata, trimmed; an http(s) URL. */
  readonly server: string;
  readonly org: string;
  readonly project: string;
  readonly repo: string;
  readonly entrypoint: string;
  readonly apiKeyPath: string;
  readonly endpoint: string;
  /** `arguments.<name>` entries without the prefix, sorted by name. */
  readonly arguments: readonly (readonly [string, string])[];
  readonly pollIntervalMs: number;
  readonly pollTimeoutMs: number;
}

/** A task's metadata is missing a field or has a bad one (answered with 400). */
export class TaskMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Reads a concord task from webhook metadata. Throws {@link TaskMetadataError} with Flagger's
 * message where it has one (`` `server` is required with type concord ``, …). Does not touch the
 * API key file: see {@link checkApiKeyFile}.
 */
export function concordSpecFromMetadata(m: Readonly<Record<string, string>>): ConcordSpec {
  const required = (key: string): string => {
    const v = m[key]?.trim() ?? '';
    if (v === '') throw new TaskMetadataError(`\`${key}\` is required with type concord`);
    return v;
  };
  const server = required('server');
  parseServerUrl('server', server);
  const org = required('org');
  const project = required('project');
  const repo = required('repo');
  const entrypoint = required('entrypoint');
  const apiKeyPath = required('apiKeyPath');
  const endpoint = required('endpoint');
  const pollIntervalMs = parsePollDuration(m, 'pollInterval', CONCORD_DEFAULT_POLL_INTERVAL_MS);
  const pollTimeoutMs = parsePollDuration(m, 'pollTimeout', CONCORD_DEFAULT_POLL_TIMEOUT_MS);
  const args: [string, string][] = [];
  for (const [key, value] of Object.entries(m)) {
    if (!key.startsWith(ARGUMENTS_PREFIX)) continue;
    const name = key.slice(ARGUMENTS_PREFIX.length);
    if (name === 'endpoint') {
      throw new TaskMetadataError(
        'You cannot override Endpoint through arguments. You must override Endpoint directly',
      );
    }
    if (name === '' || !/^[^\s"\\\p{Cc}]+$/u.test(name)) {
      throw new TaskMetadataError(
        `metadata ${JSON.stringify(key)}: argument names must be non-empty, without blanks, quotes or backslashes`,
      );
    }
    args.push([name, value]);
  }
  args.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    server,
    org,
    project,
    repo,
    entrypoint,
    apiKeyPath,
    endpoint,
    arguments: args,
    pollIntervalMs,
    pollTimeoutMs,
  };
}

/**
 * The words the `-allow` list matches for a concord task:
 * `concord <server> <apiKeyPath> <org> <project> <repo> <entrypoint>`. The key file and the server
 * it is sent to are both in the line, so an entry decides which key may go where.
 */
export function concordAllowlistArgv(spec: ConcordSpec): string[] {
  return ['concord', spec.server, spec.apiKeyPath, spec.org, spec.project, spec.repo, spec.entrypoint];
}

/**
 * Checks that `apiKeyPath` is a file, as Flagger does before it runs anything. Call it only after
 * the allowlist accepted the task, so that callers cannot probe the file system.
 */
export function checkApiKeyFile(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new TaskMetadataError(`\`apiKeyPath\` file doesn't exist ${path}`);
  }
  if (!isFile) throw new TaskMetadataError(`\`apiKeyPath\` ${path} is not a file`);
}

/** Reads the API key: at most 64 KiB, surrounding blanks and the final newline removed. */
export async function readApiKey(path: string): Promise<string> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_KEY_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_KEY_BYTES) throw new Error(`larger than ${MAX_KEY_BYTES} bytes`);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    throw new Error(`cannot read the concord API key file ${path}: ${why}`, { cause: err });
  }
  const key = text.trim();
  if (key === '') throw new Error(`the concord API key file ${path} is empty`);
  // The key goes into a header: no line breaks or other control characters.
  if (/[\p{Cc}]/u.test(key)) throw new Error(`the concord API key file ${path} holds control characters`);
  return key;
}

/** A `multipart/form-data` body. */
export interface FormBody {
  readonly contentType: string;
  readonly body: string;
}

/**
 * The form that starts the process, in Flagger's field order: `org`, `project`, `repo`,
 * `entryPoint`, `arguments.endpoint`, then `arguments.<name>` sorted by name.
 */
export function processForm(spec: ConcordSpec, boundary = randomBytes(24).toString('hex')): FormBody {
  const fields: [string, string][] = [
    ['org', spec.org],
    ['project', spec.project],
    ['repo', spec.repo],
    ['entryPoint', spec.entrypoint],
    [`${ARGUMENTS_PREFIX}endpoint`, spec.endpoint],
    ...spec.arguments.map(([k, v]): [string, string] => [`${ARGUMENTS_PREFIX}${k}`, v]),
  ];
  if (fields.some(([, v]) => v.includes(boundary))) return processForm(spec, randomBytes(24).toString('hex'));
  let body = '';
  for (const [name, value] of fields) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

/** What a task that drives a vendor's HTTP API (Concord, nGrinder) needs. */
export interface VendorTaskDeps {
  readonly http: HttpClient;
  readonly log: Logger;
  /** Ends the task (loadtester shutdown or `-timeout`). */
  readonly signal: AbortSignal;
  /** Timeout of one HTTP call (Flagger's client: 60 s); polls are also cut at their deadline. */
  readonly requestTimeoutMs: number;
  /** Why `signal` aborted, for the message (default: "the task was aborted"). */
  readonly abortReason?: () => string;
}

/** What {@link runConcord} needs. */
export type ConcordDeps = VendorTaskDeps;

/**
 * Starts the process and polls its status every `pollIntervalMs` until it is terminal or
 * `pollTimeoutMs` has passed since the start. Never rejects; the API key never appears in the
 * result or the log.
 */
export async function runConcord(spec: ConcordSpec, deps: ConcordDeps): Promise<TaskOutput> {
  const log = deps.log;
  const fail = (error: string): TaskOutput => {
    log.error('concord task failed', { error });
    return { ok: false, output: '', error };
  };
  const aborted = (what: string): TaskOutput => fail(`${what}: ${deps.abortReason?.() ?? 'the task was aborted'}`);

  let key: string;
  try {
    key = await readApiKey(spec.apiKeyPath);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const secrets = [key];
  const ctx = { signal: deps.signal, log };
  const startUrl = new URL(CONCORD_PROCESS_PATH, spec.server).toString();
  const form = processForm(spec);

  log.info('concord process starting', { url: startUrl, org: spec.org, project: spec.project, repo: spec.repo });
  let res: HttpResponse;
  try {
    res = await deps.http.request(ctx, {
      method: 'POST',
      url: startUrl,
      headers: { 'Content-Type': form.contentType, Authorization: key },
      body: form.body,
      timeoutMs: deps.requestTimeoutMs,
    });
  } catch (err) {
    if (deps.signal.aborted) return aborted('concord process not started');
    return fail(`failed to start process: ${err instanceof Error ? err.message : String(err)}`);
  }
  const started = parseJsonObject(res);
  const instanceId = started?.['instanceId'];
  if (res.status < 200 || res.status > 299 || typeof instanceId !== 'string' || instanceId === '') {
    return fail(
      `failed to start process: ${describeAnswer({ method: 'POST', url: startUrl }, res, secrets, 'no instanceId')}`,
    );
  }
  if (started?.['ok'] === false) {
    return fail(`failed to start process: Concord answered ok=false for instanceID: ${instanceId}`);
  }
  log.info('concord process created', { instanceId });

  const statusUrl = new URL(`${CONCORD_PROCESS_PATH}/${encodeURIComponent(instanceId)}`, spec.server).toString();
  const deadline = Date.now() + spec.pollTimeoutMs;
  const timedOut = (): TaskOutput =>
    fail(`concord process timed out, after ${formatSeconds(spec.pollTimeoutMs)} (instanceID: ${instanceId})`);
  let last = '';
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return timedOut();
    if (!(await waitOrAbort(Math.min(spec.pollIntervalMs, left), deps.signal))) {
      return aborted(`concord process ${instanceId} not finished`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return timedOut();
    let poll: HttpResponse;
    try {
      poll = await deps.http.request(ctx, {
        method: 'GET',
        url: statusUrl,
        headers: { Authorization: key },
        timeoutMs: Math.min(deps.requestTimeoutMs, remaining),
      });
    } catch (err) {
      if (deps.signal.aborted) return aborted(`concord process ${instanceId} not finished`);
      if (err instanceof HttpTimeoutError && Date.now() >= deadline) return timedOut();
      return fail(`failed checking status: ${err instanceof Error ? err.message : String(err)}`);
    }
    const entry = parseJsonObject(poll);
    const status = entry?.['status'];
    if (poll.status < 200 || poll.status > 299 || typeof status !== 'string' || status === '') {
      return fail(
        `failed checking status: ${describeAnswer({ method: 'GET', url: statusUrl }, poll, secrets, 'no status')}`,
      );
    }
    if (status !== last) log.info('concord process status', { instanceId, status });
    last = status;
    if (status === 'FINISHED') {
      log.info('concord process finished', { instanceId });
      return { ok: true, output: '' };
    }
    if (status === 'FAILED') return fail(`concord instanceID: ${instanceId} failed`);
    if (FAILED_STATUSES.has(status)) return fail(`concord instanceID: ${instanceId} failed with status ${status}`);
  }
}

/** `30 seconds`, `1.5 seconds` (Flagger: "after 30 seconds"). */
function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s} second${s === 1 ? '' : 's'}`;
}

/** The body as a JSON object, or undefined. */
export function parseJsonObject(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    const u: unknown = JSON.parse(res.body);
    return typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why an answer is not what was expected: `POST http://host:8001/api/v1/process answered 401
 * Unauthorized: <start of the body>`, or `… answered 200 without <missing>: <body>`.
 */
export function describeAnswer(
  request: { readonly method: string; readonly url: string },
  res: HttpResponse,
  secrets: readonly string[],
  missing: string,
): string {
  const u = new URL(request.url);
  const target = `${request.method} ${u.origin}${u.pathname}`;
  const ok = res.status >= 200 && res.status <= 299;
  const head = ok
    ? `${target} answered ${res.status} with ${missing} (not the expected JSON)`
    : `${target} answered ${res.status}${res.statusText === '' ? '' : ` ${res.statusText}`}`;
  const body = responseSnippet(res.body, secrets);
  return body === '' ? head : `${head}: ${body}`;
}

/** The first 200 characters of a body on one line, with every secret replaced by `<redacted>`. */
export function responseSnippet(body: string, secrets: readonly string[]): string {
  const text = redactSecrets(body, secrets).replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Parses an http(s) URL given in metadata `field`; throws {@link TaskMetadataError} for anything
 * else, and for URLs with credentials (they would end up in logs; use the task's own fields).
 */
export function parseServerUrl(field: string, value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TaskMetadataError(`\`${field}\` must be an http or https URL, got ${JSON.stringify(value)}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') {
    throw new TaskMetadataError(`\`${field}\` must be an http or https URL, got ${JSON.stringify(value)}`);
  }
  if (u.username !== '' || u.password !== '') {
    throw new TaskMetadataError(`\`${field}\` must not contain credentials`);
  }
  return u;
}

/**
 * A positive poll duration from metadata `field`: whole seconds as in Flagger (`5`), or a Go
 * duration (`500ms`, `1m`). Missing or empty: `defaultMs`.
 */
export function parsePollDuration(m: Readonly<Record<string, string>>, field: string, defaultMs: number): number {
  const raw = m[field]?.trim() ?? '';
  if (raw === '') return defaultMs;
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : parseGoDuration(raw);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > 2_147_483_647) {
    throw new TaskMetadataError(
      `unable to convert \`${field}\` to int: want positive whole seconds or a duration such as 500ms, got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

/** Waits `ms`; resolves false (at once) when `signal` aborts first. */
export async function waitOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
