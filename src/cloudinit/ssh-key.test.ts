import { describe, expect, it } from 'vitest';
import { parseSshPublicKey } from './ssh-key.js';
import { ED25519_KEY, SK_ECDSA_KEY, SK_ED25519_KEY, fakeKey, sshKeygen } from '../../test/cloudinit/keys.js';

describe('parseSshPublicKey', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'] as const)('accepts a real %s key from ssh-keygen', (type) => {
    const { publicKey } = sshKeygen(type);
    const k = parseSshPublicKey(publicKey);
    expect(typeof k).toBe('object');
    expect(k).toMatchObject({ line: publicKey, comment: `${type}@test` });
  });

  it('accepts FIDO (sk-*) keys and keys without a comment', () => {
    expect(parseSshPublicKey(SK_ED25519_KEY)).toMatchObject({ type: 'sk-ssh-ed25519@openssh.com' });
    expect(parseSshPublicKey(SK_ECDSA_KEY)).toMatchObject({ type: 'sk-ecdsa-sha2-nistp256@openssh.com' });
    const bare = ED25519_KEY.split(' ').slice(0, 2).join(' ');
    expect(parseSshPublicKey(bare)).toMatchObject({ line: bare, comment: undefined });
  });

  it('normalises whitespace and keeps the comment words', () => {
    const [t, b] = ED25519_KEY.split(' ');
    expect(parseSshPublicKey(`  ${t}\t${b}  my  laptop \n`)).toMatchObject({ line: `${t} ${b} my laptop` });
  });

  it('refuses private keys loudly', () => {
    const { privateKey } = sshKeygen('ed25519');
    expect(parseSshPublicKey(privateKey)).toMatch(/PRIVATE key/);
    expect(parseSshPublicKey('-----BEGIN RSA PRIVATE KEY-----')).toMatch(/PRIVATE key/);
    expect(parseSshPublicKey('PuTTY-User-Key-File-3: ssh-ed25519')).toMatch(/PRIVATE key/);
  });

  it.each([
    ['', /empty/],
    [`${ED25519_KEY}\n${ED25519_KEY}`, /one public key line/],
    ['ssh-dss AAAAB3NzaC1kc3M=', /not one of/],
    ['from="10.0.0.1" ' + ED25519_KEY, /not one of/],
    ['ssh-ed25519 not*base64', /not base64/],
    ['ssh-ed25519 AAAA', /too short|truncated/],
    [fakeKey('ssh-rsa', [Buffer.alloc(32)]).replace(/^ssh-rsa/, 'ssh-ed25519'), /says "ssh-rsa"/],
    [fakeKey('ssh-ed25519', [Buffer.alloc(16)]), /wrong length/],
    [fakeKey('ssh-rsa', [Buffer.from([1, 0, 1]), Buffer.alloc(64, 1)]), /too short/],
  ])('refuses %j', (line, why) => {
    expect(parseSshPublicKey(line)).toMatch(why);
  });
});
