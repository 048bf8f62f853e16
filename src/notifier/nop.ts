import type { Ctx } from '../core/context.ts';
import type { Notification, Notifier } from './notifier.ts';

/** Drops every notification: used when no URL is configured (Flagger's NopNotifier). */
export class NopNotifier implements Notifier {
  post(_ctx: Ctx, _notification: Notification): Promise<void> {
    return Promise.resolve();
  }
}
