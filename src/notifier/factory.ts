/**
 * Builds the {@link Notifier} of an AlertProvider type or of the global `-slack-*` / `-msteams-*`
 * flags (Flagger pkg/notifier/factory.go). An empty URL gives a {@link NopNotifier}.
 *
 * Every type of the CRD has an entry in {@link notifierBuilders}: Flagger's slack, msteams, discord,
 * rocket and gchat, and Fledge's `webhook`, a generic JSON body (src/notifier/webhook.ts) that
 * Flagger does not have; Flagger manifests never use it, so they stay valid. {@link UnsupportedNotifier}
 * remains for a type added to the CRD before its backend: its `post` rejects with a clear error that
 * callers log, rather than silently dropping alerts.
 *
 * Alerts are the filtered, human-readable subset of events; every event (not only alerts) also goes
 * as Flagger's webhook payload to the canary's `type: event` webhooks or the global
 * `-event-webhook` / `EVENT_WEBHOOK_URL` (src/controller/events.ts).
 */
import type { AlertProviderType } from '../apis/flagger/v1beta1/types.ts';
import { alertProviderTypes, isAlertProviderType } from '../apis/flagger/v1beta1/types.ts';
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import { OperatorError, UnsupportedError } from '../core/errors.ts';
import { DiscordNotifier } from './discord.ts';
import { GChatNotifier } from './gchat.ts';
import { MSTeamsNotifier } from './msteams.ts';
import { NopNotifier } from './nop.ts';
import type { Notification, Notifier, NotifierSettings } from './notifier.ts';
import { RocketNotifier } from './rocket.ts';
import { SlackNotifier } from './slack.ts';
import { WebhookNotifier } from './webhook.ts';

/** Creates the notifier of one type from complete settings (URL non-empty). */
export type NotifierBuilder = (settings: NotifierSettings) => Notifier;

/** A notifier type that exists in the CRD but that this version cannot post to yet. */
export class UnsupportedNotifierError extends UnsupportedError {
  readonly type: string;
  constructor(type: string) {
    super(`alert provider type "${type}" is not yet supported by Fledge; the alert was not sent`);
    this.type = type;
  }
}

/** An AlertProvider type Fledge does not know at all (not in the CRD enum). */
export class UnknownNotifierError extends OperatorError {
  constructor(type: string) {
    super(`alert provider type "${type}" is unknown; want one of ${alertProviderTypes.join(', ')}`);
  }
}

/** Stands in for a chat backend that is not implemented: every post rejects with {@link UnsupportedNotifierError}. */
export class UnsupportedNotifier implements Notifier {
  readonly type: AlertProviderType;
  constructor(type: AlertProviderType) {
    this.type = type;
  }
  post(_ctx: Ctx, _notification: Notification): Promise<void> {
    return Promise.reject(new UnsupportedNotifierError(this.type));
  }
}

/**
 * One builder per AlertProvider type, posting through `http`; `satisfies` makes a new CRD type a
 * compile error until wired.
 */
export function notifierBuilders(http: HttpClient): Readonly<Record<AlertProviderType, NotifierBuilder>> {
  return {
    slack: (s) => new SlackNotifier(s, http),
    msteams: (s) => new MSTeamsNotifier(s, http),
    discord: (s) => new DiscordNotifier(s, http),
    rocket: (s) => new RocketNotifier(s, http),
    gchat: (s) => new GChatNotifier(s, http),
    webhook: (s) => new WebhookNotifier(s, http),
  } satisfies Record<AlertProviderType, NotifierBuilder>;
}

/** Settings with only the URL required; missing fields are empty. */
export type NotifierInput = Partial<NotifierSettings> & { readonly url: string };

/**
 * The notifier for an AlertProvider `type`: {@link NopNotifier} when the URL is empty, else the
 * type's builder. Throws {@link UnknownNotifierError} for a type outside the CRD enum.
 */
export function createNotifier(
  type: string,
  input: NotifierInput,
  builders: Readonly<Record<AlertProviderType, NotifierBuilder>>,
): Notifier {
  if (!isAlertProviderType(type)) throw new UnknownNotifierError(type);
  if (input.url === '') return new NopNotifier();
  return builders[type]({
    url: input.url,
    token: input.token ?? '',
    proxyUrl: input.proxyUrl ?? '',
    username: input.username ?? '',
    channel: input.channel ?? '',
  });
}

/** The global notification flags (see `Config.slack` / `Config.msteams`). */
export interface GlobalNotifierFlags {
  readonly slack: {
    readonly url: string;
    readonly token: string;
    readonly proxyUrl: string;
    readonly user: string;
    readonly channel: string;
  };
  readonly msteams: { readonly url: string; readonly proxyUrl: string };
}

/**
 * The notifier of canaries without `analysis.alerts` (Flagger's initNotifier): MS Teams when its URL
 * is set, else Slack, else {@link NopNotifier}. Returns the chosen type for the startup log.
 */
export function globalNotifier(
  flags: GlobalNotifierFlags,
  builders: Readonly<Record<AlertProviderType, NotifierBuilder>>,
): { readonly notifier: Notifier; readonly type: AlertProviderType | 'none' } {
  if (flags.msteams.url !== '') {
    return {
      notifier: createNotifier('msteams', { url: flags.msteams.url, proxyUrl: flags.msteams.proxyUrl }, builders),
      type: 'msteams',
    };
  }
  if (flags.slack.url !== '') {
    const { url, token, proxyUrl, user, channel } = flags.slack;
    return {
      notifier: createNotifier('slack', { url, token, proxyUrl, username: user, channel }, builders),
      type: 'slack',
    };
  }
  return { notifier: new NopNotifier(), type: 'none' };
}
