/**
 * OpenSSH public key lines (`type base64 [comment]`), checked the way sshd would read them from
 * authorized_keys: a known type, a blob that decodes and names the same type inside. Private keys are
 * refused loudly, since pasting one into user-data would hand it to every reader of the seed.
 */

/** Key types sshd accepts in authorized_keys today (DSA is disabled in OpenSSH since 9.8). */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

const PRIVATE_MARKERS = /PRIVATE KEY|PuTTY-User-Key-File|^\s*openssh-key-v1/;

export interface ParsedSshKey {
  type: (typeof SSH_KEY_TYPES)[number];
  blob: string;
  comment?: string;
  /** The key as it will be written: `type blob[ comment]`, single spaces. */
  line: string;
}

/** Parses one public key line; returns the reason it is not one as a string. */
export function parseSshPublicKey(text: string): ParsedSshKey | string {
  if (PRIVATE_MARKERS.test(text)) {
    return 'this is a PRIVATE key: never put it in user-data; pass the public half (the .pub file) instead';
  }
  if (/[\r\n]/.test(text.replace(/\n$/, ''))) return 'must be exactly one public key line';
  const trimmed = text.trim();
  if (!trimmed) return 'is empty';
  const [type, blob, ...rest] = trimmed.split(/[ \t]+/);
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type!)) {
    return `key type "${clip(type!)}" is not one of ${SSH_KEY_TYPES.join(', ')} (options before the key are not accepted)`;
  }
  if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) return 'the key data is not base64';
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4) return 'the key data is too short';
  const n = bytes.readUInt32BE(0);
  if (n > bytes.length - 4) return 'the key data is truncated';
  const inner = bytes.subarray(4, 4 + n).toString('latin1');
  if (inner !== type) return `the key data says "${clip(inner)}" but the line says "${type}"`;
  if (type === 'ssh-ed25519' && bytes.length !== 4 + n + 4 + 32) return 'the ed25519 key data has the wrong length';
  if (type === 'ssh-rsa' && bytes.length < 4 + n + 256) return 'the RSA key is too short (use at least 2048 bits)';
  const comment = rest.length ? rest.join(' ') : undefined;
  return { type: type as ParsedSshKey['type'], blob, comment, line: comment ? `${type} ${blob} ${comment}` : `${type} ${blob}` };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
