/**
 * Everything a user sees happen to a canary (Flagger pkg/controller/events.go):
 *
 * - `event()`: a JSON log line, a Kubernetes Event on the Canary (reason `Synced`, as Flagger;
 *   source `fledge`), and a POST to the canary's `type: event` webhooks, or else to the global
 *   `-event-webhook`;
 * - `alert()`: a notification to the canary's AlertProviders filtered by severity, or to the
 *   global notifier (`-slack-*` / `-msteams-*`) when the canary lists no alerts.
 *
 * Neither method throws: a failed Event, webhook or notification is logged and the tick goes on.
 * Webhook URLs, provider addresses and tokens are secrets and never reach logs or Events.
 */
import {
  analysisOf,
  alertChannel,
  alertUsername,
  deploymentStrategy,
  maxWeight,
  progressDeadlineSeconds,
  threshold,
} from '../apis/flagger/v1beta1/defaults.ts';
import { parseAlertProvider } from '../apis/flagger/v1beta1/parse.ts';
import type {
  AlertProvider,
  AlertProviderType,
  AlertSeverity,
  Canary,
  CanaryWebhook,
} from '../apis/flagger/v1beta1/types.ts';
import { type HttpClient, redactUrl } from '../http/client.ts';
import { isRecord } from '../kube/json.ts';
import type { KubeObject, ResourceType } from '../kube/objects.ts';
import type { Informer, KubeClient } from '../kube/port.ts';
import { Resources } from '../kube/resources.ts';
import { type NotifierBuilder, createNotifier, notifierBuilders } from '../notifier/factory.ts';
import type { Notification, NotificationField, Notifier, Severity } from '../notifier/notifier.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { type Ctx } from '../core/context.ts';
import type { EventSink } from './ports.ts';
import { callWebhook, eventMetadata } from './webhooks.ts';

/** The reason of every Event Fledge records on a Canary (Flagger always uses `Synced`). */
export const EVENT_REASON = 'Synced';

/** Options of {@link KubeEventSink}. */
export interface EventSinkOptions {
  readonly kube: Pick<KubeClient, 'recordEvent' | 'get' | 'informer'>;
  /** Sends event webhooks. */
  readonly http: HttpClient;
  /** `-event-webhook` / `EVENT_WEBHOOK_URL`; empty = none. */
  readonly eventWebhook: string;
  /** `-cluster-name`: the `Cluster` field of every alert when set. */
  readonly clusterName: string;
  /** Used for canaries without `analysis.alerts`. */
  readonly globalNotifier: Notifier;
  /**
   * Namespace scope of the AlertProvider informer (`-namespace`); undefined = all namespaces.
   * Providers outside the scope are read from the API.
   */
  readonly namespace?: string;
  /** `-no-cross-namespace-refs`: AlertProviders of other namespaces are not read. */
  readonly noCrossNamespaceRefs?: boolean;
  /** Notifier per AlertProvider type (tests substitute recorders); default: the real ones over `http`. */
  readonly notifiers?: Readonly<Record<AlertProviderType, NotifierBuilder>>;
  readonly clock?: Pick<Clock, 'now'>;
  /** Secret informer cache, for event webhooks' `headersSecretRef`. */
  readonly secrets?: Pick<Informer, 'get'>;
}

/** True when an alert of `severity` goes to a provider subscribed at `subscribed`. */
export function severityMatches(subscribed: AlertSeverity | undefined, severity: Severity): boolean {
  // Flagger drops alerts whose severity is empty although its docs (and the CRD) default it to
  // info; Fledge treats empty as info.
  switch (subscribed ?? '') {
    case '':
    case 'info':
      return true;
    case 'warn':
      return severity === 'warn' || severity === 'error';
    case 'error':
      return severity === 'error';
  }
}

/**
 * Alert fields describing the canary (Flagger `alertMetadata`): Target, Failed checks threshold,
 * Progress deadline and Traffic routing. Unlike Flagger, `max` is the effective maximum weight
 * (Flagger prints the raw `maxWeight`, i.e. 0 when it is unset).
 */
