// Builders for SSH public key lines: real ones from ssh-keygen where it exists, and hand-made blobs
// (sk-* FIDO keys cannot be generated without a token).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function sshString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  const n = Buffer.alloc(4);
  n.writeUInt32BE(b.length);
  return Buffer.concat([n, b]);
}

/** A syntactically valid key line of `type` with a blob made of the given fields. */
export function fakeKey(type: string, fields: (string | Buffer)[], comment = 'test@host'): string {
  const blob = Buffer.concat([sshString(type), ...fields.map(sshString)]).toString('base64');
  return `${type} ${blob}${comment ? ` ${comment}` : ''}`;
}

export const ED25519_KEY = fakeKey('ssh-ed25519', [Buffer.alloc(32, 7)], 'ops@example.com');
export const SK_ED25519_KEY = fakeKey('sk-ssh-ed25519@openssh.com', [Buffer.alloc(32, 9), 'ssh:'], 'fido@example.com');
export const SK_ECDSA_KEY = fakeKey('sk-ecdsa-sha2-nistp256@openssh.com', ['nistp256', Buffer.alloc(65, 4), 'ssh:']);

/** Generates a real key pair with ssh-keygen; returns both halves. */
export function sshKeygen(type: 'ed25519' | 'rsa' | 'ecdsa'): { publicKey: string; privateKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qks-key-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${type}@test`, '-f', join(dir, 'k')]);
    return { publicKey: readFileSync(join(dir, 'k.pub'), 'utf8').trim(), privateKey: readFileSync(join(dir, 'k'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
