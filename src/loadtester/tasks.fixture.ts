// Helpers of the task tests.
import { TaskRejection, type WebhookPayload } from './tasks.ts';

/** A payload of canary podinfo.test with `metadata`. */
export const payload = (metadata: Record<string, string> | undefined): WebhookPayload => ({
  name: 'podinfo',
  namespace: 'test',
  phase: 'Progressing',
  checksum: 'abc',
  metadata,
});

/** The {@link TaskRejection} `fn` throws; fails when it throws none. */
export const rejection = (fn: () => unknown): TaskRejection => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaskRejection) return err;
    throw err;
  }
  throw new Error('expected a TaskRejection');
};
