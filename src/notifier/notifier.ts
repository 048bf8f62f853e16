import type { Ctx } from '../core/context.ts';

export type Severity = 'info' | 'warn' | 'error';

export interface NotificationField {
  readonly name: string;
  readonly value: string;
}

export interface Notification {
  readonly workload: string;
  readonly namespace: string;
  readonly message: string;
  readonly fields: readonly NotificationField[];
  readonly severity: Severity;
}

/** Notifier posts an alert to one chat or webhook endpoint (Flagger pkg/notifier). */
export interface Notifier {
  post(ctx: Ctx, notification: Notification): Promise<void>;
}

/** Where and as whom a notifier posts. `url` and `token` are secrets: never log them. */
export interface NotifierSettings {
  readonly url: string;
  /** Bearer token (Slack bot token, or an AlertProvider Secret's `token`); empty when unset. */
  readonly token: string;
  /** HTTP proxy URL; empty when unset. */
  readonly proxyUrl: string;
  /** Poster name (AlertProviders default it to `flagger`); may be empty. */
  readonly username: string;
  /** Channel (AlertProviders default it to `general`); empty = the webhook's own channel. */
  readonly channel: string;
}
