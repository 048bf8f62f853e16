/**
 * `type: ngrinder`: runs an [nGrinder](https://github.com/naver/ngrinder) performance test in the
 * background, with the metadata keys of Flagger's loadtester (pkg/loadtester/task_ngrinder.go):
 *
 * | key | meaning |
 * | --- | --- |
 * | `server` | nGrinder's base URL; `perftest/api/…` is resolved against it (keep a trailing `/` for a sub-path) |
 * | `clone` | id of the test to clone and start |
 * | `username`, `passwd` | HTTP basic credentials; `passwd` base64-encoded, as in Flagger |
 * | `pollInterval` | time between status checks: a Go duration (`5s`) or whole seconds; default 1 s |
 *
 * Run: `POST perftest/api/<clone>/clone_and_start` gives the new test's `id`; then
 * `GET perftest/api/<id>/status` until `status[0].status_id` is `FINISHED` (success) or
 * `STOP_BY_ERROR`, `CANCELED`, `UNKNOWN` (failure). A failed status check is logged and retried,
 * as in Flagger. When the task's signal aborts (the loadtester's `-timeout`, or shutdown), the test
 * is stopped with `PUT perftest/api/<id>?action=stop` (at most 10 s, since shutdown is waiting).
 */
import { inspect } from 'node:util';
import type { HttpResponse } from '../http/client.ts';
import {
  TaskMetadataError,
  type VendorTaskDeps,
  describeAnswer,
  parseJsonObject,
  parsePollDuration,
  parseServerUrl,
  waitOrAbort,
} from './concord.ts';
import type { TaskOutput } from './tasks.ts';

/** Flagger's effective default: one status check per second. */
export const NGRINDER_DEFAULT_POLL_INTERVAL_MS = 1_000;

/** Longest wait for the stop call: it runs during shutdown, which has its own deadline. */
const STOP_TIMEOUT_MS = 10_000;

/** Terminal statuses that fail the task (`FINISHED` is the only success). */
const FAILED_STATUSES = new Set(['STOP_BY_ERROR', 'CANCELED', 'UNKNOWN']);

/** A value that never prints: `JSON.stringify`, `String()` and `util.inspect` show `<redacted>`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The value, for the one place that sends it. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '<redacted>';
  }
  toString(): string {
    return '<redacted>';
  }
  [inspect.custom](): string {
    return '<redacted>';
  }
}

/** An ngrinder task, checked. */
export interface NGrinderSpec {
  /** The `server` metadata, trimmed; an http(s) URL. */
  readonly server: string;
  readonly cloneId: number;
  readonly username: string;
  /** The decoded `passwd`. */
  readonly password: Secret;
  readonly pollIntervalMs: number;
}

/** Reads an ngrinder task from webhook metadata; throws {@link TaskMetadataError} with Flagger's messages. */
export function ngrinderSpecFromMetadata(m: Readonly<Record<string, string>>): NGrinderSpec {
  const server = m['server']?.trim() ?? '';
  const clone = m['clone']?.trim() ?? '';
  const username = m['username'] ?? '';
  const passwd = m['passwd']?.trim() ?? '';
  if (server === '' || clone === '' || username === '' || passwd === '') {
    throw new TaskMetadataError('server, clone, username and passwd are required metadata');
  }
  parseServerUrl('server', server);
  if (!/^\d{1,15}$/.test(clone)) {
    throw new TaskMetadataError(`metadata clone must be integer: got ${JSON.stringify(clone)}`);
  }
  // Go's base64.StdEncoding: the standard alphabet, padded to a multiple of 4.
  if (passwd.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(passwd)) {
    throw new TaskMetadataError('metadata password is invalid: not standard padded base64');
  }
  return {
    server,
    cloneId: Number(clone),
    username,
    password: new Secret(Buffer.from(passwd, 'base64').toString('utf8')),
    pollIntervalMs: parsePollDuration(m, 'pollInterval', NGRINDER_DEFAULT_POLL_INTERVAL_MS),
  };
}

/** The words the `-allow` list matches for an ngrinder task: `ngrinder <server> <clone>`. */
export function ngrinderAllowlistArgv(spec: NGrinderSpec): string[] {
  return ['ngrinder', spec.server, String(spec.cloneId)];
}

/** nGrinder's REST endpoints, resolved against `server` as Flagger's `ResolveReference` does. */
export function ngrinderUrls(
  spec: NGrinderSpec,
  testId?: number,
): { cloneAndStart: string; status: string; stop: string } {
  const at = (path: string): string => new URL(path, spec.server).toString();
  const id = testId ?? 0;
  return {
    cloneAndStart: at(`perftest/api/${spec.cloneId}/clone_and_start`),
    status: at(`perftest/api/${id}/status`),
    stop: at(`perftest/api/${id}?action=stop`),
  };
}

