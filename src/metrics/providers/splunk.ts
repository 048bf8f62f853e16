/**
 * Splunk Observability Cloud / SignalFx (Flagger pkg/metrics/providers/splunk.go). Flagger runs the
 * SignalFlow program over the WebSocket API; Fledge uses SignalFlow's HTTP form,
 * `POST <stream address>/v2/signalflow/execute?start&stop&immediate=true` with the program as a
 * `text/plain` body and the `X-SF-Token` header (Secret key `sf_token_key`), over the last 10
 * metric intervals. The answer is a server-sent event stream (`control-message`, `metadata`,
 * `data`, `error` events) that ends at `END_OF_CHANNEL` because `stop` is in the past.
 *
 * As in Flagger: the stream address is `address` with its first `api` replaced by `stream`;
 * null values are dropped; no value is "no values found"; values of more than one time series
 * are "multiple values"; otherwise the last value is the result. Availability is
 * `GET <api address>/v2/metric?limit=1`.
 */
import type { Ctx } from '../../core/context.ts';
import type { HttpClient } from '../../http/client.ts';
import { DEFAULT_TIMEOUT_MS, expectOk, intervalMs, isObject, required, send, truncate } from './common.ts';
import { MultipleValuesError, NoValuesFoundError, ProviderError } from './errors.ts';
import type { MetricsProvider } from './provider.ts';

export interface SplunkOptions {
  readonly address?: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly metricInterval: string;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

/** One server-sent event. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

/** Splits a `text/event-stream` body into events (multi-line `data:` fields joined by `\n`). */
export function parseEventStream(text: string): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  let event = 'message';
  let data: string[] = [];
  const flush = (): void => {
    if (data.length > 0) events.push({ event, data: data.join('\n') });
    event = 'message';
    data = [];
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  flush();
  return events;
}

export class SplunkProvider implements MetricsProvider {
  readonly #http: HttpClient;
  readonly #streamUrl: string;
  readonly #apiUrl: string;
  readonly #token: string;
  readonly #fromDeltaMs: number;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(o: SplunkOptions, http: HttpClient) {
    if (o.address === undefined || o.address === '') throw new ProviderError('splunk endpoint is not set');
    const address = o.address.replace(/\/+$/, '');
    this.#streamUrl = `${address}/v2/signalflow/execute`.replace('api', 'stream');
    this.#apiUrl = `${address}/v2/metric?limit=1`.replace('stream', 'api');
    this.#token = required('splunk', o.credentials, 'sf_token_key');
    this.#fromDeltaMs = Math.trunc(10 * intervalMs(o.metricInterval));
    this.#now = o.now ?? Date.now;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = http;
  }

  async runQuery(ctx: Ctx, query: string): Promise<number> {
    const now = this.#now();
    const params = new URLSearchParams({
      start: String(now - this.#fromDeltaMs),
      stop: String(now),
      immediate: 'true',
    });
    const res = await send(ctx, this.#http, {
      method: 'POST',
      url: `${this.#streamUrl}?${params.toString()}`,
      headers: { 'X-SF-Token': this.#token, 'Content-Type': 'text/plain', Accept: 'text/event-stream' },
      body: query,
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    const points: { tsId: string; value: number }[] = [];
    for (const e of parseEventStream(res.body)) {
      let msg: unknown;
      try {
        msg = JSON.parse(e.data);
      } catch {
        throw new ProviderError(`error executing query: invalid ${e.event} event '${truncate(e.data)}'`);
      }
      if (e.event === 'error' || (isObject(msg) && msg['type'] === 'error')) {
        const text = isObject(msg) ? (msg['message'] ?? msg['error'] ?? msg['errors']) : undefined;
        throw new ProviderError(`error executing query: ${truncate(JSON.stringify(text ?? msg))}`);
      }
      if (e.event !== 'data' || !isObject(msg) || !Array.isArray(msg['data'])) continue;
      for (const p of msg['data'] as unknown[]) {
        if (!isObject(p) || typeof p['tsId'] !== 'string') continue;
        const v = p['value'];
        if (typeof v === 'number') points.push({ tsId: p['tsId'], value: v });
      }
    }
    const last = points.at(-1);
    if (last === undefined) throw new NoValuesFoundError('no values found');
    if (new Set(points.map((p) => p.tsId)).size > 1) throw new MultipleValuesError('query returned multiple values');
    return last.value;
  }

  async isOnline(ctx: Ctx): Promise<boolean> {
    const res = await send(ctx, this.#http, {
      method: 'GET',
      url: this.#apiUrl,
      headers: { 'X-SF-Token': this.#token },
      timeoutMs: this.#timeoutMs,
    });
    expectOk(res);
    return true;
  }
}
