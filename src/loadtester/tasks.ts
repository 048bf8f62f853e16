/**
 * Webhook tasks: from a Flagger `CanaryWebhookPayload` to a checked {@link TaskPlan}, and running
 * a plan. Task types (registry below, an explicit object, not Flagger's `init()` side effects):
 *
 * | `metadata.type` | runs | answer |
 * | --- | --- | --- |
 * | `cmd` (default) | argv of `cmd`, in the background, once per canary and command at a time | 202 at once |
 * | `bash` | `bash -c cmd` when a `bash:` entry allows the script, else argv of `cmd` | 200, or 500 with the error |
 * | `helm`, `helmv3` | `helm <args of cmd>` | 200 / 500 |
 * | `kubectl` | `kubectl <args of cmd>` | 200 / 500 |
 * | `load` | the built-in generator (`url`, `rate`, `duration`, …) in the background, or blocking with `wait: "true"` | 202, or 200 with the report |
 * | `concord` | a Concord process over HTTP (concord.ts), waiting for its end | 200 / 500 |
 * | `ngrinder` | an nGrinder test over HTTP (ngrinder.ts), in the background, once per canary and test | 202 at once |
 *
 * An argv whose first word is `hey` runs on the built-in generator instead of the binary. Every
 * command must match the allowlist first; a refusal is a {@link TaskRejection} with status 403.
 * The HTTP tasks match as `concord <server> <apiKeyPath> <org> <project> <repo> <entrypoint>` and
 * `ngrinder <server> <clone>`: no shell or process runs for them.
 */
import { createHash } from 'node:crypto';
import { parseGoDuration } from '../config.ts';
import { type HttpClient, createHttpClient, formatMs } from '../http/client.ts';
import type { Logger } from '../log/logger.ts';
import { type Allowlist, refusalMessage } from './allowlist.ts';
import {
  type ConcordSpec,
  TaskMetadataError,
  checkApiKeyFile,
  concordAllowlistArgv,
  concordSpecFromMetadata,
  runConcord,
} from './concord.ts';
import { describeFailure, execArgv, succeeded } from './exec.ts';
import {
  type LoadObserver,
  type LoadReport,
  type LoadSpec,
  LoadSpecError,
  displayUrl,
  runLoad,
  validateLoadSpec,
} from './generator.ts';
import { HeyFlagError, parseHey } from './hey.ts';
import {
  DEFAULT_LOAD_POLICY,
  type LoadPolicy,
  LoadLimitError,
  type LoadSlots,
  boundLoadSpec,
  openTarget,
  openTargetHint,
} from './load-policy.ts';
import { type NGrinderSpec, ngrinderAllowlistArgv, ngrinderSpecFromMetadata, runNGrinder } from './ngrinder.ts';
import { ShellMetacharacterError, ShellSyntaxError, canonicalCommand, shellWords } from './shellwords.ts';

/** The body Flagger POSTs to every webhook (`CanaryWebhookPayload`). */
export interface WebhookPayload {
  readonly name: string;
  readonly namespace: string;
  readonly phase: string;
  readonly checksum: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
}

