import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from './messages.js';

// what decodeBase64Strict accepts, written the slow obvious way: RFC 4648 base64, padded, no extras
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const verdict = (t: string): 'ok' | 'refused' => {
  try {
    const data = decodeBase64Strict(t, 'guest-file-read', 'buf-b64');
    expect(data.equals(Buffer.from(t, 'base64'))).toBe(true);
    return 'ok';
  } catch (e) {
    expect(e).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/buf-b64 is not complete base64/) });
    return 'refused';
  }
};

describe('decodeBase64Strict', () => {
  it('accepts exactly padded RFC 4648 base64 (the quick check and the loop agree with the definition)', () => {
    // a small alphabet with the characters that matter: valid ones, padding, URL-safe extras, space, other
    const text = fc.string({ unit: fc.constantFrom('A', 'Q', 'g', 'w', '0', '+', '/', '=', '-', '_', ' ', '\n', '*', 'é'), maxLength: 24 });
    fc.assert(fc.property(text, (t) => verdict(t) === (STRICT.test(t) ? 'ok' : 'refused')), { numRuns: 5_000 });
  });

  it('round-trips real data and refuses the usual cuts and foreign forms', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => verdict(Buffer.from(bytes).toString('base64')) === 'ok'));
    const good = Buffer.from('apiVersion: v1\n' + 'x'.repeat(100)).toString('base64');
    expect(verdict(good)).toBe('ok');
    expect(verdict('')).toBe('ok');
    for (const bad of [good.slice(0, -1), good.slice(0, -2), good + '=', good.replace(/A/, '-'), good.replace(/g/, '_'), 'QQ==QQ==', 'QQ=Q', ' QQ=', 'QUJD\n', 'Q===', '====']) {
      expect(verdict(bad), bad).toBe('refused');
    }
    // other padding bits than GLib writes: still base64, accepted as before
    expect(verdict('QR==')).toBe('ok');
  });
});