export function alertMetadata(canary: Canary): NotificationField[] {
  const ref = canary.spec.targetRef;
  const fields: NotificationField[] = [
    { name: 'Target', value: `${ref.kind}/${ref.name}.${canary.metadata.namespace ?? ''}` },
    { name: 'Failed checks threshold', value: String(threshold(canary)) },
    { name: 'Progress deadline', value: `${progressDeadlineSeconds(canary)}s` },
  ];
  const analysis = analysisOf(canary);
  switch (deploymentStrategy(canary)) {
    case 'ab-testing':
      fields.push({ name: 'Traffic routing', value: 'A/B Testing' });
      break;
    case 'blue-green':
      fields.push({ name: 'Traffic routing', value: 'Blue/Green' });
      break;
    case 'canary': {
      const step = analysis?.stepWeight ?? 0;
      const steps = analysis?.stepWeights ?? [];
      if (step > 0) {
        fields.push({ name: 'Traffic routing', value: `Weight step: ${step} max: ${maxWeight(canary)}` });
      } else if (steps.length > 0) {
        fields.push({ name: 'Traffic routing', value: `Weight steps: ${steps.join(',')} max: ${maxWeight(canary)}` });
      }
      break;
    }
  }
  return fields;
}

const decodeBase64 = (u: unknown): string | undefined =>
  typeof u === 'string' ? Buffer.from(u, 'base64').toString('utf8') : undefined;

/** A resolved AlertProvider; `url` is a secret (log `redactUrl(url)` only). */
interface ResolvedProvider {
  readonly notifier: Notifier;
  readonly type: AlertProviderType;
  readonly url: string;
}

/** The {@link EventSink} of the operator. */
export class KubeEventSink implements EventSink {
  readonly #o: EventSinkOptions;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #builders: Readonly<Record<AlertProviderType, NotifierBuilder>>;

  constructor(options: EventSinkOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#builders = options.notifiers ?? notifierBuilders(options.http);
  }