/** What {@link runNGrinder} needs; aborting `signal` also stops the running test. */
export type NGrinderDeps = VendorTaskDeps;

/** Clones and starts the test, polls it until it ends, stops it when `signal` aborts. Never rejects. */
export async function runNGrinder(spec: NGrinderSpec, deps: NGrinderDeps): Promise<TaskOutput> {
  const log = deps.log;
  const password = spec.password.reveal();
  const secrets = [password, Buffer.from(`${spec.username}:${password}`).toString('base64')];
  const auth = { username: spec.username, password };
  const fail = (error: string): TaskOutput => {
    log.error('ngrinder task failed', { error });
    return { ok: false, output: '', error };
  };
  const why = (): string => deps.abortReason?.() ?? 'the task was aborted';
  const ctx = { signal: deps.signal, log };

  const start = ngrinderUrls(spec).cloneAndStart;
  log.info('ngrinder test starting', { url: start, clone: spec.cloneId });
  let res: HttpResponse;
  try {
    res = await deps.http.request(ctx, {
      method: 'POST',
      url: start,
      basicAuth: auth,
      timeoutMs: deps.requestTimeoutMs,
    });
  } catch (err) {
    if (deps.signal.aborted) return fail(`ngrinder test ${spec.cloneId} not cloned: ${why()}`);
    return fail(`failed to clone and start ngrinder test ${spec.cloneId}: ${errorText(err)}`);
  }
  const started = parseJsonObject(res);
  const id = started?.['id'];
  if (
    res.status < 200 ||
    res.status > 299 ||
    started?.['success'] === false ||
    typeof id !== 'number' ||
    !Number.isSafeInteger(id)
  ) {
    return fail(
      `failed to clone and start ngrinder test ${spec.cloneId}: ${describeAnswer({ method: 'POST', url: start }, res, secrets, 'no test id')}`,
    );
  }
  const urls = ngrinderUrls(spec, id);
  log.info('ngrinder test started', { clone: spec.cloneId, testId: id });

  let last = '';
  for (;;) {
    if (!(await waitOrAbort(spec.pollIntervalMs, deps.signal))) break;
    let poll: HttpResponse;
    try {
      poll = await deps.http.request(ctx, {
        method: 'GET',
        url: urls.status,
        basicAuth: auth,
        timeoutMs: deps.requestTimeoutMs,
      });
    } catch (err) {
      if (deps.signal.aborted) break;
      log.warn('ngrinder status check failed; retrying', { testId: id, error: errorText(err) });
      continue;
    }
    const status = statusId(poll);
    if (status === undefined) {
      log.warn('ngrinder status check failed; retrying', {
        testId: id,
        error: describeAnswer({ method: 'GET', url: urls.status }, poll, secrets, 'no status[0].status_id'),
      });
      continue;
    }
    if (status !== last) log.info('ngrinder test status', { testId: id, status });
    last = status;
    if (status === 'FINISHED') {
      log.info('ngrinder test finished', { testId: id });
      return { ok: true, output: '' };
    }
    if (FAILED_STATUSES.has(status)) return fail(`ngrinder test ${id} ended with status ${status}`);
  }

  // The task's context ended: stop the test, with a fresh deadline (the task's signal has aborted).
  log.warn('context timedout, stopping ngrinder test forcibly', { testId: id, reason: why() });
  let stopped = 'stopped';
  try {
    const r = await deps.http.request(
      { signal: new AbortController().signal, log },
      { method: 'PUT', url: urls.stop, basicAuth: auth, timeoutMs: Math.min(deps.requestTimeoutMs, STOP_TIMEOUT_MS) },
    );
    const body = parseJsonObject(r);
    if (r.status < 200 || r.status > 299 || body?.['success'] === false) {
      stopped = `stop failed: ${describeAnswer({ method: 'PUT', url: urls.stop }, r, secrets, 'success: false')}`;
    }
  } catch (err) {
    stopped = `stop failed: ${errorText(err)}`;
  }
  return fail(`ngrinder test ${id} did not finish: ${why()}; ${stopped}`);
}

/** `status[0].status_id` of a status answer, when it is a 2xx JSON one with `success` not false. */
function statusId(res: HttpResponse): string | undefined {
  if (res.status < 200 || res.status > 299) return undefined;
  const body = parseJsonObject(res);
  if (body === undefined || body['success'] === false) return undefined;
  const list = body['status'];
  if (!Array.isArray(list)) return undefined;
  const first: unknown = list[0];
  if (typeof first !== 'object' || first === null) return undefined;
  const id = (first as Record<string, unknown>)['status_id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
