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
