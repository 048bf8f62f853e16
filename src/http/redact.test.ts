import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl } from './redact.ts';

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
