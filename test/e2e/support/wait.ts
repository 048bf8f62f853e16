// Polling helper with a timeout message that says what was awaited and what was last seen.

export interface WaitForOptions {
  /**
   * What is awaited, for the timeout message (e.g. "deployment podinfo to have 3 available replicas").
   * A function is called on timeout, so it can report the state last seen.
   */
  describe: string | (() => string);
  /** Default 60 s. */
  timeoutMs?: number;
  /** Default 250 ms. */
  intervalMs?: number;
}

type Settled<T> = Exclude<T, undefined | null | false>;

function show(value: unknown): string {
  if (value instanceof Error) return value.message;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/**
 * Calls `fn` until it returns something other than `undefined`, `null` or `false`, and returns that.
 * A throw counts as "not yet" (the last error is reported on timeout).
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitForOptions): Promise<Settled<T>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value as Settled<T>;
      last = { value };
    } catch (error: unknown) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const seen =
        last === undefined ? 'nothing' : 'error' in last ? `error: ${show(last.error)}` : `value: ${show(last.value)}`;
      const what = typeof options.describe === 'function' ? options.describe() : options.describe;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