/** The body is not a JSON payload Go's `json.Unmarshal` would accept. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Parses a webhook body like Go's `json.Unmarshal` into `CanaryWebhookPayload`: missing fields are empty. */
export function parsePayload(text: string): WebhookPayload {
  let u: unknown;
  try {
    u = JSON.parse(text);
  } catch (err) {
    throw new PayloadError(`decoding the request body failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    throw new PayloadError('decoding the request body failed: not a JSON object');
  }
  const o = u as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new PayloadError(`decoding the request body failed: "${k}" is not a string`);
    return v;
  };
  let metadata: Record<string, string> | undefined;
  const m = o['metadata'];
  if (m !== undefined && m !== null) {
    if (typeof m !== 'object' || Array.isArray(m)) {
      throw new PayloadError('decoding the request body failed: "metadata" is not an object of strings');
    }
    metadata = {};
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') {
        throw new PayloadError(`decoding the request body failed: metadata "${k}" is not a string`);
      }
      metadata[k] = v;
    }
  }
  return {
    name: str('name'),
    namespace: str('namespace'),
    phase: str('phase'),
    checksum: str('checksum'),
    metadata,
  };
}

/** Task types fledge-loadtester runs. */
export const TASK_TYPES = ['cmd', 'bash', 'helm', 'helmv3', 'kubectl', 'load', 'concord', 'ngrinder'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export function isTaskType(s: string): s is TaskType {
  return (TASK_TYPES as readonly string[]).includes(s);
}

/** What a task runs. */
export type Plan =
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'shell'; readonly script: string }
  | { readonly kind: 'load'; readonly spec: LoadSpec }
  | { readonly kind: 'concord'; readonly spec: ConcordSpec }
  | { readonly kind: 'ngrinder'; readonly spec: NGrinderSpec };

/** A checked task, ready to run. */
export interface TaskPlan {
  readonly type: TaskType;
  /** `<name>.<namespace>` of the canary, as Flagger's logs name it. */
  readonly canary: string;
  readonly plan: Plan;
  /** The canonical command line the allowlist matched, credentials redacted ({@link displayCommand}), for logs. */
  readonly command: string;
  /** Runs in the background (202) instead of blocking (200/500). */
  readonly background: boolean;
  /** `returnCmdOutput`: a blocking task answers with its output. */
  readonly returnOutput: boolean;
  /** Log the command's output (always for blocking tasks, `logCmdOutput` for `cmd`). */
  readonly logOutput: boolean;
  /**
   * Deduplication key of background tasks: a hash of canary, type and plan (Flagger: canary + cmd;
   * for ngrinder, canary + server + clone id, credentials left out).
   */
  readonly key: string;
  /**
   * Needs the bearer token when one is set: everything but a generator run against an open
   * (in-cluster or `-load-hosts`) target, which Flagger's header-less webhooks must reach.
   */
  readonly needsToken: boolean;
}

/** A task that must not run: `status` is the HTTP answer, `message` its body. */
export class TaskRejection extends Error {
  readonly status: number;
  /** For `fledge_loadtester_tasks_total{result}`. */
  readonly result: 'refused' | 'invalid';
  constructor(status: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.result = status === 403 ? 'refused' : 'invalid';
  }
}

/** Go's `strconv.ParseBool`; undefined for anything else. */
export function parseGoBool(s: string | undefined): boolean | undefined {
  if (s === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * Checks `payload` against the allowlist and builds the plan. Throws {@link TaskRejection}:
 * 400 for a malformed task, 403 for a refused command or HTTP task.
 */
export function planTask(
  payload: WebhookPayload,
  allowlist: Allowlist,
  load: LoadPolicy = DEFAULT_LOAD_POLICY,
): TaskPlan {
  const metadata = payload.metadata;
  if (metadata === undefined || Object.keys(metadata).length === 0) {
    throw new TaskRejection(400, 'metadata not found in payload');
  }
  const type = metadata['type'] ?? 'cmd';
  if (!isTaskType(type)) throw new TaskRejection(400, `unknown task type ${type}`);
  const canary = `${payload.name}.${payload.namespace}`;
  const returnOutput = parseGoBool(metadata['returnCmdOutput']) === true;

  if (type === 'concord' || type === 'ngrinder') return planHttpTask(type, canary, metadata, allowlist);

  if (type === 'load') {
    const spec = bounded(loadSpecFromMetadata(metadata), load);
    const argv = ['load', spec.method, spec.url];
    const { spec: target, needsToken } = generatorTarget(spec, argv, allowlist, load);
    const wait = parseGoBool(metadata['wait']) === true;
    return finish({
      type,
      canary,
      plan: { kind: 'load', spec: target },
      command: canonicalCommand(argv),
      background: !wait,
      returnOutput: wait,
      logOutput: true,
      needsToken,
    });
  }

  const cmd = metadata['cmd'];
  if (cmd === undefined || cmd.trim() === '') throw new TaskRejection(400, 'cmd not found in metadata');

  // A bash task whose script a `bash:` entry allows is the only thing that ever reaches a shell.
  if (type === 'bash' && allowlist.matchShell(cmd)) {
    return finish({
      type,
      canary,
      plan: { kind: 'shell', script: cmd.trim() },
      command: `bash -c ${canonicalCommand([cmd.trim()])}`,
      background: false,
      returnOutput,
      logOutput: true,
      needsToken: true,
    });
  }

  let words: string[];
  try {
    words = shellWords(cmd);
  } catch (err) {
    if (err instanceof ShellMetacharacterError) {
      const hint =
        type === 'bash'
          ? ` (no "bash:" -allow entry matches this script${allowlist.entries.some((e) => e.shell) ? '' : '; there are none'})`
          : '';
      throw new TaskRejection(403, `command refused: ${JSON.stringify(cmd.trim())}: ${err.message}${hint}`);
    }
    if (err instanceof ShellSyntaxError) throw new TaskRejection(400, `invalid cmd: ${err.message}`);
    throw err;
  }
  const argv =
    type === 'helm' || type === 'helmv3' ? ['helm', ...words] : type === 'kubectl' ? ['kubectl', ...words] : words;
  const command = displayCommand(argv);
  const background = type === 'cmd';
  const common = {
    type,
    canary,
    command,
    background,
    returnOutput,
    logOutput: background ? parseGoBool(metadata['logCmdOutput']) === true : true,
  };
  if (argv[0] === 'hey' && (type === 'cmd' || type === 'bash')) {
    let spec: LoadSpec;
    try {
      spec = bounded(parseHey(argv.slice(1)).spec, load);
    } catch (err) {
      if (err instanceof HeyFlagError || err instanceof LoadSpecError) throw new TaskRejection(400, err.message);
      throw err;
    }
    const target = generatorTarget(spec, argv, allowlist, load);
    return finish({ ...common, plan: { kind: 'load', spec: target.spec }, needsToken: target.needsToken });
  }
  if (!allowlist.matchArgv(argv)) throw new TaskRejection(403, refusalMessage(command, allowlist));
  return finish({ ...common, plan: { kind: 'exec', argv }, needsToken: true });
}

/** `spec` within the policy's bounds (rate capped), or a 400 naming the flag. */
function bounded(spec: LoadSpec, load: LoadPolicy): LoadSpec {
  try {
    return boundLoadSpec(spec, load);
  } catch (err) {
    if (err instanceof LoadLimitError) throw new TaskRejection(400, err.message);
    throw err;
  }
}

/**
 * Where a generator run may go: an open (in-cluster or `-load-hosts`) target runs without an
 * `-allow` entry and without the token, pinned to its cluster name; any other target needs an
 * entry matching `argv` (and the token). Otherwise 403 naming what would allow it.
 */
function generatorTarget(
  spec: LoadSpec,
  argv: readonly string[],
  allowlist: Allowlist,
  load: LoadPolicy,
): { spec: LoadSpec; needsToken: boolean } {
  const open = openTarget(spec.url, load);
  if (open) {
    return {
      spec: open.connectOrigin === undefined ? spec : { ...spec, connectOrigin: open.connectOrigin },
      needsToken: false,
    };
  }
  if (allowlist.matchArgv(argv)) return { spec, needsToken: true };
  const command = displayCommand(argv);
  throw new TaskRejection(403, `command refused: ${JSON.stringify(command)}: ${openTargetHint(spec.url, load)}`);
}

/**
 * True when the payload asks for the built-in generator (`type: load`, or a `cmd`/`bash` task
 * whose command starts with `hey`): the only tasks that may run without the bearer token.
 */
export function isGeneratorPayload(payload: WebhookPayload): boolean {
  const type = payload.metadata?.['type'] ?? 'cmd';
  if (type === 'load') return true;
  if (type !== 'cmd' && type !== 'bash') return false;
  try {
    return shellWords(payload.metadata?.['cmd'] ?? '')[0] === 'hey';
  } catch {
    return false;
  }
}

/** Header names whose values never appear in logs or answers. */
const SECRET_HEADER = /authorization|cookie|token|secret|key|password/i;

/**
 * The canonical command line for logs and refusal messages, with credentials replaced by
 * `<redacted>`: the value of secret-looking `-H Name: value` headers and of `-a user:pass` (hey's
 * flags; also `-H=…`/`--header`). The allowlist always matches the real line.
 */
export function displayCommand(argv: readonly string[]): string {
  const out = [...argv];
  for (let i = 1; i < out.length; i++) {
    const arg = out[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 && arg.startsWith('-') ? arg.slice(0, eq) : arg;
    const inline = eq > 0 && arg.startsWith('-');
    const value = inline ? arg.slice(eq + 1) : out[i + 1];
    if (value === undefined) continue;
    let redacted: string | undefined;
    if (flag === '-a' || flag === '--a') redacted = '<redacted>';
    else if (['-H', '--H', '--header'].includes(flag)) {
      const colon = value.indexOf(':');
      if (colon > 0 && SECRET_HEADER.test(value.slice(0, colon))) redacted = `${value.slice(0, colon)}: <redacted>`;
    }
    if (redacted === undefined) continue;
    if (inline) out[i] = `${flag}=${redacted}`;
    else out[++i] = redacted;
  }
  return canonicalCommand(out);
}

function finish(p: Omit<TaskPlan, 'key'>, dedup: string = JSON.stringify(p.plan)): TaskPlan {
  const key = createHash('sha256').update(`${p.canary}\n${p.type}\n${dedup}`).digest('hex').slice(0, 32);
  return { ...p, key };
}

/**
 * The HTTP tasks: `concord` (blocking) and `ngrinder` (background). Metadata errors are 400 with
 * Flagger's messages; the allowlist must accept their line (403 otherwise) before the concord API
 * key file is even looked at.
 */
function planHttpTask(
  type: 'concord' | 'ngrinder',
  canary: string,
  metadata: Readonly<Record<string, string>>,
  allowlist: Allowlist,
): TaskPlan {
  try {
    if (type === 'concord') {
      const spec = concordSpecFromMetadata(metadata);
      const argv = concordAllowlistArgv(spec);
      const command = canonicalCommand(argv);
      if (!allowlist.matchArgv(argv)) throw new TaskRejection(403, refusalMessage(command, allowlist));
      checkApiKeyFile(spec.apiKeyPath);
      return finish({
        type,
        canary,
        plan: { kind: 'concord', spec },
        command,
        background: false,
        returnOutput: false,
        logOutput: true,
        needsToken: true,
      });
    }
    const spec = ngrinderSpecFromMetadata(metadata);
    const argv = ngrinderAllowlistArgv(spec);
    const command = canonicalCommand(argv);
    if (!allowlist.matchArgv(argv)) throw new TaskRejection(403, refusalMessage(command, allowlist));
    return finish(
      {
        type,
        canary,
        plan: { kind: 'ngrinder', spec },
        command,
        background: true,
        returnOutput: false,
        logOutput: true,
        needsToken: true,
      },
      `${spec.server}\n${spec.cloneId}`,
    );
  } catch (err) {
    if (err instanceof TaskMetadataError) throw new TaskRejection(400, err.message);
    throw err;
  }
}

/**
 * The native `type: load` task from its metadata: `url` (required), `method` (GET), `rate` (total
 * requests per second; unlimited when absent), `duration` (Go duration) or `requests` (one is
 * required; duration wins), `concurrency` (10), `headers` (a JSON object, or `Name: value` lines),
 * `body`, `timeout` (per request, 20s; 0 = none), `host`, `keepAlive` (true),
 * `insecureSkipVerify` (false). Throws {@link TaskRejection} 400 naming the bad field.
 */
export function loadSpecFromMetadata(m: Readonly<Record<string, string>>): LoadSpec {
  const bad = (field: string, why: string): TaskRejection =>
    new TaskRejection(400, `invalid load task: ${field} ${why}`);
  const url = m['url'];
  if (url === undefined || url.trim() === '') throw bad('url', 'is required');
  const num = (field: string, integer: boolean): number | undefined => {
    const v = m[field];
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw bad(field, `must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const dur = (field: string): number | undefined => {
    const v = m[field];
    if (v === undefined || v.trim() === '') return undefined;
    const ms = parseGoDuration(v.trim());
    if (ms === undefined) throw bad(field, `must be a duration such as 30s or 1m, got ${JSON.stringify(v)}`);
    return ms;
  };
  const bool = (field: string, def: boolean): boolean => {
    const v = m[field];
    if (v === undefined || v === '') return def;
    const b = parseGoBool(v);
    if (b === undefined) throw bad(field, `must be true or false, got ${JSON.stringify(v)}`);
    return b;
  };
  const rate = num('rate', false);
  const durationMs = dur('duration');
  const requests = num('requests', true);
  if (durationMs === undefined && requests === undefined) throw bad('duration', 'or requests is required');
  if (durationMs === 0) throw bad('duration', 'must be positive');
  const timeoutMs = dur('timeout') ?? 20_000;
  const headers = parseHeaders(m['headers'] ?? '', bad);
  if (!headers.some(([k]) => k.toLowerCase() === 'user-agent')) headers.push(['User-Agent', 'fledge-loadtester']);
  const host = m['host'];
  if (host !== undefined && host !== '') headers.push(['Host', host]);
  const body = m['body'];
  const spec: LoadSpec = {
    url: url.trim(),
    method: (m['method'] ?? 'GET').trim().toUpperCase() || 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
    concurrency: num('concurrency', true) ?? 10,
    ...(rate === undefined ? {} : { rate }),
    ...(durationMs === undefined ? { requests: requests ?? 1 } : { durationMs }),
    timeoutMs,
    keepAlive: bool('keepAlive', true),
    insecureSkipVerify: bool('insecureSkipVerify', false),
  };
  try {
    validateLoadSpec(spec);
  } catch (err) {
    if (err instanceof LoadSpecError) throw new TaskRejection(400, `invalid load task: ${err.message}`);
    throw err;
  }
  return spec;
}

/** `headers` metadata: a JSON object of strings, or `Name: value` lines. */
function parseHeaders(text: string, bad: (field: string, why: string) => TaskRejection): [string, string][] {
  const t = text.trim();
  if (t === '') return [];
  const out: [string, string][] = [];
  if (t.startsWith('{')) {
    let u: unknown;
    try {
      u = JSON.parse(t);
    } catch {
      throw bad('headers', 'is not valid JSON');
    }
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw bad('headers', 'must be a JSON object');
    for (const [k, v] of Object.entries(u as Record<string, unknown>)) {
      if (typeof v !== 'string') throw bad('headers', `value of ${k} must be a string`);
      out.push([k, v]);
    }
  } else {
    for (const line of t.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      const match = /^([\w-]+):\s*(.*)$/.exec(line.trim());
      if (!match?.[1] || match[2] === undefined)
        throw bad('headers', `line ${JSON.stringify(line)} is not "Name: value"`);
      out.push([match[1], match[2]]);
    }
  }
  for (const [k, v] of out) {
    if (!/^[\w!#$%&'*+.^`|~-]+$/.test(k)) throw bad('headers', `name ${JSON.stringify(k)} is not a valid header name`);
    if (/[\r\n\0]/.test(v)) throw bad('headers', `value of ${k} contains a line break`);
  }
  return out;
}

/** How a task ended. */
export interface TaskOutput {
  readonly ok: boolean;
  /** stdout of a command, or the JSON report of a load run. */
  readonly output: string;
  /** Why it failed (status, stderr), for the 500 answer and the log. */
  readonly error?: string;
  readonly report?: LoadReport;
}

/** Runs a plan until it ends, `timeoutMs` passes or `signal` aborts. Never rejects. */
export type TaskExecutor = (task: TaskPlan, signal: AbortSignal) => Promise<TaskOutput>;

/** Options of {@link createExecutor}. */
export interface ExecutorOptions {
  /** `-timeout`: the longest any task may run. */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Receives the generator's per-request outcomes (the Prometheus metrics). */
  readonly observer?: LoadObserver;
  /** Client of the HTTP tasks (concord, ngrinder); default: a new one with User-Agent fledge-loadtester. */
  readonly http?: HttpClient;
  /** Timeout of each HTTP call of those tasks (default 60 s, Flagger's concord client). */
  readonly requestTimeoutMs?: number;
  /** `-load-max-runs`: generator runs beyond it fail at once. */
  readonly loadSlots?: LoadSlots;
}

/** Timeout of one call of the HTTP tasks unless {@link ExecutorOptions.requestTimeoutMs} says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

const OUTPUT_IN_ERROR = 4096;

/** The executor of real tasks: processes without a shell, `bash -c` for allowed scripts, the generator. */
export function createExecutor(options: ExecutorOptions): TaskExecutor {
  let http = options.http;
  return async (task, signal) => {
    const log = options.log.child({ canary: task.canary, type: task.type });
    const plan = task.plan;
    if (plan.kind === 'concord' || plan.kind === 'ngrinder') {
      http ??= createHttpClient({ userAgent: 'fledge-loadtester' });
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const deps = {
        http,
        log,
        signal: AbortSignal.any([signal, deadline]),
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        abortReason: (): string =>
          deadline.aborted
            ? `the loadtester's -timeout of ${formatMs(options.timeoutMs)} passed`
            : 'the loadtester is shutting down',
      };
      log.info('task starting', { command: task.command });
      return plan.kind === 'concord' ? runConcord(plan.spec, deps) : runNGrinder(plan.spec, deps);
    }
    if (plan.kind === 'load') {
      const slots = options.loadSlots;
      if (slots && !slots.take()) {
        log.warn('load test not started', { reason: slots.message });
        return { ok: false, output: '', error: slots.message };
      }
      log.info('load test starting', {
        target: displayUrl(plan.spec.url),
        method: plan.spec.method,
        concurrency: plan.spec.concurrency,
        rate: plan.spec.rate ?? null,
        durationSeconds: plan.spec.durationMs === undefined ? null : plan.spec.durationMs / 1000,
        requests: plan.spec.requests ?? null,
      });
      try {
        const report = await runLoad(plan.spec, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
          ...(options.observer === undefined ? {} : { observer: options.observer }),
        });
        log.info('load test finished', { report });
        return { ok: true, output: JSON.stringify(report), report };
      } catch (err) {
        const error = `load test failed: ${err instanceof Error ? err.message : String(err)}`;
        log.error(error);
        return { ok: false, output: '', error };
      } finally {
        slots?.release();
      }
    }
    const argv = plan.kind === 'exec' ? plan.argv : ['bash', '-c', plan.script];
    log.info('command starting', { command: task.command });
    const r = await execArgv(argv, { timeoutMs: options.timeoutMs, signal });
    const combined = [r.stdout, r.stderr].filter((s) => s !== '').join('\n');
    if (succeeded(r)) {
      if (task.logOutput && combined !== '') log.info('command output', { command: task.command, output: combined });
      log.info('command finished', { command: task.command });
      return { ok: true, output: r.stdout };
    }
    const how = describeFailure(r, options.timeoutMs);
    const tail = combined.length > OUTPUT_IN_ERROR ? `…${combined.slice(-OUTPUT_IN_ERROR)}` : combined;
    const error = `command ${task.command} failed: ${how}${tail === '' ? '' : `: ${tail}`}`;
    log.error('command failed', { command: task.command, reason: how, output: combined });
    return { ok: false, output: r.stdout, error };
  };
}
