import { describe, expect, it } from 'vitest';
import { quoteRedacted, redactSecrets, redactUrl, secretForms, secretRedactor } from './redact.ts';

describe('redactSecrets', () => {
  it('removes every occurrence, longest secret first, and ignores ones shorter than minLength', () => {
    expect(redactSecrets('token abc123 in abc123xyz', ['abc123', 'abc123xyz'])).toBe('token <redacted> in <redacted>');
    expect(redactSecrets('id ab and abcd', ['ab', 'abcd'], 4)).toBe('id ab and <redacted>');
    expect(redactSecrets('nothing here', [''])).toBe('nothing here');
  });
});

describe('redactUrl', () => {
  it('keeps only the origin', () => {
    expect(redactUrl('https://user:pw@hooks.example.com:8443/services/T0/B0/secret?x=1')).toBe(
      'https://hooks.example.com:8443',
    );
    expect(redactUrl('not a url')).toBe('<invalid URL>');
  });
});

describe('secretForms', () => {
  it('covers the value, its words, base64, URL and JSON escapes, and Basic credentials of pairs', () => {
    const forms = secretForms(['Bearer tok3n-value\n', 'alice', 'p"w/1']);
    const b64 = (s: string): string => Buffer.from(s).toString('base64').replace(/=+$/, '');
    for (const f of [
      'Bearer tok3n-value',
      'tok3n-value',
      b64('tok3n-value'),
      'alice',
      'p"w/1',
      'p%22w%2F1',
      'p\\"w/1',
      b64('alice:p"w/1'),
      'alice:p"w/1',
    ]) {
      expect(forms).toContain(f);
    }
    expect(forms).not.toContain('Bearer');
  });

  it('ignores values shorter than 4 characters and takes the string leaves of a JSON key', () => {
    expect(secretForms(['abc', ''])).toEqual(new Set());
    const forms = secretForms([JSON.stringify({ private_key_id: 'k3y-1d-0123', nested: ['leaf-secret'], n: 1 })]);
    expect(forms).toContain('k3y-1d-0123');
    expect(forms).toContain('leaf-secret');
  });
});

describe('quoteRedacted', () => {
  it('redacts before cutting, so a secret across the cut leaves no prefix', () => {
    const redact = secretRedactor(['Bearer WHTOK-0123456789']);
    const text = `${'a'.repeat(8)}Bearer WHTOK-0123456789 tail`;
    expect(quoteRedacted(text, redact, 12)).toBe('aaaaaaaa<red...');
    expect(quoteRedacted(`  short ${'WHTOK-0123456789'}  `, redact, 200)).toBe('short <redacted>');
  });
});
