// Reads the operator's JSON log lines (one object per line on stderr) for assertions on what its
// informers did: failures, scheduled retries and wake-ups.

/** One log line of the operator. */
export interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Every JSON log line in `text` (other lines, e.g. restart markers, are skipped). */
export function parseLogs(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && 'msg' in parsed && 'ts' in parsed)
        lines.push(parsed as LogLine);
    } catch {
      // a line cut by a crash
    }
  }
  return lines;
}

/** A list or watch retry an informer scheduled after a failure. */
export interface InformerRetry {
  readonly at: number;
  readonly informer: string;
  readonly what: 'list' | 'watch';
  readonly failures: number;
  readonly retryInMs: number;
}

/** The retries informers scheduled at or after `since` (epoch ms). */
export function informerRetries(lines: readonly LogLine[], since: number): InformerRetry[] {
  return lines.flatMap((l) => {
    const at = Date.parse(l.ts);
    const what = l.msg === 'list failed; retrying' ? 'list' : l.msg === 'watch failed; retrying' ? 'watch' : undefined;
    if (what === undefined || at < since) return [];
    return [
      {
        at,
        informer: String(l['informer']),
        what,
        failures: Number(l['failures']),
        retryInMs: Number(l['retryInMs']),
      },
    ];
  });
}

/** Informers woken from a backoff because the API server answered again, at or after `since`. */
export function informerWakeUps(lines: readonly LogLine[], since: number): string[] {
  return lines
    .filter((l) => l.msg === 'API server answers again; retrying now' && Date.parse(l.ts) >= since)
    .map((l) => String(l['informer']));
}
