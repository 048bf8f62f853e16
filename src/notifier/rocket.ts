/**
 * Rocket.Chat (Flagger pkg/notifier/rocket.go): the Slack payload with colors `#0076D7` and, on
 * error, `#FF0000`.
 */
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier } from './notifier.ts';
import { postJson } from './post.ts';
import { slackPayload } from './slack.ts';

export class RocketNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;

  constructor(settings: NotifierSettings, http: HttpClient) {
    this.#s = settings;
    this.#http = http;
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    const payload = slackPayload(this.#s, notification, { ok: '#0076D7', error: '#FF0000' });
    await postJson(ctx, this.#http, { type: 'rocket', ...this.#s }, payload);
  }
}
