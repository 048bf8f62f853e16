import type { Ctx } from '../controller/context.ts';

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
