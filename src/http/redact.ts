/** Helpers that keep secrets out of messages: what of a URL may be shown. */

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

/**
 * `text` with every occurrence of each secret (of `minLength` characters or more) replaced by
 * `<redacted>`, longest first so that a secret containing another is removed whole.
 */
export function redactSecrets(text: string, secrets: Iterable<string>, minLength = 1): string {
  const ordered = [...new Set(secrets)].filter((s) => s.length >= minLength).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of ordered) out = out.split(s).join('<redacted>');
  return out;
}
