/** Helpers that keep secrets out of messages: what of a URL may be shown, and what of a secret. */

/**
 * `scheme://host:port` of `url`, without credentials, path or query: what errors and logs may show.
 * Unparseable input becomes `<invalid URL>`.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? `${u.protocol}//<redacted>` : u.origin;
  } catch {
    return '<invalid URL>';
  }
}

/** What replaces a secret in text. */
export const REDACTED = '<redacted>';

/**
 * `text` with every occurrence of each secret (of `minLength` characters or more) replaced by
 * `<redacted>`, longest first so that a secret containing another is removed whole.
 */
export function redactSecrets(text: string, secrets: Iterable<string>, minLength = 1): string {
  const ordered = [...new Set(secrets)].filter((s) => s.length >= minLength).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of ordered) out = out.split(s).join(REDACTED);
  return out;
}

/** Removes secrets from text; built once per set of secrets by {@link secretRedactor}. */
export type Redactor = (text: string) => string;

/** Shortest secret value redacted whole: shorter ones would take ordinary words with them. */
export const MIN_SECRET_LENGTH = 4;
/** Shortest word of a secret value redacted on its own (the token of `Bearer <token>`). */
const MIN_SECRET_WORD = 6;
/** Auth schemes that precede a credential in a header value; not secrets themselves. */
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'digest', 'apikey', 'api-token', 'sso-jwt']);
/** Pairs of values are combined into Basic credentials only up to this many values. */
const MAX_PAIRED_VALUES = 16;

/**
 * Every form in which a server may quote a secret back: the value (trimmed, and without the
 * trailing newline `echo > file` leaves), each word of {@link MIN_SECRET_WORD} characters or more
 * except auth schemes, its base64 (standard and URL-safe, padded and not), its URL and JSON escapes, the string leaves of a JSON object value (a service account
 * key), and the Basic credentials `a:b` (and their encodings) of every ordered pair of values.
 */
export function secretForms(values: Iterable<string>): Set<string> {
  const whole = new Set<string>();
  const forms = new Set<string>();
  const add = (v: string): void => {
    if (v.length < MIN_SECRET_LENGTH) return;
    whole.add(v);
    for (const leaf of jsonLeaves(v)) add(leaf);
  };
  for (const raw of values) {
    add(raw);
    add(raw.trim());
    for (const word of raw.split(/\s+/))
      if (word.length >= MIN_SECRET_WORD && !AUTH_SCHEMES.has(word.toLowerCase())) add(word);
  }
  for (const v of whole) for (const f of encodings(v)) forms.add(f);
  const list = [...whole];
  if (list.length <= MAX_PAIRED_VALUES) {
    for (const a of list) for (const b of list) if (a !== b) for (const f of encodings(`${a}:${b}`)) forms.add(f);
  }
  for (const f of forms) if (f.length < MIN_SECRET_LENGTH) forms.delete(f);
  return forms;
}

/** A {@link Redactor} for the {@link secretForms} of `values`. */
export function secretRedactor(values: Iterable<string>): Redactor {
  const forms = [...secretForms(values)].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => redactSecrets(text, forms);
}

/**
 * Text a server sent, fit for a message: redacted first, then whitespace-trimmed and cut to `max`
 * characters followed by `...`. Redacting before cutting matters: a cut through a secret would
 * leave its first characters, which no longer match the secret.
 */
export function quoteRedacted(text: string, redact: Redactor, max: number): string {
  const t = redact(text).trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

function encodings(v: string): string[] {
  const b64 = Buffer.from(v, 'utf8').toString('base64');
  const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
  // Padded and unpadded: the padded form goes first (longest first), the unpadded one catches the rest.
  return [v, b64, unpadded(b64), url, unpadded(url), encodeURIComponent(v), JSON.stringify(v).slice(1, -1)];
}

function unpadded(b64: string): string {
  return b64.replace(/=+$/, '');
}

/** The string leaves of `v` when it is a JSON object or array; none otherwise. */
function jsonLeaves(v: string): string[] {
  const t = v.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (u: unknown): void => {
    if (typeof u === 'string') out.push(u);
    else if (Array.isArray(u)) for (const x of u) walk(x);
    else if (typeof u === 'object' && u !== null) for (const x of Object.values(u)) walk(x);
  };
  walk(parsed);
  return out;
}
