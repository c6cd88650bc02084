import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encrypt, verify } from 'unixcrypt';
import { checkPasswordHash, makeSalt, sha512Crypt } from './password.js';
import { describeWithPeers } from '../../test/helpers/peers.js';

describe('password hashes', () => {
  it('makes $6$ hashes with a random 16-character salt', () => {
    const a = sha512Crypt('secret');
    const b = sha512Crypt('secret');
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    expect(verify('secret', a)).toBe(true);
    expect(verify('Secret', a)).toBe(false);
  });

  it('gives what unixcrypt gives, for every length and salt length (its own SHA-512 crypt is one-shot hashes)', () => {
    // unixcrypt is wrong for a length of 64 bytes or a multiple: those are pinned to openssl below
    for (const n of [0, 1, 2, 3, 5, 8, 13, 16, 17, 31, 33, 63, 65, 100, 127, 129, 200]) {
      const pw = 'pä'.repeat(n).slice(0, n);
      for (const salt of ['a', makeSalt(pw), './Zz09']) expect(sha512Crypt(pw, salt)).toBe(encrypt(pw, `$6$${salt}`));
    }
    expect(sha512Crypt('secret', 'rounds=1000$abc')).toBe(encrypt('secret', '$6$rounds=1000$abc'));
  });

  it('derives the salt from a seed when asked (reproducible builds)', () => {
    expect(makeSalt('1700000000')).toBe(makeSalt('1700000000'));
    expect(makeSalt('1700000000')).not.toBe(makeSalt('1700000001'));
    expect(makeSalt('x')).toMatch(/^[./0-9A-Za-z]{16}$/);
  });

  it('accepts strong crypt hashes and says why others are refused', () => {
    expect(checkPasswordHash(sha512Crypt('x'))).toBeUndefined();
    expect(checkPasswordHash('$5$saltsalt$' + 'a'.repeat(43))).toBeUndefined();
    expect(checkPasswordHash('$2b$12$' + 'a'.repeat(53))).toBeUndefined();
    expect(checkPasswordHash('$y$j9T$abc$def')).toMatch(/yescrypt/);
    expect(checkPasswordHash('$1$abc$def')).toMatch(/MD5/);
    expect(checkPasswordHash('secret')).toMatch(/not a crypt hash/);
    expect(checkPasswordHash(sha512Crypt('x') + '\nroot::0:0')).toMatch(/not a crypt hash/);
  });
});

describeWithPeers('password hashes against openssl passwd -6', ['openssl'], () => {
  it.each(['secret', 'your-secure-password', 'pä$$ wörd "quoted" \\ back', 'x'.repeat(200), 'x'.repeat(64), 'ü'.repeat(64)])('matches openssl for %j', (pw) => {
    const salt = makeSalt(pw);
    const ours = sha512Crypt(pw, salt);
    const theirs = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: pw + '\n', encoding: 'utf8' }).trim();
    expect(ours).toBe(theirs);
  });
});
