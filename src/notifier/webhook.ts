/**
 * Generic JSON webhook (Fledge extension, AlertProvider `type: webhook`): one small, documented JSON
 * object per alert, for receivers that are not a chat (an incident tool, a relay, a bot). Unlike the
 * chat payloads, the body does not mimic any vendor format and is stable across versions; see
 * docs/alerts.md.
 *
 * ```json
 * {
 *   "name": "podinfo",
 *   "namespace": "apps",
 *   "cluster": "prod-eu",
 *   "severity": "error",
 *   "message": "Failed checks threshold reached 2: …",
 *   "fields": { "Cluster": "prod-eu", "Target": "Deployment/podinfo.apps" },
 *   "timestamp": "2026-11-26T00:00:00.000Z"
 * }
 * ```
 *
 * `cluster` is present only when `-cluster-name` is set (it is the `Cluster` field, lifted to the
 * top level); `fields` holds every field the chat notifiers show, in the same order. The Secret's
 * `token` is sent as `Authorization: Bearer <token>` and a proxy is honoured, as for every type
 * (src/notifier/post.ts).
 */
import type { Ctx } from '../core/context.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { HttpClient } from '../http/client.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier, Severity } from './notifier.ts';
import { postJson } from './post.ts';

/** The name of the field that carries `-cluster-name` (src/controller/events.ts). */
export const CLUSTER_FIELD = 'Cluster';

/** The body of a `webhook` alert. Keys appear in this order; `cluster` only when known. */
export interface WebhookPayload {
  /** The Canary's name. */
  readonly name: string;
  /** The Canary's namespace. */
  readonly namespace: string;
  /** `-cluster-name`, when set. */
  readonly cluster?: string;
  readonly severity: Severity;
  readonly message: string;
  /** Field name → value, in the order the chat notifiers show them (the first of a repeated name wins). */
  readonly fields: Readonly<Record<string, string>>;
  /** When the alert was sent, RFC 3339 in UTC with milliseconds. */
  readonly timestamp: string;
}

/** The generic webhook body of a notification, stamped with `now` (ms since the epoch). */
export function webhookPayload(n: Notification, now: number): WebhookPayload {
  const byName = new Map<string, string>();
  for (const f of n.fields) if (!byName.has(f.name)) byName.set(f.name, f.value);
  const fields: Record<string, string> = Object.fromEntries(byName);
  const cluster = byName.get(CLUSTER_FIELD);
  return {
    name: n.workload,
    namespace: n.namespace,
    ...(cluster === undefined ? {} : { cluster }),
    severity: n.severity,
    message: n.message,
    fields,
    timestamp: new Date(now).toISOString(),
  };
}

/** Posts {@link webhookPayload} to the provider's address. */
export class WebhookNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;
  readonly #clock: Pick<Clock, 'now'>;

  constructor(settings: NotifierSettings, http: HttpClient, clock: Pick<Clock, 'now'> = systemClock) {
    this.#s = settings;
    this.#http = http;
    this.#clock = clock;
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    await postJson(ctx, this.#http, { type: 'webhook', ...this.#s }, webhookPayload(notification, this.#clock.now()));
  }
}
