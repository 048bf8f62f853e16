/**
 * Google Chat (Flagger pkg/notifier/gchat.go): one card headed "Flagger" (as Flagger, so existing
 * Chat filters keep matching) with the message and then one section per field.
 */
import type { Ctx } from '../core/context.ts';
import type { HttpClient } from '../http/client.ts';
import type { NotifierSettings } from './notifier.ts';
import type { Notification, Notifier } from './notifier.ts';
import { postJson } from './post.ts';

interface GChatSection {
  readonly widgets: readonly { readonly textParagraph: { readonly text: string } }[];
}

export interface GChatPayload {
  readonly cards: readonly {
    readonly header: { readonly title: string; readonly subtitle: string; readonly imageUrl: string };
    readonly sections: readonly GChatSection[];
  }[];
}

const section = (text: string): GChatSection => ({ widgets: [{ textParagraph: { text } }] });

export function gchatPayload(n: Notification): GChatPayload {
  return {
    cards: [
      {
        header: {
          title: 'Flagger',
          subtitle: `${n.workload}.${n.namespace}`,
          imageUrl: 'https://flagger.app/favicon.png',
        },
        sections: [
          section(`<font color=#848484><strong>${n.message}</strong></font>`),
          ...n.fields.map((f) => section(`${f.name}<br><font color=#848484><strong>${f.value}</strong></font>`)),
        ],
      },
    ],
  };
}

export class GChatNotifier implements Notifier {
  readonly #s: NotifierSettings;
  readonly #http: HttpClient;

  constructor(settings: NotifierSettings, http: HttpClient) {
    this.#s = settings;
    this.#http = http;
  }

  async post(ctx: Ctx, notification: Notification): Promise<void> {
    await postJson(ctx, this.#http, { type: 'gchat', ...this.#s }, gchatPayload(notification));
  }
}
