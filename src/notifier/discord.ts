/**
 * Discord (Flagger pkg/notifier/discord.go): the Slack payload posted to the webhook's
 * Slack-compatible endpoint, `<url>/slack`.
 */
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier } from './notifier.ts';
import { postJson } from './post.ts';
import { slackPayload } from './slack.ts';

/** `url` with `/slack` appended to its path, unless it already ends with it. */
export function discordSlackUrl(url: string): string {
  if (url.endsWith('/slack')) return url;
  try {
    const u = new URL(url);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/slack`;
    return u.toString();
  } catch {
    return `${url.replace(/\/+$/, '')}/slack`;
  }
}

export class DiscordNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;
  readonly #url: string;

  constructor(settings: NotifierSettings, http: HttpClient) {
    this.#s = settings;
    this.#http = http;
    this.#url = discordSlackUrl(settings.url);
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    const payload = slackPayload(this.#s, notification, { ok: 'good', error: 'danger' });
    await postJson(
      ctx,
      this.#http,
      { type: 'discord', url: this.#url, token: this.#s.token, proxyUrl: this.#s.proxyUrl },
      payload,
    );
  }
}