  async event(ctx: Ctx, canary: Canary, type: 'Normal' | 'Warning', message: string): Promise<void> {
    if (type === 'Normal') ctx.log.info(message, { eventType: type });
    else ctx.log.warn(message, { eventType: type });
    await Promise.all([
      this.#o.kube.recordEvent({ involved: canary, type, reason: EVENT_REASON, message }).catch((err: unknown) => {
        ctx.log.warn('could not record event', { error: err });
      }),
      this.#eventWebhooks(ctx, canary, type, message),
    ]);
  }

  /** The canary's `event` hooks, or the global `-event-webhook` when it has none. */
  async #eventWebhooks(ctx: Ctx, canary: Canary, type: 'Normal' | 'Warning', message: string): Promise<void> {
    let hooks: readonly CanaryWebhook[] = (analysisOf(canary)?.webhooks ?? []).filter((w) => w.type === 'event');
    if (hooks.length === 0 && this.#o.eventWebhook !== '') hooks = [{ name: 'events', url: this.#o.eventWebhook }];
    if (hooks.length === 0) return;
    const extraMetadata = eventMetadata(message, type, this.#clock.now());
    const phase = canary.status?.phase ?? '';
    await Promise.all(
      hooks.map(async (hook) => {
        try {
          const result = await callWebhook(ctx, {
            canary,
            phase,
            hook,
            http: this.#o.http,
            extraMetadata,
            ...(this.#o.secrets === undefined ? {} : { secrets: this.#o.secrets }),
          });
          if (!result.ok)
            ctx.log.error('error sending event to webhook', { webhook: hook.name, error: result.message });
        } catch (err) {
          ctx.log.error('error sending event to webhook', { webhook: hook.name, error: err });
        }
      }),
    );
  }

  async alert(
    ctx: Ctx,
    canary: Canary,
    alert: { message: string; severity: Severity; metadata: boolean },
  ): Promise<void> {
    const fields: NotificationField[] = [];
    if (this.#o.clusterName !== '') fields.push({ name: 'Cluster', value: this.#o.clusterName });
    if (alert.metadata) fields.push(...alertMetadata(canary));
    const notification: Notification = {
      workload: canary.metadata.name,
      namespace: canary.metadata.namespace ?? '',
      message: alert.message,
      fields,
      severity: alert.severity,
    };

    const alerts = analysisOf(canary)?.alerts ?? [];
    if (alerts.length === 0) {
      try {
        await this.#o.globalNotifier.post(ctx, notification);
      } catch (err) {
        ctx.log.error("alert can't be sent", { error: err });
      }
      return;
    }
    for (const a of alerts) {
      if (!severityMatches(a.severity, alert.severity)) continue;
      const namespace = a.providerRef.namespace || (canary.metadata.namespace ?? '');
      const provider = `${a.providerRef.name}.${namespace}`;
      let resolved: ResolvedProvider | undefined;
      try {
        if (this.#o.noCrossNamespaceRefs === true && namespace !== (canary.metadata.namespace ?? '')) {
          throw new Error(`can't access AlertProvider ${provider}, cross-namespace references are blocked`);
        }
        resolved = await this.#resolve(a.providerRef.name, namespace);
        await resolved.notifier.post(ctx, notification);
      } catch (err) {
        // Only the provider's name, type and URL origin: the path and the token are secrets.
        ctx.log.error(`alert provider ${provider} error`, {
          alert: a.name,
          ...(resolved ? { providerType: resolved.type, host: redactUrl(resolved.url) } : {}),
          error: err,
        });
      }
    }
  }

  /** Builds the notifier of an AlertProvider; throws (without secrets) when it can't be resolved. */
  async #resolve(name: string, namespace: string): Promise<ResolvedProvider> {
    const obj = await this.#alertProviderObject(name, namespace);
    if (!obj) throw new Error(`AlertProvider ${name}.${namespace} not found`);
    const provider: AlertProvider = parseAlertProvider(obj);
    let url = provider.spec.address ?? '';
    let token = '';
    let proxyUrl = provider.spec.proxy ?? '';
    const secretRef = provider.spec.secretRef;
    if (secretRef) {
      const secret = await this.#cached(Resources.secret, namespace, secretRef.name);
      if (!secret) throw new Error(`secretRef ${secretRef.name}.${namespace} not found`);
      const data = isRecord(secret['data']) ? secret['data'] : {};
      // The CRD allows either `address` or `secretRef`; the Secret must then hold the address, and
      // may hold `token` and (Fledge) `proxy`, which overrides `spec.proxy`.
      const address = decodeBase64(data['address']);
      if (address === undefined) throw new Error(`secret ${secretRef.name}.${namespace} does not contain an address`);
      url = address;
      token = decodeBase64(data['token']) ?? '';
      proxyUrl = decodeBase64(data['proxy']) ?? proxyUrl;
    }
    const notifier = createNotifier(
      provider.spec.type,
      { url, token, proxyUrl, username: alertUsername(provider), channel: alertChannel(provider) },
      this.#builders,
    );
    return { notifier, type: provider.spec.type, url };
  }

  /** An object from the informer cache (the `-namespace` one, or the object's namespace's), else the API. */
  async #cached(type: ResourceType, namespace: string, name: string): Promise<KubeObject | undefined> {
    const scope = this.#o.namespace;
    if (scope === undefined || scope === namespace) {
      const informer = this.#o.kube.informer(type, scope ?? namespace);
      if (informer.health().synced) return informer.get({ namespace, name });
    }
    return this.#o.kube.get(type, { namespace, name });
  }

  async #alertProviderObject(name: string, namespace: string): Promise<unknown> {
    const scope = this.#o.namespace;
    if (scope === undefined || scope === namespace) {
      const informer = this.#o.kube.informer(Resources.alertProvider, scope);
      if (informer.health().synced) return informer.get({ namespace, name });
    }
    return this.#o.kube.get(Resources.alertProvider, { namespace, name });
  }
}
