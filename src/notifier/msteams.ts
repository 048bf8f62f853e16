/**
 * Microsoft Teams (Flagger pkg/notifier/teams.go): an Office 365 connector MessageCard, theme color
 * `0076D7` or `FF0000` on error, with the fields as facts.
 */
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier } from './notifier.ts';
import { postJson } from './post.ts';

export interface MSTeamsPayload {
  readonly '@type': 'MessageCard';
  readonly '@context': string;
  readonly themeColor: string;
  readonly summary: string;
  readonly sections: readonly {
    readonly activityTitle: string;
    readonly activitySubtitle: string;
    readonly facts: readonly { readonly name: string; readonly value: string }[];
  }[];
}

export function msteamsPayload(n: Notification): MSTeamsPayload {
  const subject = `${n.workload}.${n.namespace}`;
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: n.severity === 'error' ? 'FF0000' : '0076D7',
    summary: subject,
    sections: [
      {
        activityTitle: n.message,
        activitySubtitle: subject,
        facts: n.fields.map((f) => ({ name: f.name, value: f.value })),
      },
    ],
  };
}

export class MSTeamsNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;

  constructor(settings: NotifierSettings, http: HttpClient) {
    this.#s = settings;
    this.#http = http;
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    await postJson(ctx, this.#http, { type: 'msteams', ...this.#s }, msteamsPayload(notification));
  }
}
