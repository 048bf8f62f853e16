/**
 * Slack (Flagger pkg/notifier/slack.go): an incoming-webhook payload with one attachment, or a
 * `chat.postMessage` call when a bot token is set (the URL is then `https://slack.com/api/chat.postMessage`
 * and the token goes in `Authorization: Bearer`). Slack's Web API answers 200 with `{"ok": false}`
 * on errors, so with a token the body is checked too.
 *
 * Discord (its `/slack`-compatible endpoint) and Rocket.Chat take the same payload; see
 * {@link slackPayload}.
 */
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import { isRecord } from '../kube/json.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier } from './notifier.ts';
import { NotifierError, postJson, scrub } from './post.ts';

/** Flagger's Slack message (field order and always-present keys as Go's `json.Marshal`). */
export interface SlackPayload {
  readonly channel: string;
  readonly username: string;
  readonly icon_url: string;
  readonly icon_emoji: string;
  readonly attachments: readonly {
    readonly color: string;
    readonly author_name: string;
    readonly text: string;
    readonly mrkdwn_in: readonly string[];
    readonly fields: readonly { readonly title: string; readonly value: string; readonly short: boolean }[];
  }[];
}

/** The Slack-format payload of a notification; `colors` are the info/warn and the error colors. */
export function slackPayload(
  settings: Pick<NotifierSettings, 'channel' | 'username'>,
  n: Notification,
  colors: { readonly ok: string; readonly error: string },
): SlackPayload {
  return {
    channel: settings.channel,
    username: settings.username,
    icon_url: '',
    icon_emoji: ':rocket:',
    attachments: [
      {
        color: n.severity === 'error' ? colors.error : colors.ok,
        author_name: `${n.workload}.${n.namespace}`,
        text: n.message,
        mrkdwn_in: ['text'],
        fields: n.fields.map((f) => ({ title: f.name, value: f.value, short: false })),
      },
    ],
  };
}

export class SlackNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;

  constructor(settings: NotifierSettings, http: HttpClient) {
    this.#s = settings;
    this.#http = http;
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    const payload = slackPayload(this.#s, notification, { ok: 'good', error: 'danger' });
    const body = await postJson(ctx, this.#http, { type: 'slack', ...this.#s }, payload);
    if (this.#s.token === '') return;
    // chat.postMessage: HTTP 200 with {"ok": false, "error": "channel_not_found"} is a failure.
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return;
    }
    if (isRecord(parsed) && parsed['ok'] === false) {
      const reason = typeof parsed['error'] === 'string' ? scrub(parsed['error'], this.#s) : 'unknown error';
      throw new NotifierError(`slack chat.postMessage failed: ${reason}`);
    }
  }
}
